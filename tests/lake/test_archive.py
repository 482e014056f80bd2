"""archive_landed_file: zstd, content-addressed, written once, read back by the CSV reader."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pyarrow as pa
import pytest

from campuslake.ingest.csv_source import FileRejected, read_csv_source
from campuslake.lake.archive import archive_landed_file
from campuslake.lake.storage import LakeStorage
from campuslake.lake.zones import archive_path, landing_path
from campuslake.validate.reasons import FileReason

CSV = ("id,name,city\n" + "".join(f"{i},Person {i * 7919 % 10007},City {i % 97}\n" for i in range(5000))).encode()


def land(tmp_path: Path, data: bytes) -> tuple[LakeStorage, str]:
    storage = LakeStorage(str(tmp_path / "lake"))
    sha256 = hashlib.sha256(data).hexdigest()
    storage.write_bytes(landing_path("alumni", sha256), data)
    return storage, sha256


def stored(storage: LakeStorage, relative: str) -> bytes:
    with storage.open_input(relative) as stream:
        return stream.read()


def zstd_decompress(data: bytes) -> bytes:
    stream = pa.CompressedInputStream(pa.BufferReader(data), "zstd")
    return b"".join(iter(lambda: stream.read(1 << 20), b""))


def rows(storage: LakeStorage, relative: str) -> list[dict[str, object]]:
    _, batches = read_csv_source(storage, relative)
    return [row for batch in batches for row in batch.to_pylist()]


def test_archive_is_zstd_that_round_trips_to_the_landed_bytes_and_is_smaller(tmp_path: Path) -> None:
    storage, sha256 = land(tmp_path, CSV)
    target = archive_landed_file(storage, "alumni", sha256)
    assert target == archive_path("alumni", sha256)
    packed = stored(storage, target)
    assert zstd_decompress(packed) == CSV
    assert len(packed) < len(CSV) / 2


def test_the_csv_reader_reads_the_archive_like_the_landed_file(tmp_path: Path) -> None:
    storage, sha256 = land(tmp_path, CSV)
    target = archive_landed_file(storage, "alumni", sha256)
    assert rows(storage, target) == rows(storage, landing_path("alumni", sha256))
    assert read_csv_source(storage, target)[0].compressed


def test_archiving_twice_writes_once(tmp_path: Path) -> None:
    storage, sha256 = land(tmp_path, CSV)
    target = archive_landed_file(storage, "alumni", sha256)
    written = storage.fs.get_file_info(storage.path(target)).mtime_ns
    storage.delete(landing_path("alumni", sha256))  # a second write would have to read it
    assert archive_landed_file(storage, "alumni", sha256) == target
    assert storage.fs.get_file_info(storage.path(target)).mtime_ns == written
    assert storage.list_files("archive") == [target]


@pytest.mark.parametrize("compress", [gzip.compress, lambda data: pa.compress(data, "zstd", asbytes=True)],
                         ids=["gzip", "zstd"])
def test_a_file_that_arrived_compressed_is_kept_as_it_is(tmp_path: Path, compress) -> None:  # type: ignore[no-untyped-def]
    packed = compress(CSV)
    storage, sha256 = land(tmp_path, packed)
    target = archive_landed_file(storage, "alumni", sha256)
    assert stored(storage, target) == packed
    assert rows(storage, target) == rows(storage, landing_path("alumni", sha256))


def silently_damaged(packed: bytes) -> bytes:
    """`packed` with one bit flipped where zstd itself decodes it to other bytes without an error."""
    for at in range(len(packed) // 2, len(packed)):
        damaged = bytearray(packed)
        damaged[at] ^= 0x04
        try:
            if zstd_decompress(bytes(damaged)) != CSV:
                return bytes(damaged)
        except OSError:
            continue  # zstd noticed this one by itself
    raise AssertionError("every flip was caught by zstd itself")


def test_damage_zstd_cannot_see_is_rejected_as_bad_compression(tmp_path: Path) -> None:
    # Arrow's zstd frames carry no checksum; the SHA-256 stored ahead of the frame catches this
    storage, sha256 = land(tmp_path, CSV)
    target = archive_landed_file(storage, "alumni", sha256)
    storage.write_bytes(target, silently_damaged(stored(storage, target)))
    with pytest.raises(FileRejected) as info:
        rows(storage, target)
    assert info.value.reason == FileReason.BAD_COMPRESSION
