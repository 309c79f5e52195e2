"""`python -m memo_sync` runs the `memo` command."""

import sys

from memo_sync.cli import main

sys.exit(main())
