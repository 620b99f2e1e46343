"""cabinet: one identity, quota and audit core with four APIs on top."""

__version__ = "0.1.0"
