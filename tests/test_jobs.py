import threading

import pytest

from lyricsdash.charts import MAX_POINTS, accuracy_figure, downsample
from lyricsdash.jobs import JobBusy, JobRegistry
from lyricsdash.records import RECORD_FIELDS, MetricsBuffer
from lyricsdash.runs import read_summary


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
    assert read_summary(runs_dir / started[0].run_id)["status"] == "stopped"


def test_a_job_streams_snapshots_and_can_start_again_after_it_ends(corpus, tiny_cfg, runs_dir):
    registry = JobRegistry()
    job = registry.start(corpus, tiny_cfg.replace(epochs=2), runs_dir)
    job.thread.join(60)
    snap = job.snapshot()
    assert snap.done and snap.status == "finished" and snap.steps == snap.total_steps == len(snap.metrics)
    assert snap.best_step is not None
    assert registry.start(corpus, tiny_cfg.replace(epochs=1), runs_dir).run_id != job.run_id
    registry.current.thread.join(60)


def test_a_failing_job_reports_its_error(corpus, tiny_cfg, runs_dir, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    job = JobRegistry().start(corpus, tiny_cfg.replace(device="cuda"), runs_dir)
    job.thread.join(60)
    assert job.snapshot().status == "failed" and "no CUDA GPU" in job.snapshot().error


def test_metrics_of_a_hundred_thousand_steps_stay_bounded():
    buf = MetricsBuffer(cap=5000)
    for step in range(1, 100_001):
        buf.append({k: 0.5 for k in RECORD_FIELDS} | {"step": step})
    frame = buf.frame()
    assert len(frame) < 5000 and frame["step"].iloc[-1] == 100_000
    assert frame["step"].is_monotonic_increasing
    assert len(downsample(frame)) <= MAX_POINTS + 1
    fig = accuracy_figure(frame)
    assert all(len(trace.x) <= MAX_POINTS + 1 for trace in fig.data)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_small_buffers_keep_everything(n):
    buf = MetricsBuffer()
    for step in range(1, n + 1):
        buf.append({k: 0.0 for k in RECORD_FIELDS} | {"step": step})
    assert len(buf.frame()) == n
