"""The install steps of the SD-card image, run into a Debian Bookworm chroot.

``image-build/stage-kiosk`` runs ``systemd/install.sh`` inside the image; this test runs the same
script with ``--root`` into a minimal Bookworm made by debootstrap, with the kiosk wheel built from
this checkout. The debootstrapped base and the dependency wheels are cached under
``$KIOSK_TEST_CACHE`` (default ``/var/cache/kiosk-test``), so a machine downloads them once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("KIOSK_TEST_CACHE", "/var/cache/kiosk-test"))
MIRROR = os.environ.get("KIOSK_TEST_MIRROR", "http://deb.debian.org/debian")
GROUPS = ("video", "input", "gpio", "dialout", "lp", "render")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux" or os.geteuid() != 0, reason="needs root on Linux (chroot)"),
    pytest.mark.skipif(shutil.which("debootstrap") is None, reason="debootstrap is not installed"),
]


def apt_packages() -> list[str]:
    lines = (REPO / "systemd" / "apt-packages").read_text().splitlines()
    return [ln.split("#")[0].strip() for ln in lines if ln.split("#")[0].strip()]


def run(*cmd: str | Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(c) for c in cmd], text=True, capture_output=True)
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, cmd))} exited {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


def base_tarball() -> Path:
    """A debootstrapped Bookworm (minbase + the kiosk's apt packages), made once per machine."""
    include = sorted({*apt_packages(), "systemd", "passwd"})
    key = hashlib.sha256(" ".join([MIRROR, *include]).encode()).hexdigest()[:12]
    tarball = CACHE / f"bookworm-minbase-{key}.tar"
    if tarball.exists():
        return tarball
    CACHE.mkdir(parents=True, exist_ok=True)
    work = CACHE / f"build-{key}"
    shutil.rmtree(work, ignore_errors=True)
    run("debootstrap", "--variant=minbase", f"--include={','.join(include)}", "bookworm", work, MIRROR)
    run("chroot", work, "apt-get", "clean")
    tmp = tarball.with_suffix(".tmp")
    run("tar", "--numeric-owner", "-C", work, "-cf", tmp, ".")
    tmp.replace(tarball)
    shutil.rmtree(work, ignore_errors=True)
    return tarball


def wheelhouse() -> Path:
    """Wheels of the kiosk's dependencies (from the host's pip cache when it has them)."""
    key = hashlib.sha256((REPO / "pyproject.toml").read_bytes() + sys.version.encode()).hexdigest()[:12]
    house = CACHE / f"wheelhouse-{key}"
    if house.exists():
        return house
    tmp = CACHE / f"wheelhouse-{key}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    src = tmp / "src"
    src.mkdir(parents=True)
    shutil.copy(REPO / "pyproject.toml", src)
    (src / "kiosk").mkdir()
    (src / "kiosk" / "__init__.py").write_text('__version__ = "0"\n')
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "-w", tmp / "wheels", src)
    for w in (tmp / "wheels").glob("kiosk-*.whl"):
        w.unlink()
    (tmp / "wheels").replace(house)
    shutil.rmtree(tmp, ignore_errors=True)
    return house


def kiosk_wheel(out: Path) -> Path:
    """``pip wheel --no-deps`` of this checkout, built from a copy so the work tree stays clean."""
    src = out / "src"
    src.mkdir(parents=True)
    shutil.copy(REPO / "pyproject.toml", src)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for pkg in ("kiosk", "hq"):
        shutil.copytree(REPO / pkg, src / pkg, ignore=ignore)
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", out, src)
    return next(out.glob("kiosk-*.whl"))


@pytest.fixture(scope="module")
def chroot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tarball = base_tarball()
    root = tmp_path_factory.mktemp("chroot") / "root"
    root.mkdir()
    run("tar", "--numeric-owner", "-C", root, "-xf", tarball)
    wheel = kiosk_wheel(tmp_path_factory.mktemp("wheel"))
    result = run(
        "bash",
        REPO / "systemd" / "install.sh",
        "--root",
        root,
        "--wheel",
        wheel,
        "--wheelhouse",
        wheelhouse(),
        "--offline",
        "--data-partition",
    )
    assert "done" in result.stdout
    return root


def inside(root: Path, *cmd: str) -> str:
    return run("chroot", root, *cmd).stdout


def test_the_venv_imports_the_kiosk(chroot: Path) -> None:
    out = inside(chroot, "/opt/kiosk/venv/bin/python", "-c", "import kiosk, kiosk.config, kiosk.provision; print('ok')")
    assert out.strip() == "ok"
    cfg = (chroot / "opt/kiosk/venv/pyvenv.cfg").read_text()
    assert "include-system-site-packages = true" in cfg
    assert inside(chroot, "/usr/local/bin/kiosk", "--version").startswith("kiosk ")


def test_units_rules_and_tmpfiles_are_in_place(chroot: Path) -> None:
    for rel, src in [
        ("etc/systemd/system/kiosk.service", "systemd/kiosk.service"),
        ("etc/systemd/system/kiosk-firstboot.service", "systemd/kiosk-firstboot.service"),
        ("etc/udev/rules.d/99-kiosk.rules", "systemd/99-kiosk.rules"),
        ("etc/tmpfiles.d/kiosk.conf", "systemd/kiosk.tmpfiles"),
        ("etc/systemd/system.conf.d/kiosk-watchdog.conf", "systemd/watchdog.conf"),
        ("opt/kiosk/libexec/kiosk-readonly", "systemd/kiosk-readonly.sh"),
    ]:
        assert (chroot / rel).read_bytes() == (REPO / src).read_bytes(), rel
    wants = chroot / "etc/systemd/system/multi-user.target.wants"
    assert (wants / "kiosk.service").is_symlink()
    assert (wants / "kiosk-firstboot.service").is_symlink()
    fstab = (chroot / "etc/fstab").read_text()
    assert "LABEL=KIOSKDATA /var/lib/kiosk ext4" in fstab and "noatime" in fstab and "commit=" in fstab
    st = (chroot / "etc/kiosk/secrets").stat()
    assert oct(st.st_mode & 0o777) == "0o700"
    assert oct((chroot / "var/lib/kiosk").stat().st_mode & 0o777) == "0o700"
    assert inside(chroot, "stat", "-c", "%U", "/etc/kiosk/secrets").strip() == "kiosk"


def test_kiosk_user_and_groups(chroot: Path) -> None:
    groups = inside(chroot, "id", "-nG", "kiosk").split()
    for g in GROUPS:
        assert g in groups
    entry = inside(chroot, "getent", "passwd", "kiosk").strip().split(":")
    assert entry[5] == "/var/lib/kiosk" and entry[6] == "/usr/sbin/nologin"
    shadow = inside(chroot, "getent", "shadow", "kioskadmin").split(":")
    assert shadow[1].startswith("!"), "the maintenance account has no usable password"


def test_console_login_on_tty1_is_off(chroot: Path) -> None:
    link = chroot / "etc/systemd/system/getty@tty1.service"
    assert link.is_symlink() and os.readlink(link) == "/dev/null"
    state = subprocess.run(
        ["chroot", str(chroot), "systemctl", "is-enabled", "getty@tty1.service"], text=True, capture_output=True
    )
    assert state.stdout.strip() == "masked"


def test_no_secret_anywhere_in_the_chroot(chroot: Path) -> None:
    assert list((chroot / "etc/kiosk/secrets").iterdir()) == []
    assert not (chroot / "etc/kiosk/config.toml").exists()
    found: list[str] = []
    skip = {chroot / "proc", chroot / "sys", chroot / "dev"}
    for dirpath, dirs, files in os.walk(chroot):
        dirs[:] = [d for d in dirs if Path(dirpath, d) not in skip]
        for name in files:
            p = Path(dirpath, name)
            if p.is_symlink() or not p.is_file():
                continue
            rel = str(p.relative_to(chroot))
            if name.endswith(".key"):
                found.append(rel)
            elif p.stat().st_size < 1_000_000:
                data = p.read_bytes()
                if b"PRIVATE KEY-----\n" in data and b"-----BEGIN" in data:
                    found.append(rel)
    # Python packages ship test fixtures with throwaway keys; nothing of the kiosk's is allowed.
    found = [f for f in found if "/site-packages/" not in f or "/site-packages/kiosk" in f]
    assert found == []
