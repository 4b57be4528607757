"""Data: artists, song lengths, padding, vocabulary coverage."""

import plotly.express as px
import streamlit as st

from lyricsdash import charts
from pages.common import cached_stats, config_from_state, current_corpus, describe_source, page_setup

st.title("Data")
page_setup()
cfg = config_from_state()
corpus, key = current_corpus(cfg)
if corpus is None:
    st.stop()
stats = cached_stats(key, cfg.to_dict())
st.write(f"**{describe_source(key)}** · settings from the Train page: min_freq={cfg.min_freq}, "
         f"max_len={cfg.max_len}, length_strategy={cfg.length_strategy}, batch_size={cfg.batch_size}")
for note in corpus.notes:
    st.caption(f"ℹ️ {note}")

a, b = st.columns(2)
counts = stats["songs_per_artist"]
a.plotly_chart(px.bar(counts, barmode="stack", title="Songs per artist", height=360), width="stretch",
               key="artists")
b.plotly_chart(charts.length_histogram(stats["words_per_song"], cfg.max_len), width="stretch", key="lengths")
m1, m2, m3 = st.columns(3)
m1.metric("Vocabulary (training songs)", f"{stats['vocab_size']:,} words")
m2.metric("Test words the vocabulary covers", f"{100 * stats['test_coverage']:.1f} %")
m3.metric("Padding per batch", f"{100 * stats['padding_bucketed']:.1f} %",
          delta=f"{100 * (stats['padding_bucketed'] - stats['padding_unsorted']):.1f} pts vs unsorted batches",
          delta_color="inverse",
          help="Share of computed positions that are pads, with length-bucketed batches as trained; unsorted "
               "batches padded to their longest sequence would waste the second figure.")
st.dataframe(counts, width="stretch")
