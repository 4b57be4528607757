"""Following a run through its folder alone: the one read path for a run that trains, whoever started it (the
dashboard's own job, the CLI, torchrun's rank 0, another server), as TensorBoard tails a run's own files.

``MetricsTail`` reads metrics.csv incrementally: each poll parses only the complete lines appended since the
last one (a half-written last line waits for the next poll), so following a long run costs the same each
second however long it has run.
"""

from __future__ import annotations

import csv
import io
import math
import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .records import DONE, RECORD_FIELDS, MetricsBuffer, Scores, Status
from .runs import RunError, RunFolder, run_dirs

INTS = ("step", "epoch", "tokens")


@dataclass
class Progress:
    """How far a run has come: a few numbers, cheap enough to read every second (no copy of the records)."""

    run_id: str
    status: str  # a records.Status
    total_steps: int
    steps: int
    elapsed_s: float
    best_step: int | None  # the best validation score so far (the engine's val_best flag)
    best_val_accuracy: float | None
    latest_test_acc: float | None  # the test accuracy of the latest evaluation
    points: int  # records held for the curves
    error: str | None
    phase: str | None  # before the first step: what the run is doing, in words
    since_start_s: float  # seconds since it was started, or first watched (the wait before the first step included)

    @property
    def done(self) -> bool:
        return self.status in DONE


@dataclass
class Snapshot(Progress):
    """What a reader sees of a run at one moment: its progress, the records for the curves, the baselines."""

    metrics: pd.DataFrame
    baselines: dict


def records_frame(rows: list[dict]) -> pd.DataFrame:
    """Records as the curves take them: one column per ``RECORD_FIELDS`` name."""
    return pd.DataFrame(rows, columns=list(RECORD_FIELDS))


class MetricsTail:
    """The rows of a growing metrics.csv, read a new piece at a time into a bounded ``MetricsBuffer``."""

    def __init__(self, path: Path, cap: int = 20_000):
        self.path, self.cap, self.resets = Path(path), cap, -1
        self._reset()

    def _reset(self) -> None:
        self.offset, self.header, self.buffer = 0, None, MetricsBuffer(self.cap)
        self.resets += 1  # how often the file was read again from its start

    def poll(self) -> list[dict]:
        """The rows appended since the last poll (a file cut back, as a resume does, is read again: ``resets``
        counts it)."""
        try:
            if os.path.getsize(self.path) < self.offset:
                self._reset()
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except OSError:
            return []
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        lines = list(csv.reader(io.StringIO(complete.decode("utf-8", errors="replace"))))
        if self.header is None and lines:
            self.header, lines = lines[0], lines[1:]
        rows = [self._record(line) for line in lines if self.header and len(line) == len(self.header)]
        for row in rows:
            self.buffer.append(row)
        return rows

    def _record(self, line: list[str]) -> dict:
        rec = {}
        for name, cell in zip(self.header, line, strict=True):
            try:
                rec[name] = float(cell) if cell != "" else math.nan
            except ValueError:
                rec[name] = math.nan
        return rec | {k: int(rec[k]) for k in INTS if k in rec and not math.isnan(rec[k])}


class FolderWatch:
    """A run followed through its folder; safe to poll from several threads (the dashboard's tabs).

    ``listeners``: callbacks that hear every new record once (``on_step``), whichever reader's poll found it
    (a search's pruner, in the server, hears a training process this way)."""

    def __init__(self, run_dir: Path, listeners=()):
        self.folder = RunFolder(run_dir)
        self.run_id = self.folder.run_id
        self.tail = MetricsTail(self.folder.metrics_path)
        self.scores, self.listeners = Scores(), list(listeners)
        self.summary = self.folder.summary()
        self.started = time.monotonic()
        self._lock, self._resets = threading.Lock(), 0

    def poll(self) -> None:
        """Read what was written since the last poll (``progress`` and ``snapshot`` poll too)."""
        with self._lock:
            self._update()

    def _update(self) -> None:
        rows = self.tail.poll()
        if self.tail.resets != self._resets:  # the file was cut back (a resume): the scores start again
            self.scores, self._resets = Scores(), self.tail.resets
        for rec in rows:
            self.scores.add(rec)
            for listener in self.listeners:
                listener.on_step(rec)
        try:
            self.summary = self.folder.summary()
        except RunError:
            pass  # being rewritten: the last one read stands

    def progress(self) -> Progress:
        with self._lock:
            self._update()
            return self._progress()

    def snapshot(self) -> Snapshot:
        with self._lock:
            self._update()
            rows = self.tail.buffer.records()
            progress = self._progress()
        return Snapshot(**vars(progress), metrics=records_frame(rows), baselines=self.summary.baselines)

    def _progress(self) -> Progress:
        s, latest = self.summary, self.tail.buffer.latest or {}
        status = Status.STARTING if s.status == Status.RUNNING and not latest else s.status
        return Progress(self.run_id, status, s.total_steps, latest.get("step", 0), latest.get("elapsed_s", 0.0),
                        self.scores.best_step, self.scores.best_val_accuracy, self.scores.latest_test_acc,
                        len(self.tail.buffer), s.error,
                        None, time.monotonic() - self.started)


def running_elsewhere(root=None, exclude: str | None = None) -> list[str]:
    """Ids of the runs in ``root`` training in another process of this machine (newest first): a running
    summary whose process is alive (a dead one reads as interrupted)."""
    here, out = socket.gethostname(), []
    for d in run_dirs(root):  # summaries only: the Train page asks on every rerun
        try:
            s = RunFolder(d).summary()
        except RunError:
            continue
        if s.status == Status.RUNNING and s.host == here and d.name != exclude:
            out.append(d.name)
    return out
