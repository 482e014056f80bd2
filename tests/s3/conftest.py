"""A real S3 server (SeaweedFS from the venv) and PostgreSQL catalogs for lakes on s3://."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from campuslake.testing.s3_server import S3Server, S3ServerError, running_s3_server

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BUCKET = "campuslake-test"


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """SeaweedFS on free ports of 127.0.0.1 with the test bucket, for the whole session."""
    try:
        with running_s3_server(tmp_path_factory.mktemp("seaweedfs"), BUCKET) as server:
            yield server
    except S3ServerError as exc:
        pytest.fail(str(exc))


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
