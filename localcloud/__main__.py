"""`python -m localcloud`: the same as the `localcloud` command."""

import sys

from localcloud.cli import main

sys.exit(main())
