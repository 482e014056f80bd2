"""The alumni flow with the lake on S3 (a real SeaweedFS server) and the catalog on PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import subprocess
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from conftest import CLI, AnswerKey, fix_a_quarantined_batch, run_cli

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def cli(lake, *args: str, check: bool = False):
    return run_cli(lake.uri, "--config", str(lake.config), *args, env=lake.env, check=check)


def delta(lake, table: str) -> DeltaTable:
    """Read a curated table directly with deltalake (not through campuslake)."""
    options = {k: v for k, v in lake.env.items() if k.startswith("AWS_")} | {"AWS_ALLOW_HTTP": "true"}
    return DeltaTable(f"{lake.uri}/curated/{table}", storage_options=options)


def log_versions(s3_server, lake, table: str) -> list[int]:
    names = s3_server.files(f"{lake.prefix}/curated/{table}/_delta_log")
    return sorted(int(m.group(1)) for n in names if (m := re.fullmatch(r"(\d{20})\.json", n)))


def test_the_whole_alumni_flow_runs_on_s3(s3_server, s3_lake, messy_exports: tuple[list[Path], AnswerKey],
                                          tmp_path):
    files, key = messy_exports
    landed = cli(s3_lake, "ingest", "alumni", *map(str, files), "--json").json()
    assert {r["status"] for r in landed} == {"new"}
    assert {f"landing/alumni/{r['sha256']}" for r in landed} <= set(s3_server.files(s3_lake.prefix))

    result = cli(s3_lake, "run", "--json").json()
    got = {b["file"]: b for b in result["batches"]}
    for want in key.files:
        batch = got[want["file"]]
        assert batch["rows_in"] == batch["rows_valid"] + batch["rows_quarantined"] + batch["rows_duplicate"]
        for field in ("status", "reason", "rows_in", "rows_valid", "rows_quarantined", "rows_duplicate"):
            assert batch[field] == want[field], f"{want['file']}: {field}"
    answers = cli(s3_lake, "report", "alumni", "--json").json()
    assert answers["alumni"] == key.answers["alumni"]
    assert answers["top_employees"] == key.answers["top_employees"]
    for section, name in [("degrees", "college_degree"), ("campuses", "campus"), ("job_roles", "job_role")]:
        assert [r[name] for r in answers[section]] == [r[name] for r in key.answers[section]], section
    assert {r["employee_id"] for r in delta(s3_lake, "alumni_current").to_pyarrow_table().to_pylist()} == set(
        key.current["employee_id"].to_pylist())

    # quarantine: export to a local file, fix the out-of-range ratings, ingest the fix, run again
    entry, fixed, fixable = fix_a_quarantined_batch(cli, s3_lake, tmp_path)
    replay = cli(s3_lake, "run", "--json").json()["batches"]
    assert [(b["rows_valid"], b["rows_quarantined"]) for b in replay] == [(fixable, 0)]
    listed = {e["batch_id"]: e for e in cli(s3_lake, "quarantine", "list", "--json").json()}
    assert listed[entry["batch_id"]]["replayed_by"] == [replay[0]["batch_id"]]
    alumni = delta(s3_lake, "alumni").to_pyarrow_table()
    assert alumni.num_rows == sum(f["rows_valid"] for f in key.files) + fixable
    assert sorted(r["_source_line"] for r in alumni.to_pylist() if r["_source_file"] == "fixed.csv") == list(
        range(2, fixable + 2))

    # every zone is in the bucket; landing was emptied into the archive
    objects = s3_server.files(s3_lake.prefix)
    shas = [r["sha256"] for r in landed] + [hashlib.sha256(fixed.read_bytes()).hexdigest()]
    assert not [o for o in objects if o.startswith("landing/")]
    assert {f"archive/alumni/{sha[:2]}/{sha}" for sha in shas} <= set(objects)
    assert any(o.startswith("quarantine/alumni/rows/") for o in objects)
    assert any(o.startswith("quarantine/alumni/files/") for o in objects)
    assert any(o.startswith("raw/alumni/") for o in objects)
    for table in ("alumni", "alumni_current"):
        versions = log_versions(s3_server, s3_lake, table)
        assert versions == list(range(len(versions))), f"{table}: the Delta log has a gap"


def test_two_runs_at_once_process_every_batch_exactly_once(s3_server, s3_lake, tmp_path):
    from campuslake.synth import generate_alumni

    manifest = generate_alumni(tmp_path / "exports", rows=3000, files=6, seed=11, schema="v2", bad_rate=0.03,
                               dup_rate=0.03, repeat_rate=0.2, file_mess=True, bad_files=False)
    cli(s3_lake, "ingest", "alumni", *map(str, manifest.files), check=True)
    command = [*CLI, "--lake", s3_lake.uri, "--config", str(s3_lake.config), "run", "--json"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, **s3_lake.env}) for _ in range(2)]
    outputs = [(p.returncode, out, err) for p in runs for out, err in [p.communicate(timeout=300)]]
    finished = [json.loads(out) for code, out, _ in outputs if code == 0]
    refused = [err for code, _, err in outputs if code != 0]
    # the loser is refused; had it started only after the winner finished, it would find nothing pending
    assert len(finished) + len(refused) == 2, outputs
    assert all("another process holds run:alumni" in err for err in refused), refused
    processed = [b for run in finished for b in run["batches"]]
    assert sorted(b["file"] for b in processed) == sorted(p.name for p in manifest.files), "each batch once"

    versions = log_versions(s3_server, s3_lake, "alumni")
    assert versions == list(range(len(versions))), "the Delta log has a gap"
    alumni = delta(s3_lake, "alumni").to_pyarrow_table()
    per_batch: dict[str, int] = {}
    for batch_id in alumni["_batch_id"].to_pylist():
        per_batch[batch_id] = per_batch.get(batch_id, 0) + 1
    assert per_batch == {b["batch_id"]: b["rows_valid"] for b in processed if b["rows_valid"]}
    current = delta(s3_lake, "alumni_current").to_pyarrow_table()["employee_id"].to_pylist()
    assert len(current) == len(set(current))
    with psycopg.connect(s3_lake.catalog_url.replace("+psycopg", "")) as con:
        statuses = con.execute("SELECT status, count(*), count(DISTINCT run_id) FROM batches "
                               "GROUP BY status").fetchall()
        run_rows = con.execute("SELECT status FROM runs").fetchall()
        leases = con.execute("SELECT count(*) FROM leases").fetchone()
    assert [s for s, _, _ in statuses] == ["loaded"] and statuses[0][1:] == (6, 1)
    assert run_rows == [("succeeded",)] and leases == (0,)


def _commit_one_batch(uri: str, env: dict[str, str], batch_id: str, start: float) -> None:
    """One writer process: write a file for `batch_id` and commit it, starting at `start`."""
    import time

    import pyarrow.parquet as pq

    os.environ.update(env)
    from campuslake.lake.delta import CuratedTables
    from campuslake.lake.storage import LakeStorage

    curated = CuratedTables(LakeStorage(uri))
    path = curated.new_data_file("race")
    with curated.storage.open_output(path) as out:
        pq.write_table(pa.table({"_batch_id": [batch_id] * 3, "n": [1, 2, 3]}), out)
    while time.time() < start:
        time.sleep(0.001)
    curated.commit_files("race", [path], replace_batch=batch_id, metadata={"batch": batch_id})


def test_concurrent_delta_commits_on_seaweedfs_never_share_a_version(s3_server, s3_lake):
    """Delta's put-if-absent commit against this server: of writers racing for one version exactly
    one wins, the others retry on top, so no commit is lost."""
    import time

    aws = {k: v for k, v in s3_lake.env.items() if k.startswith("AWS_")}
    writers = 6
    # spawn, not fork: deltalake's runtime does not survive a fork
    with multiprocessing.get_context("spawn").Pool(writers) as pool:
        pool.apply(_commit_one_batch, (s3_lake.uri, aws, "seed", 0))
        start = time.time() + 2
        pool.starmap(_commit_one_batch, [(s3_lake.uri, aws, f"b{i}", start) for i in range(writers)])
    assert log_versions(s3_server, s3_lake, "race") == list(range(writers + 1))
    rows = delta(s3_lake, "race").to_pyarrow_table()["_batch_id"].to_pylist()
    assert sorted(rows) == sorted([f"b{i}" for i in range(writers)] * 3 + ["seed"] * 3)


def test_s3_settings_come_from_the_environment_and_errors_say_what_to_fix(s3_server, monkeypatch):
    from campuslake.errors import StorageError
    from campuslake.lake.storage import LakeStorage

    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    storage = LakeStorage(f"s3://{s3_server.bucket}/settings")
    options = storage.storage_options()
    assert options["aws_conditional_put"] == "etag" and options["AWS_ALLOW_HTTP"] == "true"
    assert options["AWS_ENDPOINT_URL"] == s3_server.endpoint
    assert s3_server.secret_key not in repr(storage._s3)
    with pytest.raises(StorageError, match="S3 bucket missing-bucket does not exist"):
        LakeStorage("s3://missing-bucket/lake")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    with pytest.raises(StorageError, match="check AWS_ENDPOINT_URL, AWS_REGION and the credentials") as no:
        LakeStorage(f"s3://{s3_server.bucket}/lake")
    assert "wrong" not in str(no.value)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(StorageError, match="set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"):
        LakeStorage(f"s3://{s3_server.bucket}/lake")


@pytest.mark.parametrize("bucket", ["ab", "Campus-Lake", "-lake", "lake_1", "x" * 64])
def test_a_bucket_name_s3_refuses_fails_at_once_without_starting_a_server(tmp_path, bucket):
    from campuslake.testing.s3_server import running_s3_server

    with pytest.raises(ValueError, match="not a valid S3 bucket name"):
        with running_s3_server(tmp_path, bucket=bucket):
            pass
    assert not (tmp_path / "data").exists()  # nothing was started
