"""dwelltime: find a stealthy compromise of an organisation's e-mail, scope it, notify."""

__version__ = "0.1.0"
