"""The catalog (SQLAlchemy): batch ledger, runs, quarantine index and table metadata."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from campuslake.errors import CampuslakeError, CatalogError

log = logging.getLogger(__name__)
metadata = sa.MetaData()

batches = sa.Table(
    "batches", metadata,
    sa.Column("batch_id", sa.String(64), primary_key=True),
    sa.Column("dataset", sa.String(64), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("file_name", sa.String(512), nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("landed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending | loaded | rejected
    sa.Column("reason", sa.String(64)),
    sa.Column("message", sa.Text),
    sa.Column("encoding", sa.String(32)),
    sa.Column("delimiter", sa.String(4)),
    sa.Column("extra_columns", sa.JSON),
    sa.Column("rows_in", sa.BigInteger),
    sa.Column("rows_valid", sa.BigInteger),
    sa.Column("rows_quarantined", sa.BigInteger),
    sa.Column("rows_duplicate", sa.BigInteger),
    sa.Column("blank_lines", sa.BigInteger),
    sa.Column("replay_of", sa.String(64)),
    sa.Column("run_id", sa.String(64)),
    sa.Column("processed_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("dataset", "sha256", name="uq_batches_dataset_sha256"),
)

arrivals = sa.Table(
    "arrivals", metadata,
    sa.Column("arrival_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("batch_id", sa.String(64), nullable=False),
    sa.Column("file_name", sa.String(512), nullable=False),
    sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # new | duplicate
)

runs = sa.Table(
    "runs", metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("dataset", sa.String(64), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(16), nullable=False),  # running | succeeded | failed
    sa.Column("batches", sa.Integer),
    sa.Column("rows_in", sa.BigInteger),
    sa.Column("error", sa.Text),
)

quarantine_index = sa.Table(
    "quarantine_index", metadata,
    sa.Column("batch_id", sa.String(64), primary_key=True),
    sa.Column("dataset", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),  # rows | file
    sa.Column("path", sa.String(1024), nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("reason_counts", sa.JSON, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

table_metadata = sa.Table(
    "table_metadata", metadata,
    sa.Column("table_name", sa.String(128), primary_key=True),
    sa.Column("dataset", sa.String(64), nullable=False),
    sa.Column("zone", sa.String(16), nullable=False),
    sa.Column("path", sa.String(1024), nullable=False),
    sa.Column("format", sa.String(16), nullable=False),
    sa.Column("version", sa.BigInteger),
    sa.Column("rows", sa.BigInteger),
    sa.Column("description", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


leases = sa.Table(
    "leases", metadata,
    sa.Column("name", sa.String(128), primary_key=True),  # e.g. run:alumni
    sa.Column("token", sa.String(64), nullable=False),  # the holder's; every change compares it
    sa.Column("holder", sa.String(256), nullable=False),  # host:pid, for people and stale-lease checks
    sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

LEASE_SECONDS = 60
"""a lease not renewed for this long is free; its holder renews it every third of that"""


class LeaseHeld(CampuslakeError):
    """Another process holds the lease (e.g. another `campuslake run` on the same lake)."""


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _as_utc(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes; every timestamp we store is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


class Catalog:
    """Typed access to the catalog tables; every write is its own transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = sa.create_engine(url, future=True)
            if url.startswith("sqlite"):
                sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            raise CatalogError(f"cannot open catalog: {exc}", catalog=_redact(url)) from exc

    def _rows(self, statement: sa.Select[Any]) -> list[dict[str, Any]]:
        with self.engine.connect() as con:
            result = [dict(r._mapping) for r in con.execute(statement)]
        for row in result:
            for key, value in row.items():
                if isinstance(value, dt.datetime):
                    row[key] = _as_utc(value)
        return result

    # --- batches --------------------------------------------------------------------------
    def find_batch_by_sha(self, dataset: str, sha256: str) -> dict[str, Any] | None:
        rows = self._rows(sa.select(batches).where(batches.c.dataset == dataset, batches.c.sha256 == sha256))
        return rows[0] if rows else None

    def record_arrival(self, batch: dict[str, Any] | None, *, batch_id: str, file_name: str,
                       arrived_at: dt.datetime) -> str:
        """Insert a new batch (when `batch` is given) and log the arrival; returns new|duplicate."""
        status = "new" if batch else "duplicate"
        with self.engine.begin() as con:
            if batch:
                con.execute(batches.insert().values(**batch))
            con.execute(arrivals.insert().values(batch_id=batch_id, file_name=file_name,
                                                 arrived_at=arrived_at, status=status))
        return status

    def batch(self, batch_id: str) -> dict[str, Any] | None:
        rows = self._rows(sa.select(batches).where(batches.c.batch_id == batch_id))
        return rows[0] if rows else None

    def batches(self, dataset: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        query = sa.select(batches).order_by(batches.c.landed_at, batches.c.batch_id)
        if dataset:
            query = query.where(batches.c.dataset == dataset)
        if status:
            query = query.where(batches.c.status == status)
        return self._rows(query)

    def finish_batches(self, updates: Iterable[dict[str, Any]]) -> None:
        """Record the outcome of processed batches in one transaction."""
        with self.engine.begin() as con:
            for update in updates:
                values = {k: v for k, v in update.items() if k != "batch_id"}
                con.execute(batches.update().where(batches.c.batch_id == update["batch_id"]).values(**values))

    # --- runs -----------------------------------------------------------------------------
    def start_run(self, dataset: str) -> str:
        run_id = utc_now().strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
        with self.engine.begin() as con:
            con.execute(runs.insert().values(run_id=run_id, dataset=dataset, started_at=utc_now(),
                                             status="running"))
        return run_id

    def finish_run(self, run_id: str, *, status: str, batches_done: int = 0, rows_in: int = 0,
                   error: str | None = None) -> None:
        with self.engine.begin() as con:
            con.execute(runs.update().where(runs.c.run_id == run_id).values(
                finished_at=utc_now(), status=status, batches=batches_done, rows_in=rows_in, error=error))

    def runs(self, dataset: str | None = None) -> list[dict[str, Any]]:
        query = sa.select(runs).order_by(runs.c.started_at)
        if dataset:
            query = query.where(runs.c.dataset == dataset)
        return self._rows(query)

    # --- leases ---------------------------------------------------------------------------
    def acquire_lease(self, name: str, *, seconds: int = LEASE_SECONDS) -> Lease:
        """Take lease `name` or raise LeaseHeld. Taking it is one conditional INSERT or UPDATE, so
        of processes racing for it (on SQLite or PostgreSQL) exactly one gets it. A lease is free
        when it expired, or when its holder was a process on this host that no longer exists (a
        run killed with SIGKILL can be run again at once)."""
        token, holder, now = uuid.uuid4().hex, f"{socket.gethostname()}:{os.getpid()}", utc_now()
        values = dict(token=token, holder=holder, acquired_at=now,
                      expires_at=now + dt.timedelta(seconds=seconds))
        try:
            with self.engine.begin() as con:
                con.execute(leases.insert().values(name=name, **values))
            return Lease(self, name, token, seconds)
        except IntegrityError:
            pass  # held, or left behind: take it over only if it is stale, and only if it did not change
        rows = self._rows(sa.select(leases).where(leases.c.name == name))
        if rows and _lease_is_stale(rows[0], now):
            with self.engine.begin() as con:
                taken = con.execute(leases.update().where(
                    leases.c.name == name, leases.c.token == rows[0]["token"]).values(**values)).rowcount
            if taken:
                log.warning("took over lease %s left by %s", name, rows[0]["holder"])
                return Lease(self, name, token, seconds)
            rows = self._rows(sa.select(leases).where(leases.c.name == name))
        held = rows[0] if rows else {}
        raise LeaseHeld(f"another process holds {name}: wait for it to finish and try again",
                        holder=held.get("holder"), since=held.get("acquired_at"))

    def _renew_lease(self, name: str, token: str, seconds: int) -> bool:
        with self.engine.begin() as con:
            renewed = con.execute(leases.update().where(leases.c.name == name, leases.c.token == token)
                                  .values(expires_at=utc_now() + dt.timedelta(seconds=seconds)))
            return bool(renewed.rowcount)

    def _release_lease(self, name: str, token: str) -> None:
        with self.engine.begin() as con:
            con.execute(leases.delete().where(leases.c.name == name, leases.c.token == token))

    # --- quarantine -----------------------------------------------------------------------
    def index_quarantine(self, *, batch_id: str, dataset: str, kind: str, path: str, rows: int,
                         reason_counts: dict[str, int]) -> None:
        with self.engine.begin() as con:
            con.execute(quarantine_index.delete().where(quarantine_index.c.batch_id == batch_id))
            con.execute(quarantine_index.insert().values(
                batch_id=batch_id, dataset=dataset, kind=kind, path=path, rows=rows,
                reason_counts=json.loads(json.dumps(reason_counts)), created_at=utc_now()))

    def _quarantine_query(self) -> sa.Select[Any]:
        return sa.select(quarantine_index, batches.c.file_name, batches.c.landed_at, batches.c.message).join(
            batches, batches.c.batch_id == quarantine_index.c.batch_id
        ).order_by(batches.c.landed_at, quarantine_index.c.batch_id)

    def quarantine_entries(self, dataset: str | None = None) -> list[dict[str, Any]]:
        query = self._quarantine_query()
        if dataset:
            query = query.where(quarantine_index.c.dataset == dataset)
        return self._rows(query)

    def quarantine_entry(self, batch_id: str) -> dict[str, Any] | None:
        rows = self._rows(self._quarantine_query().where(quarantine_index.c.batch_id == batch_id))
        return rows[0] if rows else None

    def replays(self) -> dict[str, list[str]]:
        """original batch id -> the batches that replay its fixed rows, in landing order"""
        rows = self._rows(sa.select(batches.c.batch_id, batches.c.replay_of)
                          .where(batches.c.replay_of.is_not(None)).order_by(batches.c.landed_at))
        replays: dict[str, list[str]] = {}
        for row in rows:
            replays.setdefault(row["replay_of"], []).append(row["batch_id"])
        return replays

    # --- tables ---------------------------------------------------------------------------
    def record_table(self, *, table_name: str, dataset: str, zone: str, path: str, fmt: str,
                     version: int | None, rows: int | None, description: str) -> None:
        values = dict(dataset=dataset, zone=zone, path=path, format=fmt, version=version, rows=rows,
                      description=description, updated_at=utc_now())
        with self.engine.begin() as con:
            updated = con.execute(table_metadata.update().where(
                table_metadata.c.table_name == table_name).values(**values)).rowcount
            if not updated:
                con.execute(table_metadata.insert().values(table_name=table_name, **values))

    def tables(self) -> list[dict[str, Any]]:
        return self._rows(sa.select(table_metadata).order_by(table_metadata.c.table_name))

    def dispose(self) -> None:
        self.engine.dispose()


class Lease:
    """A held lease, renewed in the background until released (use it as a context manager)."""

    def __init__(self, catalog: Catalog, name: str, token: str, seconds: int) -> None:
        self.catalog, self.name, self.token, self.seconds = catalog, name, token, seconds
        self._stop = threading.Event()
        self._renewer = threading.Thread(target=self._renew, name=f"campuslake-lease-{name}", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                if not self.catalog._renew_lease(self.name, self.token, self.seconds):
                    log.error("lease %s was taken over by another process", self.name)
                    return
            except SQLAlchemyError as exc:  # a catalog hiccup: try again at the next tick
                log.warning("could not renew lease %s: %s", self.name, exc)

    def release(self) -> None:
        self._stop.set()
        self._renewer.join()
        self.catalog._release_lease(self.name, self.token)

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _lease_is_stale(row: dict[str, Any], now: dt.datetime) -> bool:
    if row["expires_at"] <= now:
        return True
    host, _, pid = row["holder"].rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and not _process_exists(int(pid))


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _redact(url: str) -> str:
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<catalog url>"
