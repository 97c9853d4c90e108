"""SMS through a generic HTTP provider: ``POST {"to": "+7...", "text": "..."}`` as JSON.

The ``Authorization`` header value is read once, when the sender is built, from a file in the secrets
directory (``hardware.sms.http_auth_secret``), so a missing secret stops the kiosk at start-up rather
than at the first customer. Only ``https://`` URLs are accepted, except plain ``http://`` to the
loopback address (a local relay, or the test server). Redirects are not followed: the header must not
travel to another host.

Outcome mapping: 2xx sent; 3xx and 4xx ``SmsRejected`` (code ``http-3xx``/``http-4xx``); 5xx
``SmsUnavailable`` (retryable); no answer within ``timeout_s`` ``SmsTimeout``; refused or unreachable
``SmsUnavailable``. The timeout applies to connecting and to each wait for data. Messages show the
provider's scheme, host and port only (a URL's path or query may carry an account key).
"""

from __future__ import annotations

import http.client
import json
import logging
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kiosk.errors import ConfigError, SecretsError
from kiosk.hw.sms import SmsRejected, SmsTimeout, SmsUnavailable

if TYPE_CHECKING:
    from kiosk.config import SmsConfig

log = logging.getLogger(__name__)

_LOOPBACK = frozenset({"127.0.0.1", "::1"})


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be used for the provider, or None when it can."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port
    except ValueError as exc:
        return f"not a valid URL: {exc}"
    if not host:
        return "the URL has no host"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and host in _LOOPBACK:
        return None
    return "must start with https:// (plain http:// is allowed only to 127.0.0.1)"


def read_auth_secret(path: Path) -> str:
    """The Authorization value stored in ``path`` (surrounding whitespace and the final newline removed)."""
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise SecretsError(f"SMS http backend: the secret file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretsError(f"SMS http backend: cannot read the secret file {path}: {exc}") from None
    if not value:
        raise SecretsError(f"SMS http backend: the secret file {path} is empty")
    if any(ch in value for ch in "\r\n\x00"):
        raise SecretsError(f"SMS http backend: the secret file {path} must hold a single line")
    return value


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class HttpSms:
    """POSTs each message as JSON to ``url`` with ``Authorization: <auth_value>``."""

    def __init__(self, url: str, auth_value: str, *, timeout_s: float = 20.0, source: str = "config") -> None:
        problem = url_problem(url)
        if problem is not None:
            raise ConfigError(source, [("hardware.sms.http_url", problem)])
        self.url = url
        self.timeout_s = timeout_s
        self._auth = auth_value
        parts = urlsplit(url)
        self.endpoint = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
        """Scheme, host and port: what error messages and logs show of the URL."""
        self._opener = urllib.request.build_opener(_NoRedirect)

    @classmethod
    def from_config(cls, cfg: SmsConfig, secrets_dir: Path, *, source: str = "config") -> HttpSms:
        if not cfg.http_url:
            raise ConfigError(source, [("hardware.sms.http_url", "backend 'http' needs http_url")])
        problem = url_problem(cfg.http_url)
        if problem is not None:
            raise ConfigError(source, [("hardware.sms.http_url", problem)])
        auth = read_auth_secret(Path(secrets_dir) / cfg.http_auth_secret)
        return cls(cfg.http_url, auth, timeout_s=cfg.timeout_s, source=source)

    def send(self, phone_e164: str, text: str) -> None:
        body = json.dumps({"to": phone_e164, "text": text}, ensure_ascii=False).encode("utf-8")
        # The scheme was checked in __init__ (https, or http to the loopback address only).
        request = urllib.request.Request(  # noqa: S310
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "Authorization": self._auth,
                "User-Agent": "loyalty-kiosk",
            },
        )
        where = f"SMS provider {self.endpoint}"
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                status = int(response.status)
                response.read(64 * 1024)
        except urllib.error.HTTPError as exc:
            status = exc.code
            exc.close()
        except TimeoutError:
            raise SmsTimeout(f"{where}: no answer within {self.timeout_s:g} s") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise SmsTimeout(f"{where}: no answer within {self.timeout_s:g} s") from None
            if isinstance(reason, ConnectionRefusedError):
                raise SmsUnavailable(f"{where}: connection refused") from None
            if isinstance(reason, ssl.SSLError):
                raise SmsUnavailable(f"{where}: TLS failed: {reason.reason or reason}") from None
            raise SmsUnavailable(f"{where}: cannot connect: {reason}") from None
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            raise SmsUnavailable(f"{where}: the connection failed: {type(exc).__name__}") from None

        if 200 <= status < 300:
            log.info("%s: message accepted (HTTP %d)", where, status)
            return
        if status >= 500:
            raise SmsUnavailable(f"{where}: server error HTTP {status}")
        raise SmsRejected(
            f"{where}: refused the message with HTTP {status}", code=f"http-{status // 100}xx", status=status
        )
