"""The stdlib-only flag client services copy or import (`bluegreen_flags.py`)."""
