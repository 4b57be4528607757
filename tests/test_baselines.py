import numpy as np
import pytest
import torch

from lyricsdash.baselines import BaselineModel, fit_baselines, subsample


def test_baselines_are_fitted_on_the_training_songs_and_scored_on_val_and_test(corpus):
    scores, model = fit_baselines(corpus, keep_model=True)
    assert set(scores) == {"majority", "tfidf_words", "tfidf_chars"}
    assert scores["majority"]["test_acc"] == pytest.approx(1 / 3)  # 10 test songs per artist
    assert scores["tfidf_words"]["test_acc"] > 0.8 and scores["tfidf_chars"]["test_acc"] > 0.8
    assert model.name in ("tfidf_words", "tfidf_chars") and model.classes == corpus.labels


def test_the_plain_data_model_predicts_what_sklearn_predicts(corpus, tmp_path):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from lyricsdash.baselines import vectorizer_args

    vec = TfidfVectorizer(**vectorizer_args("tfidf_chars"))
    clf = LogisticRegression(C=10, max_iter=1000).fit(vec.fit_transform(corpus.train["text"]), corpus.train["artist"])
    torch.save(BaselineModel.from_sklearn("tfidf_chars", vec, clf).to_blob(), tmp_path / "b.pt")
    loaded = BaselineModel.from_blob(torch.load(tmp_path / "b.pt", weights_only=True))
    texts = list(corpus.test["text"])
    assert np.allclose(loaded.predict_proba(texts), clf.predict_proba(vec.transform(texts)), atol=1e-5)


def test_a_run_of_other_tokens_gets_a_tfidf_on_its_own_tokens_beside_the_classic_two(corpus, tmp_path):
    scores, model = fit_baselines(corpus, keep_model=True, tokens="cased+punct")
    assert list(scores) == ["majority", "tfidf_words", "tfidf_tokens", "tfidf_chars"]
    assert scores["tfidf_words"]["label"] == "TF-IDF lower-case words + LR"
    assert scores["tfidf_tokens"]["label"] == "TF-IDF cased words + punctuation + LR"
    tokens_model = BaselineModel.from_sklearn(
        "tfidf_tokens", *_fit("tfidf_tokens", corpus, "cased+punct"), tokens="cased+punct")
    torch.save(tokens_model.to_blob(), tmp_path / "b.pt")
    loaded = BaselineModel.from_blob(torch.load(tmp_path / "b.pt", weights_only=True))
    vec, clf = _fit("tfidf_tokens", corpus, "cased+punct")
    texts = list(corpus.test["text"])
    assert loaded.tokens == "cased+punct" and loaded.label == "TF-IDF cased words + punctuation + LR"
    assert np.allclose(loaded.predict_proba(texts), clf.predict_proba(vec.transform(texts)), atol=1e-5)


def test_a_blob_saved_before_runs_chose_tokens_reads_lower_case_words(corpus):
    blob = BaselineModel.from_sklearn("tfidf_words", *_fit("tfidf_words", corpus)).to_blob()
    del blob["tokens"]
    assert BaselineModel.from_blob(blob).tokens == "words"


def _fit(name, corpus, tokens="words"):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from lyricsdash.baselines import vectorizer_args

    vec = TfidfVectorizer(**vectorizer_args(name, tokens))
    return vec, LogisticRegression(C=10, max_iter=1000).fit(vec.fit_transform(corpus.train["text"]),
                                                             corpus.train["artist"])


def test_two_artists_expand_to_one_row_per_class(corpus):
    two = corpus.__class__(*(df[df["artist"].isin(corpus.labels[:2])] for df in (corpus.train, corpus.val,
                                                                                    corpus.test)), corpus.labels[:2])
    _, model = fit_baselines(two, keep_model=True)
    p = model.predict_proba(list(two.test["text"]))
    assert p.shape == (len(two.test), 2) and np.allclose(p.sum(1), 1)
    assert (np.asarray(model.classes)[p.argmax(1)] == two.test["artist"].to_numpy()).mean() > 0.8


def test_large_training_sets_are_subsampled_per_artist(corpus):
    small = subsample(corpus.train, 30, seed=0)
    assert 27 <= len(small) <= 33 and set(small["artist"]) == set(corpus.train["artist"])
