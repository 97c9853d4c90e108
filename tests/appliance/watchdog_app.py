"""The real kiosk app under a service manager's NOTIFY_SOCKET, with a device that hangs after a while.

Run by test_watchdog.py as ``python watchdog_app.py OUT_DIR FREEZE_AFTER_S``. After FREEZE_AFTER_S
seconds the panel's event queue blocks forever when the frame loop reads it: the loop freezes
while the process stays alive, which is exactly what the systemd watchdog must catch.
"""

from __future__ import annotations

import os
import queue
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from kiosk.app import attach_notifier, build
from kiosk.demo import demo_config
from kiosk.notify import Notifier


class HangingQueue(queue.Queue[Any]):
    def __init__(self, hang_at: float) -> None:
        super().__init__()
        self.hang_at = hang_at

    def get_nowait(self) -> Any:
        if time.monotonic() >= self.hang_at:
            print("FROZEN", flush=True)
            time.sleep(3600)  # a device read that never returns
        return super().get_nowait()


def main() -> None:
    out, freeze_after = Path(sys.argv[1]), float(sys.argv[2])
    kiosk = build(demo_config(out), scanner=False)
    kiosk.ui.devices.panel_queue = HangingQueue(time.monotonic() + freeze_after)
    attach_notifier(kiosk.ui, Notifier.from_env())
    kiosk.ui.run()


if __name__ == "__main__":
    main()
