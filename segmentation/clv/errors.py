"""The one error the customer-value models raise for data they cannot describe."""


class CustomerValueError(ValueError):
    """The data cannot be described by the customer-value models; the message says why, for a user."""
