"""Signed head-office config through a real broker: applied atomically, or rejected with a reason code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from kiosk.config import Config
from kiosk.keys import Keys
from kiosk.store.db import Store
from kiosk.sync import contract, make_sync
from kiosk.sync.config_intake import CONFIG_FILE, STATE_VERSION, ConfigIntake
from tests.sync.conftest import HeadOffice, wait_until

KIOSK = "kiosk-0001"  # the test kiosk's id (tests.conftest.make_config)


def doc(version: int, kiosks: Any = (KIOSK,), **sections: Any) -> dict[str, Any]:
    document = {"version": version, "config": sections or {"otp": {"length": 5}}}
    if kiosks is not None:
        document["kiosks"] = list(kiosks) if isinstance(kiosks, tuple) else kiosks
    return document


def test_valid_config_is_applied_and_each_bad_one_rejected(
    sync_cfg: Config, store: Store, keys: Keys, hq: HeadOffice, hq_sign: SigningKey
) -> None:
    applied: list[Config] = []
    link = make_sync(sync_cfg, store, keys, on_config=applied.append)
    link.start()
    try:
        good = contract.sign_config(doc(3, otp={"length": 5}, form={"email": "off"}), hq_sign)
        hq.publish_config(good)
        assert wait_until(lambda: len(applied) == 1)
        assert applied[0].otp.length == 5
        assert applied[0].form.email == "off"
        assert applied[0].kiosk.id == sync_cfg.kiosk.id  # the kiosk's own sections stay
        assert store.get_state(STATE_VERSION) == "3"
        assert (sync_cfg.state_dir / CONFIG_FILE).read_bytes() == good
        assert [r[2]["version"] for r in store.audit_rows("config_applied")] == [3]

        other = SigningKey.generate()
        bad: list[tuple[str, bytes]] = [
            ("malformed", b'{"payload": "abc", "signature"'),
            ("too_large", b"{" + b" " * (contract.MAX_PAYLOAD + 1) + b"}"),
            ("unsigned", contract.dumps(doc(9))),
            ("unsigned", contract.dumps({"payload": "!!not base64!!", "signature": "AAAA"})),
            ("bad_signature", contract.sign_config(doc(9), other)),
            (
                "bad_signature",  # a good signature over a different body
                contract.dumps(
                    {
                        "payload": json.loads(contract.sign_config(doc(9, otp={"length": 7}), hq_sign))["payload"],
                        "signature": json.loads(contract.sign_config(doc(9), hq_sign))["signature"],
                    }
                ),
            ),
            ("malformed", contract.sign_config({"version": "10", "config": {}}, hq_sign)),
            ("not_newer", contract.sign_config(doc(3, otp={"length": 7}), hq_sign)),
            ("not_newer", contract.sign_config(doc(2), hq_sign)),
            ("invalid", contract.sign_config(doc(10, otp={"length": 3}), hq_sign)),
            ("invalid", contract.sign_config(doc(10, form={"phone": "optional"}), hq_sign)),
            ("invalid", contract.sign_config(doc(10, operator={"inn": "1234567890"}), hq_sign)),
            ("forbidden_section", contract.sign_config(doc(10, sync={"host": "evil.example"}), hq_sign)),
            ("forbidden_section", contract.sign_config(doc(10, kiosk={"number": 2}), hq_sign)),
            ("forbidden_section", contract.sign_config(doc(10, paths={"state_dir": "/tmp"}), hq_sign)),
            ("forbidden_section", contract.sign_config(doc(10, hardware={}), hq_sign)),
            ("not_for_this_kiosk", contract.sign_config(doc(10, kiosks=("kiosk-0002",)), hq_sign)),
            ("not_for_this_kiosk", contract.sign_config(doc(10, kiosks=()), hq_sign)),
            ("not_for_this_kiosk", contract.sign_config(doc(10, kiosks=None), hq_sign)),  # no list at all
            ("not_for_this_kiosk", contract.sign_config(doc(10, kiosks=KIOSK), hq_sign)),  # a string, not a list
            ("not_for_this_kiosk", contract.sign_config(doc(10, kiosks=[KIOSK, 7]), hq_sign)),
        ]
        for n, (reason, payload) in enumerate(bad, start=1):
            hq.publish_config(payload)
            assert wait_until(lambda n=n: link.status_counters()["configs_rejected"] == n), reason
            assert link.status_counters()["last_config_rejection"] == reason
            audit = store.audit_rows("config_rejected")[-1][2]
            assert audit["reason"] == reason and audit["size"] == len(payload)
            assert store.get_state(STATE_VERSION) == "3"
            assert (sync_cfg.state_dir / CONFIG_FILE).read_bytes() == good
        assert len(applied) == 1
        # The status heartbeat reports the applied version and the rejections.
        snap = link.status.snapshot()
        assert snap["config_version"] == 3
        assert snap["counters"]["configs_rejected"] == len(bad)
        # No rejection audit row holds any of the payloads.
        assert all(set(r[2]) <= {"reason", "size", "version"} for r in store.audit_rows("config_rejected"))

        newer = contract.sign_config(doc(4, kiosks=("kiosk-0002", KIOSK), otp={"length": 8}), hq_sign)
        hq.publish_config(newer)
        assert wait_until(lambda: len(applied) == 2)
        assert applied[1].otp.length == 8
        assert link.config.current.otp.length == 8
    finally:
        link.stop()


def test_retained_copy_after_reconnect_is_not_a_rejection(
    sync_cfg: Config, store: Store, keys: Keys, hq: HeadOffice, hq_sign: SigningKey
) -> None:
    hq.publish_config(contract.sign_config(doc(1), hq_sign))
    for _ in range(2):
        link = make_sync(sync_cfg, store, keys)
        link.start()
        assert wait_until(lambda: store.get_state(STATE_VERSION) == "1")
        assert wait_until(lambda link=link: link.connected)
        link.stop()
        assert link.status_counters()["configs_rejected"] == 0


def test_accepted_config_on_disk_is_reverified_and_applied_on_start(
    sync_cfg: Config, store: Store, hq_sign: SigningKey
) -> None:
    intake = ConfigIntake(sync_cfg, store)
    payload = contract.sign_config(doc(5, otp={"length": 4}), hq_sign)
    assert intake.process(payload) is not None

    applied: list[Config] = []
    again = ConfigIntake(sync_cfg, store, on_apply=applied.append)
    assert again.load_applied() is not None
    assert [c.otp.length for c in applied] == [4]

    # A stored document that no longer verifies is not used.
    path: Path = sync_cfg.state_dir / CONFIG_FILE
    tampered = json.loads(path.read_bytes())
    tampered["signature"] = json.loads(contract.sign_config(doc(5), SigningKey.generate()))["signature"]
    path.write_bytes(contract.dumps(tampered))
    third = ConfigIntake(sync_cfg, store, on_apply=applied.append)
    assert third.load_applied() is None
    assert len(applied) == 1
    assert third.current is sync_cfg
    assert third.counters.get("configs_rejected") == 1


def test_without_head_office_key_everything_is_rejected(sync_cfg: Config, store: Store) -> None:
    intake = ConfigIntake(sync_cfg, store)
    assert intake.process(contract.sign_config(doc(1), SigningKey.generate())) is None
    assert intake.counters.snapshot()["last_config_rejection"] == "no_key"
