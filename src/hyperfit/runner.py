"""The frame of every rule script: log redirection, thread count, progress bars, one-line errors."""
from __future__ import annotations

import json
import os
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from .errors import UserError


def run(snakemake, main: Callable) -> None:
    """Call main(snakemake) with stdout/stderr going to the rule's log; a UserError exits with one line
    (on the terminal and in the log), any other error with its traceback in the log."""
    log_path = snakemake.log[0] if len(snakemake.log) else os.devnull
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    terminal = sys.__stderr__
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # `--cores 8` on a 2-core laptop gives a job 8 threads: more torch threads than cores only slows it down.
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threads = str(min(int(getattr(snakemake, "threads", 1) or 1), usable))
    os.environ["OMP_NUM_THREADS"] = threads
    with open(log_path, "w", buffering=1) as log:
        sys.stdout = sys.stderr = log
        try:
            # torch takes its thread count from OMP_NUM_THREADS when a job first imports it; a job that never does
            # (tables, plots) does not pay for the import
            if "torch" in sys.modules:
                sys.modules["torch"].set_num_threads(int(threads))
            main(snakemake)
            note_revisions(snakemake)
        except UserError as exc:
            msg = f"ERROR in rule {snakemake.rule}: {exc}"
            print(msg, file=log)
            print(msg, file=terminal)
            sys.exit(1)
        except Exception:
            traceback.print_exc(file=log)
            raise
        finally:
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__


def note_revisions(snakemake) -> None:
    """A table rule's hub inputs (its input `sources`, hyperfit.revisions): one line under each Markdown output
    naming the commits its numbers came from. Nothing from the hub (the embedded default): nothing added."""
    if "sources" not in snakemake.input.keys():
        return
    from .revisions import revisions_line

    line = revisions_line(snakemake.input.sources)
    for out in snakemake.output:
        if line and str(out).endswith(".md"):
            text = Path(out).read_text(encoding="utf-8")
            with atomic_path(out) as tmp:
                Path(tmp).write_text(text.rstrip("\n") + "\n\n" + line + "\n", encoding="utf-8")


def progress(total: int, desc: str, **kwargs):
    """A tqdm bar that writes to the (redirected) stderr, i.e. the rule's log, a line every few seconds."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, file=sys.stderr, mininterval=5.0, ascii=True, **kwargs)


def write_json(path: str | os.PathLike, obj) -> None:
    """Write JSON atomically (temporary file, then rename): a finished output is never half-written."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, ensure_ascii=False)


def read_json(path: str | os.PathLike):
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def write_jsonl(path: str | os.PathLike, rows) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write_table(df, path: str | os.PathLike, exact: bool = False) -> None:
    """A pandas DataFrame as TSV (or Markdown when the path ends in .md), atomically. Numbers get 6
    significant digits, or with `exact` every digit (per-text values that later tables aggregate)."""
    with atomic_path(path) as tmp:
        if str(path).endswith(".md"):
            Path(tmp).write_text(df.to_markdown(index=False) + "\n", encoding="utf-8")
        else:
            df.to_csv(tmp, sep="\t", index=False, float_format=None if exact else "%.6g")


def write_markdown(path: str | os.PathLike, df, notes: str = "", **view) -> None:
    """A result table's people's view as Markdown with its notes below, atomically (hyperfit.readable: each
    estimate and its interval in one cell, numbers rounded alike, p-values only beside the paired difference they
    test, columns with nothing to show left out and named). The table's .tsv (write_table) keeps every column."""
    from .readable import readable_markdown

    with atomic_path(path) as tmp:
        Path(tmp).write_text(readable_markdown(df, notes, **view), encoding="utf-8")


@contextmanager
def atomic_path(path: str | os.PathLike):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
