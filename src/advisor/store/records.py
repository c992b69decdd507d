"""The record store of LangChain's indexing API: which chunk ids each index version holds, grouped
by document. It lives in `ADVISOR_RECORDS_URL` (any SQLAlchemy URL, e.g. PostgreSQL shared by the
writers of a Chroma server) or, by default, in `<data dir>/records.sqlite`.

It is derived data: every version's records are written from the Chroma collection itself, so a
lost or damaged record file is rebuilt rather than trusted.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from advisor.settings import Settings

RECORDS = "records.sqlite"
TABLE = "upsertion_record"


def records_url(settings: Settings) -> str:
    """The SQLAlchemy URL of the record store."""
    return settings.records_url or f"sqlite:///{settings.data_dir / RECORDS}"


def local_records_file(settings: Settings) -> Path | None:
    """The record file under the data dir, when the record store is the default SQLite file."""
    return None if settings.records_url else settings.data_dir / RECORDS


def record_manager(settings: Settings, namespace: str):
    """A `SQLRecordManager` for `namespace`, its schema created."""
    from langchain_classic.indexes import SQLRecordManager

    manager = SQLRecordManager(namespace=namespace, db_url=records_url(settings))
    manager.create_schema()
    return manager


def sqlite_problem(path: Path) -> str | None:
    """Why a SQLite file cannot be used as a record store, or None when it can (or is absent)."""
    if not path.exists():
        return None
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = con.execute("PRAGMA quick_check").fetchall()
        finally:
            con.close()
    except sqlite3.Error as exc:
        return f"{path} is damaged ({exc})"
    if result != [("ok",)]:
        return f"{path} is damaged ({result[0][0]})"
    return None


def sqlite_count(path: Path, namespace: str) -> int | None:
    """Records of `namespace` in a SQLite record file, read with the standard library (cheap)."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return con.execute(f"SELECT count(*) FROM {TABLE} WHERE namespace = ?", (namespace,)).fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return None


def namespaces(settings: Settings, prefix: str) -> set[str]:
    """The record namespaces starting with `prefix`."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(records_url(settings))
    try:
        if not inspect(engine).has_table(TABLE):
            return set()
        with engine.connect() as conn:
            rows = conn.execute(
                text(f"SELECT DISTINCT namespace FROM {TABLE} WHERE namespace LIKE :p"), {"p": prefix + "%"}
            )
            return {r[0] for r in rows}
    finally:
        engine.dispose()


def drop_namespaces(settings: Settings, names: set[str]) -> None:
    """Delete every record of the namespaces `names`."""
    if not names:
        return
    from sqlalchemy import bindparam, create_engine, text

    engine = create_engine(records_url(settings))
    try:
        with engine.begin() as conn:
            conn.execute(
                text(f"DELETE FROM {TABLE} WHERE namespace IN :names").bindparams(bindparam("names", expanding=True)),
                {"names": sorted(names)},
            )
    finally:
        engine.dispose()
