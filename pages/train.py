"""Train: pick hyperparameters, start a background training, watch its curves grow."""

import streamlit as st

from lyricsdash import charts
from lyricsdash.config import ConfigError
from lyricsdash.jobs import JobBusy
from lyricsdash.report import report_text
from lyricsdash.runs import read_metrics, read_summary
from pages.common import (
    cached_preview,
    config_from_state,
    config_widget,
    current_corpus,
    describe_source,
    page_setup,
    pct,
    registry,
    remember,
    runs_dir,
)

GROUPS = {
    "Model": ["embed_dim", "hidden_size", "num_layers", "bidirectional", "dropout", "pooling"],
    "Varied length": ["length_strategy", "max_len", "window", "stride"],
    "Optimisation": ["lr", "batch_size", "epochs", "eval_every", "seed"],
    "Vocabulary and more": ["min_freq", "max_vocab", "word_dropout", "optimizer", "weight_decay", "schedule",
                            "grad_clip", "patience", "select_by", "val_fraction", "threads", "device"],
}

LIVE_POINTS = 300  # points per curve while the charts refresh; all (up to charts.MAX_POINTS) otherwise
STATUS_EVERY_S = 1.0  # progress bar and scores
CHARTS_EVERY_S = 2.0  # the curves (each redraw remounts two Plotly charts in the browser)

st.title("Train")
page_setup()
jobs = registry()
job = jobs.current
busy = jobs.running()

# ---------------------------------------------------------------- settings
with st.expander("Hyperparameters", expanded=not busy):
    cols = st.columns(len(GROUPS))
    for col, (group, names) in zip(cols, GROUPS.items(), strict=True):
        with col:
            st.markdown(f"**{group}**")
            for name in names:
                config_widget(name, disabled=busy)

try:
    cfg = config_from_state()
except ConfigError as e:
    st.error(str(e))
    st.stop()
corpus, key = current_corpus(cfg)
if corpus is not None:
    info = cached_preview(key, cfg.to_dict())
    st.markdown(f"**{info['params']:,} parameters** · {info['architecture']}  \n"
                f"{describe_source(key)}: {len(corpus.train)} training / {len(corpus.val)} validation / "
                f"{len(corpus.test)} test songs, {len(corpus.labels)} artists · {info['train_sequences']:,} "
                f"training sequences · {info['steps_per_epoch']} steps per epoch, {info['total_steps']:,} in all")
    for note in corpus.notes:
        st.caption(f"ℹ️ {note}")

left, right = st.columns([1, 1])
if left.button("▶ Start training", type="primary", disabled=busy or corpus is None, key="start"):
    try:
        job = jobs.start(corpus, cfg, runs_dir(), data=describe_source(key))
        busy = True
        st.toast(f"Training {job.run_id} started")
    except JobBusy as e:
        st.error(str(e))
if busy and right.button("■ Stop", key="stop"):
    job.stop()
    st.toast("Stopping after the current step…")

if job is None:
    st.info("No training yet on this server. Set the hyperparameters and press Start.")
    st.stop()

# ------------------------------------------------------------------ curves
st.subheader(f"Run {job.run_id}")
c1, c2, c3, c4 = st.columns(4)
smoothing = c1.slider("Smoothing", 0.0, 0.99, step=0.01, **remember("ui_smoothing", 0.0),
                      help="Exponential moving average, as in TensorBoard; the raw curve stays faint underneath.")
x_axis = c2.radio("x-axis", ["step", "elapsed_s"], **remember("ui_x", "step"), horizontal=True,
                  format_func={"step": "global step", "elapsed_s": "wall time"}.get)
log_loss = c3.toggle("Log-scale error", **remember("ui_log", False))
paused = c4.toggle("Pause live updates", **remember("ui_pause", False),
                   help="A refreshing chart resets zoom; pause to zoom and pan. Training goes on.")


def draw_status(job) -> None:
    """Progress, speed and scores: cheap, refreshed every second."""
    snap = job.snapshot()
    done_frac = snap.steps / snap.total_steps if snap.total_steps else 0.0
    rate = snap.steps / snap.elapsed_s if snap.elapsed_s else 0.0
    eta = (snap.total_steps - snap.steps) / rate if rate else float("nan")
    st.progress(min(1.0, done_frac), text=f"{snap.status}: step {snap.steps:,} / {snap.total_steps:,} · "
                f"{rate:.1f} steps/s · elapsed {snap.elapsed_s:.0f} s · ETA {eta:.0f} s")
    m1, m2, m3 = st.columns(3)
    m1.metric("Best validation accuracy", pct(snap.best_val_accuracy),
              help=f"at step {snap.best_step}" if snap.best_step else None)
    last = snap.metrics.dropna(subset=["test_acc"]).tail(1)
    m2.metric("Latest test accuracy", pct(last["test_acc"].iloc[0]) if len(last) else "n/a")
    m3.metric("Points streamed", f"{len(snap.metrics):,}")
    if snap.error:
        st.error(f"Training failed: {snap.error}")
    if snap.done and live:
        st.rerun()  # the whole page: show the final report


def draw_charts(job) -> None:
    """The curves; redrawing a chart costs the browser far more than text, so they refresh less often."""
    snap = job.snapshot()
    points = LIVE_POINTS if live else charts.MAX_POINTS
    a, b = st.columns(2)
    a.plotly_chart(charts.loss_figure(snap.metrics, x=x_axis, smoothing=smoothing, log_y=log_loss,
                                      best_step=snap.best_step, max_points=points), width="stretch", key="loss_chart")
    b.plotly_chart(charts.accuracy_figure(snap.metrics, x=x_axis, smoothing=smoothing, best_step=snap.best_step,
                                          max_points=points), width="stretch", key="acc_chart")


live = not job.done and not paused
st.fragment(run_every=STATUS_EVERY_S if live else None)(draw_status)(job)
st.fragment(run_every=CHARTS_EVERY_S if live else None)(draw_charts)(job)

# ------------------------------------------------------------------ result
run_dir = runs_dir() / job.run_id
if job.done and (run_dir / "summary.json").exists():
    summary = read_summary(run_dir)
    st.subheader("Report")
    st.code(report_text(summary), language=None)
    if summary.get("confusion_matrix"):
        st.plotly_chart(charts.confusion_figure(summary["confusion_matrix"], summary["corpus"]["labels"]),
                        width="stretch", key="confusion")
    if summary.get("checkpoint"):
        st.page_link("pages/classify.py", label="Classify lyrics with this model", icon="🔎")
if (run_dir / "metrics.csv").exists():
    st.download_button("Download metrics.csv", read_metrics(run_dir).to_csv(index=False), f"{job.run_id}.csv",
                       "text/csv", key="dl_metrics")
