"""Provisioning bundles: made by head office, checked and installed by the kiosk, into a temp root."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import os
import stat
import tarfile
import tomllib
from pathlib import Path

import pytest

from hq.bundle import issue_client_certificate, write_bundle
from kiosk.cli import main
from kiosk.config import load_config
from kiosk.errors import ExitCode, ProvisioningError
from kiosk.keys import load_keys
from kiosk.provision import ERROR_FILE, check_bundle, provision, read_bundle

from .conftest import Fleet


def members(bundle: Path) -> dict[str, bytes]:
    return read_bundle(bundle)[1]


def rebuild(bundle: Path, out: Path, kiosk_id: str = "kiosk-017", number: int = 17, **changes: bytes | None) -> Path:
    """The bundle with some files replaced (None: dropped), with a consistent manifest."""
    files = members(bundle)
    for name, data in changes.items():
        key = name.replace("__", "/").replace("_dot_", ".")
        if data is None:
            files.pop(key)
        else:
            files[key] = data
    return write_bundle(out, kiosk_id, number, files)


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    out: dict[str, tuple[int, bytes]] = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if rel != ERROR_FILE:
                out[rel] = (p.stat().st_mode, p.read_bytes())
    return out


@pytest.fixture
def boot(tmp_path: Path, good_bundle: Path) -> Path:
    """A fake boot partition with the bundle on it."""
    part = tmp_path / "boot-firmware"
    part.mkdir()
    target = part / "kiosk-provision.tar.gz"
    target.write_bytes(good_bundle.read_bytes())
    return target


def test_good_bundle_installs_with_the_right_modes_and_is_erased(tmp_path: Path, boot: Path) -> None:
    root = tmp_path / "root"
    code = main(["provision", "--from-boot", str(boot), "--root", str(root)])
    assert code == ExitCode.OK
    assert not boot.exists(), "the bundle must be erased from the boot partition"
    etc = root / "etc/kiosk"
    secrets_dir = etc / "secrets"
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
    names = sorted(p.name for p in secrets_dir.iterdir())
    assert names == sorted(
        ["card_mac.key", "otp.key", "hq_seal.pub", "hq_sign.pub", "client.crt", "client.key", "ca.crt"]
    )
    for p in secrets_dir.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    assert stat.S_IMODE((etc / "config.toml").stat().st_mode) == 0o640
    assert not (root / ERROR_FILE).exists()
    assert not list(root.glob("etc/kiosk.provision-*"))

    data = tomllib.loads((etc / "config.toml").read_text(encoding="utf-8"))
    assert data["kiosk"]["id"] == "kiosk-017" and data["kiosk"]["number"] == 17
    assert data["paths"]["secrets_dir"] == "/etc/kiosk/secrets"
    assert data["paths"]["state_dir"] == "/var/lib/kiosk"
    assert data["paths"]["dev_keys"] is False
    assert data["sync"]["tls"] is True and data["sync"]["host"] == "mqtt.example.net"
    assert data["sync"]["cert_file"] == "/etc/kiosk/secrets/client.crt"
    assert data["sync"]["key_file"] == "/etc/kiosk/secrets/client.key"
    assert data["sync"]["ca_file"] == "/etc/kiosk/secrets/ca.crt"
    # the installed keys load with the kiosk's own loader once paths point into the temp root
    data["paths"]["secrets_dir"] = str(secrets_dir)
    data["paths"]["state_dir"] = str(root / "var/lib/kiosk")
    cfg_file = tmp_path / "check.toml"
    import tomli_w

    cfg_file.write_text(tomli_w.dumps(data), encoding="utf-8")
    keys = load_keys(load_config(cfg_file))
    assert len(keys.card_mac) == 32 and len(keys.otp) == 32
    # no SSH without keys in the bundle
    assert not (root / "etc/ssh/sshd_config.d/10-kiosk.conf").exists()


def test_card_mac_key_is_head_offices_and_otp_key_is_per_kiosk(fleet: Fleet, tmp_path: Path, good_bundle: Path) -> None:
    other = fleet.bundle(tmp_path / "k18.tar.gz", "kiosk-018", 18)
    a, b = members(good_bundle), members(other)
    hq_mac = (fleet.hq_keys / "card_mac.key").read_bytes().strip()
    assert a["secrets/card_mac.key"].strip() == b["secrets/card_mac.key"].strip() == hq_mac
    assert a["secrets/otp.key"] != b["secrets/otp.key"]
    assert a["secrets/hq_seal.pub"].strip() == (fleet.hq_keys / "hq_seal.pub").read_bytes().strip()
    assert a["secrets/client.key"] != b["secrets/client.key"]
    assert stat.S_IMODE(good_bundle.stat().st_mode) == 0o600


def test_authorized_keys_turn_ssh_on_keys_only(fleet: Fleet, tmp_path: Path) -> None:
    bundle = fleet.bundle(
        tmp_path / "ssh.tar.gz",
        authorized_keys="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBw1c0n3yTqAe9bqQ0qH3cVbLwq3Y0l3m0k9a3H2c1x2 tech@hq\n",
    )
    root = tmp_path / "root"
    provision(bundle, root=root)
    dropin = (root / "etc/ssh/sshd_config.d/10-kiosk.conf").read_text()
    assert "PasswordAuthentication no" in dropin
    assert (root / "etc/systemd/system/multi-user.target.wants/ssh.service").is_symlink()
    keys = root / "home/kioskadmin/.ssh/authorized_keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    # re-provisioning without keys turns SSH off again
    plain = rebuild(bundle, tmp_path / "plain.tar.gz", ssh__authorized_keys=None)
    provision(plain, root=root)
    assert not (root / "etc/ssh/sshd_config.d/10-kiosk.conf").exists()
    assert not (root / "etc/systemd/system/multi-user.target.wants/ssh.service").is_symlink()
    assert not keys.exists()


def tampered(bundle: Path, out: Path) -> Path:
    """Change one file but keep the manifest's old hash."""
    with tarfile.open(bundle, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for info in src:
            data = src.extractfile(info).read()  # type: ignore[union-attr]
            if info.name == "secrets/hq_seal.pub":
                data = base64.b64encode(b"\x01" * 32) + b"\n"
                info.size = len(data)
            dst.addfile(info, io.BytesIO(data))
    return out


def expired_cert(fleet: Fleet) -> tuple[bytes, bytes]:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    return issue_client_certificate(
        "kiosk-017", fleet.ca_cert.read_bytes(), fleet.ca_key.read_bytes(), days=30, not_before=start
    )


def future_cert(fleet: Fleet) -> tuple[bytes, bytes]:
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
    return issue_client_certificate(
        "kiosk-017", fleet.ca_cert.read_bytes(), fleet.ca_key.read_bytes(), days=30, not_before=start
    )


def bad_config(bundle: Path) -> bytes:
    text = members(bundle)["config.toml"].decode()
    return text.replace("idle_timeout_s = 60", "idle_timeout_s = 5").encode()


def other_ca_cert(fleet: Fleet, tmp_path: Path) -> bytes:
    from .conftest import _make_ca

    _make_ca(tmp_path / "other-ca")
    return (tmp_path / "other-ca" / "ca.crt").read_bytes()


CASES = {
    "missing file": (
        lambda b, f, t: rebuild(b, t / "x.tar.gz", secrets__otp_dot_key=None),
        ["secrets/otp.key", "missing"],
    ),
    "tampered file": (lambda b, f, t: tampered(b, t / "x.tar.gz"), ["secrets/hq_seal.pub", "SHA-256"]),
    "wrong client key": (
        lambda b, f, t: rebuild(b, t / "x.tar.gz", secrets__client_dot_key=expired_cert(f)[1]),
        ["secrets/client.key", "wrong key"],
    ),
    "expired certificate": (
        lambda b, f, t: rebuild(
            b, t / "x.tar.gz", secrets__client_dot_crt=(c := expired_cert(f))[0], secrets__client_dot_key=c[1]
        ),
        ["secrets/client.crt", "expired", "valid from"],
    ),
    "certificate not yet valid": (
        lambda b, f, t: rebuild(
            b, t / "x.tar.gz", secrets__client_dot_crt=(c := future_cert(f))[0], secrets__client_dot_key=c[1]
        ),
        ["secrets/client.crt", "not yet valid"],
    ),
    "certificate from another CA": (
        lambda b, f, t: rebuild(b, t / "x.tar.gz", secrets__ca_dot_crt=other_ca_cert(f, t)),
        ["secrets/client.crt", "not signed by secrets/ca.crt"],
    ),
    "wrong kiosk id in manifest": (
        lambda b, f, t: rebuild(b, t / "x.tar.gz", kiosk_id="kiosk-099"),
        ["wrong kiosk id", "kiosk-017", "kiosk-099"],
    ),
    "wrong kiosk id in certificate": (
        lambda b, f, t: rebuild(
            b,
            t / "x.tar.gz",
            secrets__client_dot_crt=(
                c := issue_client_certificate("kiosk-099", f.ca_cert.read_bytes(), f.ca_key.read_bytes())
            )[0],
            secrets__client_dot_key=c[1],
        ),
        ["wrong kiosk id", "kiosk-099", "kiosk-017"],
    ),
    "invalid config.toml": (
        lambda b, f, t: rebuild(b, t / "x.tar.gz", config_dot_toml=bad_config(b)),
        ["config.toml", "kiosk.idle_timeout_s"],
    ),
    "config.toml not TOML": (
        lambda b, f, t: rebuild(b, t / "x.tar.gz", config_dot_toml=b"[kiosk\n"),
        ["config.toml", "not valid TOML"],
    ),
    "wrong key length": (
        lambda b, f, t: rebuild(b, t / "x.tar.gz", secrets__card_mac_dot_key=base64.b64encode(b"k" * 16)),
        ["secrets/card_mac.key", "wrong key length", "16"],
    ),
    "unlisted extra file": (
        lambda b, f, t: rebuild(b, t / "x.tar.gz", secrets__extra_dot_key=b"x"),
        ["secrets/extra.key"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_bundle_is_refused_and_changes_nothing(case: str, fleet: Fleet, tmp_path: Path, good_bundle: Path) -> None:
    make, expected = CASES[case]
    work = tmp_path / "work"
    work.mkdir()
    bad = make(good_bundle, fleet, work)
    # a kiosk already provisioned with a good bundle, and the bad one on its boot partition
    root = tmp_path / "root"
    provision(good_bundle, root=root)
    before = snapshot(root)
    boot = tmp_path / "boot" / "kiosk-provision.tar.gz"
    boot.parent.mkdir()
    boot.write_bytes(bad.read_bytes())

    with pytest.raises(ProvisioningError) as err:
        provision(boot, root=root, erase_bundle=True)
    for word in expected:
        assert word in str(err.value), (word, str(err.value))
    assert snapshot(root) == before, "a refused bundle must leave the kiosk as it was"
    assert boot.exists(), "a refused bundle stays where the technician put it"
    shown = (root / ERROR_FILE).read_text(encoding="utf-8")
    assert str(err.value) in shown

    # and on a fresh kiosk nothing at all is installed; the CLI exits with PROVISIONING
    fresh = tmp_path / "fresh"
    assert main(["provision", str(bad), "--root", str(fresh)]) == ExitCode.PROVISIONING
    assert [str(p.relative_to(fresh)) for p in fresh.rglob("*") if p.is_file()] == [ERROR_FILE]


def test_the_error_file_is_removed_by_a_later_good_bundle(tmp_path: Path, good_bundle: Path) -> None:
    root = tmp_path / "root"
    bad = rebuild(good_bundle, tmp_path / "bad.tar.gz", secrets__otp_dot_key=None)
    with pytest.raises(ProvisioningError):
        provision(bad, root=root)
    assert (root / ERROR_FILE).exists()
    provision(good_bundle, root=root)
    assert not (root / ERROR_FILE).exists()


def test_not_a_bundle_and_path_tricks_are_refused(tmp_path: Path, good_bundle: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tarball")
    with pytest.raises(ProvisioningError, match="not a readable"):
        check_bundle(junk)
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        data = b"x"
        info = tarfile.TarInfo("../etc/passwd")
        info.size = 1
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(ProvisioningError, match="only plain relative files"):
        check_bundle(evil)


def test_manifest_lists_every_file_with_its_hash(good_bundle: Path) -> None:
    manifest, files = read_bundle(good_bundle)
    assert manifest["format"] == 1 and manifest["kiosk_id"] == "kiosk-017" and manifest["kiosk_number"] == 17
    listed = {e["path"]: e["sha256"] for e in manifest["files"]}
    assert listed == {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    json.dumps(manifest)


def test_a_crafted_archive_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """Thousands of members (or one name many times) are refused from their headers alone."""
    bomb = tmp_path / "bomb.tar.gz"
    block = b"\0" * (512 << 10)  # compresses to almost nothing
    with tarfile.open(bomb, "w:gz") as tar:
        for i in range(200):
            info = tarfile.TarInfo(f"junk/{i}.bin")
            info.size = len(block)
            tar.addfile(info, io.BytesIO(block))
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(ProvisioningError, match=r"junk/0\.bin: not a file a bundle holds"):
        read_bundle(bomb)
    twice = tmp_path / "twice.tar.gz"
    with tarfile.open(twice, "w:gz") as tar:
        for _ in range(2):
            info = tarfile.TarInfo("config.toml")
            info.size = 3
            tar.addfile(info, io.BytesIO(b"x=1"))
    with pytest.raises(ProvisioningError, match=r"config\.toml: appears twice"):
        read_bundle(twice)
