"""Atlas Desktop: keeps a distributor's ERP and the Atlas marketplace in step."""

__version__ = "0.1.0"
