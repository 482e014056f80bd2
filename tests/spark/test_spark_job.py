"""The Spark job entry point, run the way a cluster runs it: `spark-submit` on the module's file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.compute as pc

import campuslake.spark_job
from conftest import AnswerKey, curated, run_cli


def test_spark_submit_runs_the_pending_batches(tmp_path: Path) -> None:
    from campuslake.synth import generate_alumni

    manifest = generate_alumni(tmp_path / "exports", rows=1500, files=2, seed=11, schema="mixed", bad_rate=0.05,
                               dup_rate=0.05, repeat_rate=0.1, file_mess=True, bad_files=False)
    files, key = manifest.files, AnswerKey(manifest.answer_key_dir)
    lake = tmp_path / "lake"
    run_cli(lake, "ingest", "alumni", *map(str, files), check=True)
    spark_submit = Path(sys.executable).parent / "spark-submit"
    assert spark_submit.exists(), "spark-submit comes with pyspark: run `make setup`"
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    # Glue passes arguments of its own (--JOB_NAME ...): the job must ignore them
    done = subprocess.run([str(spark_submit), "--master", "local[2]", campuslake.spark_job.__file__,
                           "--lake", str(lake), "--JOB_NAME", "nightly"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(next(line for line in done.stdout.splitlines() if line.startswith('{"batches"')))
    batches = document["batches"]
    assert len(batches) == len(key.files)
    for batch in batches:
        assert batch["rows_in"] == batch["rows_valid"] + batch["rows_quarantined"] + batch["rows_duplicate"]
    valid = key.rows.filter(pc.equal(key.rows["status"], "valid")).num_rows
    assert sum(b["rows_valid"] for b in batches) == curated(lake, "alumni").num_rows == valid
    assert curated(lake, "alumni_current").num_rows == key.current.num_rows
    assert run_cli(lake, "run", "--json").json()["batches"] == []  # the ledger says done


def test_spark_job_failure_exits_1_and_says_why(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "campuslake.spark_job", "--lake", str(tmp_path / "lake"),
                           "--dataset", "nope"], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"})
    assert done.returncode == 1 and "nope" in done.stderr
