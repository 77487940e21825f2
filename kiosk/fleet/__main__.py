"""`python -m kiosk.fleet ...`: the fleet commands without the rest of the kiosk's CLI."""

import sys

from kiosk.fleet.cli import main

sys.exit(main())
