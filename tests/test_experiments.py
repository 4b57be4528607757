import json
import subprocess
import sys
import time

import pytest
from conftest import ROOT

from lyricsdash.config import ConfigError, TrainConfig
from lyricsdash.experiments import Experiment, Plan, list_experiments
from lyricsdash.jobs import JobBusy, JobRegistry
from lyricsdash.runs import RunFolder, list_runs

TINY = {"embed_dim": 8, "hidden_size": 8, "epochs": 1, "batch_size": 16, "lr": 0.02, "min_freq": 1,
        "baselines": False}


def test_a_plan_lists_one_run_per_value_seed_and_fold():
    runs = Plan("sweep", {"seed": 10}, "hidden_size", ["8", "16"], seeds=2).runs()
    assert [(r.label, r.seed) for r in runs] == [("8", 10), ("8", 11), ("16", 10), ("16", 11)]
    assert runs[2].overrides["hidden_size"] == 16 and runs[2].status == "queued"
    assert [r.fold for r in Plan("cv", folds=3).runs()] == [0, 1, 2]
    with pytest.raises(ConfigError):
        Plan("sweep", {}, "no_such_setting", ["1"])
    with pytest.raises(ConfigError):
        Plan("sweep", {}, "hidden_size", ["big"])


def test_the_cli_sweep_ends_with_json_that_matches_the_run_folders(tmp_path):
    runs = tmp_path / "runs"
    out = subprocess.run([sys.executable, "-m", "lyricsdash", "sweep", "--demo", "--quiet", "--json", "--runs-dir",
                          str(runs), "--set", "hidden_size=8,16", "--seeds", "2",
                          *[a for k, v in TINY.items() if k != "hidden_size" for a in ("--set", f"{k}={v}")]],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(result["settings"]) == {"8", "16"} and result["status"] == "finished"
    for r in result["settings"].values():
        accs = [RunFolder(runs / rid).summary().test_accuracy for rid in r["runs"]]
        assert r["accuracies"] == pytest.approx(accs) and r["mean"] == pytest.approx(sum(accs) / len(accs))
        assert r["min"] == pytest.approx(min(accs)) and r["max"] == pytest.approx(max(accs))
    assert len(list_runs(runs)[0]) == 4  # the experiments folder is not taken for a run


def test_cross_validation_pools_train_and_test_into_stratified_folds(corpus, tmp_path):
    from lyricsdash.config import TrainConfig
    from lyricsdash.experiments import cv_corpus

    n = len(corpus.train) + len(corpus.val) + len(corpus.test)
    folds = [cv_corpus(corpus, 5, k, TrainConfig()) for k in range(5)]
    tests = [set(f.test["song"] + f.test["artist"]) for f in folds]
    assert sum(map(len, tests)) == n and len(set().union(*tests)) == n  # every song tested exactly once
    assert all(set(f.test["artist"]) == set(corpus.labels) for f in folds)


def test_cancelling_a_queue_leaves_finished_runs_intact(corpus, runs_dir):
    registry = JobRegistry(isolate=False)
    job = registry.start_experiment(corpus, Plan("seeds", {**TINY, "epochs": 300}, seeds=3), runs_dir, "demo")
    with pytest.raises(JobBusy, match="Experiment"):
        registry.start(corpus, TrainConfig())
    deadline = time.monotonic() + 120
    while registry.current is None or registry.current.snapshot().steps < 3:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    job.cancel()
    job.thread.join(120)
    (exp,) = list_experiments(runs_dir)
    assert exp.status == "cancelled"
    assert [r.status for r in exp.runs] == ["stopped", "cancelled", "cancelled"]
    assert RunFolder(runs_dir / exp.runs[0].run_id).summary().status == "stopped"


def test_a_failing_run_does_not_stop_the_rest(corpus, runs_dir, monkeypatch):
    import lyricsdash.jobs as jobs

    real, calls = jobs.train, []

    def flaky(corpus, cfg, callbacks, stop, **kw):
        calls.append(cfg.seed)
        if len(calls) == 1:
            raise RuntimeError("the first run breaks")
        return real(corpus, cfg, callbacks, stop, **kw)

    monkeypatch.setattr(jobs, "train", flaky)
    registry = JobRegistry(isolate=False)
    job = registry.start_experiment(corpus, Plan("seeds", TINY, seeds=2), runs_dir, "demo")
    job.thread.join(120)
    exp = Experiment.load(job.exp.path)
    assert [r.status for r in exp.runs] == ["failed", "finished"]
    assert "first run breaks" in exp.runs[0].error and exp.results()["all"]["n"] == 1


def test_an_experiment_is_typed_plain_data_that_reads_files_of_other_versions(tmp_path):
    import json

    from lyricsdash.experiments import ExperimentRun
    from lyricsdash.runs import RunError

    folder = tmp_path / "experiments" / "e1"
    folder.mkdir(parents=True)
    old = {"id": "e1", "created_at": "2026-01-01T00:00:00+00:00", "status": "finished", "data": "demo",
           "plan": {"kind": "seeds", "base": {"epochs": 1}, "seeds": 1},
           "runs": [{"label": "all", "overrides": {"epochs": 1}, "seed": 0, "fold": None, "run_id": "r1",
                     "status": "finished", "test_accuracy": 0.5, "written_by_a_later_version": 1}]}
    (folder / "experiment.json").write_text(json.dumps(old))
    exp = Experiment.load(folder)
    assert isinstance(exp.plan, Plan) and exp.runs == [ExperimentRun("all", {"epochs": 1}, 0, None, "r1", "finished",
                                                                     0.5)]
    assert (exp.id, exp.status, exp.source, exp.root) == ("e1", "finished", "demo", tmp_path)
    exp.update(0, error="noted")
    assert json.loads((folder / "experiment.json").read_text())["runs"][0]["error"] == "noted"
    (folder / "experiment.json").write_text('{"id": "e1"}')
    with pytest.raises(RunError, match="experiment.json cannot be read"):
        Experiment.load(folder)
