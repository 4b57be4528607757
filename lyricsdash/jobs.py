"""Background training jobs for a long-lived process (the dashboard server).

A ``JobRegistry`` holds at most one running ``TrainingJob``. The job's background thread supervises the
training, which by default runs in a child process (``isolate=True``): the child trains through the engine,
writes the run folder through ``RunRecorder`` and sends each step's record back over a pipe. So the
server's Python work (every page refresh) never competes with training for the GIL, and a refresh never
waits for a training step. The thread keeps the records in a bounded in-memory buffer that any reader (a UI
refreshing once a second) can snapshot: it holds the lock only to append a record; readers copy a list of
references under it and build frames outside it. ``isolate=False`` trains in the thread itself (tests,
embedding). Nothing here knows about a UI.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import threading
import time
from dataclasses import dataclass
from types import SimpleNamespace

import pandas as pd

from .config import TrainConfig
from .data import Corpus
from .engine import train
from .experiments import Experiment, Plan, run_all
from .records import DONE, RECORD_FIELDS, Callback, MetricsBuffer, Scores, Status
from .runs import RunFolder, RunRecorder, new_run_id, read_metrics, read_summary, run_path, runs_root

log = logging.getLogger(__name__)


class JobBusy(RuntimeError):
    """A training is already running on this server."""


@dataclass
class Progress:
    """How far a job has come: a few numbers, cheap enough to read every second (no copy of the records)."""

    run_id: str
    status: str  # starting, running, finished, stopped, failed
    total_steps: int
    steps: int
    elapsed_s: float
    best_step: int | None  # the best validation accuracy so far, updated at every evaluation
    best_val_accuracy: float | None
    latest_test_acc: float | None  # the test accuracy of the latest evaluation
    points: int  # records held for the curves
    error: str | None
    phase: str | None  # before the first step: what the run is doing, in words
    since_start_s: float  # seconds since the job was started (the wait before the first step included)

    @property
    def done(self) -> bool:
        return self.status in DONE


@dataclass
class Snapshot(Progress):
    """What a reader sees of a job at one moment: its progress, the records for the curves, the baselines."""

    metrics: pd.DataFrame
    baselines: dict


@dataclass(frozen=True)
class RunTarget:
    """The run folder a job writes: a new one (with its data recorded), or a stopped one to resume."""

    runs_dir: str
    run_id: str
    data: str = ""
    source: dict | None = None  # sources.DataSource.to_record()
    resume: bool = False
    name: str = ""  # given before the start (annotations.json)

    def recorder(self) -> RunRecorder:
        if self.resume:
            return RunRecorder.resuming(run_path(self.runs_dir, self.run_id))
        return RunRecorder(self.runs_dir, self.run_id, self.data, self.source, self.name)

    def resume_point(self) -> dict | None:
        return RunFolder(run_path(self.runs_dir, self.run_id)).resume_point() if self.resume else None


class TrainingJob(Callback):
    def __init__(self, corpus: Corpus, cfg: TrainConfig, runs_dir=None, data: str = "", cap: int = 20_000,
                 isolate: bool = True, source: dict | None = None, resume: str | None = None, observers=(),
                 spare: Spare | None = None, on_done=None, name: str = ""):
        """``resume``: the id of a stopped run in ``runs_dir`` to go on with (``cfg`` and ``corpus`` its own);
        ``observers``: callbacks that hear ``on_start`` (its total_steps) and every step's record, here in the
        server (a search's pruner); ``spare``: a training process started ahead (``Spare``) to train in instead of
        a fresh one; ``on_done()``: called once the job has ended."""
        self.corpus, self.cfg, self.data, self.isolate = corpus, cfg, data, isolate
        self.runs_dir = str(runs_root(runs_dir))
        self.run_id = resume or new_run_id()
        self.target = RunTarget(self.runs_dir, self.run_id, data, source, resume is not None, name)
        self.observers = list(observers)
        self.stop_event, self.lock = threading.Event(), threading.Lock()
        self.buffer, self.total_steps, self.status, self.error = MetricsBuffer(cap), 0, Status.STARTING, None
        self.scores = Scores()
        self.baselines: dict = {}
        self.spare, self.on_done = spare if isolate else None, on_done
        self.phase = None if not isolate else ("handing the run to the training process started ahead" if
                                               self.spare else "starting the training process (a fresh Python "
                                               "importing torch)")
        self.started_at = time.monotonic()
        self.thread = threading.Thread(target=self._run, name=f"train-{self.run_id}", daemon=True)

    # ---- the background thread
    def _run(self) -> None:
        try:
            if self.isolate:
                self._supervise()
            else:
                train(self.corpus, self.cfg, [self.target.recorder(), self, *self.observers], self.stop_event,
                      resume_from=self.target.resume_point())
        except Exception as e:  # noqa: BLE001 - reported to the UI, recorded in summary.json
            log.exception("training %s failed", self.run_id)  # the traceback goes to the server console
            self._failed(str(e) or type(e).__name__)
        finally:
            if self.on_done is not None:
                self.on_done()

    def _failed(self, message: str) -> None:
        with self.lock:
            self.status, self.error = Status.FAILED, message

    def _supervise(self) -> None:
        """Start the child (or hand the run to the spare), relay its messages into this job, pass Stop on;
        notice a child that dies."""
        spare = self.spare if self.spare is not None and self.spare.process.is_alive() else None
        if spare is None:
            spare = Spare(f"train-{self.run_id}")  # the same, started now
        spare.jobs.send((self.corpus, self.cfg, self.target))
        child, receive, stop = spare.process, spare.receive, spare.stop
        try:
            while True:
                if self.stop_event.is_set():
                    stop.set()
                if not receive.poll(0.2):
                    continue
                try:
                    kind, payload = receive.recv()
                except EOFError:
                    break
                self._relay(kind, payload)
        finally:
            child.join(10)
            if child.is_alive():
                child.kill()
            spare.close()
        if not self.done:
            self._failed(f"The training process ended unexpectedly (exit code {child.exitcode}); the run folder "
                         "keeps what it saved.")

    def _relay(self, kind: str, payload) -> None:
        """A message from the training process, handled as the in-thread callbacks handle theirs."""
        if kind == "start":
            self._started(payload["total_steps"])
            for o in self.observers:
                o.on_start(SimpleNamespace(total_steps=payload["total_steps"]))
        elif kind == "step":
            self.on_step(payload)
            for o in self.observers:
                o.on_step(payload)
        elif kind == "end":
            self._ended(payload)
        elif kind == "fail":
            self._failed(payload)
        elif kind == "phase":
            self.on_phase(payload)
        elif kind == "baselines":
            self.on_baselines(payload, None)

    def _started(self, total_steps: int) -> None:
        if self.target.resume:  # the curves so far (the recorder has cut them to the resume point)
            run_dir = run_path(self.runs_dir, self.run_id)
            for record in read_metrics(run_dir).to_dict("records"):
                self.on_step(record | {k: int(record[k]) for k in ("step", "epoch", "tokens")})
            self.on_baselines(read_summary(run_dir).baselines, None)  # measured before the stop
        with self.lock:
            self.total_steps, self.status, self.phase = total_steps, Status.RUNNING, None

    def _ended(self, status: str) -> None:
        with self.lock:
            self.status = status

    # ---- callbacks (in-thread training)
    def on_phase(self, text: str) -> None:
        with self.lock:
            self.phase = text

    def on_start(self, info) -> None:
        self._started(info.total_steps)

    def on_baselines(self, baselines: dict, model) -> None:
        with self.lock:
            self.baselines = baselines

    def on_step(self, record: dict) -> None:
        with self.lock:
            self.buffer.append(record)
            self.scores.add(record)

    def on_end(self, result) -> None:
        self._ended(result.status)

    # ---- readers
    def stop(self) -> None:
        self.stop_event.set()

    @property
    def done(self) -> bool:
        return self.status in DONE

    def progress(self) -> Progress:
        with self.lock:
            return self._progress(len(self.buffer))

    def snapshot(self) -> Snapshot:
        with self.lock:  # copy references only; the frame is built outside the lock
            rows = self.buffer.records()
            progress = self._progress(len(rows))
        return Snapshot(**vars(progress), metrics=pd.DataFrame(rows, columns=list(RECORD_FIELDS)),
                        baselines=self.baselines)

    def _progress(self, points: int) -> Progress:  # under the lock
        latest = self.buffer.latest or {}
        return Progress(self.run_id, self.status, self.total_steps, latest.get("step", 0),
                        latest.get("elapsed_s", 0.0), self.scores.best_step, self.scores.best_val_accuracy,
                        self.scores.latest_test_acc, points, self.error, self.phase,
                        time.monotonic() - self.started_at)


class _Pipe(Callback):
    """In the child: send what the parent's job needs; end at once if the parent (the server) died."""

    def __init__(self, conn, parent_pid: int):
        self.conn, self.parent_pid = conn, parent_pid

    def _send(self, message) -> None:
        if os.getppid() != self.parent_pid:
            os._exit(1)  # orphaned: the server was killed; the run folder reads as interrupted
        try:
            self.conn.send(message)
        except OSError:  # the server's end of the pipe is gone (killed between the check and the send)
            os._exit(1)

    def on_phase(self, text: str) -> None:
        self._send(("phase", text))

    def on_start(self, info) -> None:
        self._send(("start", {"total_steps": info.total_steps}))

    def on_baselines(self, baselines: dict, model) -> None:
        self._send(("baselines", baselines))

    def on_step(self, record: dict) -> None:
        self._send(("step", record))

    def on_end(self, result) -> None:
        self._send(("end", result.status))


class Spare:
    """A training process of its own (spawned: a clean interpreter with no server state and no inherited
    threads), started ahead of need: it imports torch and the engine and makes one optimizer (its first use
    imports torch._dynamo, 1.9 s here), then waits for one run. Waiting, it holds about 300 MB."""

    def __init__(self, name: str = "train-spare"):
        ctx = mp.get_context("spawn")
        job_end, self.jobs = ctx.Pipe(duplex=False)
        self.receive, send = ctx.Pipe(duplex=False)
        self.stop = ctx.Event()
        self.process = ctx.Process(target=_spare_main, name=name, daemon=True,
                                   args=(job_end, send, self.stop, os.getpid()))
        self.process.start()
        send.close()  # the child holds the only writing end: EOF here means the child is gone
        job_end.close()

    def close(self) -> None:
        self.jobs.close()  # the child sees EOF and exits


def _spare_main(jobs, conn, stop, parent_pid) -> None:
    """Warm up, wait for one run (exit if the server is gone or the spare is closed), train it."""
    _warm_up()
    while not jobs.poll(1.0):
        if os.getppid() != parent_pid:
            return
    try:
        corpus, cfg, target = jobs.recv()
    except EOFError:
        return
    _child_main(corpus, cfg, target, conn, stop, parent_pid)


def _warm_up() -> None:
    """What a training's first second would otherwise spend on first uses: the optimizer's imports
    (torch._dynamo), the event file's writer (tensorboardX), the LSTM's kernels."""
    import tensorboardX  # noqa: F401 - events.EventWriter imports it on first use
    import torch

    from .model import LyricsLSTM, ModelSpec

    model = LyricsLSTM(ModelSpec(8, 2, 8, 8, 1, True, 0.0, "mean"))
    opt = torch.optim.AdamW(model.parameters())
    model(torch.ones(2, 4, dtype=torch.long), torch.tensor([4, 3])).sum().backward()
    opt.step()


def _child_main(corpus, cfg, target: RunTarget, conn, stop, parent_pid) -> None:
    """The training process: the engine, the run folder, and a pipe back to the server's job."""
    try:
        train(corpus, cfg, [target.recorder(), _Pipe(conn, parent_pid)], stop, resume_from=target.resume_point())
    except Exception as e:  # noqa: BLE001 - the parent shows it; the traceback goes to the console
        log.exception("training %s failed", target.run_id)
        _Pipe(conn, parent_pid)._send(("fail", str(e) or type(e).__name__))
    finally:
        conn.close()


class ExperimentJob:
    """An experiment's runs, queued one after another through the registry (one training at a time)."""

    def __init__(self, registry: JobRegistry, corpus: Corpus, plan: Plan, runs_dir=None, data: str = "",
                 source: dict | None = None):
        self.registry, self.corpus, self.runs_dir, self.data, self.source = registry, corpus, runs_dir, data, source
        self.exp = Experiment.create(plan, runs_dir, data)
        self.cancel_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"experiment-{self.exp.data['id']}", daemon=True)

    def _run(self) -> None:
        try:
            run_all(self.exp, self.corpus, self._train_one, self.cancel_event.is_set)
        except Exception:  # noqa: BLE001 - the experiment file says what happened to each run
            log.exception("experiment %s failed", self.exp.data["id"])

    def _train_one(self, corpus: Corpus, cfg: TrainConfig, i: int, observers=()) -> tuple[str, str]:
        job = TrainingJob(corpus, cfg, self.runs_dir, self.data, isolate=self.registry.isolate, observers=observers,
                          source=self.source if self.exp.data["plan"]["kind"] != "cv" else None,
                          spare=self.registry.take_spare(), on_done=self.registry.replenish)
        for o in observers:
            o.bind_stop(job.stop)
        self.registry.current = job  # the Train page follows the run in progress
        job.thread.start()
        while job.thread.is_alive():
            job.thread.join(0.2)
            if self.cancel_event.is_set():
                job.stop()
        if job.status == Status.FAILED:
            raise RuntimeError(job.error or "training failed")
        return job.run_id, job.status

    def cancel(self) -> None:
        """Stop the run in progress (it is saved as stopped) and skip the runs still queued."""
        self.cancel_event.set()

    def progress(self) -> tuple[int, int]:
        """(runs done, runs in all)."""
        runs, plan = self.exp.data["runs"], self.exp.data["plan"]
        total = plan["trials"] if plan["kind"] == "search" else len(runs)  # a search's trials come one by one
        return sum(r["status"] not in (Status.QUEUED, Status.RUNNING) for r in runs), total


class JobRegistry:
    """One training at a time per process (a run, or an experiment's queue of runs); the last job stays
    readable after it ends."""

    def __init__(self, isolate: bool = True, warm: bool = False):
        """``warm``: keep a training process started ahead (``Spare``), so that Start does not wait for a fresh
        Python to import torch; a new one is started when the run it took ends."""
        self._lock, self.isolate, self.warm = threading.Lock(), isolate, warm and isolate
        self.current: TrainingJob | None = None
        self.experiment: ExperimentJob | None = None
        self._spare = Spare() if self.warm else None

    def take_spare(self) -> Spare | None:
        spare, self._spare = self._spare, None
        return spare

    def replenish(self) -> None:
        """Start the next spare (after a run, so that its imports never compete with training)."""
        if self.warm and self._spare is None:
            self._spare = Spare()

    def start(self, corpus: Corpus, cfg: TrainConfig, runs_dir=None, data: str = "", source: dict | None = None,
              resume: str | None = None, name: str = "") -> TrainingJob:
        """Train in the background (``resume``: go on with that stopped run; ``name``: the new run's, saved with
        it; see ``TrainingJob``)."""
        with self._lock:
            self._refuse_if_busy()
            job = TrainingJob(corpus, cfg, runs_dir, data, isolate=self.isolate, source=source, resume=resume,
                              spare=self.take_spare(), on_done=self.replenish, name=name)
            job.thread.start()
            self.current = job
            return job

    def start_experiment(self, corpus: Corpus, plan: Plan, runs_dir=None, data: str = "",
                         source: dict | None = None) -> ExperimentJob:
        with self._lock:
            self._refuse_if_busy()
            self.experiment = ExperimentJob(self, corpus, plan, runs_dir, data, source)
            self.experiment.thread.start()
            return self.experiment

    def _refuse_if_busy(self) -> None:
        if self.experiment_running():
            raise JobBusy(f"Experiment {self.experiment.exp.data['id']} is running on this server; cancel it or "
                          "wait for it to finish before starting another training.")
        if self.running():
            raise JobBusy(f"Run {self.current.run_id} is already training on this server; stop it or wait "
                          "for it to finish before starting another.")

    def experiment_running(self) -> bool:
        return self.experiment is not None and self.experiment.thread.is_alive()

    def running(self) -> bool:
        return self.experiment_running() or (self.current is not None and self.current.thread.is_alive())

    def is_running(self, run_id: str) -> bool:
        return self.running() and self.current.run_id == run_id
