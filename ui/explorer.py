"""The test-set explorer, shared by the Train page (after a run) and the Runs page: which test songs a run's
kept weights get wrong, per-artist precision, recall and F1 beside the confusion matrix, and why the model
answered as it did for a chosen song."""

from __future__ import annotations

import streamlit as st

from lyricsdash import charts
from lyricsdash.data import DataError
from lyricsdash.runs import RunFolder, Summary
from lyricsdash.stats import per_artist_scores
from ui.common import pct
from ui.source import current_source, load_corpus
from ui.why import why_panel


def test_explorer(folder: RunFolder, summary: Summary, key: str) -> None:
    table = folder.test_predictions()
    labels = summary.labels
    if table is None or table.empty or not labels:
        st.caption("No per-song test predictions for this run (runs from before the explorer, or unfinished).")
        return
    left, right = st.columns([3, 2])
    left.plotly_chart(charts.confusion_figure(summary.confusion_matrix, labels), width="stretch",
                      key=f"{key}_confusion")
    right.markdown(f"**Per artist** · {pct(table['correct'].mean())} of {len(table)} test songs right")
    right.dataframe(per_artist_scores(table, labels), width="stretch",
                    column_config={c: st.column_config.NumberColumn(format="%.2f") for c in ("precision", "recall",
                                                                                           "F1")})
    with st.expander("Calibration: how sure against how often right"):
        st.plotly_chart(charts.reliability_figure(table, labels), width="stretch", key=f"{key}_reliability")
        if summary.temperature is not None:
            st.caption(f"Song scores are divided by a temperature of {summary.temperature:.2f}, fitted on the "
                       "validation songs after training; it changes how sure the model says it is, never its answer.")
    cells = {"all test songs": None, "wrong only": "wrong"}
    for t in labels:
        for p in labels:
            n = int(((table["artist"] == t) & (table["predicted"] == p)).sum())
            if n and t != p:
                cells[f"{t} taken for {p} ({n})"] = (t, p)
    show = st.selectbox("Show", list(cells), key=f"{key}_cell",
                        help="A cell of the confusion matrix: the songs of one artist taken for another.")
    part = table
    if cells[show] == "wrong":
        part = table[~table["correct"]]
    elif cells[show]:
        part = table[(table["artist"] == cells[show][0]) & (table["predicted"] == cells[show][1])]
    event = st.dataframe(part[["song", "artist", "predicted", "p_true", "correct"]], hide_index=True,
                         width="stretch", on_select="rerun", selection_mode="single-row", key=f"{key}_songs",
                         column_config={"p_true": st.column_config.NumberColumn("probability of the true artist",
                                                                                 format="percent")})
    rows = event.selection.rows if event and event.selection else []
    if rows:
        song = part.iloc[rows[0]]
        probs = {a: float(song[f"p({a})"]) for a in labels}
        st.plotly_chart(charts.probabilities_figure(dict(sorted(probs.items(), key=lambda kv: -kv[1]))),
                        width="stretch", key=f"{key}_song_probs")
        st.caption(f"“{song['song']}” by {song['artist']}: the model gives {pct(song['p_true'])} to the true artist.")
        text = _lyrics(summary, int(part.index[rows[0]]), song)
        if text is None:
            st.caption("To see why, choose this run's data in the sidebar: run folders keep no lyrics.")
        else:
            why_panel(folder, text, sorted(probs, key=probs.get, reverse=True), f"{key}_why")


def _lyrics(summary: Summary, i: int, song) -> str | None:
    """The lyrics of test song ``i`` from the data chosen in the sidebar, if that is the run's data."""
    source, cfg = current_source(), summary.config
    if source is None:
        return None
    try:
        test = load_corpus(source, cfg.get("val_fraction", 0.1), cfg.get("seed", 0)).test
    except DataError:
        return None
    if i >= len(test) or (str(test["song"].iloc[i]), test["artist"].iloc[i]) != (song["song"], song["artist"]):
        return None
    return str(test["text"].iloc[i])
