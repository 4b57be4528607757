"""Experiments of many runs: repeat a setting over seeds, sweep one setting over values (x seeds), k-fold
cross-validation of a setting (train and test pooled, stratified by artist), or an Optuna search over several
settings (``lyricsdash.search``).

An experiment is plain data beside the runs (``<runs>/experiments/<id>/experiment.json``): its plan, and per
run its label (the swept value), seed, fold, run id, status and test accuracy. The runs themselves are
ordinary run folders. Runs go one after another; a run that fails is recorded and the rest go on.
"""

from __future__ import annotations

import json
import math
import statistics
import threading
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import pandas as pd

from .config import ConfigError, TrainConfig, field_names, field_spec, parse_value
from .data import Corpus, make_corpus
from .engine import train
from .records import Callback, Status
from .runs import EXPERIMENTS as DIR
from .runs import RunError, RunFolder, new_run_id, run_path, runs_root
from .store import now, write_json

KINDS = ("seeds", "sweep", "cv", "search")


@dataclass
class Plan:
    kind: str  # seeds, sweep or cv
    base: dict = field(default_factory=dict)  # TrainConfig overrides shared by every run
    setting: str | None = None  # the swept setting (kind=sweep)
    values: list = field(default_factory=list)  # its values, parsed to the setting's type
    seeds: int = 1  # runs per value (seeds 0..seeds-1 added to the base seed)
    folds: int = 0  # kind=cv: folds of train+test pooled
    space: dict = field(default_factory=dict)  # kind=search: setting -> range or choices (search.parse_space)
    trials: int = 0  # kind=search: how many trials at most

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ConfigError(f"Unknown experiment kind {self.kind!r}: one of {', '.join(KINDS)}.")
        if self.kind == "sweep":
            if not self.setting or not self.values:
                raise ConfigError("A sweep needs one setting and at least one value, e.g. hidden_size=32,64,128.")
            if self.setting not in field_names():
                raise ConfigError(f"Unknown setting {self.setting!r}. Known settings: {', '.join(field_names())}.")
            kind = field_spec(self.setting)["type"]
            self.values = [parse_value(self.setting, kind, str(v)) for v in self.values]
        if self.kind == "search" and (not self.space or not 1 <= self.trials <= 500):
            raise ConfigError("A search needs at least one setting to vary and 1 to 500 trials.")
        if self.kind == "cv" and not 2 <= self.folds <= 20:
            raise ConfigError("Cross-validation needs 2 to 20 folds.")
        if not 1 <= self.seeds <= 50:
            raise ConfigError("Seeds must be 1 to 50.")
        TrainConfig.from_dict(self.base)  # checks the shared settings now, not after the first run

    def runs(self) -> list[ExperimentRun]:
        """One entry per run: label, config overrides, seed and fold (none ahead for a search: Optuna proposes
        each trial after the one before)."""
        if self.kind == "search":
            return []
        base_seed = int(TrainConfig.from_dict(self.base).seed)
        labels = [(str(v), {self.setting: v}) for v in self.values] if self.kind == "sweep" else [("all", {})]
        folds = range(self.folds) if self.kind == "cv" else [None]
        return [ExperimentRun(label, {**self.base, **extra, "seed": base_seed + s}, base_seed + s, k)
                for label, extra in labels for k in folds for s in range(self.seeds)]


def cv_corpus(corpus: Corpus, folds: int, fold: int, cfg: TrainConfig) -> Corpus:
    """Fold ``fold`` of ``folds``: train+validation+test pooled, stratified by artist (seeded by cfg.seed's
    experiment-wide base, so that every run of the experiment sees the same folds)."""
    from sklearn.model_selection import StratifiedKFold

    pooled = pd.concat([corpus.train, corpus.val, corpus.test]).reset_index(drop=True)
    counts = pooled["artist"].value_counts()
    if counts.min() < folds:
        raise ConfigError(f"{folds}-fold cross-validation needs at least {folds} songs per artist; "
                          f"{counts.idxmin()} has {counts.min()}.")
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=0).split(pooled, pooled["artist"]))
    tr, te = splits[fold]
    return make_corpus(pooled.iloc[tr].reset_index(drop=True), pooled.iloc[te].reset_index(drop=True),
                       val_fraction=cfg.val_fraction, seed=cfg.seed, name=f"{corpus.name} (fold {fold + 1}/{folds})")


@dataclass
class ExperimentRun:
    """One run of an experiment (a search's trial too): what it trains, and what became of it."""

    label: str  # the swept value, "all", or "trial N"
    overrides: dict  # the TrainConfig settings it trains with (the plan's base and its own)
    seed: int
    fold: int | None = None  # kind=cv: which fold
    run_id: str | None = None  # once it has started
    status: str = Status.QUEUED
    test_accuracy: float | None = None  # of its kept weights, once finished
    error: str | None = None  # why it failed
    trial: int | None = None  # kind=search: Optuna's trial number
    params: dict = field(default_factory=dict)  # kind=search: the settings Optuna proposed
    value: float | None = None  # kind=search: the objective (search.OBJECTIVE)

    @classmethod
    def from_dict(cls, d: dict) -> ExperimentRun:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class Experiment:
    """An experiment folder: experiment.json, rewritten atomically after each run."""

    path: Path
    id: str
    plan: Plan
    runs: list[ExperimentRun]
    status: str = Status.QUEUED
    created_at: str = ""
    source: str = ""  # where the songs came from, in words (experiment.json's "data")

    FILE = "experiment.json"

    @classmethod
    def create(cls, plan: Plan, root=None, source: str = "") -> Experiment:
        exp_id = new_run_id()
        path = runs_root(root) / DIR / exp_id
        path.mkdir(parents=True)
        exp = cls(path, exp_id, plan, plan.runs(), Status.QUEUED, now(), source)
        exp.save()
        return exp

    @classmethod
    def load(cls, path: Path) -> Experiment:
        path = Path(path)
        try:
            d = json.loads((path / cls.FILE).read_text(encoding="utf-8"))
            return cls(path, d["id"], Plan(**d["plan"]), [ExperimentRun.from_dict(r) for r in d["runs"]],
                       d.get("status", Status.QUEUED), d.get("created_at", ""), d.get("data", ""))
        except (OSError, ValueError, KeyError, TypeError) as e:  # ConfigError is a ValueError
            raise RunError(f"{path.name}: {cls.FILE} cannot be read ({e}).") from None

    def to_dict(self) -> dict:
        return {"id": self.id, "created_at": self.created_at, "status": self.status, "data": self.source,
                "plan": asdict(self.plan), "runs": [asdict(r) for r in self.runs]}

    def save(self) -> None:
        write_json(self.path / self.FILE, self.to_dict())

    def update(self, i: int, **values) -> None:
        for k, v in values.items():
            setattr(self.runs[i], k, v)
        self.save()

    @property
    def root(self) -> Path:
        """The runs folder its runs are in (``<runs>/experiments/<id>`` is its own)."""
        return self.path.parent.parent

    def results(self) -> dict[str, dict]:
        """Per label: the runs' ids and test accuracies, and their mean, min and max (finished runs only)."""
        out = {}
        for r in self.runs:
            entry = out.setdefault(r.label, {"runs": [], "accuracies": []})
            entry["runs"].append(r.run_id)
            if r.status == Status.FINISHED and r.test_accuracy is not None:
                entry["accuracies"].append(r.test_accuracy)
        for entry in out.values():
            acc = entry["accuracies"]
            entry.update(mean=statistics.mean(acc) if acc else math.nan, min=min(acc, default=math.nan),
                         max=max(acc, default=math.nan), n=len(acc))
        return out


def list_experiments(root=None) -> list[Experiment]:
    folder = runs_root(root) / DIR
    out = []
    for d in sorted(folder.iterdir() if folder.is_dir() else [], reverse=True):
        try:
            out.append(Experiment.load(d))
        except RunError:
            continue
    return out


def run_all(exp: Experiment, corpus: Corpus, train_one, cancelled=lambda: False) -> Experiment:
    """Run the experiment's runs one after another through ``train_one(corpus, cfg, i, observers=()) ->
    (run_id, status)``; ``observers`` are callbacks the training must also call (a search's pruner).

    A run that raises is recorded as failed and the rest go on; ``cancelled()`` true skips what is left.
    """
    plan = exp.plan
    exp.status = Status.RUNNING
    exp.save()
    if plan.kind == "search":
        from .search import run_trials

        run_trials(exp, corpus, train_one, cancelled)
    for i, r in enumerate(exp.runs):
        if r.status != Status.QUEUED:
            continue
        if cancelled():
            exp.update(i, status=Status.CANCELLED)
            continue
        exp.update(i, status=Status.RUNNING)
        try:
            cfg = TrainConfig.from_dict(r.overrides)
            run_corpus = cv_corpus(corpus, plan.folds, r.fold, cfg) if plan.kind == "cv" else corpus
            run_id, status = train_one(run_corpus, cfg, i)
            exp.update(i, run_id=run_id, status=status, test_accuracy=test_accuracy(exp, run_id))
        except Exception as e:  # noqa: BLE001 - one failed run must not stop the others
            exp.update(i, status=Status.FAILED, error=" ".join(str(e).split())[:300] or type(e).__name__)
    exp.status = Status.CANCELLED if cancelled() else Status.FINISHED
    exp.save()
    return exp


def train_here(run_corpus: Corpus, cfg: TrainConfig, recorder, observers=(), callbacks=(),
               stop: threading.Event | None = None):
    """Train one of an experiment's runs in this process -> ``TrainResult``. The run has a stop of its own, so
    that an observer (a search's pruner, ``bind_stop``) ends this run alone; the experiment's ``stop`` (Ctrl-C)
    is passed on to it at each step."""
    run_stop = threading.Event()
    for o in observers:
        o.bind_stop(run_stop.set)
    forward = [_Forward(stop, run_stop)] if stop is not None else []
    return train(run_corpus, cfg, [recorder, *callbacks, *forward, *observers], run_stop)


class _Forward(Callback):
    """Passes the experiment's stop on to the run in progress."""

    def __init__(self, source: threading.Event, target: threading.Event):
        self.source, self.target = source, target

    def on_step(self, record):
        if self.source.is_set():
            self.target.set()


def run_summary(exp: Experiment, run_id: str | None):
    """The summary of one of the experiment's runs (None when it has none)."""
    if not run_id:
        return None
    try:
        return RunFolder(run_path(exp.root, run_id)).summary()
    except RunError:
        return None


def test_accuracy(exp: Experiment, run_id: str | None):
    summary = run_summary(exp, run_id)
    return None if summary is None else summary.test_accuracy


def describe(exp: Experiment) -> str:
    p = exp.plan
    if p.kind == "search":
        return f"Optuna search over {', '.join(p.space)} · {len(exp.runs)} of {p.trials} trials"
    what = {"seeds": "repeat", "sweep": f"sweep {p.setting} over {', '.join(map(str, p.values))}",
            "cv": f"{p.folds}-fold cross-validation"}[p.kind]
    defaults = TrainConfig().to_dict()  # name only what differs from the defaults; seeds are the plan's own
    base = ", ".join(f"{k}={v}" for k, v in p.base.items() if k != "seed" and v != defaults.get(k)) or "defaults"
    return f"{what} × {p.seeds} seed(s) · {base} · {len(exp.runs)} runs"

