"""Home: what lyricsdash is, the current data, the latest run."""

import streamlit as st

from lyricsdash.report import report_text
from lyricsdash.runs import list_runs
from ui.common import page_setup, registry, runs_dir
from ui.source import current_corpus

st.title("🎤 lyricsdash")
page_setup()
st.markdown("Train an LSTM that tells **which artist wrote a song's lyrics**, watch its train and test error and "
            "accuracy grow step by step, then paste lyrics to classify them. Padding never reaches the model: "
            "each LSTM reads real words only, and every run is scored beside TF-IDF baselines fitted on the same "
            "songs, so you see at a glance whether the LSTM has earned its answer.")

corpus, source = current_corpus()
if corpus is not None:
    st.subheader("Current data")
    st.write(f"**{source.describe()}**: {len(corpus.labels)} artists ({', '.join(corpus.labels[:8])}"
             f"{', …' if len(corpus.labels) > 8 else ''}); {len(corpus.train)} training, {len(corpus.val)} "
             f"validation and {len(corpus.test)} test songs.")
    if source.kind == "demo":
        st.caption("This is a synthetic demo corpus with invented lyrics. Set LYRICSDASH_DATA_DIR or upload a CSV "
                   "(sidebar) to use real songs.")

st.subheader("Latest run")
if registry().running():
    st.info(f"Run {registry().current.run_id} is training now.")
runs, _ = list_runs(runs_dir())
if runs:
    st.code(report_text(runs[0]), language=None, wrap_lines=True)
else:
    st.write("No runs yet.")

st.subheader("Where next")
st.page_link("pages/data.py", label="Data: artists, song lengths, padding, vocabulary", icon="📚")
st.page_link("pages/train.py", label="Train a model and watch it learn", icon="🏋️")
st.page_link("pages/classify.py", label="Classify lyrics", icon="🔎")
st.page_link("pages/runs.py", label="Compare runs", icon="🗂️")
