"""PostgreSQL's binary COPY format: what every binary COPY the project encodes with numpy shares.

A stream is the signature, rows, and the trailer. A row is a field count, then each field as a
4-byte length and its bytes (length -1 for NULL), all big-endian. A numeric goes out as its digit
count, the weight of its first digit, its sign, its scale and its base-10,000 digits; the encoders
here use a fixed number of digits (one after the point) and PostgreSQL strips the zero digits on
receipt, so what it stores is what it would store for the same value written as text.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # no flags, no header extension
TRAILER = b"\xff\xff"
NUMERIC_POSITIVE = 0x0000
NUMERIC_NEGATIVE = 0x4000


def numeric_template(field: npt.NDArray, *, scale: int) -> None:
    """The fixed part of binary numerics in `field` (rows of ndigits, weight, sign, dscale, digits):
    digit count, weight of the first digit, scale."""
    digits = field.shape[1] - 4
    field[:, 0] = digits
    field[:, 1] = digits - 2
    field[:, 3] = scale


def numeric_write(field: npt.NDArray, values: npt.NDArray[np.int64], *, scale: int) -> None:
    """Write the sign and digits of binary numerics into `field` (rows of ndigits, weight, sign,
    dscale, digits: `numeric_template` fills the others) for integers in units of 10^-scale (at
    most 4): one base-10,000 digit after the point, the others before it."""
    digits = field.shape[1] - 4
    whole, fraction = np.divmod(np.abs(values), 10**scale)
    field[:, 2] = np.where(values < 0, NUMERIC_NEGATIVE, NUMERIC_POSITIVE)
    for position in range(digits - 2, 0, -1):
        whole, field[:, 4 + position] = np.divmod(whole, 10_000)
    field[:, 4] = whole
    field[:, 4 + digits - 1] = fraction * 10 ** (4 - scale)
