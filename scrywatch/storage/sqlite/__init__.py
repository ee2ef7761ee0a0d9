"""The SQLite backend: the only package that runs SQL."""

from __future__ import annotations

from scrywatch.config import Config
from scrywatch.storage.sqlite.accounts import SqliteAccountStore
from scrywatch.storage.sqlite.alerts import SqliteAlertStore
from scrywatch.storage.sqlite.archive import SqliteArchiveStore
from scrywatch.storage.sqlite.coldlane import SqliteColdLaneStore
from scrywatch.storage.sqlite.db import Database
from scrywatch.storage.sqlite.histogram import SqliteHistogramStore
from scrywatch.storage.sqlite.insights import SqliteInsightStore
from scrywatch.storage.sqlite.lenses import SqliteLensStore
from scrywatch.storage.sqlite.logs import SqliteLogStore
from scrywatch.storage.sqlite.logs_meta import SqliteLogMetaStore
from scrywatch.storage.sqlite.migrations import migrate
from scrywatch.storage.sqlite.traces import SqliteTraceStore


class SqliteStore:
    """One SQLite file: the writer, the readers and a repository per feature."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.db = Database(
            config.db_path,
            readers=config.storage.reader_connections,
            batch_events=config.storage.writer_batch_events,
            queue_max_events=config.ingest.queue_max_events,
        )
        self.accounts = SqliteAccountStore(self.db)
        self.traces = SqliteTraceStore(self.db)  # traces (issue 4)
        self.logs = SqliteLogStore(self.db)
        self.logs_meta = SqliteLogMetaStore(self.db)
        self.archive = SqliteArchiveStore(self.db)  # archive bookkeeping (issue 5)
        self.coldlane = SqliteColdLaneStore(self.db)  # old events straight to the archive (issue 5)
        self.lenses = SqliteLensStore(self.db)
        self.alerts = SqliteAlertStore(self.db)  # alerts (issue 6)
        self.insights = SqliteInsightStore(self.db)  # insights (issue 6)
        self.histogram = SqliteHistogramStore(self.db)  # the Log Explorer's histogram (issue 7)

    def migrate(self) -> list[str]:
        """Apply pending migrations (synchronously, before the writer starts)."""
        return migrate(self.db.open_sync())

    async def start(self) -> None:
        self.migrate()
        await self.db.start()

    async def close(self) -> None:
        await self.db.close()

    async def ping(self) -> bool:
        return await self.db.read(lambda c: c.execute("SELECT 1").fetchone()[0] == 1)
