"""``python -m dipcore.cli``: the same as the ``ssh-dip`` console script."""

import sys

from dipcore.cli.main import main

sys.exit(main())
