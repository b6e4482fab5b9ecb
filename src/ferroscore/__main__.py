"""``python -m ferroscore``: the command line."""

import sys

from ferroscore.cli import main

sys.exit(main())
