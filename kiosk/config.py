"""Typed settings for the kiosk, read from ``config.toml``.

Every model forbids unknown keys. ``load_config`` turns any validation problem into a
``ConfigError`` whose lines read ``FILE: key.path: message``, so a technician can find the
offending line without reading Python tracebacks.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.ru import inn as ru_inn

from kiosk.core import model
from kiosk.errors import ConfigError

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config.toml"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


Language = Literal["ru", "en"]
LANGUAGES: tuple[Language, ...] = ("ru", "en")


class LocalText(_Model):
    """A text given in every language the kiosk speaks."""

    ru: Annotated[str, Field(min_length=1)]
    en: Annotated[str, Field(min_length=1)]

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.ru


class KioskSection(_Model):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{2,31}$")]
    """Identity on the MQTT broker and in every event; lower-case letters, digits, hyphens."""
    number: Annotated[int, Field(ge=1, le=9999)]
    """Kiosk number inside the fleet; part of every card number it issues."""
    language: Language = "ru"
    idle_timeout_s: Annotated[int, Field(ge=15, le=600)] = 60
    idle_warning_s: Annotated[int, Field(ge=5, le=60)] = 10
    store_name: LocalText


class OperatorSection(_Model):
    name: Annotated[str, Field(min_length=2, max_length=200)]
    legal_address: Annotated[str, Field(min_length=5, max_length=300)]
    inn: str
    contact: Annotated[str, Field(min_length=5, max_length=200)]
    """Where a customer sends requests about their data (address, e-mail or phone)."""
    policy_url: str | None = None
    """The operator's published personal-data policy (152-FZ art. 18.1 p. 2); named in the consent."""

    @field_validator("policy_url")
    @classmethod
    def _policy(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("must be an https:// URL")
        return value

    @field_validator("inn")
    @classmethod
    def _inn(cls, value: str) -> str:
        try:
            return str(ru_inn.validate(value))
        except StdnumValidationError as exc:
            raise ValueError(f"not a valid INN (10 or 12 digits with correct check digits): {exc}") from None


class Tier(_Model):
    name: LocalText
    from_rub: Annotated[int, Field(ge=0)]
    discount_pct: Annotated[int, Field(ge=1, le=100)]


class StampCard(_Model):
    name: LocalText
    buy: Annotated[int, Field(ge=1, le=100)]
    """Paid items needed; the next one is free ("6th coffee free after 5": buy = 5)."""
    reward: LocalText


class ProgramSection(_Model):
    name: LocalText
    tiers: list[Tier] = []
    points_per: Annotated[int, Field(ge=0, le=10_000)] = 10
    """Points accrued per ``per_rub`` roubles of a bill."""
    per_rub: Annotated[int, Field(ge=1, le=100_000)] = 100
    activation_delay_days: Annotated[int, Field(ge=0, le=365)] = 14
    point_value_rub: Annotated[float, Field(gt=0, le=1000)] = 1.0
    max_bill_share_pct: Annotated[int, Field(ge=0, le=100)] = 50
    excluded: list[LocalText] = []
    stamp_cards: list[StampCard] = []
    how_to_check: LocalText
    """How a customer checks the balance and learns about changes to the rules."""
    wallet_url: str | None = None
    """Template with ``{card}``; when set, receipts and the done screen show a QR to add the card to a phone."""

    @field_validator("tiers")
    @classmethod
    def _tiers_ascend(cls, tiers: list[Tier]) -> list[Tier]:
        for lower, upper in itertools.pairwise(tiers):
            if upper.from_rub <= lower.from_rub or upper.discount_pct <= lower.discount_pct:
                raise ValueError("tiers must be in ascending order of from_rub and discount_pct")
        return tiers

    @field_validator("wallet_url")
    @classmethod
    def _wallet(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith("https://") or "{card}" not in value):
            raise ValueError("must be an https:// URL containing {card}")
        return value


class ThirdParty(_Model):
    name: Annotated[str, Field(min_length=2)]
    address: Annotated[str, Field(min_length=5)]
    purpose: LocalText


class ConsentSection(_Model):
    version: Annotated[str, Field(pattern=r"^[0-9A-Za-z.\-]{1,32}$")]
    purpose: LocalText
    term: LocalText
    """How long the consent lasts (e.g. while the customer takes part, and after)."""
    retention_after_days: Annotated[int, Field(ge=0, le=3650)] = 30
    third_parties: list[ThirdParty] = []
    withdrawal: LocalText
    """How to withdraw (whom to write to, where)."""
    ads_purpose: LocalText
    ads_channels: list[Literal["sms", "email", "messenger"]] = ["sms"]


class FieldMode(StrEnum):
    REQUIRED = "required"
    OPTIONAL = "optional"
    OFF = "off"


FORM_FIELDS = ("name", "phone", "birth_date", "gender", "email")


class FormSection(_Model):
    """Which fields the form collects. There is deliberately no passport or ID field."""

    name: FieldMode = FieldMode.REQUIRED
    phone: FieldMode = FieldMode.REQUIRED
    birth_date: FieldMode = FieldMode.OPTIONAL
    gender: FieldMode = FieldMode.OPTIONAL
    email: FieldMode = FieldMode.OPTIONAL
    min_age: Annotated[int, Field(ge=14, le=100)] = 14
    max_age: Annotated[int, Field(ge=18, le=150)] = 120
    name_max_len: Annotated[int, Field(ge=10, le=100)] = 60

    @field_validator("phone")
    @classmethod
    def _phone_required(cls, value: FieldMode) -> FieldMode:
        if value is not FieldMode.REQUIRED:
            raise ValueError("must be 'required': consent is confirmed by an SMS code to this phone")
        return value

    @model_validator(mode="after")
    def _ages(self) -> FormSection:
        if self.max_age <= self.min_age:
            raise ValueError("max_age must be greater than min_age")
        return self

    def collected(self) -> tuple[str, ...]:
        """The fields the form asks for, in form order."""
        return tuple(f for f in FORM_FIELDS if getattr(self, f) is not FieldMode.OFF)


class OtpSection(_Model):
    length: int = 6
    lifetime_s: Annotated[int, Field(ge=60, le=1800)] = 300
    max_attempts: Annotated[int, Field(ge=1, le=10)] = 5
    resend_cooldown_s: Annotated[int, Field(ge=15, le=600)] = 60
    per_phone_daily_cap: Annotated[int, Field(ge=1, le=50)] = 5
    per_kiosk_hourly_cap: Annotated[int, Field(ge=1, le=1000)] = 30
    allowed_country_codes: Annotated[list[Annotated[int, Field(ge=1, le=999)]], Field(min_length=1)] = [7]

    @field_validator("length")
    @classmethod
    def _length(cls, value: int) -> int:
        if not 4 <= value <= 8:
            raise ValueError(f"must be between 4 and 8, got {value}")
        return value


class ScannerConfig(_Model):
    backend: Literal["sim", "picamera2", "v4l2", "evdev"] = "sim"
    decoder: Literal["zxing", "zbar"] = "zxing"
    device: str | None = None
    """v4l2: /dev/videoN; evdev: /dev/input/by-id/... of the barcode module."""
    width: Annotated[int, Field(ge=160, le=4096)] = 640
    height: Annotated[int, Field(ge=120, le=4096)] = 480
    fps: Annotated[int, Field(ge=1, le=60)] = 15
    sim_images: list[str] = []
    """Simulator: image files shown to the camera in turn (empty: generated scenes)."""


class PrinterConfig(_Model):
    backend: Literal["sim", "usb", "serial", "network", "file"] = "sim"
    paper_mm: Literal[58, 80] = 80
    profile: str = "default"
    native_qr: bool = True
    usb_vendor: Annotated[int, Field(ge=0, le=0xFFFF)] | None = None
    usb_product: Annotated[int, Field(ge=0, le=0xFFFF)] | None = None
    serial_device: str = "/dev/ttyUSB0"
    serial_baud: int = 9600
    host: str | None = None
    port: Annotated[int, Field(ge=1, le=65535)] = 9100
    file_path: str = "/dev/usb/lp0"
    timeout_s: Annotated[float, Field(gt=0, le=60)] = 5.0

    @model_validator(mode="after")
    def _backend_needs(self) -> PrinterConfig:
        if self.backend == "usb" and (self.usb_vendor is None or self.usb_product is None):
            raise ValueError("backend 'usb' needs usb_vendor and usb_product")
        if self.backend == "network" and not self.host:
            raise ValueError("backend 'network' needs host")
        return self


class PanelPins(_Model):
    call_button: int | None = 17
    call_led: int | None = 27
    status_led: int | None = 22
    paper_low: int | None = 23
    pir: int | None = 24
    tamper: int | None = 25


class PanelConfig(_Model):
    backend: Literal["sim", "gpio"] = "sim"
    pins: PanelPins = PanelPins()
    hold_time_s: Annotated[float, Field(gt=0, le=30)] = 3.0


class SmsConfig(_Model):
    backend: Literal["console", "modem", "http", "hq"] = "console"
    modem_device: str = "/dev/ttyUSB2"
    modem_baud: int = 115200
    http_url: str | None = None
    http_auth_secret: str = "sms_http_auth"  # noqa: S105 - a file name, not a secret
    """Name of the file under the secrets directory holding the Authorization header value."""
    timeout_s: Annotated[float, Field(gt=0, le=120)] = 20.0

    @model_validator(mode="after")
    def _backend_needs(self) -> SmsConfig:
        if self.backend == "http" and not self.http_url:
            raise ValueError("backend 'http' needs http_url")
        return self


class DisplayConfig(_Model):
    width: Annotated[int, Field(ge=320, le=7680)] = 800
    height: Annotated[int, Field(ge=240, le=7680)] = 480
    diagonal_in: Annotated[float, Field(gt=2, le=100)] = 7.0
    fullscreen: bool = False
    fps: Annotated[int, Field(ge=5, le=120)] = 30


class HardwareSection(_Model):
    display: DisplayConfig = DisplayConfig()
    scanner: ScannerConfig = ScannerConfig()
    printer: PrinterConfig = PrinterConfig()
    panel: PanelConfig = PanelConfig()
    sms: SmsConfig = SmsConfig()


class SyncSection(_Model):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 1883
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    username: str | None = None
    password_secret: str | None = None
    keepalive_s: Annotated[int, Field(ge=5, le=3600)] = 30
    session_expiry_s: Annotated[int, Field(ge=60, le=30 * 86400)] = 7 * 86400
    max_inflight: Annotated[int, Field(ge=1, le=1000)] = 500
    heartbeat_s: Annotated[int, Field(ge=5, le=3600)] = 60
    rpc_timeout_s: Annotated[float, Field(gt=0, le=60)] = 5.0
    topic_prefix: Annotated[str, Field(pattern=r"^[a-z0-9/]+$")] = "loyalty/v1"

    @model_validator(mode="after")
    def _tls(self) -> SyncSection:
        if self.tls and not self.ca_file:
            raise ValueError("tls = true needs ca_file")
        if bool(self.cert_file) != bool(self.key_file):
            raise ValueError("cert_file and key_file go together")
        return self


class PathsSection(_Model):
    state_dir: str = "/var/lib/kiosk"
    """Database and runtime state. Relative paths are taken from the config file's folder."""
    secrets_dir: str = "/etc/kiosk/secrets"
    database: str = "kiosk.db"
    """Relative to state_dir."""
    dev_keys: bool = False
    """Development only: create missing keys on first run (including a head-office key pair)."""
    min_free_mb: Annotated[int, Field(ge=1, le=10_000)] = 20
    """Below this much free space in state_dir the kiosk takes no new sign-up (out of service)."""


class Config(_Model):
    kiosk: KioskSection
    operator: OperatorSection
    program: ProgramSection
    consent: ConsentSection
    form: FormSection = FormSection()
    otp: OtpSection = OtpSection()
    hardware: HardwareSection = HardwareSection()
    sync: SyncSection = SyncSection()
    paths: PathsSection = PathsSection()

    @model_validator(mode="after")
    def _sms_provider_is_a_named_processor(self) -> Config:
        if self.hardware.sms.backend == "http" and not self.consent.third_parties:
            raise ValueError(
                "hardware.sms.backend 'http' hands phone numbers to an SMS provider: name it in "
                "consent.third_parties (152-FZ art. 6 p. 3)"
            )
        return self

    # Set by load_config: the file it came from and the folder relative paths are taken from.
    _base_dir: Path = PrivateAttr(default=Path("."))
    _source: str = PrivateAttr(default="<memory>")

    @property
    def base_dir(self) -> Path:
        return self._base_dir

    @property
    def source(self) -> str:
        return self._source

    def resolve(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.base_dir / path)

    @property
    def state_dir(self) -> Path:
        return self.resolve(self.paths.state_dir)

    @property
    def secrets_dir(self) -> Path:
        return self.resolve(self.paths.secrets_dir)

    @property
    def database_path(self) -> Path:
        db = Path(self.paths.database)
        return db if db.is_absolute() else self.state_dir / db


_CTX_RE = re.compile(r"^(Value error|Assertion failed), ")


def _loc(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _message(err: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    msg = _CTX_RE.sub("", str(err["msg"]))
    msg = msg[:1].lower() + msg[1:]
    value = err.get("input")
    if ", got " not in msg and value is not None and not isinstance(value, dict | list):
        msg = f"{msg}, got {value!r}"
    return msg


def validate_config(data: dict[str, Any], source: str = "<memory>", base_dir: Path | None = None) -> Config:
    """Validate a parsed TOML document; raise ``ConfigError`` naming ``source`` and each key."""
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        problems = [(_loc(e["loc"]), _message(e)) for e in exc.errors()]
        raise ConfigError(source, problems) from None
    cfg._base_dir = base_dir or Path(".")
    cfg._source = source
    return cfg


def load_config(path: str | Path | None = None) -> Config:
    """Read and validate a TOML configuration file (the repository default when ``path`` is None)."""
    file = Path(path) if path is not None else DEFAULT_CONFIG
    shown = str(path) if path is not None else file.name
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigError(shown, [("", f"cannot read the file: {exc.strerror}")]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(shown, [("", "not UTF-8 text")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(shown, [("", f"not valid TOML: {exc}")]) from None
    return validate_config(data, shown, file.resolve().parent)


# --- Conversions to the core's plain types -------------------------------------------------


def _text(value: LocalText) -> model.Text:
    return model.Text(ru=value.ru, en=value.en)


def operator_of(op: OperatorSection) -> model.Operator:
    return model.Operator(
        name=op.name, legal_address=op.legal_address, inn=op.inn, contact=op.contact, policy_url=op.policy_url
    )


def _operator(cfg: Config) -> model.Operator:
    return operator_of(cfg.operator)


def form_rules(cfg: Config) -> model.FormRules:
    form = cfg.form
    collected = tuple(model.Field(f) for f in form.collected())
    required = frozenset(f for f in collected if getattr(form, f.value) is FieldMode.REQUIRED)
    return model.FormRules(
        collected=collected,
        required=required,
        min_age=form.min_age,
        max_age=form.max_age,
        name_max_len=form.name_max_len,
        allowed_country_codes=tuple(cfg.otp.allowed_country_codes),
    )


def otp_policy(cfg: Config) -> model.OtpPolicy:
    o = cfg.otp
    return model.OtpPolicy(
        length=o.length,
        lifetime_s=o.lifetime_s,
        max_attempts=o.max_attempts,
        resend_cooldown_s=o.resend_cooldown_s,
        per_phone_daily_cap=o.per_phone_daily_cap,
        per_kiosk_hourly_cap=o.per_kiosk_hourly_cap,
        allowed_country_codes=tuple(o.allowed_country_codes),
    )


def consent_terms(cfg: Config) -> model.ConsentTerms:
    c = cfg.consent
    return model.ConsentTerms(
        version=c.version,
        operator=_operator(cfg),
        purpose=_text(c.purpose),
        term=_text(c.term),
        retention_after_days=c.retention_after_days,
        withdrawal=_text(c.withdrawal),
        third_parties=tuple(
            model.ThirdParty(name=t.name, address=t.address, purpose=_text(t.purpose)) for t in c.third_parties
        ),
        collected=form_rules(cfg).collected,
        ads_purpose=_text(c.ads_purpose),
        ads_channels=tuple(c.ads_channels),
        program_name=_text(cfg.program.name),
    )


def program_rules(cfg: Config) -> model.ProgramRules:
    return rules_of(cfg.program, _operator(cfg))


def rules_of(p: ProgramSection, operator: model.Operator) -> model.ProgramRules:
    """The core's programme rules from a ``[program]`` section (the kiosk's, or head office's)."""
    return model.ProgramRules(
        name=_text(p.name),
        operator=operator,
        tiers=tuple(model.Tier(_text(t.name), t.from_rub, t.discount_pct) for t in p.tiers),
        points_per=p.points_per,
        per_rub=p.per_rub,
        activation_delay_days=p.activation_delay_days,
        point_value_rub=p.point_value_rub,
        max_bill_share_pct=p.max_bill_share_pct,
        excluded=tuple(_text(x) for x in p.excluded),
        stamp_cards=tuple(model.StampCard(_text(s.name), s.buy, _text(s.reward)) for s in p.stamp_cards),
        how_to_check=_text(p.how_to_check),
        wallet_url=p.wallet_url,
    )
