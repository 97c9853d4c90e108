"""Card receipt size: native QR (GS ( k) against the raster-image QR fallback, on 58 and 80 mm paper.

Prints one line per paper width, the native/raster ratio, the time a 9600-baud 8N1 serial
printer needs to receive the native receipt (10 bits per byte), and as its LAST line one JSON
object with every figure. Target: the card receipt with native QR stays under 2 KB.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.hw.printer import receipts

TARGET_BYTES = 2048
BAUD = 9600
BITS_PER_BYTE = 10  # 8N1: start bit, 8 data bits, stop bit

SAMPLE = {
    "program_name": "Зерно Бонус",
    "store_name": "Кофейня «Зерно»",
    "card_number": "2000100000014",
    "qr_payload": "LC1:2000100000014.ABCDEFGH",
    "summary_lines": [
        "10 баллов за каждые 100 руб. покупки",
        "Баллы активируются через 14 дней",
        "Баланс: отсканируйте карту на киоске или спросите на кассе",
    ],
    "wallet_url": "https://wallet.example/add/2000100000014",
}


def main() -> int:
    results: dict[str, dict[str, float]] = {}
    ok = True
    for mm in (58, 80):
        native = len(receipts.card_receipt(paper_mm=mm, native_qr=True, **SAMPLE))
        raster = len(receipts.card_receipt(paper_mm=mm, native_qr=False, **SAMPLE))
        serial_s = native * BITS_PER_BYTE / BAUD
        results[f"{mm}mm"] = {
            "native_bytes": native,
            "raster_bytes": raster,
            "raster_over_native": round(raster / native, 2),
            "native_9600_baud_s": round(serial_s, 3),
            "raster_9600_baud_s": round(raster * BITS_PER_BYTE / BAUD, 3),
        }
        ok = ok and native < TARGET_BYTES
        print(
            f"{mm} mm card receipt: native QR {native} B, raster QR {raster} B, "
            f"ratio {raster / native:.1f}x; at {BAUD} baud 8N1 native takes {serial_s:.2f} s "
            f"(raster {raster * BITS_PER_BYTE / BAUD:.1f} s)"
        )
    print(f"target: native under {TARGET_BYTES} B: {'met' if ok else 'MISSED'}")
    print(json.dumps({"bench": "receipt", "target_bytes": TARGET_BYTES, "target_met": ok, **results}))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
