"""The callback that writes a run folder as training happens (``runs.RunFolder`` names its files): config,
vocabulary and labels at the start, ``metrics.csv`` flushed per step, the TensorBoard event file, the system
samples, the kept weights at each epoch's end, resume points, and the summary."""

from __future__ import annotations

import csv
import io
import math
import os
import socket
from pathlib import Path

import torch

from .calibrate import expected_calibration_error
from .events import FINAL, EventWriter
from .predictions import test_table
from .records import RECORD_FIELDS, Callback, Status, is_best
from .runs import FORMAT, RunFolder, Summary, new_run_id, run_path, runs_root
from .store import atomic_write, now, write_json
from .system import SystemSampler


def save_weights(path: Path, spec: dict, state: dict, step: int) -> None:
    buf = io.BytesIO()
    torch.save({"format": FORMAT, "model_spec": spec, "step": step, "state_dict": state}, buf)
    atomic_write(path, buf.getvalue())


class RunRecorder(Callback):
    """Writes a run folder as training happens (``resuming``: goes on writing one that was stopped)."""

    def __init__(self, root: str | os.PathLike | None = None, run_id: str | None = None, data: str = "",
                 source: dict | None = None, name: str = ""):
        self.run_id = run_id or new_run_id()
        self.dir = run_path(runs_root(root), self.run_id)
        self.folder = RunFolder(self.dir)
        self.data, self.source, self.summary, self._csv, self._saved_step = data, source, None, None, None
        self._events = self._system = None
        self._resuming, self.name = False, name  # the name its user gave it before it started

    @classmethod
    def resuming(cls, run_dir: str | os.PathLike) -> RunRecorder:
        """A recorder that continues ``run_dir`` from its resume point (``train(..., resume_from=...)``)."""
        run_dir = Path(run_dir)
        rec = cls(run_dir.parent, run_dir.name)
        rec._resuming = True
        return rec

    def on_start(self, info) -> None:
        self.spec, self.test_songs, self._config = info.model_spec, info.test_songs, info.config
        if self._resuming:
            self._reopen(info)
        else:
            self._create(info)
        self._events = EventWriter(self.dir, purge_step=info.resumed_step + 1 if info.resumed_step else None)
        self._system = SystemSampler(self.folder.system_path, str(info.device), append=self._resuming)

    def _create(self, info) -> None:
        self.dir.mkdir(parents=True, exist_ok=False)
        if self.name.strip():
            self.folder.annotate(self.name, "")
        write_json(self.folder.config_path, info.config)
        atomic_write(self.folder.vocab_path, info.vocab.to_json())
        write_json(self.folder.labels_path, info.labels)
        self.summary = Summary(self.run_id, Status.RUNNING, os.getpid(), socket.gethostname(), now(), data=self.data,
                               source=self.source, corpus=info.corpus, params=info.params,
                               architecture=info.architecture, device=info.device,
                               keep=info.config["keep"], total_steps=info.total_steps)
        self._write()
        self._file = open(self.folder.metrics_path, "w", newline="", encoding="utf-8")
        self._csv = csv.DictWriter(self._file, RECORD_FIELDS, extrasaction="ignore")
        self._csv.writeheader()
        self._file.flush()

    def _reopen(self, info) -> None:
        """The stopped run's folder, its metrics cut to the resume point's step (a run killed mid-epoch wrote
        steps past it, which are trained again), its summary running again."""
        s = self.summary = self.folder.summary()
        s.status, s.pid, s.host, s.finished_at, s.error, s.note = \
            Status.RUNNING, os.getpid(), socket.gethostname(), None, None, None
        s.steps, s.device, s.resumed_at = info.resumed_step, info.device, [*s.resumed_at, info.resumed_step]
        self._saved_step = s.kept_step
        self._write()
        truncate_metrics(self.folder.metrics_path, info.resumed_step)
        self._file = open(self.folder.metrics_path, "a", newline="", encoding="utf-8")
        self._csv = csv.DictWriter(self._file, RECORD_FIELDS, extrasaction="ignore")

    def on_baselines(self, baselines: dict, model) -> None:
        if model is not None:
            buf = io.BytesIO()
            torch.save(model.to_blob(), buf)
            atomic_write(self.folder.baseline_path, buf.getvalue())
        self.summary.baselines = baselines
        self._write()

    def on_resume_point(self, point: dict) -> None:
        buf = io.BytesIO()
        torch.save(point, buf)
        atomic_write(self.folder.resume_path, buf.getvalue())

    def on_step(self, record: dict) -> None:
        self._csv.writerow({k: ("" if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()})
        self._file.flush()
        self._events.step(record)
        self._system.step = record["step"]
        s = self.summary
        s.steps = record["step"]
        if is_best(record):
            s.best_val_accuracy, s.best_step = record["val_acc"], record["step"]

    def on_epoch_end(self, epoch: int, checkpoint) -> None:
        self._save(checkpoint)
        self._write()

    def _write(self) -> None:
        write_json(self.folder.summary_path, self.summary.to_dict())

    def _save(self, kept, force: bool = False) -> None:
        if kept.state is None or (kept.step == self._saved_step and not force):
            return
        save_weights(self.folder.model_path, self.spec, kept.state, kept.step)
        self._saved_step = kept.step
        s = self.summary
        s.checkpoint, s.kept_step, s.kept_val_accuracy = True, kept.step, kept.val_acc
        s.test_accuracy, s.test_loss = kept.test_acc, kept.test_loss

    def on_end(self, result) -> None:
        self._save(result.kept, force=True)  # the end fits the temperature into the kept weights
        s = self.summary
        s.temperature = float(result.model.temperature)
        if result.test_probs:
            atomic_write(self.folder.test_path, test_table(result, self.test_songs).to_csv(index=False))
            s.test_ece = expected_calibration_error(torch.tensor(result.test_probs), torch.tensor(result.test_labels))
        if result.best.step:
            s.best_val_accuracy, s.best_step = result.best.val_acc, result.best.step
        s.status, s.finished_at, s.train_seconds, s.eval_seconds = \
            result.status, now(), result.train_seconds, result.eval_seconds
        s.steps, s.tokens, s.confusion_matrix = result.steps, result.tokens, result.confusion
        s.tokens_per_second = result.tokens / max(result.train_seconds, 1e-9)
        if result.status == Status.FINISHED:  # nothing left to resume
            self.folder.resume_path.unlink(missing_ok=True)
        self._close()

    def on_fail(self, error: BaseException) -> None:
        if self.summary is None:
            return  # failed before the folder was made
        s = self.summary
        s.status = Status.INTERRUPTED if getattr(error, "interrupted", False) else \
            Status.STOPPED if isinstance(error, KeyboardInterrupt) else Status.FAILED
        s.error, s.finished_at = str(error) or type(error).__name__, now()
        self._close()

    def _close(self) -> None:
        self._write()
        if self._csv is not None:
            self._file.close()
            self._csv = None
        if self._system is not None:
            self._system.stop()
            self._system = None
        if self._events is not None:
            s = self.summary
            self._events.hparams({**self._config, "status": s.status}, {k: getattr(s, k) for k in FINAL})
            self._events.close()
            self._events = None


def truncate_metrics(path: Path, step: int) -> None:
    """Keep metrics.csv's header and its complete rows up to ``step`` (atomically)."""
    with open(path, newline="", encoding="utf-8") as f:
        text = f.read()
    lines = text[: text.rfind("\n") + 1].splitlines(keepends=True)  # a torn last line is dropped
    keep = lines[:1] + [line for line in lines[1:] if line.split(",", 1)[0].isdigit()
                        and int(line.split(",", 1)[0]) <= step]
    atomic_write(path, "".join(keep))
