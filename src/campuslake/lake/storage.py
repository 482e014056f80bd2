"""All lake I/O goes through LakeStorage: one URI-based filesystem (local paths now, s3:// later)."""

from __future__ import annotations

import posixpath
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from campuslake.errors import StorageError

ZONES = ("landing", "raw", "quarantine", "curated", "archive", "index", "reports")


class LakeStorage:
    """A lake root (`./lake`, `/data/lake`, `s3://bucket/prefix`) and the files under it.

    Paths passed to methods are relative to the root and use `/`, e.g. `landing/alumni/ab12`.
    """

    def __init__(self, root_uri: str) -> None:
        self.root_uri = root_uri.rstrip("/") or "/"
        try:
            self.fs, root_path = pafs.FileSystem.from_uri(self._absolute(self.root_uri))
        except (pafs.ArrowInvalid, ValueError, OSError) as exc:  # type: ignore[attr-defined]
            raise StorageError(f"cannot open lake: {exc}", lake=root_uri) from exc
        self.root = root_path.rstrip("/")
        self.is_local = isinstance(self.fs, pafs.LocalFileSystem)

    @staticmethod
    def _absolute(uri: str) -> str:
        if "://" in uri:
            return uri
        import os

        return os.path.abspath(uri)

    def path(self, relative: str) -> str:
        """The filesystem path of `relative` (what pyarrow/deltalake take with `self.fs`)."""
        return posixpath.join(self.root, relative) if relative else self.root

    def uri(self, relative: str) -> str:
        """A URI other tools accept: a local absolute path, or `s3://...`."""
        return self.path(relative) if self.is_local else f"{self.root_uri.split('://')[0]}://{self.path(relative)}"

    def exists(self, relative: str) -> bool:
        return self.fs.get_file_info(self.path(relative)).type != pafs.FileType.NotFound

    def make_dirs(self, relative: str) -> None:
        self.fs.create_dir(self.path(relative), recursive=True)

    @contextmanager
    def open_input(self, relative: str) -> Iterator[BinaryIO]:
        try:
            stream = self.fs.open_input_stream(self.path(relative), compression=None)
        except (FileNotFoundError, OSError) as exc:
            raise StorageError(f"cannot read {relative}: {exc}", lake=self.root_uri) from exc
        with stream:
            yield stream  # type: ignore[misc]

    @contextmanager
    def open_output(self, relative: str) -> Iterator[BinaryIO]:
        """Write a file; on local disk it appears under its name only once complete."""
        parent = posixpath.dirname(relative)
        if parent:
            self.make_dirs(parent)
        target = self.path(relative)
        staging = target + ".partial" if self.is_local else target
        try:
            # compression=None: pyarrow would otherwise compress by the name's extension
            with self.fs.open_output_stream(staging, compression=None) as stream:
                yield stream  # type: ignore[misc]
        except BaseException:
            if self.is_local and self.exists(relative + ".partial"):
                self.fs.delete_file(staging)
            raise
        if self.is_local:
            self.fs.move(staging, target)

    def write_bytes(self, relative: str, data: bytes) -> None:
        with self.open_output(relative) as out:
            out.write(data)

    def read_parquet(self, relative: str) -> pa.Table:
        return pq.read_table(self.path(relative), filesystem=self.fs)

    def copy_in(self, local_path: str, relative: str, chunk_size: int = 8 << 20) -> None:
        """Copy a local file into the lake, streaming."""
        with open(local_path, "rb") as source, self.open_output(relative) as out:
            shutil.copyfileobj(source, out, chunk_size)

    def delete(self, relative: str) -> None:
        info = self.fs.get_file_info(self.path(relative))
        if info.type == pafs.FileType.Directory:
            self.fs.delete_dir(self.path(relative))
        elif info.type == pafs.FileType.File:
            self.fs.delete_file(self.path(relative))

    def list_files(self, relative: str) -> list[str]:
        """Files under `relative` (recursive), as lake-relative paths, sorted."""
        selector = pafs.FileSelector(self.path(relative), allow_not_found=True, recursive=True)
        prefix = self.root + "/"
        return sorted(
            info.path[len(prefix):] if info.path.startswith(prefix) else info.path
            for info in self.fs.get_file_info(selector)
            if info.type == pafs.FileType.File
        )

    def storage_options(self) -> dict[str, str]:
        """Options for deltalake for this lake (empty for local disk)."""
        return {}
