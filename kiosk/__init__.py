"""Self-registration kiosk for store loyalty programs."""

__version__ = "0.1.0"
