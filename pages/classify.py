"""Classify: paste lyrics (or upload a CSV of songs), see which artist they sound like, and what the run's best
baseline says."""

import streamlit as st

from lyricsdash import charts
from lyricsdash.data import DataError, read_lyrics
from lyricsdash.predictor import MAX_CHARS, PredictError, score_table
from lyricsdash.runs import RunError, RunFolder, best_run, list_runs
from ui.common import page_setup, pct, predictor, runs_dir
from ui.source import UPLOAD_MB
from ui.why import why_panel

st.title("Classify lyrics")
page_setup()
runs, _ = list_runs(runs_dir())
usable = [r for r in runs if r.checkpoint]
if not usable:
    st.info("No trained model yet. Train one first.")
    st.page_link("pages/train.py", label="Go to Train", icon="🏋️")
    st.stop()

by_id = {r.run_id: r for r in usable}
if st.session_state.get("ui_classify_run") not in by_id:  # first visit, or the chosen run was deleted
    st.session_state.pop("ui_classify_run", None)
choice = st.selectbox(
    "Model (run)", list(by_id), index=list(by_id).index(best_run(usable).run_id), key="ui_classify_run",
    help="First shown: the finished run whose kept weights scored best on its validation songs (the newest among "
    "equals); the test set never chooses.",
    format_func=lambda rid: f"{rid} · {by_id[rid].status} · test {pct(by_id[rid].test_accuracy)} · {by_id[rid].data}")
folder = RunFolder(runs_dir() / choice)


def paste_one() -> None:
    text = st.text_area("Lyrics", height=220, key="ui_lyrics", placeholder="Paste the lyrics of a song here…")
    if st.button("Classify", type="primary", key="classify"):
        st.session_state["ui_classified"] = text  # the answer stays while its explanation's options change
        if not text.strip():
            st.warning("There is no text to classify yet: paste the lyrics of a song above.")
    if not text.strip() or st.session_state.get("ui_classified") != text:
        if st.session_state.get("ui_classified"):
            st.caption("The lyrics changed: press Classify to classify them.")
        return
    if len(text) > MAX_CHARS:
        st.info(f"That paste holds {len(text):,} characters; only the first {MAX_CHARS:,} are read.")
    try:
        pred = predictor(str(folder.path), folder.checkpoint_time()).predict(text)
    except (RunError, PredictError, OSError) as e:
        st.error(str(e))
        return
    st.subheader(f"Sounds most like **{pred.artist}** ({pct(pred.probabilities[pred.artist])})")
    second = pred.second_opinion
    if second:
        agree = "agrees" if second["artist"] == pred.artist else "disagrees"
        base = by_id[choice].baselines.values()
        scores = " · ".join(f"{b['label']} {pct(b.get('test_acc'))}" for b in base)
        st.markdown(f"Second opinion, **{second['method']}**: {second['artist']} ({pct(second['probability'])}), "
                    f"{agree} with the LSTM.")
        st.caption(f"Test accuracy on the same songs: LSTM {pct(by_id[choice].test_accuracy)} · {scores}.")
    st.plotly_chart(charts.probabilities_figure(pred.probabilities), width="stretch", key="probs")
    unknown = (f"{pred.unknown_words:,} of them ({pred.unknown_distinct:,} different) the model never saw in training"
               + (f": {', '.join(pred.unknown_examples)}" if pred.unknown_examples else "")
               + (" …" if pred.unknown_distinct > len(pred.unknown_examples) else ""))
    st.caption(f"{pred.words:,} words read; {unknown}.")
    if pred.on_spelling_alone:
        st.warning("None of these words were in the training songs: the answer rests on their spelling alone (the "
                   "character n-grams the model reads beside the words), a weak signal.")
    elif pred.no_known_words:
        st.warning("None of these words were in the training songs: the model read only its unknown-word token, so "
                   "this answer says nothing about the lyrics.")
    if pred.truncated:
        st.info("The text is longer than the model reads; only its first words were used (max_len in the run's "
                "config).")
    why_panel(folder, text, list(pred.probabilities), "why")


def upload_many() -> None:
    f = st.file_uploader(f"A CSV of lyrics (a 'text' or 'lyrics' column; 'song' and 'artist' optional; up to "
                         f"{UPLOAD_MB} MB)", type=["csv"], key="ui_classify_csv")
    if f is None:
        return
    try:
        songs, notes = read_lyrics(f.getvalue(), f.name)
        with st.spinner(f"Classifying {len(songs):,} songs…"):
            table = predictor(str(folder.path), folder.checkpoint_time()).classify_frame(songs)
    except (DataError, RunError, PredictError, OSError) as e:
        st.error(str(e))
        return
    for note in notes:
        st.warning(note)
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="percent") for c in table.columns
                                if c == "probability" or c.startswith("p(")})
    st.download_button("Download predictions (CSV)", table.to_csv(index=False), f"{choice}-predictions.csv",
                       "text/csv", key="dl_predictions")
    score = score_table(table, by_id[choice].labels)
    if score is None:
        return
    st.subheader(f"Accuracy on the {score.known:,} songs by artists the model knows: {pct(score.accuracy)}")
    if score.others:
        st.caption(f"{score.others:,} song(s) by artists the model was not trained on are left out of the accuracy.")
    st.plotly_chart(charts.confusion_figure(score.confusion.to_numpy().tolist(), list(score.confusion.index),
                                            title="Confusion matrix of the uploaded songs"),
                    width="stretch", key="many_confusion")

one, many = st.tabs(["Paste lyrics", "Classify a CSV of songs"])
with one:
    paste_one()
with many:
    upload_many()
