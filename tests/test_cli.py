"""The command line as documented in the README, run as a subprocess on a temporary config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import tomli_w

from kiosk.config import consent_terms, load_config, program_rules
from kiosk.core import cards
from kiosk.core.consent import ConsentKind, compose
from kiosk.core.program import rules_document
from kiosk.hw.scanner.scene import make_scene, to_png
from kiosk.keys import load_keys
from tests.conftest import config_data


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    data = config_data()
    data["paths"] = {"state_dir": "state", "secrets_dir": "secrets", "dev_keys": True}
    path = tmp_path / "config.toml"
    path.write_bytes(tomli_w.dumps(data).encode())
    return path


def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("kind", ["processing", "advertising"])
def test_consent_preview_prints_the_document(config_file: Path, lang: str, kind: str) -> None:
    out = kiosk("consent-preview", "--config", str(config_file), "--lang", lang, "--kind", kind)
    assert out.returncode == 0, out.stderr
    doc = compose(consent_terms(load_config(config_file)), ConsentKind(kind), lang)
    assert doc.text in out.stdout
    assert doc.sha256 in out.stdout


def test_rules_preview(config_file: Path) -> None:
    out = kiosk("rules-preview", "--config", str(config_file), "--lang", "en")
    assert out.returncode == 0
    assert rules_document(program_rules(load_config(config_file)), "en") in out.stdout


def test_selftest_table_has_a_row_per_check(config_file: Path) -> None:
    out = kiosk("selftest", "--config", str(config_file))
    names = [line.split()[0] for line in out.stdout.splitlines()]
    assert names == ["config", "keys", "store", "disk", "printer", "scanner", "panel", "sms", "sync"]
    assert out.returncode == 0, out.stdout


def test_print_test_card_closes_the_loop_through_scan_image(config_file: Path, tmp_path: Path) -> None:
    out = kiosk("print-test", "--config", str(config_file), "--receipt", "card", "--out", str(tmp_path / "pt"))
    assert out.returncode == 0, out.stderr
    bin_path, png_path = (Path(p) for p in out.stdout.split())
    assert bin_path.read_bytes().startswith(b"\x1b@")
    scanned = kiosk("scan-image", "--config", str(config_file), str(png_path))
    cfg = load_config(config_file)
    assert scanned.stdout.strip() == f"{png_path}\t{cards.card_number(cfg.kiosk.number, 9_999_999)}"


def test_scan_image_lines(config_file: Path, tmp_path: Path) -> None:
    cfg = load_config(config_file)
    card = cards.card_number(cfg.kiosk.number, 42)
    good, forged, junk = tmp_path / "good.png", tmp_path / "forged.png", tmp_path / "junk.png"
    to_png(make_scene(cards.qr_payload(card, load_keys(cfg).card_mac), 7, "easy", content="qr"), str(good))
    to_png(make_scene(cards.qr_payload(card, b"k" * 32), 8, "easy", content="both"), str(forged))
    junk.write_bytes(b"not an image")
    out = kiosk("scan-image", "--config", str(config_file), str(good), str(forged), str(junk))
    assert out.returncode == 0
    assert out.stdout.splitlines() == [f"{good}\t{card}", f"{forged}\tbad_tag", f"{junk}\t-"]
    raw = kiosk("scan-image", "--raw", "--decoder", "zbar", str(good))
    assert raw.stdout.strip() == f"{good}\t{cards.qr_payload(card, load_keys(cfg).card_mac)}"
