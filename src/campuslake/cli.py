"""The campuslake command line: a thin Typer layer over the library (see README for the contract)."""

from __future__ import annotations

import json
import logging
import sys
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.cells import cell_len
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from campuslake.errors import CampuslakeError, UsageError

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="campuslake: student, career and alumni data, from source files to answers.")
quarantine_app = typer.Typer(no_args_is_help=True, help="Inspect and export quarantined rows and files.")
generate_app = typer.Typer(no_args_is_help=True, help="Generate deterministic synthetic sources.")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(generate_app, name="generate")

out = Console()
err = Console(stderr=True, soft_wrap=True)  # messages name files: never break them


class _State:
    lake: str | None = None
    config: Path | None = None
    engine: str | None = None


state = _State()
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]


@app.callback()
def main_options(
    lake: Annotated[str | None, typer.Option(envvar="CAMPUSLAKE_LAKE",
                                             help="Lake root URI (default ./lake, or the config's).")] = None,
    config: Annotated[Path | None, typer.Option(help="campuslake.yaml to use (default: the shipped one).")] = None,
    engine: Annotated[str | None, typer.Option(help="duckdb or spark (default: the config's engine).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log what runs.")] = False,
) -> None:
    state.lake, state.config, state.engine = lake, config, engine
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")


@contextmanager
def _lake() -> Any:
    from campuslake.config import load_settings
    from campuslake.lake.lake import Lake

    settings = load_settings(state.config, lake=state.lake)
    if state.engine is not None:
        from campuslake.engines import check_engine_name

        # checked for every command, even those that never start an engine
        settings = settings.model_copy(update={"engine": check_engine_name(state.engine)})
    lake = Lake.open(settings)
    try:
        yield lake
    finally:
        lake.close()


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, default=str, ensure_ascii=False) + "\n")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=True)


WHOLE_COLUMNS = frozenset({"batch_id", "file", "file_name", "status", "reasons"})
"""columns of names and codes people copy: never broken inside a line"""


def _print_table(title: str, rows: list[dict[str, Any]], empty: str = "no rows") -> None:
    """Print rows as a table, whole, or `empty` when there are none. Off a terminal (a file, a
    pipe, a CI log) each row is one line. On a terminal the widest columns wrap first, between
    words, and never below their longest word; a table that still does not fit is printed wider
    than the terminal rather than cut (Rich fits tables by cropping names and dropping columns)."""
    if not rows:
        out.print(empty, markup=False, highlight=False)
        return
    columns = list(rows[0])
    cells = [[_cell(v) for v in row.values()] for row in rows]
    natural, least = [], []
    for j, column in enumerate(columns):
        texts = [column, *(r[j] for r in cells)]
        natural.append(max(cell_len(line) for text in texts for line in text.splitlines() or [""]))
        breaks = str.splitlines if column in WHOLE_COLUMNS else str.split
        least.append(max((cell_len(part) for text in texts for part in breaks(text)), default=0))
    frame = 3 * len(columns) + 1  # borders and a space either side of each column
    widths = _fit(natural, least, out.width - frame) if out.is_terminal else natural
    table = Table(title=title, title_justify="left")
    for j, column in enumerate(columns):
        numeric = isinstance(rows[0][column], int | float)
        table.add_column(column, justify="right" if numeric else "left", width=widths[j], overflow="fold")
    for row in cells:
        table.add_row(*map(Text, row))  # values are data: `[b]` in one is not markup
    width = sum(widths) + frame
    console = out if width <= out.width else Console(file=out.file, width=width, force_terminal=out.is_terminal)
    console.print(table)


def _fit(natural: list[int], least: list[int], room: int) -> list[int]:
    """Column widths within `room`: the widest column gives way first, none below its least."""
    widths = list(natural)
    while sum(widths) > room:
        shrinkable = [j for j, w in enumerate(widths) if w > least[j]]
        if not shrinkable:
            break
        widths[max(shrinkable, key=lambda j: widths[j])] -= 1
    return widths


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    return str(value)


@app.command()
def ingest(
    dataset: Annotated[str, typer.Argument(help="Dataset the files belong to, e.g. alumni.")],
    files: Annotated[list[Path], typer.Argument(help="Files to land (CSV, gzip'd CSV...).")],
    as_json: JsonFlag = False,
) -> None:
    """Land files in the lake by content: the same bytes twice is one batch."""
    from campuslake.ingest.landing import land_files

    with _lake() as lake, _progress() as progress:
        lake.settings.dataset(dataset)
        task = progress.add_task("landing", total=len(files))
        landed = []
        for result in land_files(lake, dataset, files):
            landed.append(result.as_dict())
            progress.advance(task)
    if as_json:
        _print_json(landed)
    else:
        _print_table(f"ingest {dataset}", [{"file": Path(r["file"]).name, "batch_id": r["batch_id"],
                                            "status": r["status"]} for r in landed])


@app.command()
def run(
    dataset: Annotated[str, typer.Option(help="Dataset whose pending batches to process.")] = "alumni",
    as_json: JsonFlag = False,
) -> None:
    """Process every pending batch: validate, normalize, deduplicate, load; print the accounting."""
    from campuslake.pipeline import run_pending

    with _lake() as lake, _progress() as progress:
        task = progress.add_task("run", total=None)

        def report(description: str, done: int, total: int) -> None:
            progress.update(task, description=description, completed=done, total=total)

        result = run_pending(lake, dataset, progress=report)
    document = {"batches": [b.as_dict() for b in result.batches], "run_id": result.run_id}
    if as_json:
        _print_json(document)
        return
    if not result.batches:
        out.print("nothing pending")
        return
    rows = [{"file": b.file, "status": b.status, "reason": b.reason, "in": b.rows_in, "valid": b.rows_valid,
             "quarantined": b.rows_quarantined, "duplicate": b.rows_duplicate} for b in result.batches]
    rows.append({"file": "total", "status": "", "reason": "",
                 **{k: sum(r[k] for r in rows) for k in ("in", "valid", "quarantined", "duplicate")}})
    _print_table(f"run {result.run_id}: every row is valid, quarantined or a duplicate", rows)
    for batch in result.batches:
        for text in [batch.message, *batch.warnings]:
            if text:
                err.print(f"[yellow]{batch.file}[/]: {text}")


@app.command()
def report(dataset: Annotated[str, typer.Argument(help="Dataset to report on (alumni).")] = "alumni",
           as_json: JsonFlag = False) -> None:
    """The five alumni answers: degrees, campuses, departments, job roles, top employees."""
    from campuslake.serve.answers import five_answers
    from campuslake.serve.query import QuerySession

    if dataset != "alumni":
        raise UsageError(f"there is no report for {dataset!r}; the report covers 'alumni'")
    with _lake() as lake:
        session = QuerySession(lake)
        try:
            session.require("alumni_current")
            answers = five_answers(session.engine)
        finally:
            session.close()
    if as_json:
        _print_json(answers)
        return
    out.print(f"[bold]{answers['alumni']}[/] alumni (one current row per person)")
    _print_table("1. Which degree's graduates perform best?", answers["degrees"])
    _print_table("2. Which campus produces the most excellent employees?", answers["campuses"])
    _print_table("3. Where do alumni work most?", answers["departments"])
    _print_table("4. Top job roles", answers["job_roles"])
    for department, rows in answers["top_employees"].items():
        _print_table(f"5. Top employees: {department} (first 5 of {len(rows)})", rows[:5])


@app.command()
def query(sql: Annotated[str, typer.Argument(help="A read-only SQL query (DuckDB dialect).")],
          as_json: JsonFlag = False) -> None:
    """Run read-only SQL over the curated tables and the answers' views."""
    from campuslake.serve.query import QuerySession

    with _lake() as lake:
        session = QuerySession(lake)
        try:
            rows = session.query(sql)
        finally:
            session.close()
    if as_json:
        _print_json(rows)
    else:
        _print_table(f"{len(rows)} rows", rows)


@app.command()
def batches(dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
            as_json: JsonFlag = False) -> None:
    """The batch ledger: every landed file, its status and its accounting."""
    with _lake() as lake:
        rows = lake.catalog.batches(dataset)
    if as_json:
        _print_json(rows)
        return
    keys = ["batch_id", "file_name", "status", "reason", "rows_in", "rows_valid", "rows_quarantined",
            "rows_duplicate", "landed_at"]
    _print_table("batches", [{k: r[k] for k in keys} for r in rows],
                 empty="no batches yet: land files with `campuslake ingest <dataset> FILE...`")


@quarantine_app.command("list")
def quarantine_list(dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
                    as_json: JsonFlag = False) -> None:
    """Batches with quarantined rows or a rejected file, with reason counts."""
    from campuslake.validate.quarantine import list_quarantine
    from campuslake.validate.reasons import ROW_ADVICE

    with _lake() as lake:
        entries = list_quarantine(lake, dataset)
    if as_json:
        _print_json(entries)
        return
    rows = [{"batch_id": e["batch_id"], "file": e["file"], "rows": e["rows"] if e["kind"] == "rows" else "file",
             "reasons": "\n".join(f"{k} {v}" for k, v in sorted(e["reasons"].items()))} for e in entries]
    if any(e["replayed_by"] for e in entries):
        for row, entry in zip(rows, entries, strict=True):
            row["replayed_by"] = ", ".join(entry["replayed_by"])
    _print_table("quarantine (export one with: campuslake quarantine export BATCH_ID --out FILE)", rows,
                 empty="nothing in quarantine")
    codes = sorted({code for e in entries if e["kind"] == "rows" for code in e["reasons"]})
    if codes:
        out.print("what to do with the rows:", highlight=False)
        for code in codes:
            out.print(f"  {code}: {ROW_ADVICE.get(code, 'see the reason given with each row')}",
                      markup=False, highlight=False, soft_wrap=True)
    for entry in (e for e in entries if e["kind"] == "file" and e["message"]):
        out.print(f"{entry['file']} ({entry['batch_id']}): {entry['message']}", markup=False, highlight=False,
                  soft_wrap=True)


@quarantine_app.command("export")
def quarantine_export(batch_id: Annotated[str, typer.Argument(help="Batch id (see `quarantine list`).")],
                      out_file: Annotated[Path, typer.Option("--out", help="CSV file to write.")]) -> None:
    """Write a batch's rejected rows as CSV (original columns + reasons) to fix and ingest again."""
    from campuslake.validate.quarantine import export_quarantine

    with _lake() as lake:
        count, dataset = export_quarantine(lake, batch_id, out_file)
    err.print(f"wrote {count} rows to {out_file}; fix them and run `campuslake ingest {dataset} {out_file}`",
              markup=False, highlight=False, soft_wrap=True)


@generate_app.command("alumni")
def generate_alumni_command(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the exports into.")],
    rows: Annotated[int, typer.Option(min=0, help="Data rows in total.")] = 10_000,
    files: Annotated[int, typer.Option(min=1, help="Number of export files.")] = 4,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same bytes.")] = 0,
    schema: Annotated[str, typer.Option(help="Form version: v1, v2 or mixed.")] = "mixed",
    bad_rate: Annotated[float, typer.Option(min=0, max=1, help="Share of rows with one defect.")] = 0.02,
    dup_rate: Annotated[float, typer.Option(min=0, max=1, help="Share of exact duplicates in a file.")] = 0.02,
    repeat_rate: Annotated[float, typer.Option(min=0, max=1, help="Share of people answering again.")] = 0.05,
    file_mess: Annotated[bool, typer.Option(help="Vary encodings, line endings, headers, gzip.")] = True,
    bad_files: Annotated[bool, typer.Option(help="Add an empty, a binary and a header-less file.")] = True,
) -> None:
    """Synthetic alumni-survey exports with all the mess of real ones, plus an answer key."""
    from campuslake.synth.alumni import generate_alumni

    if schema not in ("v1", "v2", "mixed"):
        raise UsageError(f"--schema must be v1, v2 or mixed, not {schema!r}")
    with _progress() as progress:
        task = progress.add_task("generating", total=rows)
        manifest = generate_alumni(out_dir, rows=rows, files=files, seed=seed, schema=schema, bad_rate=bad_rate,
                                   dup_rate=dup_rate, repeat_rate=repeat_rate, file_mess=file_mess,
                                   bad_files=bad_files,
                                   progress=lambda done, total: progress.update(task, completed=done, total=total))
    err.print(f"wrote {len(manifest.files)} files to {out_dir} (answer key in {manifest.answer_key_dir})")


@app.command("config")
def show_config() -> None:
    """Print the shipped default configuration (copy it to campuslake.yaml to change it)."""
    from campuslake.config import default_config_text

    sys.stdout.write(default_config_text())


def main() -> None:
    try:
        app()
    except UsageError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise SystemExit(2) from None
    except CampuslakeError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
