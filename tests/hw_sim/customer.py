"""The virtual customer of the simulation harness (it lives in the package because the demo uses it)."""

from kiosk.screens.virtual_customer import DEFAULT_CUSTOMER, Outcome, VirtualCustomer

__all__ = ["DEFAULT_CUSTOMER", "Outcome", "VirtualCustomer"]
