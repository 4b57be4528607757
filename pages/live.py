"""The Train page's status line and scores, and their live version that the browser refreshes by itself.

Redrawing the status with Streamlit elements once a second cost the browser 0.10-0.15 CPU s per second of
training (each update re-renders the app), which on this 2-core machine comes out of the training's core. So
while a run trains, the page's live loop writes the status as a small JSON file under ``static/live/`` (served
by Streamlit's static file serving) and the page shows it in one HTML widget whose script fetches that file
every second and rewrites its own few DOM nodes. The status of a run that has ended (or of a paused page) is
drawn with Streamlit's own elements. Both draw the same ``status_view``.
"""

from __future__ import annotations

import functools
import html
import json
import logging
import os
import tempfile
import time
from pathlib import Path

import streamlit as st

from lyricsdash.jobs import Progress
from lyricsdash.records import Status
from pages.common import pct

log = logging.getLogger(__name__)
LIVE_DIR = Path(__file__).resolve().parents[1] / "static" / "live"  # static/ beside streamlit_app.py
STALE_S = 600  # a status file unwritten this long belongs to a killed server or an unwatched run (re-written on view)
TEMPLATE = Path(__file__).with_name("live_status.html")
TEST_HELP = ("The report quotes the test accuracy of the weights the run keeps: the final weights by default "
             "(the same as the last evaluation), or with keep=best_val those of the step with the best validation "
             "score, which can differ from the latest.")


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
                      ["Test accuracy at the latest evaluation", score(p.latest_test_acc), TEST_HELP],
                      ["Steps on the curves", f"{p.points:,}", "Each global step adds a point to the training "
                       "curves; validation and test where that step was evaluated."]],
            "error": f"Training failed: {p.error}" if p.error else None}


def draw_status(p: Progress) -> None:
    """The status with Streamlit's elements (drawn once; the live widget takes over while a run trains)."""
    view = status_view(p)
    st.progress(view["fraction"], text=view["text"])
    for col, (label, value, help_) in zip(st.columns(3), view["tiles"], strict=True):
        col.metric(label, value, help=help_)
    if view["error"]:
        st.error(view["error"])


def status_path(run_id: str) -> Path:
    return LIVE_DIR / f"{run_id}.json"


def publish(p: Progress) -> bool:
    """Write the status file of ``p``'s run (atomically: a reader never sees half a file); False if the
    folder cannot be written, in which case the page redraws the status itself."""
    try:
        LIVE_DIR.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=LIVE_DIR, suffix=".tmp", delete=False) as f:
            json.dump(status_view(p), f)
        os.replace(f.name, status_path(p.run_id))
        return True
    except OSError as e:
        log.warning("live status not written (%s); the page redraws it instead", e)
        return False


def retire(run_id: str) -> None:
    """The run has ended: remove its status file and, once per run, any left by a server that was killed."""
    try:
        status_path(run_id).unlink()
    except OSError:
        return  # retired already (every page run of an ended job calls this), or never written
    for path in LIVE_DIR.glob("*.json"):
        try:
            if time.time() - path.stat().st_mtime > STALE_S:
                path.unlink()
        except OSError:
            pass  # another tab retired it first


@functools.cache
def _template() -> str:
    return TEMPLATE.read_text()


def live_status(p: Progress) -> None:
    """The HTML widget that shows ``p``'s status and keeps fetching it (``publish`` must have written it)."""
    base = st.get_option("server.baseUrlPath").strip("/")
    src = f"{'/' + base if base else ''}/app/static/live/{p.run_id}.json"
    body = (_template().replace("__SRC__", html.escape(src))
            .replace("__VIEW__", html.escape(json.dumps(status_view(p))))
            .replace("__COLOR__", st.get_option("theme.primaryColor") or "#ff4b4b"))
    st.html(body, unsafe_allow_javascript=True)
