"""One writer at a time: `advisor index` (CLI, watcher) and the UI's Reindex button all take the
writer lock before touching the index; a second writer is refused with one line saying who holds it.

Two kinds: `FileLock` (an `flock` on `<data dir>/writer.lock`, released by the kernel when its
holder dies) for an embedded index, and `SqlLock` (a row in the record store's database, with an
expiry its holder keeps renewing) for a collection on a Chroma server shared by several machines.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Self

LOCK_FILE = "writer.lock"
LOCK_TABLE = "advisor_writer_lock"


class LockHeld(RuntimeError):
    """Another writer holds the lock; the message names it."""


def holder_id() -> str:
    """Who is writing: host, process and command, for the message a refused writer prints."""
    return f"pid {os.getpid()} on {socket.gethostname()}"


def _describe(holder: str, since: float) -> str:
    age = max(0, int(time.time() - since))
    return f"another writer is indexing ({holder}, for {age} s); try again when it has finished"


class _Held:
    """`with lock:` acquires and releases (the two locks below implement `acquire` and `release`)."""

    def acquire(self) -> None:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class FileLock(_Held):
    """An exclusive `flock` on a file under the data dir (this machine's processes only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            info = {}
            with contextlib.suppress(OSError, ValueError):
                info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
            os.close(fd)
            raise LockHeld(_describe(info.get("holder", "unknown"), info.get("since", time.time()))) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"holder": holder_id(), "since": time.time()}).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


class SqlLock(_Held):
    """A lock row in a SQL database that every writing machine reaches (e.g. PostgreSQL).

    Taking it inserts the row; a row whose holder stopped renewing it for `ttl` seconds (a killed
    writer) may be taken over. A daemon thread renews the row while the lock is held.
    """

    def __init__(self, db_url: str, name: str, ttl: float = 60.0) -> None:
        self.db_url = db_url
        self.name = name
        self.ttl = ttl
        self.me = f"{holder_id()} #{os.urandom(4).hex()}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._engine = None

    def _table(self):
        from sqlalchemy import Column, Float, MetaData, String, Table

        meta = MetaData()
        table = Table(
            LOCK_TABLE,
            meta,
            Column("name", String, primary_key=True),
            Column("holder", String, nullable=False),
            Column("since", Float, nullable=False),
            Column("expires", Float, nullable=False),
        )
        return meta, table

    def acquire(self) -> None:
        from sqlalchemy import create_engine, insert, select, update
        from sqlalchemy.exc import IntegrityError

        self._engine = create_engine(self.db_url)
        meta, table = self._table()
        meta.create_all(self._engine)
        now = time.time()
        row = {"name": self.name, "holder": self.me, "since": now, "expires": now + self.ttl}
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(table).values(**row))
        except IntegrityError:
            with self._engine.begin() as conn:  # take over a lock whose holder died
                taken = conn.execute(
                    update(table).where(table.c.name == self.name, table.c.expires < now).values(**row)
                ).rowcount
                if taken != 1:
                    held = conn.execute(select(table.c.holder, table.c.since).where(table.c.name == self.name)).first()
                    holder, since = held if held else ("unknown", now)
                    raise LockHeld(_describe(holder.split(" #")[0], since)) from None
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew, name="writer-lock", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        from sqlalchemy import update

        _, table = self._table()
        while not self._stop.wait(self.ttl / 3):
            with contextlib.suppress(Exception), self._engine.begin() as conn:
                conn.execute(
                    update(table)
                    .where(table.c.name == self.name, table.c.holder == self.me)
                    .values(expires=time.time() + self.ttl)
                )

    def release(self) -> None:
        from sqlalchemy import delete

        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._engine is not None:
            _, table = self._table()
            with contextlib.suppress(Exception), self._engine.begin() as conn:  # else it expires after ttl
                conn.execute(delete(table).where(table.c.name == self.name, table.c.holder == self.me))
            self._engine.dispose()
            self._engine = None
