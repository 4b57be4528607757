import pytest

from lyricsdash.engine import train
from lyricsdash.predictor import PredictError, Predictor
from lyricsdash.recorder import RunRecorder
from lyricsdash.runs import RunFolder


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from lyricsdash.config import TrainConfig
    from lyricsdash.demo import demo_corpus

    corpus = demo_corpus()
    rec = RunRecorder(tmp_path_factory.mktemp("runs"))
    train(corpus, TrainConfig(embed_dim=16, hidden_size=16, epochs=4, lr=0.02, batch_size=16, min_freq=1), [rec])
    return rec.dir, corpus


def test_predictor_reproduces_the_test_accuracy_of_the_run(run):
    d, corpus = run
    preds = Predictor.from_run(d).predict_many(list(corpus.test["text"]))
    acc = sum(p.artist == a for p, a in zip(preds, corpus.test["artist"], strict=True)) / len(preds)
    assert acc == pytest.approx(RunFolder(d).summary().test_accuracy)


def test_probabilities_are_sorted_and_sum_to_one(run):
    p = Predictor.from_run(run[0]).predict("sea wave harbor sail anchor tide night love")
    values = list(p.probabilities.values())
    assert values == sorted(values, reverse=True) and sum(values) == pytest.approx(1.0, abs=1e-5)
    assert p.artist == "Demo · Harbor Lights" and p.unknown_words == 0


@pytest.mark.parametrize("text", ["", "   \n\t", None])
def test_empty_text_is_a_clear_error(run, text):
    with pytest.raises(PredictError, match="no text"):
        Predictor.from_run(run[0]).predict(text)


def test_text_without_known_words_is_flagged(run):
    p = Predictor.from_run(run[0]).predict("qwzx plorf snarkle")
    assert p.no_known_words and p.unknown_words == 3 and p.unknown_examples == ["plorf", "qwzx", "snarkle"]
    assert p.on_spelling_alone  # the default model still reads their character n-grams
    marks = Predictor.from_run(run[0]).predict("?!? ...")
    assert marks.no_known_words and not marks.on_spelling_alone


def test_a_megabyte_of_text_is_handled_and_marked_truncated(run):
    p = Predictor.from_run(run[0]).predict("desert highway boots " * 80_000)  # ~1.7 MB
    assert p.truncated and p.words == 1000 and p.artist == "Demo · Dust Road Prophets"


def test_the_second_opinion_is_the_runs_best_baseline_loaded_as_plain_data(run):
    d, corpus = run
    p = Predictor.from_run(d).predict("dance floor groove mirror ball glitter disco")
    assert p.second_opinion["artist"] == "Demo · Velvet Disco Club"
    assert p.second_opinion["method"].startswith("TF-IDF") and 0.0 < p.second_opinion["probability"] <= 1.0
    assert p.to_dict()["second_opinion"] == p.second_opinion


def test_repeated_unknown_words_are_counted_and_listed_once(run):
    p = Predictor.from_run(run[0]).predict("qwzx qwzx qwzx sea")
    assert (p.unknown_words, p.unknown_distinct, p.unknown_examples) == (3, 1, ["qwzx"])


def test_a_table_of_songs_is_classified_row_by_row(run):
    import pandas as pd

    d, corpus = run
    songs = corpus.test.assign(artist=[*corpus.test["artist"][:-1], ""])
    table = Predictor.from_run(d).classify_frame(songs, chunk=7)  # several chunks
    assert len(table) == len(songs) and table["song"].tolist() == songs["song"].tolist()
    assert table["correct"].iloc[-1] is None and pd.isna(table["artist"].iloc[-1])
    probs = table[[c for c in table.columns if c.startswith("p(")]]
    assert ((probs.sum(axis=1) - 1).abs() < 1e-5).all()


def test_classifying_never_imports_the_training_loop_and_the_package_never_imports_streamlit():
    import subprocess
    import sys

    from conftest import ROOT

    code = ("import sys, lyricsdash.predictor; assert 'lyricsdash.engine' not in sys.modules; "
            "import lyricsdash.cli, lyricsdash.jobs, lyricsdash.stats; assert 'streamlit' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
