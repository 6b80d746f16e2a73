"""``python -m tinct`` runs the command line."""

import sys

from tinct.cli.main import main

sys.exit(main())
