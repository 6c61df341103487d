"""The version of textbill, importable by every layer without importing the library API."""

__version__ = "0.1.0"
