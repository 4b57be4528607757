"""Runs: compare, download and delete saved runs."""

from functools import partial

import pandas as pd
import streamlit as st

from lyricsdash import charts
from lyricsdash.data import DataError
from lyricsdash.jobs import JobBusy
from lyricsdash.records import RESUMABLE, Status
from lyricsdash.report import report_html, report_text
from lyricsdash.runs import RunError, RunFolder, delete_run, differing_settings, list_runs
from lyricsdash.sources import DataSource
from ui.common import flash, folder_watch, page_setup, pct, registry, runs_dir
from ui.experiments import experiments_list
from ui.explorer import test_explorer
from ui.source import current_source, load_corpus

st.title("Runs")
page_setup()
flash()  # "Deleted …" from the deletion that caused this rerun
runs, warnings = list_runs(runs_dir())
for w in warnings:
    st.warning(w)
if not runs:
    st.info(f"No runs yet in {runs_dir().name}/. Train one first.")
    st.stop()

jobs = registry()
for r in runs:  # a run training now, here or in another process: its live step and best validation, from its folder
    if r.status == Status.RUNNING:
        p = folder_watch(str(runs_dir() / r.run_id)).progress()
        r.steps, r.best_val_accuracy, r.best_step, r.train_seconds = p.steps, p.best_val_accuracy, p.best_step, \
            p.elapsed_s


def best_baseline(r) -> float | None:
    """The test accuracy of the run's TF-IDF baseline that scored best on validation (the test never chooses)."""
    fitted = [b for name, b in r.baselines.items() if name.startswith("tfidf") and b.get("val_acc") is not None]
    return max(fitted, key=lambda b: b["val_acc"])["test_acc"] if fitted else None


table = pd.DataFrame([{
    "run": r.run_id, "name": r.annotations["name"], "status": r.status, "test acc": r.test_accuracy,
    "TF-IDF test acc": best_baseline(r), "best val acc": r.best_val_accuracy, "steps": r.steps,
    "seconds": r.train_seconds, "params": r.params} for r in runs])
percent = st.column_config.NumberColumn(format="percent", width=75)
st.dataframe(table, hide_index=True, width="stretch",  # nine narrow columns: all of them fit at 1400 px
             column_config={"run": st.column_config.TextColumn(width=150), "name": st.column_config.TextColumn(
                                width=110), "status": st.column_config.TextColumn(width=85),
                            "test acc": percent, "best val acc": percent,
                            "TF-IDF test acc": st.column_config.NumberColumn(
                                format="percent", width=90, help="The TF-IDF + logistic regression baseline "
                                "(words, the LSTM's tokens or characters) that scored best on validation, on the "
                                "same test songs. All three are in the run's report below."),
                            "seconds": st.column_config.NumberColumn(format="%.1f", width=75),
                            "steps": st.column_config.NumberColumn(width=75),
                            "params": st.column_config.NumberColumn(width=80)})
st.caption("Test accuracy is that of the weights each run keeps; the TF-IDF column is the baseline fitted on the "
           "same training songs and scored on the same test songs. Settings and data: choose a run below, or "
           "compare runs. Empty cells: not measured (yet).")

# ------------------------------------------------------------------ overlay
ids = [r.run_id for r in runs]
by_id = {r.run_id: r for r in runs}
chosen = st.multiselect("Overlay curves of", ids, default=ids[:2], key="ui_compare")
if chosen:
    c1, c2, c3 = st.columns([3, 1, 1])
    metric = c1.radio("Curve", list(charts.METRIC_TITLES), horizontal=True, key="ui_compare_metric",
                      format_func=charts.METRIC_TITLES.get)
    x = c2.radio("x-axis", ["step", "elapsed_s"], horizontal=True, key="ui_compare_x",
                 format_func={"step": "global step", "elapsed_s": "wall time"}.get)
    smoothing = c3.slider("Smoothing", 0.0, 0.99, 0.6, 0.01, key="ui_compare_smoothing")
    diff = differing_settings({rid: by_id[rid].config for rid in chosen})
    names = {rid: by_id[rid].annotations["name"] or ", ".join(f"{k}={v[rid]}" for k, v in diff.items()
                                                               if k != "seed") or rid for rid in chosen}
    if len(set(names.values())) < len(chosen):  # same settings: tell them apart by seed or id
        names = {rid: f"{n} (seed {by_id[rid].config.get('seed')})" if "seed" in diff else f"{n} ({rid})"
                 for rid, n in names.items()}
    frames = {names[rid]: RunFolder(runs_dir() / rid).metrics() for rid in chosen}
    st.plotly_chart(charts.compare_figure(frames, metric, x, smoothing), width="stretch", key="compare")
    if len(chosen) >= 2:
        with st.expander(f"Settings that differ between the {len(chosen)} chosen runs"):
            if diff:
                st.dataframe(pd.DataFrame(diff).T.rename(columns=lambda rid: names[rid]).astype(str), width="stretch")
            else:
                st.write("None: the runs share every setting.")

# ------------------------------------------------------------------ one run
st.subheader("One run")
rid = st.selectbox("Run", ids, key="ui_run_detail")
run = by_id[rid]
st.code(report_text(run), language=None, wrap_lines=True)
if run.note:
    st.caption(run.note)
folder = RunFolder(runs_dir() / rid)
n1, n2, n3 = st.columns([2, 4, 1], vertical_alignment="bottom")
for field in ("name", "note"):  # the saved text, until the user types
    st.session_state.setdefault(f"{field}_{rid}", run.annotations[field])
name = n1.text_input("Name", key=f"name_{rid}", placeholder="e.g. baseline, 128 units")
note = n2.text_input("Note", key=f"note_{rid}", placeholder="what you tried, what you saw")
if n3.button("Save", key=f"save_{rid}"):
    folder.annotate(name, note)
    st.rerun()
d1, d2, d3 = st.columns(3)
if folder.model_path.exists():
    d1.download_button(f"Download {folder.MODEL}", folder.model_path.read_bytes(), f"{rid}-{folder.MODEL}",
                       key="dl_model")
d2.download_button(f"Download {folder.METRICS}", folder.metrics().to_csv(index=False), f"{rid}-{folder.METRICS}",
                   "text/csv", key="dl_run_metrics")
# built on click: the page embeds plotly.js (megabytes), which every rerun of this page would otherwise rebuild
d3.download_button("Download the report (HTML)", partial(report_html, run, folder.metrics()), f"{rid}-report.html",
                   "text/html", key="dl_report", help="The assignment's report with the curves and the confusion "
                   "matrix, one self-contained page (as `python -m lyricsdash report --run RUN --out FILE`).")
if run.status in RESUMABLE and folder.resume_path.exists():
    upload = run.source is None
    help_ = ("Go on from where it stopped, in the same folder, exactly as if it had never stopped "
             f"(step {run.steps:,} of {run.total_steps:,}; an interrupted run goes on from its last epoch's end). "
             + ("It trained on an uploaded file: the sidebar's upload must be that same file." if upload else ""))
    if st.button("▶ Resume training", key=f"resume_{rid}", help=help_, disabled=registry().running()):
        try:
            source = current_source() if upload else DataSource.from_record(run.source)
            if source is None:
                raise DataError("Upload the run's training file in the sidebar first.")
            cfg = RunFolder(folder.path).config()
            registry().start(load_corpus(source, cfg.val_fraction, cfg.seed), cfg, runs_dir(), data=run.data,
                             resume=rid)
            st.switch_page("pages/train.py")  # watch it there
        except (DataError, RunError, JobBusy) as e:
            st.error(str(e))

system = folder.system()
if not system.empty:
    with st.expander("System: the training process's CPU and memory (and GPU), every few seconds"):
        st.plotly_chart(charts.system_figure(system), width="stretch", key="system")


def delete(run_id: str) -> None:
    """Delete exactly the run named on the button that was pressed; a repeated press deletes nothing more."""
    st.session_state.pop("pending_delete", None)
    try:
        if registry().is_running(run_id):
            raise RunError(f"Run {run_id} is still training; stop it on the Train page first.")
        delete_run(runs_dir(), run_id)
        flash(f"Deleted run {run_id}.")
    except RunError as e:
        flash(f"Nothing deleted: {e}", "error")


if st.session_state.get("pending_delete") == rid:
    with d3.container(border=True):
        st.write(f"Delete run **{rid}** and all its files? This cannot be undone.")
        yes, no = st.columns(2)
        yes.button(f"Yes, delete {rid}", type="primary", key="confirm_delete", on_click=delete, args=(rid,))
        no.button("Cancel", key="cancel_delete", on_click=st.session_state.pop, args=("pending_delete", None))
else:
    d3.button("Delete run…", key="ask_delete", disabled=jobs.is_running(rid),
              on_click=st.session_state.__setitem__, args=("pending_delete", rid))
if run.confusion_matrix:
    with st.expander("Test songs: which ones this run gets wrong"):
        test_explorer(folder, run, "runs_explorer")
experiments_list()
if run.status == Status.RUNNING:
    st.caption(f"Training now: step {run.steps:,}; best validation so far {pct(run.best_val_accuracy)}.")
