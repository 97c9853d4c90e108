"""Every screen of the kiosk, by name."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.screens.base import Screen
    from kiosk.screens.ui import KioskUI


def build_screens(ui: KioskUI) -> dict[str, Screen]:
    from kiosk.screens.attract import AttractScreen
    from kiosk.screens.balance import BalanceScreen
    from kiosk.screens.code import CodeScreen
    from kiosk.screens.consent import ConsentScreen
    from kiosk.screens.done import DoneScreen
    from kiosk.screens.form import FormScreen
    from kiosk.screens.out_of_service import OutOfServiceScreen
    from kiosk.screens.printer_fault import PrinterFaultScreen
    from kiosk.screens.rules import RulesScreen

    classes = [
        AttractScreen,
        RulesScreen,
        FormScreen,
        ConsentScreen,
        CodeScreen,
        DoneScreen,
        BalanceScreen,
        PrinterFaultScreen,
        OutOfServiceScreen,
    ]
    return {cls.name: cls(ui) for cls in classes}
