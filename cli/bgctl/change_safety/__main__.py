"""`python -m bgctl.change_safety BASE NEW [--json] [--stack NAME ...]`: the same as `bgctl check-changes`."""
import sys

from bgctl.main import main

sys.exit(main(["check-changes", *sys.argv[1:]]))
