"""Background training jobs for a long-lived process (the dashboard server).

A ``JobRegistry`` holds at most one running ``TrainingJob``. The job trains in its own thread through the
engine, writes its run folder through ``RunRecorder`` and keeps the metrics in a bounded in-memory buffer
that any reader (a UI refreshing once a second) can snapshot. The training thread holds the lock only to
append a record; readers copy a list of references under it and build frames outside it. Nothing here
knows about a UI.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import pandas as pd

from .config import TrainConfig
from .data import Corpus
from .engine import train
from .records import RECORD_FIELDS, Callback, MetricsBuffer, evaluated
from .runs import RunRecorder

log = logging.getLogger(__name__)
DONE = ("finished", "stopped", "failed")


class JobBusy(RuntimeError):
    """A training is already running on this server."""


@dataclass
class Snapshot:
    """What a reader sees of a job at one moment."""

    run_id: str
    status: str  # starting, running, finished, stopped, failed
    metrics: pd.DataFrame
    total_steps: int
    steps: int
    elapsed_s: float
    best_step: int | None  # the best validation accuracy so far, updated at every evaluation
    best_val_accuracy: float | None
    error: str | None
    baselines: dict

    @property
    def done(self) -> bool:
        return self.status in DONE


class TrainingJob(Callback):
    def __init__(self, corpus: Corpus, cfg: TrainConfig, runs_dir=None, data: str = "", cap: int = 20_000):
        self.corpus, self.cfg = corpus, cfg
        self.recorder = RunRecorder(runs_dir, data=data)
        self.run_id = self.recorder.run_id
        self.stop_event, self.lock = threading.Event(), threading.Lock()
        self.buffer, self.total_steps, self.status, self.error = MetricsBuffer(cap), 0, "starting", None
        self.best_step = self.best_val_accuracy = None
        self.baselines: dict = {}
        self.thread = threading.Thread(target=self._run, name=f"train-{self.run_id}", daemon=True)

    # ---- the training thread
    def _run(self) -> None:
        try:
            train(self.corpus, self.cfg, [self.recorder, self], self.stop_event)
        except Exception as e:  # noqa: BLE001 - reported to the UI, recorded in summary.json
            log.exception("training %s failed", self.run_id)  # the traceback goes to the server console
            with self.lock:
                self.status, self.error = "failed", str(e) or type(e).__name__

    def on_start(self, info) -> None:
        with self.lock:
            self.total_steps, self.status, self.baselines = info.total_steps, "running", info.baselines

    def on_step(self, record: dict) -> None:
        with self.lock:
            self.buffer.append(record)
            if evaluated(record) and record["val_acc"] > (self.best_val_accuracy or -1.0):
                self.best_step, self.best_val_accuracy = record["step"], record["val_acc"]

    def on_end(self, result) -> None:
        with self.lock:
            self.status = result.status

    # ---- readers
    def stop(self) -> None:
        self.stop_event.set()

    @property
    def done(self) -> bool:
        return self.status in DONE

    def snapshot(self) -> Snapshot:
        with self.lock:  # copy references only; the frame is built outside the lock
            rows, status, best = self.buffer.records(), self.status, (self.best_step, self.best_val_accuracy)
        latest = rows[-1] if rows else {}
        return Snapshot(self.run_id, status, pd.DataFrame(rows, columns=list(RECORD_FIELDS)), self.total_steps,
                        latest.get("step", 0), latest.get("elapsed_s", 0.0), *best, self.error, self.baselines)


class JobRegistry:
    """One training at a time per process; the last job stays readable after it ends."""

    def __init__(self):
        self._lock = threading.Lock()
        self.current: TrainingJob | None = None

    def start(self, corpus: Corpus, cfg: TrainConfig, runs_dir=None, data: str = "") -> TrainingJob:
        with self._lock:
            if self.running():
                raise JobBusy(f"Run {self.current.run_id} is already training on this server; stop it or wait "
                              "for it to finish before starting another.")
            job = TrainingJob(corpus, cfg, runs_dir, data)
            job.thread.start()
            self.current = job
            return job

    def running(self) -> bool:
        return self.current is not None and self.current.thread.is_alive()

    def is_running(self, run_id: str) -> bool:
        return self.running() and self.current.run_id == run_id
