import math

import optuna
import pytest

from lyricsdash.config import ConfigError, TrainConfig
from lyricsdash.experiments import Experiment, Plan, run_all, train_here
from lyricsdash.recorder import RunRecorder
from lyricsdash.runs import RunFolder
from lyricsdash.search import JOURNAL, Pruner, best_trial, open_study, parse_space, search_figures

TINY = {"embed_dim": 8, "hidden_size": 8, "epochs": 2, "min_freq": 1, "batch_size": 32, "baselines": False,
        "threads": 1}


def test_a_space_comes_from_the_configs_metadata_and_can_be_narrowed():
    space = parse_space(["lr", "hidden_size=16:64", "pooling=mean,max", "bidirectional", "optimizer"])
    assert space["lr"] == {"low": 1e-5, "high": 1e-1, "log": True}
    assert space["hidden_size"] == {"low": 16, "high": 64, "log": False}
    assert space["pooling"] == {"choices": ["mean", "max"]}
    assert space["bidirectional"] == {"choices": [False, True]}
    assert space["optimizer"] == {"choices": ["adam", "adamw"]}


@pytest.mark.parametrize("specs,msg", [
    (["colour"], "Unknown setting 'colour'"), (["lr=0.1"], "give a range lo:hi"), (["lr=0.1:0.01"], "is empty"),
    (["hidden_size=8:9999"], "hidden_size"), ([], "at least one setting"), (["pooling=mean,median"], "pooling"),
])
def test_a_bad_space_is_a_clear_error(specs, msg):
    with pytest.raises(ConfigError, match=msg):
        parse_space(specs)


class Trial:
    """Optuna's trial, as far as the pruner uses it: prunes from ``prune_at`` (an epoch) on."""

    def __init__(self, prune_at):
        self.prune_at, self.reports = prune_at, []

    def report(self, value, step):
        self.reports.append((step, value))

    def should_prune(self):
        return self.reports[-1][0] >= self.prune_at


def test_the_pruner_reports_each_epochs_validation_and_stops_a_pruned_run():
    stopped = []
    pruner = Pruner(Trial(prune_at=2), epochs=4)
    pruner.bind_stop(lambda: stopped.append(True))
    pruner.on_start(type("Info", (), {"total_steps": 40})())
    nan = math.nan
    for step in range(1, 31):
        full = step % 5 == 0  # every step has values; the full evaluations carry the val_best flag
        pruner.on_step({"step": step, "val_acc": 0.5 + step / 100, "val_best": 0.0 if full else nan})
    assert pruner.trial.reports == [(1, 0.6), (2, 0.7)]  # epoch ends only (every 10th step), then pruned
    assert pruner.pruned and stopped == [True]


def search(runs_dir, corpus, trials=4, cancel_after=None):
    plan = Plan("search", dict(TINY), space=parse_space(["lr=0.003:0.05", "hidden_size=8:16"]), trials=trials)
    exp = Experiment.create(plan, runs_dir, "demo")
    done = []

    def train_one(run_corpus, cfg, i, observers=()):
        rec = RunRecorder(runs_dir)
        result = train_here(run_corpus, cfg, rec, observers)
        done.append(i)
        return rec.run_id, result.status

    run_all(exp, corpus, train_one, lambda: cancel_after is not None and len(done) >= cancel_after)
    return Experiment.load(exp.path)


def test_a_search_trains_optunas_trials_and_scores_them_on_validation_only(runs_dir, corpus):
    exp = search(runs_dir, corpus)
    runs = exp.runs
    assert len(runs) == 4 and exp.status == "finished"
    for r in runs:
        assert 0.003 <= r.params["lr"] <= 0.05 and 8 <= r.params["hidden_size"] <= 16
        cfg = TrainConfig.from_dict(r.overrides)
        assert (cfg.lr, cfg.hidden_size) == (r.params["lr"], r.params["hidden_size"])
        summary = RunFolder(runs_dir / r.run_id).summary()
        if r.status == "finished":
            assert r.value == summary.kept_val_accuracy  # the objective: validation, never test
    study = open_study(exp.path, exp.id)
    assert (exp.path / JOURNAL).is_file() and len(study.trials) == 4
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.COMPLETE) == sum(r.status == "finished" for r in runs)
    best = best_trial(exp)
    assert best.value == max(r.value for r in runs if r.status == "finished")
    assert study.best_value == best.value


def test_cancelling_a_search_keeps_its_finished_trials(runs_dir, corpus):
    exp = search(runs_dir, corpus, trials=5, cancel_after=2)
    assert len(exp.runs) == 2 and exp.status == "cancelled"
    study = open_study(exp.path, exp.id)
    assert len(study.trials) == 2 and all(t.state.is_finished() for t in study.trials)


def test_the_cli_search_reports_the_best_trial(tmp_path):
    import json

    from test_cli import cli

    sets = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]
    p = cli("search", "--demo", "--runs-dir", str(tmp_path), "--param", "lr=0.005:0.05", "--param",
            "pooling=mean,max", "--trials", "3", "--quiet", "--json", *sets)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert len(out["trials"]) == 3 and out["status"] == "finished"
    values = [t["value"] for t in out["trials"] if t["status"] == "finished"]
    assert out["best"]["value"] == max(values) and "best: trial" in p.stdout
    p = cli("search", "--demo", "--runs-dir", str(tmp_path), "--param", "lr=1:2")
    assert p.returncode == 2 and "out of range" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.parametrize("values,drawn", [((0.5, 0.5, 0.5), False), ((0.5, 0.7, 0.6), True)])
def test_importances_are_drawn_only_when_the_trials_scores_differ(tmp_path, values, drawn):
    import warnings
    from types import SimpleNamespace

    study = open_study(tmp_path, "s")
    dist = {"lr": optuna.distributions.FloatDistribution(1e-3, 1e-1, log=True)}
    for i, v in enumerate(values):
        study.add_trial(optuna.trial.create_trial(params={"lr": 1e-3 * 10 ** i}, distributions=dist, value=v))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "importances will be equal" warning either
        figures = search_figures(SimpleNamespace(path=tmp_path, id="s"))
    assert isinstance(figures["Parameter importances"], str) != drawn
    assert not isinstance(figures["Optimisation history"], str)
