"""Why this artist: a song's words shaded by their share of the answer (Classify, and the test-set explorer)."""

from __future__ import annotations

import streamlit as st

from lyricsdash.explain import Explanation
from lyricsdash.highlight import legend_html, lyrics_html
from lyricsdash.runs import RunFolder
from ui.common import predictor

AVERAGE = "the other artists (on average)"


@st.cache_data(max_entries=64, show_spinner=False)
def explanation(run_dir: str, mtime: float | None, text: str, artist: str, against: str | None) -> Explanation:
    """Cached per run, checkpoint time, text and choice: a rerun of the page recomputes nothing."""
    return predictor(run_dir, mtime).explain(text, artist, against)


def why_panel(folder: RunFolder, text: str, ranked: list[str], key: str) -> None:
    """Explain ``text`` with the run's model: for the first of ``ranked`` (the predicted artist) or a chosen
    one, against the others or one of them."""
    st.markdown("#### Why this artist?")
    if st.session_state.get(f"{key}_text") != hash(text):  # a new song: the question starts from its answer
        st.session_state[f"{key}_text"] = hash(text)
        st.session_state[f"{key}_artist"], st.session_state[f"{key}_against"] = ranked[0], AVERAGE
    left, right = st.columns(2)
    artist = left.selectbox("Explain the score of", ranked, key=f"{key}_artist")
    against = right.selectbox("rather than", [AVERAGE] + [a for a in ranked if a != artist], key=f"{key}_against")
    with st.spinner("Explaining (Integrated Gradients)…"):
        e = explanation(str(folder.path), folder.checkpoint_time(), text, artist, None if against == AVERAGE else
                        against)
    st.html(legend_html(artist, None if against == AVERAGE else against))
    st.html(lyrics_html(e))
    pro, con = e.top_words(10)
    a, b = st.columns(2)
    a.markdown(f"**Words for {artist}**  \n" + (", ".join(f"{w} {v:+.2f}" for w, v in pro) or "none"))
    b.markdown("**Words against**  \n" + (", ".join(f"{w} {v:+.2f}" for w, v in con) or "none"))
    st.caption(f"Score: log p({artist}) − {'mean log p' if against == AVERAGE else f'log p({against})'} = "
               f"{e.score:+.2f} nats; with every word unknown it would be {e.baseline_score:+.2f}. The words' "
               f"contributions add up to the difference, {e.score - e.baseline_score:+.2f}, within {e.gap:.4f} "
               f"nats (Integrated Gradients from the all-unknown song, {e.gradient_points:,} gradient "
               "evaluations). " + ("Unknown words count through their spelling alone (the character n-grams "
                                   "the model reads)." if e.spelled else "Unknown words contribute 0."))
