import sys

from bgctl.main import main

sys.exit(main())
