"""The frame every page shares: navigation, the deep-link workaround, the job registry, cached models.

All logic lives in ``lyricsdash``; the pages only wire it to widgets and caches. Data source widgets live
in ``ui/source.py``, config widgets in ``ui/widgets.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from lyricsdash import report
from lyricsdash.jobs import JobRegistry
from lyricsdash.predictor import Predictor
from lyricsdash.runs import runs_root
from lyricsdash.watch import FolderWatch
from ui.source import data_sidebar

PAGES = [("pages/home.py", "Home", "🏠"), ("pages/data.py", "Data", "📚"), ("pages/train.py", "Train", "🏋️"),
         ("pages/classify.py", "Classify", "🔎"), ("pages/runs.py", "Runs", "🗂️")]


def navigation():
    """The app's pages and page settings; the entry point runs the chosen page."""
    st.set_page_config(page_title="lyricsdash", page_icon="🎤", layout="wide")
    return st.navigation([st.Page(path, title=title, icon=icon, default=i == 0)
                          for i, (path, title, icon) in enumerate(PAGES)])


def page_setup() -> None:
    """Top of every page: the one workaround for Streamlit's legacy pages/ folder, kept here alone.

    The user's design card names the page folder ``pages/``; a folder of that name beside the entry point
    puts Streamlit 1.67 in legacy multipage mode, so a deep link (say /train) on a fresh server runs the page
    script without streamlit_app.py. Declaring the navigation here switches the server to the declared pages;
    on a session's first run (a page load, before any click that a rerun could lose) it also reruns, now
    through streamlit_app.py, which draws the frame (the data sidebar).
    """
    if st.session_state.get("via_entry_point"):
        return
    first_run = "session_seen" not in st.session_state
    st.session_state["session_seen"] = True
    navigation()
    if first_run:
        st.rerun()
    data_sidebar()


@st.cache_resource
def registry() -> JobRegistry:
    """Process-wide: every session and tab of this server sees the same jobs. A training process is kept
    started ahead (``LYRICSDASH_WARM=0`` turns that off: the test suite's many short-lived servers)."""
    return JobRegistry(warm=os.environ.get("LYRICSDASH_WARM", "1") != "0")


def runs_dir() -> Path:
    return runs_root()


@st.cache_resource(max_entries=8)
def folder_watch(run_dir: str) -> FolderWatch:
    """Process-wide per run folder, so every tab's refresh reads only what was appended since the last one."""
    return FolderWatch(Path(run_dir))


@st.cache_resource(max_entries=4, show_spinner="Loading model…")
def predictor(run_dir: str, mtime: float) -> Predictor:
    """Cached per run folder and checkpoint time (a newer model.pt loads afresh)."""
    return Predictor.from_run(run_dir)


def pct(v) -> str:
    return report.pct(v, 1)


def flash(message: str | None = None, kind: str = "success") -> None:
    """Keep a message for the next run of the page (a callback's result survives its rerun), or show it."""
    if message is not None:
        st.session_state["flash"] = (kind, message)
    elif "flash" in st.session_state:
        kind, message = st.session_state.pop("flash")
        getattr(st, kind)(message)
