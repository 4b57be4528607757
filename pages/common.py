"""Streamlit helpers shared by the pages: the job registry, the data source, config widgets.

All logic lives in ``lyricsdash``; this module only wires it to widgets and caches.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from lyricsdash.config import TrainConfig, field_names, field_spec
from lyricsdash.data import DataError, assignment_files, make_corpus
from lyricsdash.demo import DEMO_LABEL, demo_corpus
from lyricsdash.jobs import JobRegistry
from lyricsdash.predictor import Predictor
from lyricsdash.runs import runs_root
from lyricsdash.stats import data_stats, preview

SOURCES = {"assignment": "Assignment files", "demo": DEMO_LABEL, "upload": "Upload CSV"}
UPLOAD_MB = 50  # keep in step with server.maxUploadSize in .streamlit/config.toml


def navigation():
    """The app's pages and page settings; the entry point runs the chosen page."""
    st.set_page_config(page_title="lyricsdash", page_icon="🎤", layout="wide")
    return st.navigation([
        st.Page("pages/home.py", title="Home", icon="🏠", default=True),
        st.Page("pages/data.py", title="Data", icon="📚"),
        st.Page("pages/train.py", title="Train", icon="🏋️"),
        st.Page("pages/classify.py", title="Classify", icon="🔎"),
        st.Page("pages/runs.py", title="Runs", icon="🗂️"),
    ])


def page_setup() -> None:
    """Top of every page: make sure the app's navigation is in force, then draw the data sidebar.

    Streamlit starts in legacy multipage mode when a pages/ folder sits beside the entry point, so a deep
    link (say /train) on a fresh server runs the page without streamlit_app.py. Declaring the navigation
    here switches the server to the declared pages. On a session's first run (a page load, before any
    click that a rerun could lose) it also reruns, now through streamlit_app.py.
    """
    first_run = "session_seen" not in st.session_state
    st.session_state["session_seen"] = True
    if not st.session_state.get("via_entry_point"):
        navigation()
        if first_run:
            st.rerun()
    data_sidebar()


@st.cache_resource
def registry() -> JobRegistry:
    """Process-wide: every session and tab of this server sees the same jobs."""
    return JobRegistry()


def runs_dir() -> Path:
    return runs_root()


# ------------------------------------------------------------------ the data
def data_sidebar() -> None:
    """Data source widgets in the sidebar; every page draws them, the choice and uploads persist."""
    found = assignment_files()
    options = (["assignment"] if found else []) + ["demo", "upload"]
    store = st.session_state.setdefault("saved_widgets", {})
    if store.get("data_source") not in options:
        store.pop("data_source", None)
    with st.sidebar:
        kind = st.radio("Data", options, format_func=SOURCES.get, **remember("data_source", options[0]),
                        help="The assignment files come from $LYRICSDASH_DATA_DIR or ./data.")
        if kind == "assignment":
            st.caption(f"{found[0].name} + {found[1].name}")
        elif kind == "upload":
            _uploads(store)


def _uploads(store: dict) -> None:
    """Uploaded bytes are kept in the session so that other pages use them too."""
    uploads = store.setdefault("uploads", {})
    for slot, label in (("train", f"Training CSV (artist, song, text; up to {UPLOAD_MB} MB)"),
                        ("test", "Test CSV (optional: else 10 % of the songs per artist)")):
        f = st.file_uploader(label, type=["csv"], key=f"upload_{slot}")
        if f is not None:
            uploads[slot] = (f.name, f.getvalue())
    if uploads:
        st.caption("Using " + " + ".join(name for name, _ in uploads.values()))
        if st.button("Forget uploads", key="forget_uploads"):
            uploads.clear()
            st.rerun()


def source_key() -> tuple | None:
    """A hashable description of the chosen data (None when an upload is still missing)."""
    found = assignment_files()
    kind = saved("data_source") or ("assignment" if found else "demo")
    if kind == "assignment" and found:
        return ("assignment", str(found[0]), str(found[1]))
    if kind == "upload":
        uploads = saved("uploads", {})
        if "train" not in uploads:
            return None
        test = uploads.get("test", (None, None))
        return ("upload", *uploads["train"], *test)
    return ("demo",)


def describe_source(key: tuple) -> str:
    if key[0] == "assignment":
        return "assignment files"
    if key[0] == "upload":
        return f"upload: {key[1]}" + (f" + {key[3]}" if key[3] else "")
    return DEMO_LABEL


@st.cache_data(max_entries=8, show_spinner="Loading songs…")
def load_corpus(key: tuple, val_fraction: float, seed: int):
    if key[0] == "assignment":
        return make_corpus(key[1], key[2], val_fraction=val_fraction, seed=seed)
    if key[0] == "upload":
        train = _named(key[2], key[1])
        test = _named(key[4], key[3]) if key[4] is not None else None
        return make_corpus(train, test, val_fraction=val_fraction, seed=seed, name=key[1])
    return demo_corpus(val_fraction, seed)


class _named(bytes):
    """Upload bytes that remember their file name (for error messages)."""

    def __new__(cls, data: bytes, name: str):
        obj = super().__new__(cls, data)
        obj.name = name
        return obj


def current_corpus(cfg: TrainConfig | None = None):
    """(corpus, key) of the chosen data, or (None, None) after showing why in the page."""
    cfg = cfg or config_from_state()
    key = source_key()
    if key is None:
        st.info("Upload a training CSV in the sidebar to use your own songs.")
        return None, None
    try:
        return load_corpus(key, cfg.val_fraction, cfg.seed), key
    except DataError as e:
        st.error(str(e))
        return None, None


@st.cache_data(max_entries=32, show_spinner=False)
def cached_preview(key: tuple, cfg_dict: dict) -> dict:
    cfg = TrainConfig.from_dict(cfg_dict)
    return preview(load_corpus(key, cfg.val_fraction, cfg.seed), cfg)


@st.cache_data(max_entries=16, show_spinner="Counting words…")
def cached_stats(key: tuple, cfg_dict: dict) -> dict:
    cfg = TrainConfig.from_dict(cfg_dict)
    return data_stats(load_corpus(key, cfg.val_fraction, cfg.seed), cfg)


# -------------------------------------------------------------- the config
def remember(key: str, default) -> dict:
    """Widget kwargs that keep its value across page switches.

    A keyed widget's value belongs to its widget id, which differs per page, so Streamlit would reset it on
    another page. The value lives in a plain session dict instead: written to the key before each draw,
    updated by ``on_change`` before the rerun that follows a change.
    """
    saved = st.session_state.setdefault("saved_widgets", {})
    saved.setdefault(key, default)
    st.session_state[key] = saved[key]
    return {"key": key, "on_change": save, "args": (key,)}


def save(key: str) -> None:
    st.session_state["saved_widgets"][key] = st.session_state[key]


def saved(key: str, default=None):
    return st.session_state.get("saved_widgets", {}).get(key, default)


def config_from_state() -> TrainConfig:
    """The config the Train page's widgets hold (defaults for those never drawn)."""
    values = st.session_state.get("saved_widgets", {})
    return TrainConfig.from_dict({n: values[f"cfg_{n}"] for n in field_names() if f"cfg_{n}" in values})


def config_widget(name: str, disabled: bool = False):
    """One input drawn from TrainConfig's metadata: type, range, choices, log scale, help."""
    s = field_spec(name)
    label, kw = name.replace("_", " "), {**remember(f"cfg_{name}", s["default"]), "help": s["help"],
                                         "disabled": disabled}
    if s["type"] is bool:
        st.toggle(label, **kw)
    elif s["choices"]:
        st.selectbox(label, s["choices"], **kw)
    elif s["log"]:
        st.select_slider(label, options=log_grid(s["min"], s["max"], s["default"]), format_func=lambda v: f"{v:g}",
                         **kw)
    elif s["type"] is int and s["max"] - s["min"] <= 1024:
        st.slider(label, s["min"], s["max"], **kw)
    elif s["type"] is int:
        st.number_input(label, s["min"], s["max"], step=1, **kw)
    else:
        st.slider(label, float(s["min"]), float(s["max"]), step=_float_step(s), **kw)


def log_grid(lo: float, hi: float, default: float) -> list[float]:
    """1-2-5 steps per decade between lo and hi, with the default included."""
    values = {default}
    for e in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1):
        values |= {m * 10.0**e for m in (1, 2, 3, 5) if lo <= m * 10.0**e <= hi}
    return sorted(float(f"{v:.6g}") for v in values)


def _float_step(s) -> float:
    return 0.01 if s["max"] - s["min"] <= 1 else 0.1


# ---------------------------------------------------------------- the model
@st.cache_resource(max_entries=4, show_spinner="Loading model…")
def predictor(run_dir: str, mtime: float) -> Predictor:
    """Cached per run folder and checkpoint time (a newer model.pt loads afresh)."""
    return Predictor.from_run(run_dir)


def pct(v) -> str:
    return "n/a" if v is None or v != v else f"{100 * v:.1f} %"
