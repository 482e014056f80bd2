"""End-to-end benchmark of campuslake (CLI ingest + run) against a DuckDB floor and a pandas baseline.

    .venv/bin/python bench/pipeline_bench.py --write BENCHMARKS.md      # what `make bench` runs
    .venv/bin/python bench/pipeline_bench.py --skip-10m --runs 1        # a quicker look

Every command runs in its own process, timed by wall clock, with the peak RSS of its process
tree sampled every 50 ms (and the kernel's ru_maxrss as a cross-check). campuslake's result only
counts when its accounting adds up and agrees with the generator's answer key; any failure makes
the script exit non-zero.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
SEED = 7
SAMPLE_SECONDS = 0.05
GIB = 1024**3
MIB = 1024**2

TARGET_ROWS_PER_SECOND = 500_000
TARGET_FLOOR_RATIO = 3.0
TARGET_PEAK_RSS = 1.5 * GIB

console = Console(stderr=True)

# The CLI entry point (what .venv/bin/campuslake runs), with only the timing logs switched on (one
# line per SQL statement, one per step of the parse thread) so the report can say where time goes.
# pandas is hidden, as in an install of campuslake (it is in this venv for the pandas baseline):
# pyarrow imports pandas, when it can, at its first pa.array() or pa.scalar(), 0.23-0.31 s of a
# run's critical path that campuslake itself never uses.
CLI = """
import logging, sys
class NoPandas:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "pandas":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NoPandas())
logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(created).3f %(name)s: %(message)s")
logging.getLogger("campuslake.engines.base").setLevel(logging.DEBUG)
logging.getLogger("campuslake.pipeline").setLevel(logging.DEBUG)
sys.argv[0] = "campuslake"
from campuslake.cli import main
main()
"""

GENERATE = """
import json, sys
from pathlib import Path
from campuslake.synth.alumni import generate_alumni
out, rows, files, seed, schema = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
m = generate_alumni(out, rows=rows, files=files, seed=seed, schema=schema, file_mess=False, bad_files=False)
print(json.dumps({"files": [str(p) for p in m.files], "rows": m.rows, "rows_valid": m.rows_valid,
                  "rows_quarantined": m.rows_quarantined, "rows_duplicate": m.rows_duplicate,
                  "alumni": m.alumni}))
"""

# Rows with too many or too few fields are real rows of the input: the floor keeps them
# (null_padding, strict_mode off) so it writes every row campuslake has to account for.
FLOOR_SQL = ("COPY (SELECT * FROM read_csv({files}, all_varchar=true, header=true, union_by_name=true, "
             "delim=',', quote='\"', null_padding=true, strict_mode=false)) TO '{out}/raw.parquet' (FORMAT parquet)")
# The lake's own writes with no rules at all, in DuckDB: what any pipeline that keeps the zones the
# issue asks for (raw, curated, one current row per key) spends at least. It is generous: no line
# numbers in raw, no validation, lineage, Delta log, archive or catalog, and one process start-up
# where the CLI's ingest and run take two.
ZONES_SQL = (
    "SET preserve_insertion_order = false",
    FLOOR_SQL,
    "COPY (SELECT * FROM '{out}/raw.parquet') TO '{out}/curated.parquet' (FORMAT parquet)",
    "COPY (SELECT * FROM '{out}/curated.parquet' QUALIFY row_number() OVER (PARTITION BY \"Employee_ID\" "
    "ORDER BY \"Submission Date\" DESC NULLS LAST) = 1) TO '{out}/current.parquet' (FORMAT parquet)",
)
# Runs statements over the files in one DuckDB process; prints the row count of each Parquet file written.
DUCKDB_STATEMENTS = """
import json, sys, duckdb, pyarrow.parquet as pq
from pathlib import Path
files, out = json.loads(sys.argv[1]), sys.argv[2]
listed = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
con = duckdb.connect()
for statement in json.loads(sys.argv[3]):
    con.execute(statement.format(files=listed, out=out))
print(json.dumps({f.stem: pq.ParquetFile(f).metadata.num_rows for f in Path(out).glob("*.parquet")}))
"""

# Which SQL statement of a `run` is which stage, by how its text starts.
STATEMENT_STAGES = (
    ("CREATE OR REPLACE TABLE batch_rows", "`CREATE TABLE batch_rows`: validate + normalize every row"),
    ("UPDATE batch_rows", "in-batch duplicates (rows sharing a hash, compared by value; a file's slices: by key and hash)"),
    ("SELECT DISTINCT", "`SELECT DISTINCT`: phone spellings SQL cannot decide"),
    ("COPY (SELECT * EXCLUDE (_origin)", "`_current`: latest per key, written to Parquet"),
    ("CREATE OR REPLACE TABLE run_rows", "fold of the run's rows into the latest per key (past 2M rows)"),
    ("COPY (", "curated rows written to Parquet"),
)
STATEMENT_LINE = re.compile(r"^(\d+\.\d+) campuslake\.engines\.base: \w+ (\d+\.\d+)s (.*)$")
PARSE_THREAD_LINE = re.compile(r"^\d+\.\d+ campuslake\.pipeline: parse thread: (.+?) (\d+\.\d+)s ")
PARSE_THREAD_STEPS = {
    "parse": "parse thread: CSV -> Arrow (records, cells, present forms)",
    "raw zone": "parse thread: raw zone written (Parquet, zstd)",
    "archive": "parse thread: landed file archived (zstd)",
}
OUTSIDE_SQL = ("outside SQL (wall seconds with no statement running in any engine): start-up, waiting for a file's "
               "parse (CSV -> Arrow on one thread, every file queued at once), the catalog")


class BenchFailure(Exception):
    """A command failed or its result does not add up: nothing it measured may be reported."""


# --- measuring a process ----------------------------------------------------------------------
@dataclass
class Measured:
    seconds: float
    peak_rss: int
    """bytes: the largest sum of RSS over the process and its children, sampled every 50 ms"""
    ru_maxrss: int
    """bytes: the kernel's high-water mark for the process (os.wait4 rusage; RUSAGE_CHILDREN)"""
    cpu_seconds: float
    """user + system CPU time of the process (less sensitive than wall time to a busy machine)"""
    stdout: str
    stderr: str
    samples: list[tuple[float, int]]
    """(epoch seconds, tree RSS) every 50 ms"""

    def json(self) -> Any:
        return json.loads(self.stdout.strip().splitlines()[-1])


def _tree_rss(process: psutil.Process) -> int:
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:  # exited between listing and reading
            pass
    return total


def measure(command: list[str], label: str, progress: Progress, env: dict[str, str] | None = None) -> Measured:
    """Run `command`; fail loudly on a non-zero exit."""
    task = progress.add_task(label, total=None, rss="")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT, env=env)
        process = psutil.Process(proc.pid)
        peak = 0
        samples: list[tuple[float, int]] = []
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                rss = _tree_rss(process)
                samples.append((time.time(), rss))
                peak = max(peak, rss)
                progress.update(task, rss=f"peak RSS {peak / MIB:,.0f} MiB")
                done.wait(SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)  # blocks: the wall time is exact, not sampled
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    progress.remove_task(task)
    if proc.returncode != 0:
        tail = "\n".join(line for line in stderr.splitlines() if not STATEMENT_LINE.match(line))[-3000:]
        raise BenchFailure(f"{label}: exit code {proc.returncode}\n$ {shlex.join(command)[:500]}\n{tail}")
    console.log(f"{label}: {seconds:,.2f} s, peak RSS {peak / MIB:,.0f} MiB")
    return Measured(seconds, peak, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime, stdout, stderr, samples)


# --- the measured steps -----------------------------------------------------------------------
@dataclass
class Generated:
    rows: int
    schema: str
    files: list[str]
    answer_key: dict[str, int]
    """rows_valid, rows_quarantined, rows_duplicate and alumni the generator wrote"""
    measured: Measured


@dataclass
class PipelineRun:
    ingest: Measured
    run: Measured
    accounting: dict[str, int]
    stages: dict[str, tuple[float, int]]
    """stage -> (seconds, peak RSS while in it) for the `run` process"""
    parse_thread: dict[str, float]
    """the parse thread's step -> its seconds, summed over the files (beside the statements)"""

    @property
    def seconds(self) -> float:
        return self.ingest.seconds + self.run.seconds

    @property
    def peak_rss(self) -> int:
        return max(self.ingest.peak_rss, self.run.peak_rss)

    @property
    def ru_maxrss(self) -> int:
        return max(self.ingest.ru_maxrss, self.run.ru_maxrss)


def generate(out_dir: Path, rows: int, files: int, schema: str, progress: Progress) -> Generated:
    command = [sys.executable, "-c", GENERATE, str(out_dir), str(rows), str(files), str(SEED), schema]
    measured = measure(command, f"generate {rows:,} rows in {files} files ({schema})", progress)
    manifest = measured.json()
    if manifest["rows"] != rows or len(manifest["files"]) != files:
        raise BenchFailure(f"generator wrote {manifest['rows']} rows in {len(manifest['files'])} files, "
                           f"asked for {rows} in {files}")
    key = {k: manifest[k] for k in ("rows_valid", "rows_quarantined", "rows_duplicate", "alumni")}
    return Generated(rows, schema, manifest["files"], key, measured)


def joined(data: Generated, path: Path) -> Generated:
    """The same rows as one export, as a campus's full export often is: every file's rows after
    the first file's header (the big input's files are plain CSV with one header line each)."""
    with path.open("wb") as out:
        for position, name in enumerate(data.files):
            with open(name, "rb") as source:
                if position:
                    source.readline()
                last = b"\n"
                while chunk := source.read(16 << 20):
                    out.write(chunk)
                    last = chunk[-1:]
                if last != b"\n":
                    out.write(b"\n")
    return replace(data, files=[str(path)])


def run_campuslake(data: Generated, lake: Path | str, label: str, progress: Progress, env: dict[str, str],
                   engine: str = "duckdb", config: Path | None = None,
                   storage_options: dict[str, str] | None = None) -> PipelineRun:
    """`ingest` + `run` on a fresh lake: a local folder (emptied first) or an s3:// URI under a new prefix."""
    if isinstance(lake, Path):
        shutil.rmtree(lake, ignore_errors=True)
    cli = [sys.executable, "-c", CLI, "--lake", str(lake), "--engine", engine,
           *(["--config", str(config)] if config else [])]
    ingest = measure([*cli, "ingest", "alumni", *data.files, "--json"], f"{label}: ingest", progress, env)
    landed = ingest.json()
    if len(landed) != len(data.files) or any(f["status"] != "new" for f in landed):
        raise BenchFailure(f"{label}: ingest did not land every file as new: {landed}")
    run = measure([*cli, "run", "--json"], f"{label}: run", progress, env)
    accounting = check_accounting(run.json(), data, str(lake), label, storage_options or {})
    return PipelineRun(ingest, run, accounting, statement_stages(run), parse_thread_steps(run))


def run_campuslake_on_s3(data: Generated, work: Path, progress: Progress, env: dict[str, str]) -> PipelineRun:
    """The same CLI on an s3:// lake of a SeaweedFS server on loopback, with a SQLite catalog on local disk
    (an object-storage lake needs catalog_url)."""
    from campuslake.config import default_config_text
    from campuslake.testing.s3_server import S3ServerError, running_s3_server

    work.mkdir(parents=True)
    config = work / "s3-lake.yaml"
    catalog_url = f"sqlite:///{(work / 's3-catalog.sqlite').resolve()}"
    config.write_text(default_config_text().replace("catalog_url: null", f"catalog_url: {json.dumps(catalog_url)}"))
    try:
        with running_s3_server(work / "seaweedfs", bucket="campuslake-bench") as server:
            return run_campuslake(data, f"s3://{server.bucket}/lake", f"campuslake on an S3 lake, {data.rows:,} rows",
                                  progress, {**env, **server.env}, config=config.resolve(),
                                  storage_options={**server.env, "AWS_ALLOW_HTTP": "true"})
    except S3ServerError as exc:
        raise BenchFailure(f"S3 lake: {exc}") from exc


def check_accounting(document: dict[str, Any], data: Generated, lake: str, label: str,
                     storage_options: dict[str, str]) -> dict[str, int]:
    """Per batch rows_in = valid + quarantined + duplicate; totals = the generator's answer key."""
    from deltalake import DeltaTable

    batches = document["batches"]
    problems = []
    if len(batches) != len(data.files):
        problems.append(f"{len(batches)} batches for {len(data.files)} files")
    for b in batches:
        if b["status"] != "loaded":
            problems.append(f"{b['file']}: status {b['status']} ({b.get('message')})")
        parts = b["rows_valid"] + b["rows_quarantined"] + b["rows_duplicate"]
        if b["rows_in"] != parts:
            problems.append(f"{b['file']}: rows_in {b['rows_in']} != valid + quarantined + duplicate {parts}")
    totals = {k: sum(b[k] for b in batches) for k in ("rows_in", "rows_valid", "rows_quarantined", "rows_duplicate")}
    current = DeltaTable(f"{lake}/curated/alumni_current", storage_options=storage_options)
    totals["alumni"] = current.to_pyarrow_dataset().count_rows()
    expected = {"rows_in": data.rows, **data.answer_key}
    problems += [f"{k}: {totals[k]:,} but the generator wrote {expected[k]:,}" for k in expected
                 if totals[k] != expected[k]]
    if problems:
        raise BenchFailure(f"{label}: the accounting does not add up: " + "; ".join(problems))
    return totals


def statement_stages(run: Measured) -> dict[str, tuple[float, int]]:
    """Seconds and peak RSS per stage, from the engine's statement log and the RSS samples.

    Batches are loaded side by side, one engine each, so a stage's seconds are summed over the
    engines (engine-seconds). Outside SQL is wall time while no engine runs a statement: start-up,
    waiting for a file's parse, the catalog; the parse thread's own work overlaps the statements."""
    spans: list[tuple[float, float, str]] = []
    for line in run.stderr.splitlines():
        if match := STATEMENT_LINE.match(line):
            end, seconds, sql = float(match.group(1)), float(match.group(2)), match.group(3).strip()
            stage = next((name for prefix, name in STATEMENT_STAGES if sql.startswith(prefix)),
                         "other SQL (counts, views, quarantine rows)")
            spans.append((end - seconds, end, stage))
    seconds = {stage: 0.0 for _, _, stage in spans}
    for begin, end, stage in spans:
        seconds[stage] += end - begin
    busy, reach = 0.0, float("-inf")  # the union of the statements' spans
    for begin, end, _stage in sorted(spans):
        if end > reach:
            busy += end - max(begin, reach)
            reach = end
    seconds[OUTSIDE_SQL] = run.seconds - busy
    peaks = dict.fromkeys(seconds, 0)
    for at, rss in run.samples:
        stage = next((stage for begin, end, stage in spans if begin <= at <= end), OUTSIDE_SQL)
        peaks[stage] = max(peaks[stage], rss)
    return {stage: (seconds[stage], peaks[stage]) for stage in seconds}


def parse_thread_steps(run: Measured) -> dict[str, float]:
    """Seconds per step of the parse thread (wall time on that thread, summed over the files)."""
    seconds = dict.fromkeys(PARSE_THREAD_STEPS.values(), 0.0)
    for line in run.stderr.splitlines():
        if match := PARSE_THREAD_LINE.match(line):
            seconds[PARSE_THREAD_STEPS[match.group(1)]] += float(match.group(2))
    return seconds


def run_duckdb(data: Generated, statements: tuple[str, ...], out: Path, progress: Progress, label: str) -> Measured:
    """`statements` in one DuckDB process over the input files; its raw.parquet must hold every row."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    measured = measure([sys.executable, "-c", DUCKDB_STATEMENTS, json.dumps(data.files), str(out),
                        json.dumps(statements)], label, progress)
    if measured.json()["raw"] != data.rows:
        raise BenchFailure(f"{label}: wrote {measured.json()['raw']:,} rows, the input has {data.rows:,}")
    shutil.rmtree(out)
    return measured


def run_pandas(data: Generated, out: Path, progress: Progress, label: str) -> Measured:
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, str(ROOT / "bench" / "pandas_baseline.py"), "--out", str(out), *data.files]
    measured = measure(command, label, progress)
    if measured.json()["rows_in"] != data.rows:
        raise BenchFailure(f"{label}: read {measured.json()['rows_in']:,} rows, the input has {data.rows:,}")
    shutil.rmtree(out)
    return measured


# --- the report -------------------------------------------------------------------------------
@dataclass
class Results:
    started: datetime
    command: str
    runs: int
    small: Generated | None = None
    pipeline: list[PipelineRun] = field(default_factory=list)
    floor: list[Measured] = field(default_factory=list)
    zones: list[Measured] = field(default_factory=list)
    """the lake's writes alone (ZONES_SQL), every round"""
    pandas: list[Measured] = field(default_factory=list)
    big: Generated | None = None
    big_run: PipelineRun | None = None
    big_one_file: PipelineRun | None = None
    """the --big-rows rows joined into one export (a large file is read in slices)"""
    skipped_10m: bool = False
    spark: PipelineRun | None = None
    """the --rows input through the Spark engine (local mode, one run)"""
    spark_big: PipelineRun | None = None
    """the --big-rows input through the Spark engine (only with --spark-big)"""
    s3: PipelineRun | None = None
    """the --rows input on an s3:// lake (local SeaweedFS; one run)"""
    failure: str | None = None
    load: list[tuple[str, tuple[float, float, float]]] = field(default_factory=list)


def machine() -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = ", ".join(f"{p} {importlib.metadata.version(p)}"
                         for p in ("duckdb", "pyarrow", "deltalake", "pandas", "numpy"))
    return {
        "CPU": cpu,
        "cores": f"{os.cpu_count()} logical ({psutil.cpu_count(logical=False)} physical)",
        "RAM": f"{psutil.virtual_memory().total / GIB:.1f} GiB",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "libraries": versions,
        "campuslake": _git_revision(),
    }


def _git_revision() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = [line for line in git("status", "--porcelain", "--", "src").splitlines() if line]
    return f"commit {commit}" + (f" + uncommitted changes in {len(changed)} path(s) under src/" if changed else "")


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _mib(n: float) -> str:
    return f"{n / MIB:,.0f} MiB"


def _verdict(ok: bool) -> str:
    return "pass" if ok else "**FAIL**"


def render(results: Results) -> str:
    lines = ["# Benchmarks", "",
             "Written by `make bench`; do not edit by hand. Every figure below was measured in one run "
             "of the command shown, on the machine shown.", ""]
    if results.failure:
        lines += ["> **The benchmark FAILED; figures after the failure are missing and none of the figures "
                  "of the failing step count.**", ">", *[f"> {line}" for line in results.failure.splitlines()], ""]
    lines += ["| | |", "|---|---|", f"| date | {results.started:%Y-%m-%d %H:%M UTC} |",
              f"| command | `{results.command}` |"]
    lines += [f"| {k} | {v} |" for k, v in machine().items()]
    lines += [f"| load average ({when}) | {' / '.join(f'{x:.2f}' for x in load)} (1/5/15 min) |"
              for when, load in results.load]
    lines += [""]

    small = results.small
    if small is not None and results.pipeline:
        e2e = _median([r.seconds for r in results.pipeline])
        peak = max(r.peak_rss for r in results.pipeline)
        # the verdict takes the larger of the sampled peak and the kernel's high-water mark
        kernel_peak = max(r.ru_maxrss for r in results.pipeline)
        worst = max(peak, kernel_peak)
        rate = small.rows / e2e
        lines += ["## Summary", "",
                  f"{small.rows:,} rows in {len(small.files)} plain UTF-8 CSV files; campuslake = `ingest` + `run` "
                  f"through the CLI on a fresh lake, median of {len(results.pipeline)}.", "",
                  "| measure | figure | target | result |", "|---|---|---|---|",
                  f"| campuslake end to end, {small.rows:,} rows | {e2e:,.1f} s = {rate:,.0f} rows/s | "
                  f">= {TARGET_ROWS_PER_SECOND:,} rows/s | {_verdict(rate >= TARGET_ROWS_PER_SECOND)} |"]
        if results.floor:
            floor = _median([m.seconds for m in results.floor])
            lines.append(f"| ratio to the DuckDB floor ({floor:,.2f} s) | {e2e / floor:,.1f}x | "
                         f"<= {TARGET_FLOOR_RATIO:g}x | {_verdict(e2e / floor <= TARGET_FLOOR_RATIO)} |")
            if results.zones:
                zones = _median([m.seconds for m in results.zones])
                lines.append(f"| the zones' writes alone, no rules ({zones:,.2f} s = {small.rows / zones:,.0f} rows/s): "
                             f"ratio to the floor | {zones / floor:,.1f}x; campuslake is {e2e / zones:,.1f}x this | "
                             f"(the least any pipeline keeping raw, curated and current spends) | |")
        lines.append(f"| peak RSS, {small.rows:,} rows (max of the runs) | {_mib(peak)} (ru_maxrss {_mib(kernel_peak)}) | "
                     f"<= {_mib(TARGET_PEAK_RSS)} | {_verdict(worst <= TARGET_PEAK_RSS)} |")
        if results.pandas:
            pandas = _median([m.seconds for m in results.pandas])
            lines.append(f"| ratio to the pandas baseline ({pandas:,.2f} s = {small.rows / pandas:,.0f} rows/s) | "
                         f"{e2e / pandas:,.1f}x | (for information) | |")
        if results.big is not None and results.big_run is not None:
            big, run = results.big, results.big_run
            lines.append(f"| campuslake end to end, {big.rows:,} rows in {len(big.files)} files (1 run) | "
                         f"{run.seconds:,.1f} s = "
                         f"{big.rows / run.seconds:,.0f} rows/s | (for information) | |")
            big_worst = max(run.peak_rss, run.ru_maxrss)
            lines.append(f"| peak RSS, {big.rows:,} rows ({big.rows // len(big.files):,}-row files; "
                         f"{small.rows // len(small.files):,} above) | {_mib(run.peak_rss)} (ru_maxrss "
                         f"{_mib(run.ru_maxrss)}; {run.peak_rss / peak:.2f}x the {small.rows:,}-row peak) | bounded: <= "
                         f"{_mib(TARGET_PEAK_RSS)} | {_verdict(big_worst <= TARGET_PEAK_RSS)} |")
        if results.big is not None and results.big_one_file is not None:
            one = results.big_one_file
            rows = results.big.rows
            lines.append(f"| campuslake end to end, the same {rows:,} rows in one file (1 run) | {one.seconds:,.1f} s = "
                         f"{rows / one.seconds:,.0f} rows/s | (for information) | |")
            lines.append(f"| peak RSS, {rows:,} rows in one file (read in slices) | {_mib(one.peak_rss)} "
                         f"(ru_maxrss {_mib(one.ru_maxrss)}) | bounded: <= {_mib(TARGET_PEAK_RSS)} | "
                         f"{_verdict(max(one.peak_rss, one.ru_maxrss) <= TARGET_PEAK_RSS)} |")
        elif results.skipped_10m:
            lines.append("| 10M rows | skipped (`--skip-10m`) | bounded RSS | not measured |")
        for data, spark, duck in ((small, results.spark, e2e),
                                  (results.big, results.spark_big, results.big_run.seconds if results.big_run else None)):
            if data is not None and spark is not None and duck is not None:
                lines.append(f"| Spark engine (local mode, 2 cores), {data.rows:,} rows (1 run) | {spark.seconds:,.1f} s = "
                             f"{data.rows / spark.seconds:,.0f} rows/s; {spark.seconds / duck:,.1f}x the DuckDB engine's "
                             f"{duck:,.1f} s | (for information) | |")
        if results.s3 is not None:
            s3 = results.s3
            lines.append(f"| S3 lake (SeaweedFS on 127.0.0.1), {small.rows:,} rows (1 run) | {s3.seconds:,.1f} s = "
                         f"{small.rows / s3.seconds:,.0f} rows/s; {s3.seconds / e2e:,.1f}x the local-disk run's "
                         f"{e2e:,.1f} s | (for information) | |")
        lines.append("")

    if small is not None:
        lines += ["## Details", "",
                  "| step | rows | seconds | rows/s | CPU s (user + sys) | peak RSS (tree, sampled) | ru_maxrss |",
                  "|---|---|---|---|---|---|---|"]

        def row(name: str, rows: int, m: Measured) -> str:
            return (f"| {name} | {rows:,} | {m.seconds:,.2f} | {rows / m.seconds:,.0f} | {m.cpu_seconds:,.1f} | "
                    f"{_mib(m.peak_rss)} | {_mib(m.ru_maxrss)} |")

        for data in [d for d in (small, results.big) if d is not None]:
            lines.append(row(f"generate ({len(data.files)} files, {data.schema})", data.rows, data.measured))
        runs = [(f"campuslake run {i + 1}", small, r) for i, r in enumerate(results.pipeline)]
        if results.big is not None and results.big_run is not None:
            runs.append(("campuslake", results.big, results.big_run))
        if results.big is not None and results.big_one_file is not None:
            runs.append(("campuslake, one file", results.big, results.big_one_file))
        if results.spark is not None:
            runs.append(("campuslake on Spark", small, results.spark))
        if results.s3 is not None:
            runs.append(("campuslake on an S3 lake", small, results.s3))
        if results.big is not None and results.spark_big is not None:
            runs.append(("campuslake on Spark", results.big, results.spark_big))
        for name, data, r in runs:
            lines += [row(f"{name}: ingest", data.rows, r.ingest), row(f"{name}: run", data.rows, r.run)]
            lines.append(f"| {name}: **ingest + run** | {data.rows:,} | **{r.seconds:,.2f}** | "
                         f"**{data.rows / r.seconds:,.0f}** | {r.ingest.cpu_seconds + r.run.cpu_seconds:,.1f} | "
                         f"{_mib(r.peak_rss)} | {_mib(r.ru_maxrss)} |")
        lines += [row(f"DuckDB floor run {i + 1}", small.rows, m) for i, m in enumerate(results.floor)]
        lines += [row(f"zone writes alone run {i + 1}", small.rows, m) for i, m in enumerate(results.zones)]
        lines += [row(f"pandas baseline run {i + 1}", small.rows, m) for i, m in enumerate(results.pandas)]
        lines.append("")

        checked = [(small, r) for r in results.pipeline[:1]]
        if results.big is not None and results.big_run is not None:
            checked.append((results.big, results.big_run))
        if results.big is not None and results.big_one_file is not None:
            checked.append((results.big, results.big_one_file))
        if checked:
            lines += ["### Accounting (checked on every run; a run that does not add up fails the benchmark)", "",
                      "| rows | rows_in | valid | quarantined | duplicate | current rows | answer key |",
                      "|---|---|---|---|---|---|---|"]
            for data, r in checked:
                a, k = r.accounting, data.answer_key
                lines.append(f"| {data.rows:,} | {a['rows_in']:,} | {a['rows_valid']:,} | {a['rows_quarantined']:,} | "
                             f"{a['rows_duplicate']:,} | {a['alumni']:,} | {k['rows_valid']:,} / "
                             f"{k['rows_quarantined']:,} / {k['rows_duplicate']:,} / {k['alumni']:,}: equal |")
            for i, m in enumerate(results.pandas[:1]):
                p = m.json()
                same = all(p[x] == small.answer_key[x] for x in small.answer_key)
                lines.append(f"| pandas baseline | {p['rows_in']:,} | {p['rows_valid']:,} | {p['rows_quarantined']:,} | "
                             f"{p['rows_duplicate']:,} | {p['alumni']:,} | {'equal' if same else '**differs**'} |")
            lines.append("")

    profiled = []
    if results.pipeline and small is not None:
        median_run = sorted(results.pipeline, key=lambda r: r.seconds)[len(results.pipeline) // 2]
        profiled.append((f"{small.rows:,} rows, median run", median_run))
    if results.big is not None and results.big_run is not None:
        profiled.append((f"{results.big.rows:,} rows", results.big_run))
    if results.big is not None and results.big_one_file is not None:
        profiled.append((f"{results.big.rows:,} rows in one file", results.big_one_file))
    for title, r in profiled:
        lines += [f"### Where the time and memory of `run` go ({title})", "",
                  "From the engines' per-statement log and the RSS samples taken while each statement ran. "
                  "Files up to 32 MiB (the 1M-row set's) are loaded side by side, one single-threaded engine "
                  "each, larger ones (the 10M-row set's) one at a time on both threads, a file of more than "
                  "2^20 rows in slices of that many, each loaded while the next is parsed (its raw zone is "
                  "written as it is parsed: those seconds are in the parse's); a statement stage's "
                  "seconds are summed over the engines and its share is of all statements' seconds. The parse "
                  "thread's steps are wall seconds on that one thread, summed over the files; they overlap the "
                  "statements, and share the two cores with them.", "",
                  "| stage | seconds | share | peak RSS in it |", "|---|---|---|---|"]
        engine_seconds = sum(seconds for stage, (seconds, _) in r.stages.items() if stage != OUTSIDE_SQL)
        for stage, (seconds, stage_peak) in sorted(r.stages.items(), key=lambda kv: -kv[1][0]):
            share = "" if stage == OUTSIDE_SQL else f"{seconds / engine_seconds:.0%}"
            lines.append(f"| {stage} | {seconds:,.2f} | {share} | {_mib(stage_peak)} |")
        lines += [f"| {step} | {seconds:,.2f} | (beside the statements) | |" for step, seconds in r.parse_thread.items()]
        lines.append("")

    lines += [
        "## Method", "",
        f"- Input: `generate_alumni(rows=N, files=K, seed={SEED}, schema=S, file_mess=False, bad_files=False)` with "
        "the default bad/duplicate/repeat rates, so every file is plain UTF-8 CSV and the floor reads the same bytes "
        "campuslake does. The comparison uses the default `mixed` form (files alternate v1 and v2: 9 and 10 "
        "columns). The bounded-memory run uses v2 only and more files: employee ids are 6 digits (900,000 people), "
        "so the generator cannot write 10 files of 1M rows, and people who answered a v1 form cannot answer again "
        "in a v2 file, which a mixed 10M-row set would need.",
        "- campuslake: `campuslake --lake <fresh dir> ingest alumni <files> --json`, then `campuslake --lake <dir> run "
        "--json`, each its own process running the CLI entry point (`campuslake.cli:main`) with the engine's "
        "statement log on (one DEBUG line per SQL statement, for the table above) and pandas hidden, as in an "
        "install of campuslake (the benchmark's environment has pandas for the baseline, and pyarrow imports it "
        "at its first `pa.array()` when it can, which costs a run 0.23-0.31 s). Seconds are wall clock from "
        "spawn to exit; end to end = ingest + run. rows/s = input rows / seconds.",
        "- Accounting: every batch must have rows_in = valid + quarantined + duplicate, the totals must equal the "
        "generator's answer key, and `alumni_current` must hold the answer key's number of alumni.",
        f"- Floor: one DuckDB process running `{FLOOR_SQL}` over the same files (all varchar, every row kept).",
        "- Zone writes alone: one DuckDB process writing what the lake must hold, with no rule applied: the "
        "floor's statement into raw Parquet, those rows again as curated Parquet, then one row per employee id "
        f"as current ({'; '.join(f'`{q}`' for q in ZONES_SQL[2:])}). It leaves out what campuslake must also do "
        "(line numbers and raw lines, validation, normalization, quarantine, lineage, the Delta log, the archive, "
        "the catalog, a second process start-up), so it is a lower bound for any pipeline that keeps these zones.",
        "- pandas baseline: `bench/pandas_baseline.py`, the same rules in plain vectorized pandas (one process, "
        "whole files in memory), writing the curated and current rows to Parquet.",
        "- Spark engine: the same CLI with `--engine spark` on a fresh lake (PySpark in local mode on the "
        "machine's cores and Java; JVM start-up included, as a scheduled job pays it too), one run; its "
        "accounting is checked the same way.",
        "- S3 lake: the same CLI with `--lake s3://<bucket>/<prefix>` on a SeaweedFS server (`weed` from the "
        "dev dependencies) on 127.0.0.1 with a SQLite catalog on local disk, one run with its accounting checked; "
        "over loopback it measures the overhead of the storage seam (S3 requests, uploads, conditional-put "
        "Delta commits), not network latency, and the server's own CPU shares the machine but its memory is "
        "not in the peak RSS.",
        "- Peak RSS: the largest sum of RSS over the process and its children, sampled every "
        f"{SAMPLE_SECONDS * 1000:.0f} ms with psutil; ru_maxrss is the kernel's high-water mark for the process "
        "(`os.wait4`, the per-child form of `getrusage(RUSAGE_CHILDREN)`). For an ingest + run pair the larger "
        "of the two processes is shown. The targets are checked against the larger of the two measures.",
        "- The contenders run round by round (campuslake, floor, zone writes, pandas; three rounds). Other processes may share "
        "the machine: the load averages above and the CPU seconds (user + sys, which a busy machine changes less "
        "than wall time) say how much.",
        "",
    ]
    return "\n".join(lines)


def summary_table(results: Results) -> Table:
    table = Table(title="campuslake benchmark", title_justify="left")
    for column in ("step", "seconds (median)", "rows/s", "peak RSS"):
        table.add_column(column, justify="left" if column == "step" else "right")
    if results.small:
        rows = results.small.rows
        for name, measured in (("campuslake ingest + run", [r for r in results.pipeline]),
                               ("DuckDB floor", results.floor), ("zone writes alone", results.zones),
                               ("pandas baseline", results.pandas)):
            if measured:
                seconds = _median([m.seconds for m in measured])
                table.add_row(f"{name}, {rows:,} rows", f"{seconds:,.2f}", f"{rows / seconds:,.0f}",
                              _mib(max(m.peak_rss for m in measured)))
    if results.big and results.big_run:
        run = results.big_run
        table.add_row(f"campuslake ingest + run, {results.big.rows:,} rows", f"{run.seconds:,.2f}",
                      f"{results.big.rows / run.seconds:,.0f}", _mib(run.peak_rss))
    for name, data, run in (("campuslake on Spark", results.small, results.spark),
                            ("campuslake on Spark", results.big, results.spark_big),
                            ("campuslake on an S3 lake", results.small, results.s3)):
        if data and run:
            table.add_row(f"{name}, {data.rows:,} rows", f"{run.seconds:,.2f}",
                          f"{data.rows / run.seconds:,.0f}", _mib(run.peak_rss))
    return table


# --- main -------------------------------------------------------------------------------------
def benchmark(args: argparse.Namespace, results: Results, progress: Progress) -> None:
    work = args.work_dir
    env = {**os.environ, "TMPDIR": str(work / "tmp")}  # DuckDB spill files land in the work dir
    (work / "tmp").mkdir(parents=True, exist_ok=True)

    results.small = generate(work / "input-small", args.rows, args.files, "mixed", progress)
    for i in range(args.runs):  # round by round, so each contender sees the machine in the same state
        round_label = f"run {i + 1}/{args.runs}"
        run = run_campuslake(results.small, work / "lake", f"campuslake {args.rows:,} rows, {round_label}",
                             progress, env)
        results.pipeline.append(run)
        shutil.rmtree(work / "lake")
        results.floor.append(run_duckdb(results.small, (FLOOR_SQL,), work / "floor", progress,
                                        f"DuckDB floor, {round_label}"))
        results.zones.append(run_duckdb(results.small, ZONES_SQL, work / "zones", progress,
                                        f"zone writes alone, {round_label}"))
        results.pandas.append(run_pandas(results.small, work / "pandas-out", progress,
                                         f"pandas baseline, {round_label}"))
    if not args.skip_s3:
        results.s3 = run_campuslake_on_s3(results.small, work / "s3", progress, env)
        shutil.rmtree(work / "s3")
    if not args.skip_spark:
        results.spark = run_campuslake(results.small, work / "lake", f"campuslake on Spark, {args.rows:,} rows",
                                       progress, env, engine="spark")
        shutil.rmtree(work / "lake")
    shutil.rmtree(work / "input-small")

    if args.skip_10m:
        results.skipped_10m = True
        return
    results.big = generate(work / "input-big", args.big_rows, args.big_files, "v2", progress)
    results.big_run = run_campuslake(results.big, work / "lake", f"campuslake {args.big_rows:,} rows", progress, env)
    shutil.rmtree(work / "lake")
    one_file = joined(results.big, work / "input-big-joined.csv")
    results.big_one_file = run_campuslake(one_file, work / "lake", f"campuslake {args.big_rows:,} rows in one file",
                                          progress, env)
    shutil.rmtree(work / "lake")
    os.remove(one_file.files[0])
    if args.spark_big:
        results.spark_big = run_campuslake(results.big, work / "lake", f"campuslake on Spark, {args.big_rows:,} rows",
                                           progress, env, engine="spark")
        shutil.rmtree(work / "lake")
    shutil.rmtree(work / "input-big")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="write the results as Markdown to this file (BENCHMARKS.md)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows for the main comparison")
    parser.add_argument("--big-rows", type=int, default=10_000_000, help="rows for the bounded-memory run")
    parser.add_argument("--files", type=int, default=10, help="files the --rows are spread over")
    parser.add_argument("--big-files", type=int, default=16,
                        help="files the --big-rows are spread over (the generator's 900,000 employee ids "
                             "cannot fill 10 files of 1M rows; 16 is the fewest that works at 10M)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each contender at --rows (median reported)")
    parser.add_argument("--skip-10m", action="store_true", help="skip the --big-rows run (it takes a while)")
    parser.add_argument("--skip-spark", action="store_true", help="skip the Spark engine's run at --rows")
    parser.add_argument("--skip-s3", action="store_true",
                        help="skip the run at --rows on an S3 lake (a local SeaweedFS server)")
    parser.add_argument("--spark-big", action="store_true", help="also run the Spark engine at --big-rows (long)")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "bench" / "out",
                        help="scratch folder (emptied first, removed at the end)")
    parser.add_argument("--keep", action="store_true", help="keep the work dir at the end")
    args = parser.parse_args()

    python = os.path.relpath(sys.executable, Path.cwd()) if sys.executable.startswith(str(ROOT)) else sys.executable
    command = shlex.join([python, os.path.relpath(__file__, Path.cwd()), *sys.argv[1:]])
    results = Results(started=datetime.now(UTC), command=command, runs=args.runs)
    shutil.rmtree(args.work_dir, ignore_errors=True)
    args.work_dir.mkdir(parents=True)
    results.load.append(("start", os.getloadavg()))
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), TextColumn("{task.fields[rss]}"))
    try:
        with Progress(*columns, console=console) as progress:
            benchmark(args, results, progress)
    except BenchFailure as failure:
        results.failure = str(failure)
    except KeyboardInterrupt:
        results.failure = "interrupted"
    finally:
        results.load.append(("end", os.getloadavg()))
        if not args.keep:
            shutil.rmtree(args.work_dir, ignore_errors=True)

    console.print(summary_table(results))
    if args.write:
        args.write.write_text(render(results), encoding="utf-8")
        console.log(f"wrote {args.write}")
    if results.failure:
        console.print(f"[red bold]benchmark failed:[/] {results.failure}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
