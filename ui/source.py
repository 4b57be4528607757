"""The data source: sidebar widgets, uploads kept per session, cached corpus loading."""

from __future__ import annotations

import streamlit as st

from lyricsdash.config import TrainConfig
from lyricsdash.data import DataError
from lyricsdash.demo import DEMO_LABEL
from lyricsdash.sources import DataSource
from lyricsdash.stats import data_stats, estimate_seconds, preview
from ui.widgets import config_from_state, remember, saved

LABELS = {"assignment": "Assignment files", "demo": DEMO_LABEL, "upload": "Upload CSV"}
UPLOAD_MB = 200  # keep in step with server.maxUploadSize in .streamlit/config.toml (tests check both)
ARTIST_CHOICES = {"all": "All artists", "top": "The artists with most songs", "pick": "Artists I name"}


def data_sidebar() -> None:
    """Data source widgets in the sidebar (drawn once per run by the entry point); choices and uploads persist."""
    options = (["assignment"] if DataSource.assignment() else []) + ["demo", "upload"]
    store = st.session_state.setdefault("saved_widgets", {})
    if store.get("data_source") not in options:
        store.pop("data_source", None)
    with st.sidebar:
        kind = st.radio("Data", options, format_func=LABELS.get, **remember("data_source", options[0]),
                        help="The assignment files come from $LYRICSDASH_DATA_DIR or ./data.")
        if kind == "assignment":
            src = DataSource.assignment()
            st.caption(f"{src.train.rsplit('/', 1)[-1]} + {src.test.rsplit('/', 1)[-1]}")
        elif kind == "upload":
            _uploads(store)


def _uploads(store: dict) -> None:
    """Uploaded bytes are kept in the session so that other pages use them too."""
    uploads = store.setdefault("uploads", {})
    for slot, label in (("train", f"Training CSV (artist, song, text; up to {UPLOAD_MB} MB)"),
                        ("test", "Test CSV (optional: else 10 % of the songs per artist)")):
        f = st.file_uploader(label, type=["csv"], key=f"upload_{slot}")
        if f is not None and uploads.get(slot, (None, None, None))[2:] != (f.file_id,):
            uploads[slot] = (f.name, f.getvalue(), f.file_id)
            store.pop("upload_counts", None)
    st.caption(f"A file over {UPLOAD_MB} MB is refused by the uploader (a red icon; hover it for the reason). For "
               "bigger files use the CLI: `python -m lyricsdash train --train FILE --top-k 10`.")
    if uploads:
        st.caption("Using " + " + ".join(u[0] for u in uploads.values()))
        if "train" in uploads:
            _artist_choice(store, uploads["train"])
        if st.button("Forget uploads", key="forget_uploads"):
            uploads.clear()
            st.rerun()


def _artist_choice(store: dict, train: tuple) -> None:
    """All artists of an upload, the top K by songs, or a named list (the Kaggle file holds 643 artists)."""
    if "upload_counts" not in store:
        try:
            store["upload_counts"] = DataSource("upload", train[0], train_bytes=train[1]).artist_counts()
        except DataError:
            return  # the pages say what is wrong with the file
    counts = store["upload_counts"]
    if "upload_top_k" in store:  # a choice made for an earlier file must fit this one
        store["upload_top_k"] = max(2, min(int(store["upload_top_k"]), len(counts)))
    if "upload_artists" in store:
        store["upload_artists"] = [a for a in store["upload_artists"] if a in counts]
    how = st.radio("Artists", list(ARTIST_CHOICES), format_func=ARTIST_CHOICES.get, **remember("upload_how", "all"),
                   help=f"The file has {len(counts):,} artists and {sum(counts.values()):,} songs.")
    if how == "top":
        st.number_input("How many artists", 2, max(2, len(counts)), **remember("upload_top_k", min(10, len(counts))),
                        help="The artists with most songs in the training file (ties alphabetical).")
    elif how == "pick":
        st.multiselect("Which artists", list(counts), format_func=lambda a: f"{a} ({counts[a]} songs)",
                       **remember("upload_artists", list(counts)[:3]))


def current_source() -> DataSource | None:
    """The chosen data (None when an upload is still missing)."""
    found = DataSource.assignment()
    kind = saved("data_source") or ("assignment" if found else "demo")
    if kind == "assignment" and found:
        return found
    if kind == "upload":
        uploads = saved("uploads", {})
        if "train" not in uploads:
            return None
        test_name, test_bytes = uploads.get("test", (None, None, None))[:2]
        how = saved("upload_how", "all")
        artists = tuple(saved("upload_artists", ())) if how == "pick" else ()
        top_k = int(saved("upload_top_k", 10)) if how == "top" else 0
        return DataSource("upload", uploads["train"][0], test_name, uploads["train"][1], test_bytes, artists, top_k)
    return DataSource("demo")


@st.cache_data(max_entries=8, show_spinner="Loading songs…")
def load_corpus(source: DataSource, val_fraction: float, seed: int):
    return source.load(val_fraction, seed)


def current_corpus(cfg: TrainConfig | None = None):
    """(corpus, source) of the chosen data, or (None, None) after showing why in the page."""
    cfg = cfg or config_from_state()
    source = current_source()
    if source is None:
        st.info("Upload a training CSV in the sidebar to use your own songs.")
        return None, None
    try:
        return load_corpus(source, cfg.val_fraction, cfg.seed), source
    except DataError as e:
        st.error(str(e))
        return None, None


@st.cache_data(max_entries=32, show_spinner=False)
def cached_preview(source: DataSource, cfg_dict: dict) -> dict:
    cfg = TrainConfig.from_dict(cfg_dict)
    return preview(load_corpus(source, cfg.val_fraction, cfg.seed), cfg)


@st.cache_data(max_entries=16, show_spinner="Counting words…")
def cached_stats(source: DataSource, cfg_dict: dict) -> dict:
    cfg = TrainConfig.from_dict(cfg_dict)
    return data_stats(load_corpus(source, cfg.val_fraction, cfg.seed), cfg)


@st.cache_data(max_entries=32, show_spinner="Measuring this machine's speed…")
def cached_estimate(cfg_dict: dict, info: dict, num_classes: int) -> tuple[float, float]:
    """(estimated training seconds, measured tokens/s) of a config, measured once per config and data."""
    return estimate_seconds(TrainConfig.from_dict(cfg_dict), info, num_classes)
