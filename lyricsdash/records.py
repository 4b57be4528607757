"""The ground floor of training reports: the per-step record, the callback protocol, a bounded history.

Nothing here imports the training loop, so the run store, the jobs and the UIs can all speak "record"
without depending on how records are made.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import pandas as pd

RECORD_FIELDS = ("step", "epoch", "train_loss", "train_acc", "test_loss", "test_acc", "val_loss", "val_acc",
                 "lr", "tokens", "elapsed_s", "val_best", "eval_lag")
# val_best: 1 where this step's full evaluation is the best validation score so far (by the run's select_by), 0
# at other full evaluations, NaN (an empty cell) elsewhere. The engine sets it, once; every reader takes it from
# there. eval_lag: how many steps behind this step the oldest window score in its validation and test values is
# (0: a full evaluation, every song scored with this step's weights; more: a rolling one, see evaluate.Rolling;
# empty where the step has no values, and in runs saved before it existed).
FLAGS = ("val_best", "eval_lag")  # fields that describe an evaluation, not measures (no TensorBoard scalar, no
# export column)


class Status(StrEnum):
    """The one vocabulary of statuses: summary.json, a job's live progress, experiments and reports."""

    STARTING = "starting"  # launched, before its first step
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"  # asked to stop: Stop, Ctrl-C, an experiment's Cancel, a search's pruner
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its process died (read back: a running run whose process is gone)
    QUEUED = "queued"  # an experiment's run not begun
    CANCELLED = "cancelled"  # an experiment's run skipped by Cancel, or an experiment cancelled
    PRUNED = "pruned"  # a search's trial stopped by its pruner


DONE = frozenset({Status.FINISHED, Status.STOPPED, Status.FAILED, Status.INTERRUPTED})  # a run that has ended
RESUMABLE = frozenset({Status.STOPPED, Status.FAILED, Status.INTERRUPTED})  # with a resume point, it can go on


def _number(record: dict, key: str) -> float | None:
    """The record's ``key`` as a number, None where it is empty (NaN) or missing."""
    v = record.get(key)
    return None if v is None or math.isnan(v) else v


def evaluated(record: dict) -> bool:
    """Whether this step's record holds validation/test values, full or rolling (other steps hold NaN there)."""
    return _number(record, "val_acc") is not None


def is_full(record: dict) -> bool:
    """Whether this step's values come from a full evaluation, every song scored with the step's weights (the
    engine flags each with ``val_best``; a rolling evaluation's values have no flag)."""
    return _number(record, "val_best") is not None


def full_mask(frame: pd.DataFrame) -> pd.Series:
    """``is_full`` for every row of a metrics frame."""
    return frame["val_best"].notna() if "val_best" in frame else pd.Series(False, index=frame.index)


def is_best(record: dict) -> bool:
    """Whether the engine marked this step's full evaluation as the best validation score so far."""
    return (_number(record, "val_best") or 0) > 0


@dataclass
class Scores:
    """What a run's records have shown so far, for its live view: the best validation accuracy and its step,
    and the test accuracy of the latest evaluation (None before the first)."""

    best_step: int | None = None
    best_val_accuracy: float | None = None
    latest_test_acc: float | None = None

    def add(self, record: dict) -> None:
        if evaluated(record):
            self.latest_test_acc = record["test_acc"]
        if is_best(record):
            self.best_step, self.best_val_accuracy = record["step"], record["val_acc"]


class Callback:
    """Override what you need. Methods run in the training thread.

    ``on_phase(text)``: what the run is doing before its first step, in words (preparing the data, fitting
    the baselines);
    ``on_start(info)``: a ``StartInfo``; ``on_step(record)``: a dict with ``RECORD_FIELDS``;
    ``on_baselines(baselines, model)``: the baselines' scores ({name: {"label", "val_acc", "test_acc", ...}})
    and the best one by validation (``baselines.BaselineModel``), fitted beside the first steps;
    ``on_epoch_end(epoch, checkpoint)``: the ``Checkpoint`` the run would keep if it ended now;
    ``on_resume_point(point)``: at each epoch's end and where a stop ends the run, what it needs to go on
    exactly (``lyricsdash.resume``; its tensors are the live ones: save them before returning);
    ``on_end(result)``: a ``TrainResult``; ``on_fail(error)``: training raised.
    """

    def on_phase(self, text: str) -> None: ...
    def on_start(self, info) -> None: ...
    def on_step(self, record: dict) -> None: ...
    def on_baselines(self, baselines: dict, model) -> None: ...
    def on_epoch_end(self, epoch: int, checkpoint) -> None: ...
    def on_resume_point(self, point: dict) -> None: ...
    def on_end(self, result) -> None: ...
    def on_fail(self, error: BaseException) -> None: ...


class MetricsBuffer:
    """Per-step records with bounded memory (the one history kept in memory during training).

    Every record is kept until ``cap`` are held; then every other one is dropped and from then on only every
    ``stride``-th step is kept (the stride doubles each time); the latest record is always available. The
    full history is in the run's metrics.csv.
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

    def __len__(self) -> int:
        """How many records ``records()`` returns, without copying them."""
        return len(self.rows) + (self.latest is not None and (not self.rows or self.rows[-1] is not self.latest))

    def records(self) -> list[dict]:
        """The kept records, the latest included (a new list; the dicts are never mutated)."""
        rows = list(self.rows)
        if self.latest is not None and (not rows or rows[-1] is not self.latest):
            rows.append(self.latest)
        return rows

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.records(), columns=list(RECORD_FIELDS))
