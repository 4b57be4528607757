"""Experiment widgets shared by the Train page (start, progress, cancel) and the Runs page (results)."""

from __future__ import annotations

import streamlit as st

from lyricsdash import charts
from lyricsdash.config import ConfigError, TrainConfig, field_names, field_spec
from lyricsdash.experiments import Experiment, Plan, describe, list_experiments
from lyricsdash.jobs import JobBusy
from lyricsdash.records import Status
from lyricsdash.runs import RunFolder
from lyricsdash.search import JOURNAL, best_trial, parse_space, search_figures
from ui.common import pct, registry, runs_dir
from ui.widgets import label

MODES = {"seeds": "Repeat with N seeds", "sweep": "Sweep one setting (× seeds)", "cv": "k-fold cross-validation",
         "search": "Search settings (Optuna)"}
SWEEPABLE = [n for n in field_names() if field_spec(n)["type"] in (int, float) and n not in ("seed", "threads")] \
    + [n for n in field_names() if field_spec(n)["choices"]]
SEARCHABLE = SWEEPABLE + [n for n in field_names() if field_spec(n)["type"] is bool and n != "baselines"]


def experiment_starter(cfg: TrainConfig, corpus, source, disabled: bool) -> None:
    """Plan an experiment of the current settings and queue its runs."""
    mode = st.radio("Experiment", list(MODES), format_func=MODES.get, horizontal=True, key="ui_exp_mode")
    if mode == "search":
        return search_starter(cfg, corpus, source, disabled)
    c1, c2, c3 = st.columns(3)
    seeds = c1.number_input("Seeds per setting", 1, 20, 3 if mode != "cv" else 1, key=f"ui_exp_seeds_{mode}")
    setting, values, folds = None, [], 0
    if mode == "sweep":
        setting = c2.selectbox("Setting", SWEEPABLE, format_func=label, key="ui_exp_setting")
        spec = field_spec(setting)
        default = ",".join(spec["choices"]) if spec["choices"] else str(spec["default"])
        values = [v.strip() for v in c3.text_input("Values (comma-separated)", default,
                                                   key=f"ui_exp_values_{setting}").split(",") if v.strip()]
    elif mode == "cv":
        folds = c2.number_input("Folds", 2, 10, 5, key="ui_exp_folds")
    base = {k: v for k, v in cfg.to_dict().items() if k != (setting or "")}
    try:
        plan = Plan(mode, base, setting, values, int(seeds), int(folds))
    except ConfigError as e:
        st.error(str(e))
        return
    st.caption(f"{len(plan.runs())} runs, one after another, with the settings above"
               + (f" (each value of {setting})" if setting else "") + ". Test accuracy is reported per setting as "
               "the mean and the min–max over seeds or folds.")
    _start_button("▶ Start experiment", "start_experiment", plan, corpus, source, disabled)


def _start_button(label: str, key: str, plan: Plan, corpus, source, disabled: bool) -> None:
    if st.button(label, disabled=disabled or corpus is None, key=key):
        try:
            registry().start_experiment(corpus, plan, runs_dir(), data=source.describe(), source=source.to_record())
            st.rerun()
        except JobBusy as e:
            st.error(str(e))


def _full_range(name: str) -> str:
    spec = field_spec(name)
    if spec["choices"]:
        return ",".join(spec["choices"])
    return "false,true" if spec["type"] is bool else f"{spec['min']}:{spec['max']}"


def search_starter(cfg: TrainConfig, corpus, source, disabled: bool) -> None:
    """Plan an Optuna search: which settings, their ranges, how many trials."""
    names = st.multiselect("Settings to search", SEARCHABLE, default=["lr", "hidden_size"], key="ui_search_names",
                           format_func=label)
    cols = st.columns(max(1, len(names)))
    ranges = [col.text_input(label(n), _full_range(n), key=f"ui_search_range_{n}",
                             help="lo:hi for a number (its whole range by default), a,b,c for values")
              for n, col in zip(names, cols, strict=False)]
    specs = [f"{n}={r}" for n, r in zip(names, ranges, strict=True)]
    trials = st.number_input("Trials", 1, 200, 20, key="ui_search_trials")
    try:
        space = parse_space(specs)
        plan = Plan("search", {k: v for k, v in cfg.to_dict().items() if k not in space}, space=space,
                    trials=int(trials))
    except ConfigError as e:
        st.error(str(e))
        return
    st.caption(f"Up to {plan.trials} runs, one after another: Optuna proposes each run's settings from the earlier "
               "ones' validation accuracy (never the test set), and stops a run whose validation accuracy at an "
               "epoch's end (from the third on, once five runs have finished) is below the median of the earlier runs "
               "there. The other settings are those above.")
    _start_button("▶ Start search", "start_search", plan, corpus, source, disabled)


def search_results(exp: Experiment, key: str) -> None:
    """The trials of a search, and Optuna's own figures of its study."""
    rows = [{"trial": r.trial, "status": r.status, "validation acc (objective)": r.value,
             "test acc": r.test_accuracy, **r.params, "run": r.run_id} for r in exp.runs]
    if not rows:
        st.caption("No trial yet.")
        return
    percent = st.column_config.NumberColumn(format="percent")
    st.dataframe(rows, hide_index=True, width="stretch",
                 column_config={"validation acc (objective)": percent, "test acc": percent})
    figures = search_figures(exp)
    for (title, fig), col in zip(figures.items(), st.columns(len(figures)) if figures else [], strict=True):
        if isinstance(fig, str):
            col.caption(f"{title}: {fig}")
        else:
            col.plotly_chart(fig, width="stretch", key=f"{key}_{title}")


def experiment_progress() -> None:
    """The experiment in progress (or the last one) of this server: progress and Cancel."""
    job = registry().experiment
    if job is None:
        return
    done, total = job.progress()
    st.progress(done / total if total else 1.0, text=f"Experiment {job.exp.id} ({job.exp.status}): {done} of "
                f"{total} runs done · {describe(job.exp)}")
    if registry().experiment_running() and st.button("✖ Cancel experiment", key="cancel_experiment",
                                                     help="Stops the run in progress (saved as stopped) and skips "
                                                          "the runs still queued; finished runs stay."):
        job.cancel()
        st.toast("Cancelling: the current run stops after its step, the rest are skipped.")


def experiment_results(exp: Experiment, key: str) -> None:
    results = exp.results()
    setting = exp.plan.setting
    rows = [{"setting": label, "runs": r["n"], "mean test acc": r["mean"], "min": r["min"], "max": r["max"]}
            for label, r in results.items()]
    st.dataframe(rows, hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="percent")
                                for c in ("mean test acc", "min", "max")})
    if not any(r["n"] for r in results.values()):
        st.caption("No finished run yet.")
        return
    a, b = st.columns(2)
    a.plotly_chart(charts.experiment_figure(results, setting), width="stretch", key=f"{key}_bars")
    curves: dict[str, list] = {}
    for r in exp.runs:  # the same finished runs as the figures above
        if r.status == Status.FINISHED and r.run_id:
            curves.setdefault(r.label, []).append(RunFolder(runs_dir() / r.run_id).metrics())
    b.plotly_chart(charts.band_figure(curves), width="stretch", key=f"{key}_band")


def experiments_list() -> None:
    exps = list_experiments(runs_dir())
    if not exps:
        return
    st.subheader("Experiments")
    by_id = {e.id: e for e in exps}
    chosen = st.selectbox("Experiment", list(by_id), key="ui_experiment",
                          format_func=lambda i: f"{i} · {by_id[i].status} · {describe(by_id[i])}")
    exp = by_id[chosen]
    failed = [r for r in exp.runs if r.status == Status.FAILED]
    if failed:
        st.warning(f"{len(failed)} run(s) failed: " + "; ".join(r.error or "?" for r in failed[:3]))
    if exp.plan.kind == "search":
        search_results(exp, f"exp_{chosen}")
        best = best_trial(exp)
        st.caption(f"Saved in {exp.path.parent.name}/{exp.path.name}/: experiment.json and Optuna's journal "
                   f"({JOURNAL})" + (f"; best: {best.label}, validation {pct(best.value)}." if best else "."))
        return
    experiment_results(exp, f"exp_{chosen}")
    done = {label: r["mean"] for label, r in exp.results().items() if r["n"]}
    best = max(done, key=done.get, default=None)
    st.caption(f"Saved as plain data in {exp.path.parent.name}/{exp.path.name}/experiment.json"
               + (f"; best mean: {best} ({pct(done[best])})." if best else "."))
