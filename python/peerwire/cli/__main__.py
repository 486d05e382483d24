"""``python -m peerwire.cli``."""

import sys

from peerwire.cli import main

sys.exit(main())
