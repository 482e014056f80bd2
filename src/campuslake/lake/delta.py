"""Curated tables in Delta Lake (deltalake): idempotent per-batch writes and Arrow datasets to read."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.dataset as pads
from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake.exceptions import TableNotFoundError

from campuslake.lake.storage import LakeStorage
from campuslake.lake.zones import curated_table
from campuslake.transform.normalize import sql_literal


class CuratedTables:
    """The lake's curated zone: one Delta table per name under `curated/`."""

    def __init__(self, storage: LakeStorage) -> None:
        self.storage = storage

    def uri(self, table: str) -> str:
        return self.storage.uri(curated_table(table))

    def open(self, table: str) -> DeltaTable | None:
        try:
            return DeltaTable(self.uri(table), storage_options=self.storage.storage_options())
        except TableNotFoundError:
            return None

    def exists(self, table: str) -> bool:
        return self.open(table) is not None

    def dataset(self, table: str) -> pads.Dataset | None:
        """The table's current version as an Arrow dataset (None when it does not exist yet)."""
        delta = self.open(table)
        return delta.to_pyarrow_dataset() if delta is not None else None

    def replace_batch(self, table: str, data: pa.RecordBatchReader | pa.Table, batch_id: str,
                      metadata: dict[str, str]) -> None:
        """Atomically replace the rows of one batch: re-running a batch never duplicates it."""
        write_deltalake(
            self.uri(table), data, mode="overwrite",
            predicate=f"_batch_id = {sql_literal(batch_id)}",
            storage_options=self.storage.storage_options(),
            commit_properties=CommitProperties(custom_metadata=metadata),
        )

    def overwrite(self, table: str, data: pa.RecordBatchReader | pa.Table, metadata: dict[str, str]) -> None:
        write_deltalake(
            self.uri(table), data, mode="overwrite", schema_mode="overwrite",
            storage_options=self.storage.storage_options(),
            commit_properties=CommitProperties(custom_metadata=metadata),
        )

    def version_and_rows(self, table: str) -> tuple[int | None, int | None]:
        delta = self.open(table)
        if delta is None:
            return None, None
        return delta.version(), delta.to_pyarrow_dataset().count_rows()
