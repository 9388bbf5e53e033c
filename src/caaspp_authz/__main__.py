"""``python -m caaspp_authz``: the command line."""

import sys

from caaspp_authz.cli import main

sys.exit(main())
