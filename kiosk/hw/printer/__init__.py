"""Thermal receipt printer: backends, receipt layouts and the ESC/POS renderer."""

from kiosk.hw.printer.base import (
    CoverOpen,
    PaperOut,
    Printer,
    PrinterFault,
    PrinterOffline,
    PrinterStatus,
    make_printer,
)
from kiosk.hw.printer.sim import SimPrinter
from kiosk.hw.printer.worker import JobDone, JobHeld, JobStarted, PrintJob, PrintWorker, StatusChanged

__all__ = [
    "CoverOpen",
    "JobDone",
    "JobHeld",
    "JobStarted",
    "PaperOut",
    "PrintJob",
    "PrintWorker",
    "Printer",
    "PrinterFault",
    "PrinterOffline",
    "PrinterStatus",
    "SimPrinter",
    "StatusChanged",
    "make_printer",
]
