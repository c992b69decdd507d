"""The record manager of LangChain's indexing API: which chunk ids are stored, grouped by source."""

from __future__ import annotations

from advisor.settings import Settings

RECORDS = "records.sqlite"


def record_manager(settings: Settings, namespace: str):
    """A `SQLRecordManager` for `namespace` in the data dir's SQLite file, schema created."""
    from langchain_classic.indexes import SQLRecordManager

    manager = SQLRecordManager(namespace=namespace, db_url=f"sqlite:///{settings.data_dir / RECORDS}")
    manager.create_schema()
    return manager
