import math

import pytest

from lyricsdash.records import RECORD_FIELDS, MetricsBuffer, evaluated


def test_metrics_of_a_hundred_thousand_steps_stay_bounded():
    buf = MetricsBuffer(cap=5000)
    for step in range(1, 100_001):
        buf.append({k: 0.5 for k in RECORD_FIELDS} | {"step": step})
    frame = buf.frame()
    assert len(frame) < 5000 and frame["step"].iloc[-1] == 100_000
    assert len(buf) == len(buf.records()) == len(frame)  # counted without a copy, the latest record included
    assert frame["step"].is_monotonic_increasing


@pytest.mark.parametrize("n", [0, 1, 3])
def test_small_buffers_keep_everything(n):
    buf = MetricsBuffer()
    for step in range(1, n + 1):
        buf.append({k: 0.0 for k in RECORD_FIELDS} | {"step": step})
    assert len(buf.frame()) == n == len(buf.records())


def test_a_record_is_evaluated_when_it_holds_validation_scores():
    assert evaluated({"val_acc": 0.5}) and not evaluated({"val_acc": math.nan}) and not evaluated({})


def test_the_best_validation_so_far_is_read_from_the_engines_flag_never_recomputed():
    from lyricsdash.records import Scores, is_best

    assert is_best({"val_best": 1.0}) and not is_best({"val_best": 0.0}) and not is_best({"val_best": math.nan})
    scores = Scores()
    for step, val, flag in [(1, 0.5, 1.0), (2, 0.9, 0.0), (3, 0.7, 1.0)]:  # by val_loss, step 3 beat step 1
        scores.add({"step": step, "val_acc": val, "test_acc": 0.1 * step, "val_best": flag})
    assert (scores.best_step, scores.best_val_accuracy, scores.latest_test_acc) == (3, 0.7, 0.30000000000000004)


def test_summaries_jobs_and_experiments_speak_one_status_vocabulary(corpus, tiny_cfg, runs_dir):
    from lyricsdash.config import TrainConfig
    from lyricsdash.experiments import Experiment, Plan
    from lyricsdash.jobs import JobRegistry
    from lyricsdash.records import Status
    from lyricsdash.runs import Summary, list_runs

    registry = JobRegistry(isolate=False)
    exp = registry.start_experiment(corpus, Plan("seeds", {"epochs": 1, "embed_dim": 8, "hidden_size": 8,
                                                           "baselines": False}, seeds=2), runs_dir, "demo")
    assert registry.current is None or registry.current.progress().status in set(Status)
    exp.thread.join(120)
    loaded = Experiment.load(exp.exp.path)
    seen = {loaded.status, *(r.status for r in loaded.runs), registry.current.progress().status,
            *(s.status for s in list_runs(runs_dir)[0])}
    assert seen <= set(Status) and Status.FINISHED in seen
    assert Summary("x").keep == TrainConfig().keep  # one default, TrainConfig's
