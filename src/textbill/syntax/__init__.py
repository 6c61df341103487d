"""syntax: the grammar-driven parser, its fast path for one-line entries, and the printer (`fmt`)."""
