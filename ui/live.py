"""The Train page's view of a run: its status and curves, refreshed by timed fragments while it trains.

Whoever started the run (this server's job, the CLI, torchrun, another server), the page reads it through its
run folder (``lyricsdash.watch``): ``reader`` is a ``TrainingJob`` or a ``FolderWatch``, both with
``progress()`` and ``snapshot()``, and each refresh reads only what was appended since the last. The status
refreshes every STATUS_EVERY_S; the curves, whose redraw costs the browser far more than text, every
CHARTS_EVERY_S; the system chart every SYSTEM_EVERY_S. A refresh resets a chart's zoom: Streamlit 1.67
derives a Plotly chart's element id from its figure even when it has a key, so new points remount the chart,
and Plotly's ``uirevision`` never gets to keep the view (checked in chromium: tests/test_browser.py). The
Train page's "Pause live updates" is the way to zoom.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from lyricsdash import charts
from lyricsdash.records import Status
from lyricsdash.runs import RunFolder
from lyricsdash.watch import Progress
from ui.common import pct

STATUS_EVERY_S = 2.0  # progress bar and scores
STARTING_EVERY_S = 0.25  # before the first step: the click on Start waits for the first step to show
CHARTS_EVERY_S = 5.0  # the curves
SYSTEM_EVERY_S = 30.0  # CPU and memory: sampled every 5 s, and each chart redraw costs the browser (and training)
LIVE_POINTS = 200  # points per curve while the charts refresh; all (up to charts.MAX_POINTS) otherwise
TEST_HELP = ("Between epoch ends a rolling value: each step rescores one batch of test windows, so it mixes the "
             "weights of the last few dozen steps. The report quotes the test accuracy of the weights the run "
             "keeps: the final weights by default (scored in full at the last step), or with keep=best_val those "
             "of the full evaluation with the best validation score, which can differ from the latest.")


def status_view(p: Progress) -> dict:
    """What the status shows: one line of text, the fraction done, three scores (label, value, help)."""
    starting = p.status == Status.STARTING
    if starting:  # before the first step: say what takes the time
        text = f"starting: {p.phase or 'preparing'}… · {p.since_start_s:.0f} s since Start"
    else:
        text = f"{p.status}: step {p.steps:,} / {p.total_steps:,} · elapsed {p.elapsed_s:.0f} s"
    score = (lambda v: "—") if starting else pct  # no evaluation yet: a dash, not n/a
    if not p.done and not starting:
        rate = p.steps / p.elapsed_s if p.elapsed_s > 0 else 0.0
        eta = f"ETA {(p.total_steps - p.steps) / rate:.0f} s" if rate > 0 else "ETA —"
        text += f" · {rate:.1f} steps/s · {eta}"
    return {"text": text, "fraction": min(1.0, p.steps / p.total_steps) if p.total_steps else 0.0,
            "tiles": [["Best validation accuracy so far", score(p.best_val_accuracy),
                       "after the first evaluation" if starting else f"at step {p.best_step}" if p.best_step else None],
                      ["Test accuracy at the latest step", score(p.latest_test_acc), TEST_HELP],
                      ["Steps on the curves", f"{p.points:,}", "Each global step adds a point to every curve: "
                       "training on its batch; validation and test scored in full at the first step and at each "
                       "epoch's end, rolling in between (eval_lag in metrics.csv)."]],
            "error": f"Training failed: {p.error}" if p.error else None}


def draw_status(p: Progress) -> None:
    view = status_view(p)
    st.progress(view["fraction"], text=view["text"])
    for col, (label, value, help_) in zip(st.columns(3), view["tiles"], strict=True):
        col.metric(label, value, help=help_)
    if view["error"]:
        st.error(view["error"])


def draw_charts(snap, view: dict, runs_dir, live: bool, key: str) -> None:
    """The curves of ``snap`` (fewer points while live); ``key`` prefixes the charts' keys."""
    points = LIVE_POINTS if live else charts.MAX_POINTS
    loss = charts.loss_figure(snap.metrics, x=view["x"], smoothing=view["smoothing"], log_y=view["log_y"],
                              best_step=snap.best_step, max_points=points, raw=not live)
    acc = charts.accuracy_figure(snap.metrics, x=view["x"], smoothing=view["smoothing"], best_step=snap.best_step,
                                 max_points=points, baselines=snap.baselines, raw=not live)
    a, b = st.columns(2)
    a.plotly_chart(loss, width="stretch", key=f"{key}_loss_chart")
    b.plotly_chart(acc, width="stretch", key=f"{key}_acc_chart")


def draw_system(folder: RunFolder, key: str) -> None:
    """The training process's CPU and memory (system.csv, a row every few seconds: lyricsdash.system)."""
    system = folder.system()
    if not system.empty:
        st.plotly_chart(charts.system_figure(system), width="stretch", key=f"{key}_system_chart")


def follow(reader, view: dict, runs_dir, live: bool, ended: Callable[[Progress], bool], key: str = "run") -> None:
    """Status and curves of ``reader``. While ``live`` each refreshes itself; once ``ended(progress)`` (the run
    ended, or another took its place) the whole page reruns, to draw the result and enable the controls. ``key``
    names its charts (stable from one refresh to the next, unique on the page)."""

    starting = live and reader.progress().status == Status.STARTING

    @st.fragment(run_every=(STARTING_EVERY_S if starting else STATUS_EVERY_S) if live else None)
    def status() -> None:
        p = reader.progress()
        if live and (ended(p) or (starting and p.status != Status.STARTING)):
            st.rerun()  # ended: the result; started: the status at its own pace, the curves at once
        draw_status(p)

    @st.fragment(run_every=CHARTS_EVERY_S if live else None)
    def curves() -> None:
        draw_charts(reader.snapshot(), view, runs_dir, live, key)

    @st.fragment(run_every=SYSTEM_EVERY_S if live else None)
    def system() -> None:
        draw_system(RunFolder(runs_dir / reader.run_id), key)

    status()
    curves()
    system()
