"""The catalog on PostgreSQL (the production setting): a full ingest + run keeps its ledger there."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from conftest import run_cli

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def postgres_database():
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is required at 127.0.0.1:5432 (user postgres, trust auth): {exc}")
    name = f"campuslake_test_{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.postgres
def test_ingest_and_run_record_the_ledger_in_postgres(postgres_database, tmp_path, messy_exports):
    files, key = messy_exports
    config = tmp_path / "campuslake.yaml"
    from campuslake.config import default_config_text

    config.write_text(default_config_text().replace("catalog_url: null", "catalog_url: ${CATALOG_URL}"))
    env = {"CATALOG_URL": postgres_database}
    lake = tmp_path / "lake"
    landed = run_cli(lake, "--config", str(config), "ingest", "alumni", *map(str, files[:3]), "--json", env=env).json()
    assert {r["status"] for r in landed} == {"new"}
    result = run_cli(lake, "--config", str(config), "run", "--json", env=env).json()
    assert len(result["batches"]) == 3
    assert not (lake / "_catalog").exists(), "the catalog must not fall back to SQLite"
    with psycopg.connect(postgres_database.replace("+psycopg", "")) as con:
        rows = con.execute("SELECT file_name, status, rows_in FROM batches ORDER BY file_name").fetchall()
    expected = {f["file"]: f for f in key.files}
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (name, expected[name]["status"], expected[name]["rows_in"]) for name in sorted(f.name for f in files[:3])]
