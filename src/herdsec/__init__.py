"""HerdSec: the coordination hub of a national cybersecurity ecosystem."""

__version__ = "0.1.0"
