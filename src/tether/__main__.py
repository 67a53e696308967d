"""`python -m tether`: the `tether` command."""

import sys

from tether.cli import main

if __name__ == "__main__":
    sys.exit(main())
