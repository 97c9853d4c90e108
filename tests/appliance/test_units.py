"""The unit files as systemd reads them, and the static parts of the install and image build."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kiosk.errors import ExitCode
from kiosk.provision import BOOT_BUNDLE

REPO = Path(__file__).resolve().parents[2]
SYSTEMD = REPO / "systemd"
UNITS = ("kiosk.service", "kiosk-firstboot.service")
SYSTEM_UNITS = (
    Path("/usr/lib/systemd/system") if Path("/usr/lib/systemd/system").is_dir() else Path("/lib/systemd/system")
)


def unit(name: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(SYSTEMD / name)
    return parser


def values(name: str, section: str, key: str) -> list[str]:
    pattern = re.compile(rf"^{re.escape(key)}=(.*)$")
    out, current = [], None
    for line in (SYSTEMD / name).read_text().splitlines():
        if line.startswith("["):
            current = line.strip("[]")
        elif current == section and (m := pattern.match(line)):
            out.append(m.group(1))
    return out


@pytest.fixture
def staging(tmp_path: Path) -> Path:
    """A staging root holding the real unit files and the programs they start."""
    if not SYSTEM_UNITS.is_dir():
        pytest.skip("no systemd unit directory on this machine")
    root = tmp_path / "root"
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    for name in UNITS:
        shutil.copy(SYSTEMD / name, root / "etc/systemd/system" / name)
    for prog in ("opt/kiosk/venv/bin/python", "opt/kiosk/libexec/kiosk-readonly"):
        p = root / prog
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("#!/bin/sh\n")
        p.chmod(0o755)
    return root


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("name", UNITS)
def test_systemd_analyze_verify(staging: Path, name: str) -> None:
    result = subprocess.run(
        [
            "systemd-analyze",
            "verify",
            f"--root={staging}",
            "--man=no",
            "--generators=no",
            str(staging / "etc/systemd/system" / name),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    # unknown keys and bad values are only warnings: treat every message as a failure
    assert result.stderr.strip() == "" and result.stdout.strip() == ""


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_verify_catches_a_broken_unit(staging: Path) -> None:
    broken = staging / "etc/systemd/system/kiosk.service"
    broken.write_text(broken.read_text().replace("DeviceAllow=char-drm rw", "DeviceAllow=char-drm rwz"))
    result = subprocess.run(
        ["systemd-analyze", "verify", f"--root={staging}", "--man=no", "--generators=no", str(broken)],
        capture_output=True,
        text=True,
    )
    assert "Invalid device rights" in result.stderr


def test_kiosk_service_settings() -> None:
    svc = unit("kiosk.service")
    s = svc["Service"]
    assert s["Type"] == "notify" and s["NotifyAccess"] == "main" and s["WatchdogSec"] == "30"
    assert s["Restart"] == "always" and s["User"] == "kiosk"
    assert s["RestartPreventExitStatus"] == str(int(ExitCode.CONFIG))
    assert s["DevicePolicy"] == "closed" and s["ProtectSystem"] == "strict"
    assert s["TTYPath"] == "/dev/tty1" and s["StandardInput"] == "tty"
    assert "SDL_VIDEODRIVER=kmsdrm" in values("kiosk.service", "Service", "Environment")
    assert s["ExecStart"] == "/opt/kiosk/venv/bin/python -m kiosk run --config /etc/kiosk/config.toml"
    assert set(s["SupplementaryGroups"].split()) == {"video", "input", "gpio", "dialout", "lp", "render"}
    allowed = {v.split()[0] for v in values("kiosk.service", "Service", "DeviceAllow")}
    for dev in (
        "char-drm",
        "char-input",
        "char-fb",
        "char-video4linux",
        "char-media",
        "char-dma_heap",
        "char-gpiochip",
        "char-ttyUSB",
        "char-ttyACM",
        "char-usb",
        "char-usb_device",
        "char-vchiq",
    ):
        assert dev in allowed
    assert "getty@tty1.service" in svc["Unit"]["Conflicts"]


def test_firstboot_runs_for_the_boot_bundle_before_the_kiosk() -> None:
    fb = unit("kiosk-firstboot.service")
    assert fb["Unit"]["ConditionPathExists"] == str(BOOT_BUNDLE)
    assert "kiosk.service" in fb["Unit"]["Before"]
    assert fb["Service"]["Type"] == "oneshot"
    assert fb["Service"]["ExecStart"].endswith("-m kiosk provision --from-boot")


def test_watchdog_and_tmpfiles() -> None:
    wd = configparser.ConfigParser()
    wd.read(SYSTEMD / "watchdog.conf")
    assert wd["Manager"]["RuntimeWatchdogSec"] == "15" and wd["Manager"]["RebootWatchdogSec"] == "2min"
    rows = [ln.split() for ln in (SYSTEMD / "kiosk.tmpfiles").read_text().splitlines() if ln and not ln.startswith("#")]
    assert ["d", "/etc/kiosk/secrets", "0700", "kiosk", "kiosk", "-"] in rows
    assert ["d", "/var/lib/kiosk", "0700", "kiosk", "kiosk", "-"] in rows


def test_udev_rules_parse() -> None:
    """Every rule line is KEY op "value" pairs, with match and assignment operators only."""
    pair = re.compile(r'^\s*([A-Z_]+(?:\{[^}]+\})?)\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*$')
    rules = [
        ln for ln in (SYSTEMD / "99-kiosk.rules").read_text().splitlines() if ln.strip() and not ln.startswith("#")
    ]
    assert len(rules) >= 4
    for line in rules:
        for part in line.split('",'):
            part = part if part.endswith('"') else part + '"'
            assert pair.match(part), (line, part)
    text = "\n".join(rules)
    assert 'SYMLINK+="input/kiosk-scanner"' in text and 'GROUP="lp"' in text


def test_image_stage_follows_pi_gen_conventions_and_shares_install_sh() -> None:
    stage = REPO / "image-build/stage-kiosk"
    assert (stage / "prerun.sh").stat().st_mode & 0o111 and "copy_previous" in (stage / "prerun.sh").read_text()
    assert (stage / "EXPORT_IMAGE").exists()
    run = stage / "00-kiosk/01-run.sh"
    assert run.stat().st_mode & 0o111 and "systemd/install.sh" in run.read_text()
    listed = (stage / "00-kiosk/00-packages").read_text().split()
    wanted = []
    for name in ("apt-packages", "apt-packages-pi"):
        wanted += [
            ln.split("#")[0].strip() for ln in (SYSTEMD / name).read_text().splitlines() if ln.split("#")[0].strip()
        ]
    assert [w for w in wanted if w not in listed] == []
    assert 'STAGE_LIST="stage0 stage1 stage2 stage-kiosk"' in (REPO / "image-build/build.sh").read_text()


@pytest.mark.parametrize(
    "script",
    [
        "systemd/install.sh",
        "systemd/update.sh",
        "systemd/kiosk-readonly.sh",
        "image-build/build.sh",
        "image-build/add-data-partition.sh",
        "image-build/stage-kiosk/00-kiosk/01-run.sh",
    ],
)
def test_shell_scripts_parse(script: str) -> None:
    assert subprocess.run(["bash", "-n", str(REPO / script)], capture_output=True).returncode == 0


def test_no_secret_in_the_appliance_files() -> None:
    for folder in ("systemd", "image-build"):
        for p in (REPO / folder).rglob("*"):
            if p.is_file():
                assert not p.name.endswith((".key", ".crt", ".pem")), p
                assert b"PRIVATE KEY" not in p.read_bytes(), p


@pytest.mark.skipif(shutil.which("sfdisk") is None, reason="sfdisk is not installed")
def test_data_partition_is_appended_with_its_label(tmp_path: Path) -> None:
    img = tmp_path / "test.img"
    img.write_bytes(b"")
    subprocess.run(["truncate", "-s", "64M", str(img)], check=True)
    layout = "label: dos\nstart=8192, size=32768, type=c\nstart=40960, size=90112, type=83\n"
    subprocess.run(
        ["sfdisk", "--no-reread", "--no-tell-kernel", str(img)], input=layout.encode(), check=True, capture_output=True
    )
    subprocess.run(
        ["bash", str(REPO / "image-build/add-data-partition.sh"), str(img), "16"], check=True, capture_output=True
    )
    parts = subprocess.run(["sfdisk", "-d", str(img)], capture_output=True, text=True, check=True).stdout
    third = [ln for ln in parts.splitlines() if ln.startswith(str(img) + "3")]
    assert third, parts
    start = int(re.search(r"start=\s*(\d+)", third[0]).group(1))  # type: ignore[union-attr]
    probe = subprocess.run(
        ["blkid", "-p", "-O", str(start * 512), "-o", "export", str(img)], capture_output=True, text=True
    )
    assert "LABEL=KIOSKDATA" in probe.stdout and "TYPE=ext4" in probe.stdout
