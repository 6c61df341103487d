"""cli: one small module per command; each parses its arguments and makes one library call."""
