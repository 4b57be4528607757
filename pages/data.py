"""Data: artists, song lengths, padding, vocabulary coverage."""

import streamlit as st

from lyricsdash import charts
from ui.common import page_setup
from ui.source import cached_stats, current_corpus
from ui.widgets import config_from_state

st.title("Data")
page_setup()
cfg = config_from_state()
corpus, source = current_corpus(cfg)
if corpus is None:
    st.stop()
stats = cached_stats(source, cfg.to_dict())
st.write(f"**{source.describe()}** · settings from the Train page: min_freq={cfg.min_freq}, "
         f"max_len={cfg.max_len}, length_strategy={cfg.length_strategy}, batch_size={cfg.batch_size}")
for note in corpus.notes:
    st.caption(f"ℹ️ {note}")

a, b = st.columns(2)
counts = stats["songs_per_artist"]
a.plotly_chart(charts.songs_per_artist_figure(counts), width="stretch", key="artists")
b.plotly_chart(charts.length_histogram(stats["words_per_song"], cfg.max_len), width="stretch", key="lengths")
m1, m2, m3 = st.columns(3)
m1.metric("Vocabulary (training songs)", f"{stats['vocab_size']:,} words")
m2.metric("Test words the vocabulary covers", f"{100 * stats['test_coverage']:.1f} %")
saved_pts = 100 * (stats["padding_unsorted"] - stats["padding_bucketed"])
m3.metric("Padding per batch", f"{100 * stats['padding_bucketed']:.1f} %",
          delta=f"{saved_pts:.1f} pts less than unsorted batches" if saved_pts >= 0.05 else None,
          delta_color="normal",
          help="Share of computed positions that are pads, with length-bucketed batches as trained. With windows "
               "nearly every sequence has the same length, so there is almost nothing to pad.")
st.dataframe(counts, width="stretch")
