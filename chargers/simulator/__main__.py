import sys

from chargers.simulator.cli import main

sys.exit(main())
