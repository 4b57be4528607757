import multiprocessing as mp
import os
import signal
import threading
import time

import pytest
import torch

from lyricsdash.jobs import JobBusy, JobRegistry, TrainingJob
from lyricsdash.runs import RunFolder


def test_two_starts_at_the_same_moment_run_exactly_one_training(corpus, tiny_cfg, runs_dir):
    registry, barrier = JobRegistry(), threading.Barrier(2)
    started, refused = [], []

    def press_start():
        barrier.wait()
        try:
            started.append(registry.start(corpus, tiny_cfg.replace(epochs=30), runs_dir))
        except JobBusy as e:
            refused.append(str(e))

    threads = [threading.Thread(target=press_start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(started) == 1 and len(refused) == 1
    assert started[0].run_id in refused[0]
    started[0].stop()
    started[0].thread.join(60)
    assert started[0].snapshot().status == "stopped"
    assert RunFolder(runs_dir / started[0].run_id).summary().status == "stopped"


def test_a_job_streams_snapshots_and_can_start_again_after_it_ends(corpus, tiny_cfg, runs_dir):
    registry = JobRegistry()
    job = registry.start(corpus, tiny_cfg.replace(epochs=2), runs_dir)
    job.thread.join(60)
    snap = job.snapshot()
    assert snap.done and snap.status == "finished" and snap.steps == snap.total_steps == len(snap.metrics)
    assert snap.best_step is not None
    assert registry.start(corpus, tiny_cfg.replace(epochs=1), runs_dir).run_id != job.run_id
    registry.current.thread.join(60)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_a_failing_job_reports_its_error(corpus, tiny_cfg, runs_dir, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    job = JobRegistry().start(corpus, tiny_cfg.replace(device="cuda"), runs_dir)
    job.thread.join(60)
    assert job.snapshot().status == "failed" and "no CUDA GPU" in job.snapshot().error


def test_training_runs_in_a_child_process_and_streams_every_step(corpus, tiny_cfg, runs_dir):
    job = JobRegistry().start(corpus, tiny_cfg.replace(epochs=2), runs_dir)
    job.thread.join(120)
    snap = job.snapshot()
    summary = RunFolder(runs_dir / job.run_id).summary()
    assert snap.status == "finished" and summary.pid != os.getpid()  # trained in another process
    metrics = RunFolder(runs_dir / job.run_id).metrics()
    assert snap.metrics["step"].tolist() == metrics["step"].tolist() == list(range(1, snap.total_steps + 1))
    assert snap.baselines == summary.baselines


def test_a_training_process_that_dies_ends_the_job_with_a_clear_error(corpus, tiny_cfg, runs_dir):
    job = JobRegistry().start(corpus, tiny_cfg.replace(epochs=500), runs_dir)
    deadline = time.monotonic() + 120
    while job.snapshot().steps < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    child = next(p for p in mp.active_children() if p.name == f"train-{job.run_id}")
    os.kill(child.pid, signal.SIGKILL)
    job.thread.join(30)
    assert not job.thread.is_alive()
    snap = job.snapshot()
    assert snap.status == RunFolder(runs_dir / job.run_id).summary().status == "interrupted"  # one status: the folder's
    assert "ended unexpectedly" in snap.error


def test_before_its_first_step_a_run_says_what_it_is_doing(corpus, tiny_cfg, runs_dir):
    from lyricsdash.engine import train
    from lyricsdash.records import Callback

    class Heard(Callback):
        def __init__(self):
            self.events = []

        def on_phase(self, text):
            self.events.append(text)

        def on_start(self, info):
            self.events.append("START")

        def on_step(self, record):
            self.events.append("STEP")

        def on_baselines(self, baselines, model):
            self.events.append(("BASELINES", sorted(baselines), model is not None))

    heard = Heard()
    train(corpus, tiny_cfg, [heard])
    start = heard.events.index("START")
    assert heard.events[0].startswith("preparing the data") and start >= 2
    # the baselines are fitted beside the first steps, not before them, and heard once
    (i, got), = [(i, e) for i, e in enumerate(heard.events) if isinstance(e, tuple)]
    assert i > start + 1 and heard.events[start + 1] == "STEP"
    assert got == ("BASELINES", ["majority", "tfidf_chars", "tfidf_tokens", "tfidf_words"], True)


def test_the_status_of_a_starting_job_names_its_phase_and_the_wait(corpus, tiny_cfg, runs_dir):
    from ui.live import status_view

    job = TrainingJob(corpus, tiny_cfg, runs_dir, isolate=True)  # not started: its lifecycle is driven by hand
    assert job.progress().phase.startswith("starting the training process")
    job.hear("phase", "fitting the baselines (majority class, TF-IDF + logistic regression)")
    p = job.progress()
    text = status_view(p)["text"]
    assert text.startswith("starting: fitting the baselines (majority class") and "s since Start" in text
    assert "n/a" not in str(status_view(p)["tiles"]) and len(job.snapshot().metrics) == 0


def test_the_job_reads_its_run_from_the_folder_as_any_watcher_does(corpus, tiny_cfg, runs_dir):
    from lyricsdash.watch import FolderWatch

    job = JobRegistry(isolate=False).start(corpus, tiny_cfg.replace(epochs=2, eval_every=3), runs_dir)
    job.thread.join(60)
    mine, theirs = job.snapshot(), FolderWatch(runs_dir / job.run_id).snapshot()
    assert isinstance(job.watch, FolderWatch) and not hasattr(job, "buffer")  # no second copy of the records
    assert mine.metrics.equals(theirs.metrics) and mine.status == theirs.status == "finished"
    assert (mine.best_step, mine.best_val_accuracy) == (theirs.best_step, theirs.best_val_accuracy)
    summary = RunFolder(runs_dir / job.run_id).summary()
    assert (mine.best_step, mine.best_val_accuracy) == (summary.best_step, summary.best_val_accuracy)


def test_a_warm_registry_trains_in_the_process_it_started_ahead_and_starts_the_next(corpus, tiny_cfg, runs_dir):
    from lyricsdash.jobs import JobRegistry
    from lyricsdash.runs import RunFolder

    registry = JobRegistry(warm=True)
    spare = registry._spare
    assert spare is not None and spare.process.is_alive()
    job = registry.start(corpus, tiny_cfg, runs_dir)
    assert job.spare is spare and registry._spare is None  # taken: nobody else can use it
    assert job.progress().phase.startswith("handing the run to the training process started ahead")
    job.thread.join(120)
    assert job.status == "finished" and RunFolder(runs_dir / job.run_id).summary().pid == spare.process.pid
    assert not spare.process.is_alive()
    nxt = registry._spare  # started once the run ended, for the next Start
    assert nxt is not None and nxt.process.is_alive() and nxt is not spare
    nxt.close()
    nxt.process.join(30)
    assert not nxt.process.is_alive()  # a closed spare exits
