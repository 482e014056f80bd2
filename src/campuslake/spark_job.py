"""Spark job entry point: one campuslake run (every pending batch) on the Spark session it is given.

Runs under `spark-submit` (`spark-submit <this file> --lake URI [--config FILE] [--dataset D]`),
as `python -m campuslake.spark_job`, or as a Glue/EMR job script of two lines:

    from campuslake.spark_job import main
    main()

Arguments the job does not know (Glue adds `--JOB_NAME` and others) are ignored. The run's
accounting is printed to stdout as one line of JSON (`{"batches": [...], "run_id": ...}`; Spark
may print lines of its own around it); the exit code is 0 when the run did its job (a rejected
batch is data, not a failure) and 1 when it failed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence

log = logging.getLogger("campuslake.spark_job")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="campuslake.spark_job", description=__doc__.splitlines()[0])
    parser.add_argument("--lake", required=True, help="lake root URI: a path or s3://bucket/prefix")
    parser.add_argument("--config", default=None, help="campuslake.yaml (default: the shipped defaults)")
    parser.add_argument("--dataset", default="alumni", help="dataset whose pending batches to process")
    args, ignored = parser.parse_known_args(argv)
    if ignored:
        log.info("ignoring arguments the job does not take: %s", " ".join(a for a in ignored if a.startswith("--")))
    return args


def run(argv: Sequence[str] | None = None) -> dict[str, object]:
    """Process every pending batch of the dataset with the active (or a new) Spark session."""
    from pyspark.sql import SparkSession

    from campuslake.config import load_settings
    from campuslake.engines.spark import SparkEngine
    from campuslake.lake.lake import Lake
    from campuslake.pipeline import run_pending

    args = parse_args(argv)
    settings = load_settings(args.config, lake=args.lake)
    session = SparkSession.getActiveSession() or SparkSession.builder.appName("campuslake").getOrCreate()
    lake = Lake.open(settings)
    try:
        with SparkEngine(session=session) as engine:
            result = run_pending(lake, args.dataset, engine=engine)
    finally:
        lake.close()
    return {"batches": [b.as_dict() for b in result.batches], "run_id": result.run_id}


def main(argv: Sequence[str] | None = None) -> None:
    # Our own handler on stderr: under spark-submit the root logger may already write to stdout,
    # where the accounting document goes.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    package = logging.getLogger("campuslake")
    package.addHandler(handler)
    package.setLevel(logging.INFO)
    package.propagate = False
    try:
        document = run(sys.argv[1:] if argv is None else argv)
    except Exception as exc:  # a job's log is all an operator sees: say what failed, then fail
        log.error("campuslake run failed: %s", exc)
        raise SystemExit(1) from exc
    print(json.dumps(document, default=str))


if __name__ == "__main__":
    main()
