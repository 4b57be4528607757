"""Following a run through its folder alone: a training in another process (the CLI, torchrun's rank 0, another
server) is watched from what it writes, with the same ``progress()`` and ``snapshot()`` a ``TrainingJob`` gives.

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
from pathlib import Path

import pandas as pd

from .jobs import Progress, Snapshot
from .records import RECORD_FIELDS, MetricsBuffer, Scores, Status
from .runs import RunError, RunFolder, read_summary, run_dirs

INTS = ("step", "epoch", "tokens")


class MetricsTail:
    """The rows of a growing metrics.csv, read a new piece at a time into a bounded ``MetricsBuffer``."""

    def __init__(self, path: Path, cap: int = 20_000):
        self.path, self.cap = Path(path), cap
        self._reset()

    def _reset(self) -> None:
        self.offset, self.header, self.buffer = 0, None, MetricsBuffer(self.cap)

    def poll(self) -> list[dict]:
        """The rows appended since the last poll (a file cut back, as a resume does, is read again)."""
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
    """A run followed through its folder; safe to poll from several threads (the dashboard's tabs)."""

    def __init__(self, run_dir: Path):
        self.folder = RunFolder(run_dir)
        self.run_id = self.folder.run_id
        self.tail = MetricsTail(self.folder.metrics_path)
        self.scores = Scores()
        self.summary = self.folder.summary()
        self.started = time.monotonic()
        self._lock = threading.Lock()

    def _update(self) -> None:
        for rec in self.tail.poll():
            self.scores.add(rec)
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
        return Snapshot(**vars(progress), metrics=pd.DataFrame(rows, columns=list(RECORD_FIELDS)),
                        baselines=self.summary.baselines)

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
            s = read_summary(d)
        except RunError:
            continue
        if s.status == Status.RUNNING and s.host == here and d.name != exclude:
            out.append(d.name)
    return out
