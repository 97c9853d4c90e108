"""Head office's signed configuration (retained on the kiosk's config topic).

A document is accepted only if it is small enough, signed with head office's Ed25519 key
(``secrets_dir/hq_sign.pub``), addressed to this kiosk (its signed ``kiosks`` list holds this kiosk's
id), newer than the applied one, overrides only the sections head office may set, and still validates when merged over the kiosk's own configuration. Acceptance is
atomic: the signed bytes go to ``state_dir/hq-config.json`` (temp file, fsync, rename), then the
version is recorded, then ``on_apply`` gets the merged configuration. A rejected document leaves
the last good configuration in force and is reported by a reason code (never its content).

A document without a ``kiosks`` list is rejected as ``not_for_this_kiosk`` like one listing other
kiosks: every head office this product works with signs the list in (there is no older head office
in the field whose documents would need to be taken without it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from kiosk.config import Config, validate_config
from kiosk.errors import ConfigError, KioskError, StoreError
from kiosk.fsutil import write_atomic
from kiosk.keys import HQ_SIGN_PUB
from kiosk.store.db import Store
from kiosk.sync import contract
from kiosk.sync.counters import Counters

log = logging.getLogger(__name__)

CONFIG_FILE = "hq-config.json"
STATE_VERSION = "hq_config_version"
STATE_SHA256 = "hq_config_sha256"

OVERRIDABLE = frozenset({"program", "operator", "consent", "form", "otp"})
IGNORED = frozenset({"texts"})  # part of the contract; the kiosk's texts come from its catalogs for now


class Rejection(StrEnum):
    TOO_LARGE = "too_large"
    MALFORMED = "malformed"
    UNSIGNED = "unsigned"
    BAD_SIGNATURE = "bad_signature"
    NO_KEY = "no_key"
    NOT_NEWER = "not_newer"
    FORBIDDEN_SECTION = "forbidden_section"
    INVALID = "invalid"
    NOT_STORED = "not_stored"
    NOT_FOR_THIS_KIOSK = "not_for_this_kiosk"


class ConfigRejected(KioskError, ValueError):
    def __init__(self, reason: Rejection, version: int | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.version = version


def load_verify_key(path: Path) -> VerifyKey | None:
    try:
        raw = base64.b64decode(path.read_bytes().strip(), validate=True)
        return VerifyKey(raw) if len(raw) == 32 else None
    except (OSError, ValueError, binascii.Error):
        return None


class ConfigIntake:
    """Checks and applies head office's config; ``submit`` (any thread) queues a payload for the worker."""

    def __init__(
        self,
        cfg: Config,
        store: Store,
        counters: Counters | None = None,
        *,
        on_apply: Callable[[Config], None] | None = None,
        verify_key: VerifyKey | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base = cfg
        self.store = store
        self.counters = counters or Counters()
        self.on_apply = on_apply
        self.clock = clock
        self._verify_key = verify_key
        self._base_data = cfg.model_dump(mode="json")
        self.path = cfg.state_dir / CONFIG_FILE
        self.current: Config = cfg
        self._lock = threading.Lock()
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    # --- wiring ----------------------------------------------------------------------------

    def submit(self, payload: bytes, _props: Any = None) -> None:
        """Queue a received payload (paho's thread: enqueue only)."""
        self._queue.put(payload)

    def start(self) -> None:
        """Re-apply the accepted document kept on disk, then start the worker."""
        self.load_applied()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="config-intake", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while True:
            payload = self._queue.get()
            if payload is None:
                return
            try:
                self.process(payload)
            except Exception:
                log.exception("config intake failed on a %d-byte payload", len(payload))

    # --- state -----------------------------------------------------------------------------

    @property
    def applied_version(self) -> int | None:
        value = self.store.get_state(STATE_VERSION)
        return int(value) if value is not None else None

    def verify_key(self) -> VerifyKey | None:
        if self._verify_key is None:
            self._verify_key = load_verify_key(self.base.secrets_dir / HQ_SIGN_PUB)
        return self._verify_key

    # --- checking --------------------------------------------------------------------------

    def check(self, payload: bytes, *, require_newer: bool = True) -> tuple[dict[str, Any], Config]:
        """The document and the merged configuration, or raises ``ConfigRejected``."""
        if len(payload) > contract.MAX_PAYLOAD:
            raise ConfigRejected(Rejection.TOO_LARGE)
        try:
            outer = contract.loads(payload)
        except contract.BadMessage:
            raise ConfigRejected(Rejection.MALFORMED) from None
        body_b64, sig_b64 = outer.get("payload"), outer.get("signature")
        if not isinstance(body_b64, str) or not isinstance(sig_b64, str):
            raise ConfigRejected(Rejection.UNSIGNED)
        try:
            body = base64.b64decode(body_b64, validate=True)
            sig = base64.b64decode(sig_b64, validate=True)
        except (ValueError, binascii.Error):
            raise ConfigRejected(Rejection.UNSIGNED) from None
        key = self.verify_key()
        if key is None:
            raise ConfigRejected(Rejection.NO_KEY)
        try:
            key.verify(body, sig)
        except (BadSignatureError, ValueError):
            raise ConfigRejected(Rejection.BAD_SIGNATURE) from None
        try:
            doc = contract.open_config(payload, key)
        except contract.BadMessage:
            raise ConfigRejected(Rejection.MALFORMED) from None
        version = doc["version"]
        kiosks = contract.config_kiosks(doc)
        if kiosks is None or self.base.kiosk.id not in kiosks:
            raise ConfigRejected(Rejection.NOT_FOR_THIS_KIOSK, version)
        applied = self.applied_version
        if require_newer and applied is not None and version <= applied:
            raise ConfigRejected(Rejection.NOT_NEWER, version)
        sections: dict[str, Any] = doc["config"]
        forbidden = set(sections) - OVERRIDABLE - IGNORED
        if forbidden:
            raise ConfigRejected(Rejection.FORBIDDEN_SECTION, version)
        merged = dict(self._base_data)
        for name in OVERRIDABLE.intersection(sections):
            value = sections[name]
            if not isinstance(value, dict):
                raise ConfigRejected(Rejection.INVALID, version)
            merged[name] = {**merged.get(name, {}), **value}
        try:
            new_cfg = validate_config(merged, f"head office config v{version}", self.base.base_dir)
        except ConfigError:
            raise ConfigRejected(Rejection.INVALID, version) from None
        return doc, new_cfg

    # --- applying --------------------------------------------------------------------------

    def process(self, payload: bytes) -> Config | None:
        """Check a received payload and apply it; None when rejected or already in force."""
        with self._lock:
            digest = hashlib.sha256(payload).hexdigest()
            if digest == self.store.get_state(STATE_SHA256):
                log.debug("head office config already applied")
                return None  # the retained copy again, after a reconnect
            try:
                doc, new_cfg = self.check(payload)
            except ConfigRejected as exc:
                self._reject(exc, len(payload))
                return None
            version = int(doc["version"])
            try:
                write_atomic(self.path, payload)
                self.store.set_state(STATE_VERSION, str(version))
                self.store.set_state(STATE_SHA256, digest)
            except (OSError, StoreError) as exc:
                log.error("could not store head office config v%d: %s", version, type(exc).__name__)
                self._reject(ConfigRejected(Rejection.NOT_STORED, version), len(payload))
                return None
            self.store.audit("config_applied", {"version": version, "sha256": digest}, self.clock())
            self.counters.inc("configs_applied")
            log.info("applied head office config v%d (%d bytes)", version, len(payload))
            self._apply(new_cfg)
            return new_cfg

    def load_applied(self) -> Config | None:
        """On start: re-verify the accepted document on disk and apply it again."""
        with self._lock:
            try:
                payload = self.path.read_bytes()
            except FileNotFoundError:
                return None
            except OSError as exc:
                log.error("cannot read %s: %s", self.path, exc.strerror)
                return None
            try:
                doc, new_cfg = self.check(payload, require_newer=False)
            except ConfigRejected as exc:
                log.error("the stored head office config no longer checks (%s); using the kiosk's own", exc.reason)
                self.counters.inc("configs_rejected")
                self.counters.note("last_config_rejection", exc.reason.value)
                self.store.audit("config_rejected", {"reason": exc.reason.value, "stored": True}, self.clock())
                return None
            version = int(doc["version"])
            if self.applied_version != version:
                self.store.set_state(STATE_VERSION, str(version))
                self.store.set_state(STATE_SHA256, hashlib.sha256(payload).hexdigest())
            log.info("re-applied stored head office config v%d", version)
            self._apply(new_cfg)
            return new_cfg

    def _apply(self, new_cfg: Config) -> None:
        self.current = new_cfg
        if self.on_apply is not None:
            try:
                self.on_apply(new_cfg)
            except Exception:
                log.exception("applying the new configuration failed")

    def _reject(self, exc: ConfigRejected, size: int) -> None:
        self.counters.inc("configs_rejected")
        self.counters.note("last_config_rejection", exc.reason.value)
        detail: dict[str, Any] = {"reason": exc.reason.value, "size": size}
        if exc.version is not None:
            detail["version"] = exc.version
        try:
            self.store.audit("config_rejected", detail, self.clock())
        except StoreError as err:
            log.error("could not audit a config rejection: %s", err)
        log.warning("rejected head office config (%s, %d bytes)", exc.reason.value, size)
