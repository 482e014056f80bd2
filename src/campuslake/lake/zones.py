"""Where each kind of file lives in the lake (one place, so zones never drift apart)."""

from __future__ import annotations


def landing_dir(dataset: str) -> str:
    return f"landing/{dataset}"


def landing_path(dataset: str, sha256: str) -> str:
    return f"{landing_dir(dataset)}/{sha256}"


def raw_dir(dataset: str, batch_id: str) -> str:
    return f"raw/{dataset}/batch_id={batch_id}"


def raw_part_path(dataset: str, batch_id: str, part: int) -> str:
    """Part `part` of a batch's parsed rows (a large file has one per slice)."""
    return f"{raw_dir(dataset, batch_id)}/part-{part}.parquet"


def quarantine_rows_path(dataset: str, batch_id: str) -> str:
    return f"quarantine/{dataset}/rows/batch_id={batch_id}/rows.parquet"


def quarantine_file_path(dataset: str, sha256: str, file_name: str) -> str:
    return f"quarantine/{dataset}/files/{sha256}/{file_name}"


def curated_table(table: str) -> str:
    return f"curated/{table}"


def archive_path(dataset: str, sha256: str) -> str:
    """No extension: like landing, the format is told by magic bytes (zstd, or a file that came
    compressed and is kept as it came)."""
    return f"archive/{dataset}/{sha256[:2]}/{sha256}"


CATALOG_FILE = "_catalog/catalog.db"
