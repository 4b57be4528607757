"""Hyperparameter search with Optuna: the fourth kind of experiment, beside repeat, sweep and cross-validation.

Optuna proposes each trial's settings (TPE, seeded by the experiment's base seed) within the ranges the user
chose, narrowed from ``TrainConfig``'s own metadata; each trial is an ordinary run folder. The objective is the
validation accuracy of the weights the run keeps, never a test score. A trial whose validation accuracy at an
epoch's end is below the median of the earlier trials at that epoch is stopped (``MedianPruner``: from the
third epoch on, once five trials have finished). The study lives in the experiment folder as Optuna's journal
file (no database server), so Cancel, a crash or a restart keep every finished trial, and Optuna's own
figures read it back.
"""

from __future__ import annotations

import math
from pathlib import Path

from .config import ConfigError, TrainConfig, field_names, field_spec, parse_value
from .records import Callback, Status, is_full

JOURNAL = "study.journal"
# Pruning waits for this many finished trials, and judges a trial from its WARMUP-th epoch's end on: the first
# epochs' validation accuracy is noisy on small sets (39 validation songs on the assignment split: with no
# warm-up and 2 start-up trials, 15 of 17 trials of a search there were pruned at their first epoch).
STARTUP = 5
WARMUP = 2
OBJECTIVE = "kept_val_accuracy"  # Summary field: the validation accuracy of the weights the run keeps


def parse_space(specs: list[str]) -> dict[str, dict]:
    """``["lr", "hidden_size=32:256", "pooling=mean,max"]`` -> {setting: {"low", "high", "log"} or {"choices"}}.

    A setting alone searches its whole range (or all its choices); ``lo:hi`` narrows a number's range and
    ``a,b,c`` lists values to choose among.
    """
    space = {}
    for spec in specs:
        name, _, rng = (part.strip() for part in spec.partition("="))
        if name not in field_names():
            raise ConfigError(f"Unknown setting {name!r} to search. Known settings: {', '.join(field_names())}.")
        space[name] = d = _dimension(name, rng)
        for value in d.get("choices") or (d["low"], d["high"]):
            TrainConfig.from_dict({name: value})  # within the setting's own range and choices, else ConfigError
    if not space:
        raise ConfigError("A search needs at least one setting to vary, e.g. --param lr --param hidden_size=32:128.")
    return space


def _dimension(name: str, rng: str) -> dict:
    meta = field_spec(name)
    kind = meta["type"]
    if "," in rng or (rng and kind not in (int, float)):
        return {"choices": [parse_value(name, kind, v.strip()) for v in rng.split(",") if v.strip()]}
    if kind is bool:
        return {"choices": [False, True]}
    if meta["choices"]:
        return {"choices": list(meta["choices"])}
    if kind not in (int, float):
        raise ConfigError(f"{name} is text: list the values to try, e.g. {name}=a,b.")
    low, high = meta["min"], meta["max"]
    if rng:
        lo, sep, hi = rng.partition(":")
        if not sep:
            raise ConfigError(f"{name}={rng}: give a range lo:hi or values a,b,c.")
        low, high = parse_value(name, kind, lo.strip()), parse_value(name, kind, hi.strip())
    if not low < high:
        raise ConfigError(f"{name}: the range {low}:{high} is empty.")
    return {"low": low, "high": high, "log": bool(meta["log"]) and low > 0}


def suggest(trial, space: dict[str, dict]) -> dict:
    """One trial's settings from Optuna's ``trial``."""
    out = {}
    for name, d in space.items():
        if "choices" in d:
            out[name] = trial.suggest_categorical(name, d["choices"])
        elif field_spec(name)["type"] is int:
            out[name] = trial.suggest_int(name, int(d["low"]), int(d["high"]), log=d["log"])
        else:
            out[name] = trial.suggest_float(name, float(d["low"]), float(d["high"]), log=d["log"])
    return out


def open_study(folder: Path, name: str, seed: int = 0):
    """The experiment's study (created, or loaded with its finished trials)."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the experiment reports each trial itself
    storage = JournalStorage(JournalFileBackend(str(Path(folder) / JOURNAL)))
    return optuna.create_study(study_name=name, storage=storage, direction="maximize", load_if_exists=True,
                               sampler=optuna.samplers.TPESampler(seed=seed),
                               pruner=optuna.pruners.MedianPruner(n_startup_trials=STARTUP, n_warmup_steps=WARMUP))


class Pruner(Callback):
    """Reports a trial's validation accuracy at each epoch's end to Optuna and stops the run when Optuna prunes
    it. Hears only ``on_start``'s total_steps and ``on_step``'s records, so it works on records relayed from a
    training process too; ``bind_stop`` gives it the way to stop the run."""

    def __init__(self, trial, epochs: int):
        self.trial, self.epochs, self.per_epoch, self.pruned = trial, epochs, 0, False
        self._stop = None

    def bind_stop(self, stop) -> None:
        self._stop = stop

    def on_start(self, info) -> None:
        self.per_epoch = max(1, info.total_steps // self.epochs)

    def on_step(self, record: dict) -> None:
        if self.pruned or not is_full(record) or not self.per_epoch or record["step"] % self.per_epoch:
            return
        self.trial.report(float(record["val_acc"]), int(record["step"]) // self.per_epoch)
        if self.trial.should_prune():
            self.pruned = True
            if self._stop is not None:
                self._stop()


def objective_value(summary) -> float | None:
    value = getattr(summary, OBJECTIVE)
    return None if value is None or math.isnan(value) else float(value)


def run_trials(exp, corpus, train_one, cancelled) -> None:
    """Ask Optuna for trials until the plan's budget is spent or ``cancelled()``: each one trained through
    ``train_one`` (as ``experiments.run_all`` describes) with a ``Pruner``, recorded in the experiment and told
    to the study: its objective when it finished, pruned, or failed (a cancelled trial too)."""
    import optuna

    from .experiments import ExperimentRun, run_summary

    plan, state = exp.plan, optuna.trial.TrialState
    seed = int(TrainConfig.from_dict(plan.base).seed)
    study = open_study(exp.path, exp.id, seed)
    while len(exp.runs) < plan.trials and not cancelled():
        trial = study.ask()
        params, i = suggest(trial, plan.space), len(exp.runs)
        exp.runs.append(ExperimentRun(f"trial {trial.number}", {**plan.base, **params}, seed, status=Status.RUNNING,
                                      trial=trial.number, params=params))
        exp.save()
        try:
            cfg = TrainConfig.from_dict({**plan.base, **params})
            pruner = Pruner(trial, cfg.epochs)
            run_id, status = train_one(corpus, cfg, i, [pruner])
        except Exception as e:  # noqa: BLE001 - one failed trial must not end the search
            study.tell(trial, state=state.FAIL)
            exp.update(i, status=Status.FAILED, error=" ".join(str(e).split())[:300] or type(e).__name__)
            continue
        summary = run_summary(exp, run_id)
        value = None if summary is None else objective_value(summary)
        if pruner.pruned:
            study.tell(trial, state=state.PRUNED)
            status = Status.PRUNED
        elif status == Status.FINISHED and value is not None:
            study.tell(trial, value)
        else:
            study.tell(trial, state=state.FAIL)
        exp.update(i, run_id=run_id, status=status, value=value,
                   test_accuracy=None if summary is None else summary.test_accuracy)


def best_trial(exp):
    """The experiment's ``ExperimentRun`` with the highest objective (None before one finishes)."""
    done = [r for r in exp.runs if r.value is not None and r.status == Status.FINISHED]
    return max(done, key=lambda r: r.value, default=None)


def search_figures(exp) -> dict:
    """Optuna's own Plotly figures of the study: title -> figure, or a line saying why there is none yet."""
    import optuna.visualization as vis

    study = open_study(exp.path, exp.id)
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    out = {}
    for title, plot, need in (("Optimisation history", vis.plot_optimization_history, 1),
                              ("Parallel coordinates", vis.plot_parallel_coordinate, 1),
                              ("Parameter importances", vis.plot_param_importances, 2)):
        if len(complete) < need:
            out[title] = f"after {need} finished trial(s)"
            continue
        if need > 1 and len({t.value for t in complete}) < 2:  # Optuna would draw equal bars, and warn
            out[title] = "not available: every finished trial scored the same"
            continue
        try:
            out[title] = plot(study)
        except (RuntimeError, ValueError, ZeroDivisionError) as e:  # e.g. importances of settings that never varied
            out[title] = f"not available ({e})"
    return out
