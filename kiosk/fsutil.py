"""Durable file writes: a power cut leaves either the old file or the new one, never half of one."""

from __future__ import annotations

import os
from pathlib import Path


def sync_dir(folder: Path) -> None:
    """fsync a folder so a rename or unlink in it survives a power cut."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, mode: int = 0o644, dir_mode: int = 0o755) -> None:
    """Write ``data`` to a temporary file beside ``path`` with ``mode``, fsync it, rename it into place,
    and fsync the folder (created with ``dir_mode`` when missing)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=dir_mode)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)  # O_CREAT's mode is filtered by the umask; the file must have exactly this one
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    sync_dir(path.parent)
