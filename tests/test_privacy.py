"""Privacy invariants 1 and 2 (DESIGN.md section 4), checked by scanning raw bytes on disk and in logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kiosk.core.flow import EndReason, Step
from kiosk.keys import load_dev_hq_private
from kiosk.signup import CodeToSend, SignupResult
from kiosk.store.seal import unseal
from tests.conftest import make_config
from tests.signup_helpers import CUSTOMER, harness, scan_files, sign_up


@pytest.fixture
def log_file(tmp_path: Path):
    """Every log record of every logger, at DEBUG, written to a file we scan afterwards."""
    path = tmp_path / "state" / "kiosk.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s %(args)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield path
    root.removeHandler(handler)
    root.setLevel(old_level)
    handler.close()


STOPS = ["rules", "form-typed", "form-rejected", "consent", "code-sent", "code-wrong"]


def drive_until(h, stop: str):
    s = h.service.start()
    s.accept_rules(h.clock())
    if stop == "rules":
        return s
    if stop == "form-typed":
        s.values = dict(CUSTOMER)  # typed into the fields, not yet submitted
        return s
    if stop == "form-rejected":
        assert h.service.submit_form(s, dict(CUSTOMER, birth_date="31.02.1997"))
        return s
    assert not h.service.submit_form(s, dict(CUSTOMER))
    s.show_consent(h.clock())
    if stop == "consent":
        return s
    assert s.give_consent(True, True, h.clock())
    sent = h.service.prepare_code(s)
    assert isinstance(sent, CodeToSend)
    if stop == "code-sent":
        return s
    wrong = "0" * len(sent.code) if sent.code != "0" * len(sent.code) else "1" * len(sent.code)
    assert not isinstance(h.service.confirm_code(s, wrong, "ru"), SignupResult)
    return s


@pytest.mark.parametrize("how", ["abandon", "idle"])
@pytest.mark.parametrize("stop", STOPS)
def test_unfinished_signup_leaves_no_byte(tmp_path: Path, log_file: Path, stop: str, how: str) -> None:
    cfg = make_config(tmp_path)
    h = harness(cfg)
    s = drive_until(h, stop)
    if how == "abandon":
        s.end(EndReason.ABANDONED)
    else:
        h.clock.advance(cfg.kiosk.idle_timeout_s + cfg.kiosk.idle_warning_s)
        assert s.idle_expired(h.clock(), cfg.kiosk.idle_timeout_s, cfg.kiosk.idle_warning_s)
        s.end(EndReason.IDLE_TIMEOUT)
    assert s.step is Step.ABANDONED and s.customer is None and not s.values
    # scanned while the database is open (the -wal and -shm exist) and again after closing
    wal = Path(str(cfg.database_path) + "-wal")
    assert cfg.database_path.exists() and wal.exists()
    assert scan_files(h.files()) == []
    h.store.close()
    if stop not in ("rules", "form-typed"):
        assert log_file.stat().st_size > 0, "the scan must cover real log output"
    assert scan_files(h.files()) == []


def test_completed_signup_is_sealed_and_opens_to_exactly_what_was_entered(tmp_path: Path, log_file: Path) -> None:
    cfg = make_config(tmp_path)
    h = harness(cfg)
    result = sign_up(h, ads=True)
    assert scan_files(h.files()) == [], "personal data in clear on disk or in the log"
    ((_, event),) = h.store.outbox_batch(10)
    env = event.envelope
    assert env["card_number"] == result.card_number
    assert set(env) >= {"event_id", "type", "ts", "kiosk_id", "schema", "sealed", "consents"}
    opened = unseal(env["sealed"], load_dev_hq_private(cfg))
    assert opened == {
        "name": "Валентина Щукина-Ёлкина",
        "phone": "+79164827359",
        "birth_date": "1997-07-06",
        "gender": "female",
        "email": "valentina.shch@example.ru",
    }
    kinds = [c["kind"] for c in env["consents"]]
    assert kinds == ["processing", "advertising"]
    for record in env["consents"]:
        assert record["masked_phone"] == "+7 *** ***-**-59"
        assert record["method"] == "sms-code"
        assert len(record["sha256"]) == 64
    h.store.close()
    assert scan_files(h.files()) == []


def test_secure_delete_wipes_acknowledged_rows(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    h = harness(cfg)
    sign_up(h)
    ((_, event),) = h.store.outbox_batch(10)
    sealed = event.envelope["sealed"].encode()
    assert h.store.ack([event.event_id]) == 1
    h.store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    h.store.close()
    assert sealed[:40] not in cfg.database_path.read_bytes()


def test_fields_the_form_does_not_collect_are_never_stored(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, form={"birth_date": "off", "gender": "off", "email": "off"})
    h = harness(cfg)
    sign_up(h)
    ((_, event),) = h.store.outbox_batch(10)
    opened = unseal(event.envelope["sealed"], load_dev_hq_private(cfg))
    assert opened["birth_date"] is None and opened["email"] is None and opened["gender"] is None


def test_otp_state_of_an_abandoned_signup_is_forgotten(tmp_path: Path) -> None:
    """A challenge outlives its session only as long as a rule needs it, and sends only a day."""
    cfg = make_config(tmp_path)
    h = harness(cfg)
    s = drive_until(h, "code-sent")
    s.end(EndReason.ABANDONED)
    count = lambda table: h.store.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: E731
    assert count("otp_challenges") == 1 and count("otp_sends") == 1
    h.clock.advance(max(cfg.otp.lifetime_s, cfg.otp.resend_cooldown_s) + 1)
    h.service.start()
    assert count("otp_challenges") == 0
    assert count("otp_sends") == 1  # still counts against the daily cap
    h.clock.advance(86400)
    h.service.start()
    assert count("otp_sends") == 0
