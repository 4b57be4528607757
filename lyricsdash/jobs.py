"""Background training jobs for a long-lived process (the dashboard server).

A ``JobRegistry`` holds at most one running ``TrainingJob``. The job starts, stops and supervises one
training; what the training has done is read from its run folder, through the same ``watch.FolderWatch`` that
follows a run started anywhere else (the CLI, torchrun), so the run folder is the one channel. By default the
training runs in a child process (``isolate=True``): the server's Python work (every page refresh) never
competes with training for the GIL. The child writes the run folder through ``RunRecorder``; a pipe carries
only what the folder cannot hold yet: what the process is doing before the folder exists, that the run has
started (its folder is written), and an error raised before the folder could record it. ``isolate=False``
trains in the thread itself (tests, embedding). Nothing here knows about a UI.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import threading
import time
from dataclasses import dataclass, replace
from types import SimpleNamespace

from .config import TrainConfig
from .data import Corpus
from .engine import train
from .experiments import Experiment, Plan, run_all
from .recorder import RunRecorder
from .records import Callback, Status
from .runs import RunFolder, new_run_id, run_path, runs_root
from .watch import FolderWatch, Progress, Snapshot, records_frame

log = logging.getLogger(__name__)


class JobBusy(RuntimeError):
    """A training is already running on this server."""


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


class TrainingJob:
    def __init__(self, corpus: Corpus, cfg: TrainConfig, runs_dir=None, data: str = "", isolate: bool = True,
                 source: dict | None = None, resume: str | None = None, observers=(), spare: Spare | None = None,
                 on_done=None, name: str = ""):
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
        self._status, self.error, self.watch = Status.STARTING, None, None  # watch: once the folder is written
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
                train(self.corpus, self.cfg, [self.target.recorder(), _Lifecycle(self.hear), *self.observers],
                      self.stop_event, resume_from=self.target.resume_point())
        except Exception as e:  # noqa: BLE001 - reported to the UI, recorded in summary.json
            log.exception("training %s failed", self.run_id)  # the traceback goes to the server console
            self.hear("fail", str(e) or type(e).__name__)
        finally:
            with self.lock:
                if self._status == Status.STARTING:  # ended before its folder was written (stopped while preparing)
                    self._status = Status.STOPPED if self.stop_event.is_set() else Status.FAILED
            if self.on_done is not None:
                self.on_done()

    def _supervise(self) -> None:
        """Start the child (or hand the run to the spare), hear its lifecycle, pass Stop on, let the observers
        hear the folder's new records; notice a child that dies."""
        spare = self.spare if self.spare is not None and self.spare.process.is_alive() else None
        if spare is None:
            spare = Spare(f"train-{self.run_id}")  # the same, started now
        spare.jobs.send((self.corpus, self.cfg, self.target))
        child, receive, stop = spare.process, spare.receive, spare.stop
        try:
            while True:
                if self.stop_event.is_set():
                    stop.set()
                if self.observers and self.watch is not None:
                    self.watch.poll()
                if not receive.poll(0.2):
                    continue
                try:
                    self.hear(*receive.recv())
                except EOFError:
                    break
        finally:
            child.join(10)
            if child.is_alive():
                child.kill()
            spare.close()
        if self.watch is not None:
            self.watch.poll()  # the last records, for the observers
        if self.error is None and self.progress().status in (Status.STARTING, Status.RUNNING, Status.INTERRUPTED):
            with self.lock:  # the folder reads as interrupted (its process is gone); say so in words too
                self.error = (f"The training process ended unexpectedly (exit code {child.exitcode}); the run "
                              "folder keeps what it saved.")

    def hear(self, kind: str, payload) -> None:
        """The training's lifecycle (from the child's pipe, or in-thread): ``phase`` (text), ``start`` (the
        total steps: the run folder is written), ``fail`` (the error)."""
        if kind == "phase":
            with self.lock:
                self.phase = payload
        elif kind == "start":
            for o in self.observers if self.isolate else ():  # in-thread, they are the training's own callbacks
                o.on_start(SimpleNamespace(total_steps=payload))
            watch = FolderWatch(run_path(self.runs_dir, self.run_id), self.observers if self.isolate else ())
            with self.lock:
                self.watch, self._status, self.phase = watch, Status.RUNNING, None
        elif kind == "fail":
            with self.lock:
                self._status, self.error = Status.FAILED, payload

    # ---- readers
    def stop(self) -> None:
        self.stop_event.set()

    @property
    def status(self) -> str:
        return self.progress().status

    @property
    def done(self) -> bool:
        return self.progress().done

    def progress(self) -> Progress:
        watch = self.watch
        return self._own(watch.progress() if watch is not None else None)

    def snapshot(self) -> Snapshot:
        watch = self.watch
        if watch is None:
            return Snapshot(**vars(self._own(None)), metrics=records_frame([]), baselines={})
        return self._own(watch.snapshot())

    def _own(self, p: Progress | None) -> Progress:
        """What the folder says (``p``; None before it is written), with what only the job knows: the phase
        before the first step, the time since Start, an error the folder could not record."""
        since = time.monotonic() - self.started_at
        with self.lock:
            status, error, phase = self._status, self.error, self.phase
        if p is None:
            return Progress(self.run_id, status, 0, 0, 0.0, None, None, None, 0, error, phase, since)
        if status == Status.FAILED:
            return replace(p, status=status, error=error or p.error, since_start_s=since)
        return replace(p, phase=phase if p.status == Status.STARTING else None, since_start_s=since,
                       error=error or p.error)


class _Lifecycle(Callback):
    """In-thread training: the lifecycle a child process would send over its pipe."""

    def __init__(self, hear):
        self.hear = hear

    def on_phase(self, text: str) -> None:
        self.hear("phase", text)

    def on_start(self, info) -> None:
        self.hear("start", info.total_steps)


class _Pipe(Callback):
    """In the child: send the run's lifecycle to the parent's job; end at once if the parent (the server) died."""

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
        self._send(("start", info.total_steps))

    def on_step(self, record: dict) -> None:
        if os.getppid() != self.parent_pid:
            os._exit(1)  # orphaned (checked at every step, as a send did)


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
        self.thread = threading.Thread(target=self._run, name=f"experiment-{self.exp.id}", daemon=True)

    def _run(self) -> None:
        try:
            run_all(self.exp, self.corpus, self._train_one, self.cancel_event.is_set)
        except Exception:  # noqa: BLE001 - the experiment file says what happened to each run
            log.exception("experiment %s failed", self.exp.id)

    def _train_one(self, corpus: Corpus, cfg: TrainConfig, i: int, observers=()) -> tuple[str, str]:
        job = TrainingJob(corpus, cfg, self.runs_dir, self.data, isolate=self.registry.isolate, observers=observers,
                          source=self.source if self.exp.plan.kind != "cv" else None,
                          spare=self.registry.take_spare(), on_done=self.registry.replenish)
        for o in observers:
            o.bind_stop(job.stop)
        self.registry.current = job  # the Train page follows the run in progress
        job.thread.start()
        while job.thread.is_alive():
            job.thread.join(0.2)
            if self.cancel_event.is_set():
                job.stop()
        status = job.status  # read from its folder: once
        if status == Status.FAILED:
            raise RuntimeError(job.error or "training failed")
        return job.run_id, status

    def cancel(self) -> None:
        """Stop the run in progress (it is saved as stopped) and skip the runs still queued."""
        self.cancel_event.set()

    def progress(self) -> tuple[int, int]:
        """(runs done, runs in all)."""
        runs, plan = self.exp.runs, self.exp.plan
        total = plan.trials if plan.kind == "search" else len(runs)  # a search's trials come one by one
        return sum(r.status not in (Status.QUEUED, Status.RUNNING) for r in runs), total


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
            raise JobBusy(f"Experiment {self.experiment.exp.id} is running on this server; cancel it or "
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
