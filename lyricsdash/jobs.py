"""Background training jobs for a long-lived process (the dashboard server).

A ``JobRegistry`` holds at most one running ``TrainingJob``. The job trains
in its own thread through the engine, writes its run folder through
``RunRecorder`` and keeps the metrics in a bounded in-memory buffer that any
reader (a UI refreshing once a second) can snapshot under a lock. Nothing
here knows about a UI.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import pandas as pd

from .config import TrainConfig
from .data import Corpus
from .engine import RECORD_FIELDS, Callback, TrainResult, train
from .runs import RunRecorder

log = logging.getLogger(__name__)
DONE = ("finished", "stopped", "failed")


class JobBusy(RuntimeError):
    """A training is already running on this server."""


class MetricsBuffer:
    """Per-step records with bounded memory.

    Every record is kept until ``cap`` are held; then every other one is
    dropped and from then on only every ``stride``-th step is kept (the
    stride doubles each time). Evaluation records and the latest one are
    always available; the full history is in the run's metrics.csv.
    """

    def __init__(self, cap: int = 20_000):
        self.cap, self.stride, self.rows, self.latest = cap, 1, [], None

    def append(self, record: dict) -> None:
        self.latest = record
        if record["step"] % self.stride == 0:
            self.rows.append(record)
        if len(self.rows) >= self.cap:
            self.rows = self.rows[1::2]
            self.stride *= 2

    def frame(self) -> pd.DataFrame:
        rows = self.rows if not self.rows or self.rows[-1] is self.latest else [*self.rows, self.latest]
        return pd.DataFrame(rows, columns=list(RECORD_FIELDS))


@dataclass
class Snapshot:
    """What a reader sees of a job at one moment."""

    run_id: str
    status: str  # starting, running, finished, stopped, failed
    metrics: pd.DataFrame
    total_steps: int
    steps: int
    elapsed_s: float
    best_step: int | None
    best_val_acc: float | None
    error: str | None

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
        self.best_step = self.best_val = None
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self._run, name=f"train-{self.run_id}", daemon=True)

    # ---- the training thread
    def _run(self) -> None:
        try:
            train(self.corpus, self.cfg, [self.recorder, self], self.stop_event)
        except Exception as e:  # noqa: BLE001 - reported to the UI, recorded in summary.json
            log.exception("training %s failed", self.run_id)  # the traceback goes to the server console
            with self.lock:
                self.status, self.error = "failed", str(e) or type(e).__name__

    def on_start(self, info: dict) -> None:
        with self.lock:
            self.total_steps, self.status = info["total_steps"], "running"

    def on_step(self, record: dict) -> None:
        with self.lock:
            self.buffer.append(record)

    def on_epoch_end(self, epoch, best) -> None:
        with self.lock:
            self.best_step, self.best_val = best.step, best.val_acc

    def on_end(self, result: TrainResult) -> None:
        with self.lock:
            self.best_step, self.best_val = result.best.step, result.best.val_acc
            self.status = result.status

    # ---- readers
    def stop(self) -> None:
        self.stop_event.set()

    @property
    def done(self) -> bool:
        with self.lock:
            return self.status in DONE


    def snapshot(self) -> Snapshot:
        with self.lock:
            latest = self.buffer.latest or {}
            return Snapshot(self.run_id, self.status, self.buffer.frame(), self.total_steps, latest.get("step", 0),
                            latest.get("elapsed_s", 0.0), self.best_step, self.best_val, self.error)


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
