"""The kiosk's error hierarchy and stable exit codes.

Every error the kiosk raises on purpose is a ``KioskError``; each subclass also inherits the
built-in exception it resembles so callers that only know the built-ins still catch it.
Messages name the device, file or key involved and never contain personal data.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Stable exit codes for the CLI and systemd (``RestartPreventExitStatus`` uses CONFIG)."""

    OK = 0
    FAILURE = 1
    CONFIG = 2
    STORE = 3
    HARDWARE = 4
    PROVISIONING = 5
    DISK_FULL = 6


class KioskError(Exception):
    """Root of every error the kiosk raises on purpose."""

    exit_code: ExitCode = ExitCode.FAILURE


class ConfigError(KioskError, ValueError):
    """Invalid configuration; ``problems`` holds one ``(location, message)`` per fault."""

    exit_code = ExitCode.CONFIG

    def __init__(self, path: str, problems: list[tuple[str, str]]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {loc}: {msg}" if loc else f"{path}: {msg}" for loc, msg in problems))


class StoreError(KioskError, RuntimeError):
    exit_code = ExitCode.STORE


class DiskFullError(StoreError, OSError):
    exit_code = ExitCode.DISK_FULL


class SecretsError(KioskError, RuntimeError):
    exit_code = ExitCode.CONFIG


class HardwareError(KioskError, RuntimeError):
    """A device failed; the message names the device."""

    exit_code = ExitCode.HARDWARE


class ProvisioningError(KioskError, ValueError):
    exit_code = ExitCode.PROVISIONING
