"""Commands of this area attach to textbill.cli.main here (see commands/__init__.py)."""
