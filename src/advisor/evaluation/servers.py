"""Servers on free loopback ports, for the benchmarks and the tests alike: a free port, waiting for a
process to listen, a throw-away PostgreSQL and a `chroma run` server. Nothing listens beyond 127.0.0.1."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

BIN = Path(sys.executable).parent  # the virtualenv's scripts (`advisor`, `chroma`)


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 600) -> bool:
    """True once something listens on 127.0.0.1:`port`; False if `proc` exits or time runs out."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            if proc.poll() is not None:
                return False
            time.sleep(0.1)
    return False


def started(port: int, proc: subprocess.Popen, what: str) -> None:
    """Wait for `proc` to listen on `port`; raise naming `what` if it never does."""
    if not wait_for_port(port, proc):
        raise RuntimeError(f"{what} did not start on port {port}")


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A throw-away PostgreSQL server (Debian's packages) on a free loopback port; yields its URL.

    Its data lives in a temp dir; as root, initdb and the server run as the `postgres` user."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not bins:
        raise RuntimeError("PostgreSQL is not installed: run `make system` (scripts/system-deps.sh)")
    bindir = Path(bins[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="advisor-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()
    try:
        init = [*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "advisor", "--auth=trust"]
        subprocess.run(init, check=True, capture_output=True)
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        start = [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w"]
        subprocess.run([*start, "start"], check=True, capture_output=True)
        yield f"postgresql+psycopg://advisor@127.0.0.1:{port}/postgres"
    finally:
        stop = [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
        subprocess.run(stop, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def chroma_server(path: Path) -> Iterator[str]:
    """`chroma run` on a free loopback port; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        if not wait_for_port(port, proc, timeout=300):  # seconds when idle; a loaded machine is slower
            raise RuntimeError("chroma run did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
