"""``python3 -m provision``: see :mod:`provision.cli`."""

import sys

from provision.cli import main

sys.exit(main())
