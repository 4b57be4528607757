"""Train: pick hyperparameters, start a background training, watch its curves grow."""

import streamlit as st

from lyricsdash.config import ConfigError, groups
from lyricsdash.jobs import JobBusy
from lyricsdash.report import report_text
from lyricsdash.runs import RunFolder
from lyricsdash.stats import teacher_seconds
from lyricsdash.watch import running_elsewhere
from ui.common import folder_watch, page_setup, registry, runs_dir
from ui.experiments import experiment_progress, experiment_starter
from ui.explorer import test_explorer
from ui.live import follow
from ui.source import cached_estimate, cached_preview, current_corpus
from ui.widgets import config_from_state, config_widget, remember, reset_config

LONG_S = 300  # warn above this estimated training time

st.title("Train")
page_setup()
jobs = registry()
job = jobs.current
running = job.cfg if jobs.running() and job is not None else None  # every tab: the running run's own, disabled
store = st.session_state.setdefault("saved_widgets", {})
if running is not None and not any(k.startswith("cfg_") for k in store):
    # a session that never had settings of its own (a reload) keeps the run's once it ends, not the defaults
    store.update({f"cfg_{name}": value for name, value in running.to_dict().items()})

# ---------------------------------------------------------------- settings
essentials, *advanced = groups().items()  # each setting's group is in its TrainConfig metadata
for col, name in zip(st.columns(len(essentials[1])), essentials[1], strict=True):
    with col:
        config_widget(name, running)
with st.expander("Advanced settings"):
    for col, (group, names) in zip(st.columns(len(advanced)), advanced, strict=True):
        with col:
            st.markdown(f"**{group}**")
            for name in names:
                config_widget(name, running)

try:
    cfg = running or config_from_state()
except ConfigError as e:
    st.error(str(e))
    st.stop()
corpus, source = current_corpus(cfg)
if corpus is not None and running is None:
    info = cached_preview(source, cfg.to_dict())
    st.markdown(f"**{info['params']:,} parameters** · {source.describe()}: {len(corpus.train)} training / "
                f"{len(corpus.val)} validation / {len(corpus.test)} test songs, {len(corpus.labels)} artists · "
                f"{info['train_sequences']:,} training sequences · {info['steps_per_epoch']} steps per epoch, "
                f"{info['total_steps']:,} in all")
    st.caption(info["architecture"])
    seconds, tps = cached_estimate(cfg.to_dict(), info, len(corpus.labels))
    teacher_s = teacher_seconds(cfg, info, len(corpus.labels))
    note = (f"Estimated training time: about {seconds:,.0f} s (measured {tps:,.0f} training tokens/s here"
            + (f"; about {teacher_s:,.0f} s of it fitting the distillation teacher first)" if teacher_s else ")"))
    (st.warning if seconds > LONG_S else st.caption)(
        note + (". That is long: fewer epochs or smaller sizes train faster." if seconds > LONG_S else "."))
elif running is not None:
    st.markdown(f"Run **{job.run_id}** is training with the settings shown (disabled until it ends).")

left, mid, right = st.columns([1, 1, 4], vertical_alignment="bottom")
run_name = right.text_input("Name of the run (optional)", key="ui_run_name", max_chars=200,
                            placeholder="e.g. baseline, 128 units", disabled=jobs.running(),
                            help="Saved with the run when it starts; the Runs page shows it and lets you change it.")
if left.button("▶ Start training", type="primary", disabled=jobs.running() or corpus is None, key="start"):
    try:
        jobs.start(corpus, cfg, runs_dir(), data=source.describe(), source=source.to_record(), name=run_name)
        st.rerun()  # redraw every control as the running run's, disabled
    except JobBusy as e:
        st.error(str(e))
if running is not None and not jobs.experiment_running():  # an experiment's own Cancel stops it below
    if mid.button("■ Stop", key="stop"):
        job.stop()
        st.toast("Stopping after the current step…")
else:
    mid.button("Reset to defaults", key="reset", on_click=reset_config)

with st.expander("Experiment: repeat with seeds, sweep a setting, or cross-validate", expanded=False):
    experiment_starter(cfg, corpus, source, disabled=running is not None or jobs.running())
experiment_progress()


elsewhere = [] if jobs.running() else running_elsewhere(runs_dir(), exclude=job.run_id if job else None)
if elsewhere:  # a training this server did not start (the CLI, torchrun, another server): its folder tells all
    watch = folder_watch(str(runs_dir() / elsewhere[0]))
    st.subheader(f"Run {watch.run_id}, training in another process")
    st.caption("Started outside this dashboard (the CLI, torchrun or another server); followed through its run "
               "folder, so Stop is not offered here: press Ctrl-C where it runs."
               + (f" {len(elsewhere) - 1} other run(s) are training too; this is the newest." if len(elsewhere) > 1
                  else ""))
    follow(watch, {"smoothing": 0.6, "x": "step", "log_y": False}, runs_dir(), live=True, ended=lambda p: p.done,
           key="elsewhere")
if job is None:
    if not elsewhere:
        st.info("No training yet on this server. Set the hyperparameters and press Start.")
    st.stop()

# ------------------------------------------------------------------ curves
st.subheader(f"Run {job.run_id}")
c1, c2, c3, c4 = st.columns(4)
view = {
    "smoothing": c1.slider("Smoothing", 0.0, 0.99, step=0.01, **remember("ui_smoothing", 0.8),
                           help="Exponential moving average, as in TensorBoard; the raw curve stays faint."),
    "x": c2.radio("x-axis", ["step", "elapsed_s"], **remember("ui_x", "step"), horizontal=True,
                  format_func={"step": "global step", "elapsed_s": "wall time"}.get),
    "log_y": c3.toggle("Log-scale error", **remember("ui_log", False)),
}
paused = c4.toggle("Pause live updates", **remember("ui_pause", False),
                   help="A refresh of the curves resets their zoom; pause to zoom and pan. Training goes on.")
follow(job, view, runs_dir(), live=jobs.is_running(job.run_id) and not paused,
       ended=lambda p: registry().current is not job or not registry().running())

# ------------------------------------------------------------------ result
folder = RunFolder(runs_dir() / job.run_id)
if job.done and folder.summary_path.exists():
    summary = folder.summary()
    st.subheader("Report")
    st.code(report_text(summary), language=None, wrap_lines=True)
    if summary.confusion_matrix:
        st.subheader("Test songs")
        test_explorer(folder, summary, "train_explorer")
    if summary.checkpoint:
        st.page_link("pages/classify.py", label="Classify lyrics with this model", icon="🔎")
if folder.metrics_path.exists():
    st.download_button("Download metrics.csv", folder.metrics().to_csv(index=False), f"{job.run_id}.csv",
                       "text/csv", key="dl_metrics")
