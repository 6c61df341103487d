"""Renderers: computed model -> bytes.  They format; they never compute money."""
