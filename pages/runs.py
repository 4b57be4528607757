"""Runs: compare, download and delete saved runs."""

import pandas as pd
import streamlit as st

from lyricsdash import charts
from lyricsdash.report import report_text
from lyricsdash.runs import RunError, delete_run, list_runs, read_metrics
from pages.common import page_setup, registry, runs_dir

st.title("Runs")
page_setup()
runs, warnings = list_runs(runs_dir())
for w in warnings:
    st.warning(w)
if not runs:
    st.info(f"No runs yet in {runs_dir().name}/. Train one first.")
    st.stop()

table = pd.DataFrame([{
    "run": r["run_id"], "status": r.get("status"), "data": r.get("data", ""), "params": r.get("params"),
    "seconds": r.get("train_seconds"), "steps": r.get("steps"), "best val acc": r.get("best_val_accuracy"),
    "test acc": r.get("test_accuracy"), "pooling": r["config"].get("pooling"),
    "length": r["config"].get("length_strategy"), "hidden": r["config"].get("hidden_size"),
    "lr": r["config"].get("lr"), "epochs": r["config"].get("epochs")} for r in runs])
st.dataframe(table, hide_index=True, width="stretch",
             column_config={"best val acc": st.column_config.NumberColumn(format="percent"),
                            "test acc": st.column_config.NumberColumn(format="percent"),
                            "seconds": st.column_config.NumberColumn(format="%.1f")})

ids = [r["run_id"] for r in runs]
chosen = st.multiselect("Overlay curves of", ids, default=ids[:2], key="ui_compare")
if chosen:
    metric = st.radio("Curve", ["test_acc", "val_acc", "test_loss", "train_loss"], horizontal=True,
                      key="ui_compare_metric")
    frames = {rid: read_metrics(runs_dir() / rid) for rid in chosen}
    st.plotly_chart(charts.compare_figure(frames, metric), width="stretch", key="compare")

st.subheader("One run")
rid = st.selectbox("Run", ids, key="ui_run_detail")
run = next(r for r in runs if r["run_id"] == rid)
st.code(report_text(run), language=None)
if run.get("note"):
    st.caption(run["note"])
folder = runs_dir() / rid
d1, d2, d3 = st.columns(3)
if (folder / "model.pt").exists():
    d1.download_button("Download model.pt", (folder / "model.pt").read_bytes(), f"{rid}-model.pt", key="dl_model")
d2.download_button("Download metrics.csv", read_metrics(folder).to_csv(index=False), f"{rid}-metrics.csv",
                   "text/csv", key="dl_run_metrics")
with d3.popover("Delete run…"):
    st.write(f"Delete **{rid}** and all its files? This cannot be undone.")
    if st.button("Yes, delete it", type="primary", key="confirm_delete"):
        try:
            if registry().is_running(rid):
                raise RunError(f"Run {rid} is still training; stop it on the Train page first.")
            delete_run(runs_dir(), rid)
            st.success(f"Deleted {rid}.")
            st.rerun()
        except RunError as e:
            st.error(str(e))
