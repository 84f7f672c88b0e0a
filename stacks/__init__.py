"""Stacks of the app: they compose constructs from the `bluegreen` library and wire them."""
