"""A throwaway PostgreSQL cluster for tests.

``postgres_cluster`` (session scope) runs ``initdb`` into a fresh temporary folder and starts ``postgres`` on a
free loopback port, with its socket in the same folder and fsync off (the data is thrown away). PostgreSQL
refuses to run as root, so under root the cluster belongs to an unprivileged ``pgtest`` user (created with
``useradd`` when missing) and the server runs through ``runuser``. ``postgres_url`` gives each test its own
fresh database on that cluster, as a SQLAlchemy URL (``postgresql+psycopg://...``).

Tests are skipped, with the reason, when the server binaries or the psycopg driver are missing.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "pgtest"
HOST = "127.0.0.1"
_counter = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _as_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", PG_USER, "--", *cmd] if os.geteuid() == 0 else cmd


def _ensure_user() -> None:
    if os.geteuid() != 0:
        return
    if subprocess.run(["id", "-u", PG_USER], capture_output=True).returncode != 0:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
            check=True,
            capture_output=True,
        )


@dataclass
class PostgresCluster:
    dir: Path
    port: int
    proc: subprocess.Popen[bytes]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@{HOST}:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg

        name = f"t{os.getpid()}_{next(_counter)}"
        with psycopg.connect(host=HOST, port=self.port, user="postgres", dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def stop(self) -> None:
        if self.proc.poll() is None:
            # Signal the postmaster itself (``runuser`` in between does not pass SIGINT on): fast shutdown.
            try:
                pid = int((self.dir / "data" / "postmaster.pid").read_text().split()[0])
                os.kill(pid, signal.SIGINT)
            except (OSError, ValueError, IndexError):
                self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_postgres() -> PostgresCluster:
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "postgres").exists():
        pytest.skip(f"PostgreSQL server binaries not found in {PG_BIN}")
    if importlib.util.find_spec("psycopg") is None:
        pytest.skip("psycopg is not installed")
    _ensure_user()
    folder = Path(tempfile.mkdtemp(prefix="pgtest-"))
    if os.geteuid() == 0:
        shutil.chown(folder, PG_USER, PG_USER)
    data = folder / "data"
    init = subprocess.run(
        _as_user(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ]
        ),
        capture_output=True,
    )
    if init.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {init.stderr.decode(errors='replace')[-2000:]}")
    port = _free_port()
    log = (folder / "postgres.log").open("wb")
    cmd = [str(PG_BIN / "postgres"), "-D", str(data), "-k", str(folder), "-p", str(port), "-h", HOST]
    cmd += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    proc = subprocess.Popen(_as_user(cmd), stdout=log, stderr=log)
    log.close()
    cluster = PostgresCluster(folder, port, proc)
    deadline = time.monotonic() + 30
    import psycopg

    while True:
        if proc.poll() is not None:
            text = (folder / "postgres.log").read_text(errors="replace")[-2000:]
            shutil.rmtree(folder, ignore_errors=True)
            raise RuntimeError(f"postgres exited with {proc.returncode}:\n{text}")
        try:
            with psycopg.connect(host=HOST, port=port, user="postgres", dbname="postgres", connect_timeout=1):
                break
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                cluster.stop()
                shutil.rmtree(folder, ignore_errors=True)
                raise RuntimeError("postgres did not start in 30 s") from None
            time.sleep(0.1)
    return cluster


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = start_postgres()
    try:
        yield cluster
    finally:
        cluster.stop()
        with contextlib.suppress(OSError):
            shutil.rmtree(cluster.dir)


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    return postgres_cluster.url(postgres_cluster.create_database())
