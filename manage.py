#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retail_platform.settings.dev")
    from django.core.management import execute_from_command_line
    from django.db import NotSupportedError

    try:
        execute_from_command_line(sys.argv)
    except NotSupportedError as error:
        from retail_platform.postgresql.base import UnsupportedServer

        if not isinstance(error, UnsupportedServer):
            raise
        # A server too old for the project: say so, without a traceback.
        sys.stderr.write(f"{error}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
