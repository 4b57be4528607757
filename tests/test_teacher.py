import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import CountVectorizer

from lyricsdash import teacher
from lyricsdash.batches import encode, split_tokens
from lyricsdash.config import TrainConfig
from lyricsdash.prepare import class_ids
from lyricsdash.teacher import soft_targets, teach
from lyricsdash.text import Vocab, tokenize

CFG = TrainConfig(window=16, stride=8, teacher="chars")


def _songs(df: pd.DataFrame, cfg: TrainConfig = CFG) -> list[list[str]]:
    return [tokenize(t, cfg.tokens, cfg.repeats) for t in df["text"]]


def test_each_training_window_gets_out_of_fold_probabilities_aligned_with_the_encoded_windows(corpus):
    songs, y = _songs(corpus.train), class_ids(corpus.train["artist"], corpus.labels)
    probs = teach(songs, y, len(corpus.labels), CFG)
    samples = encode(songs, y, Vocab.build(songs), CFG)
    assert probs.shape == (len(samples.seqs), len(corpus.labels))  # row i teaches the encoded sequence i
    assert np.allclose(probs.sum(1), 1.0)
    assert (probs.argmax(1) == samples.labels[samples.song]).mean() > 0.7  # demo artists are easy to tell apart
    assert probs.max(1).mean() < 0.99  # held out: not the near one-hot of a model that saw the song


def test_the_windows_of_one_song_get_their_own_targets(corpus):
    """A song whose first half is one artist's and second half another's: its first window leans to the first."""
    df = corpus.train.reset_index(drop=True)
    a, b = corpus.labels[0], corpus.labels[1]
    i, j = df.index[df["artist"] == a][0], df.index[df["artist"] == b][0]
    df.loc[i, "text"] = df.loc[i, "text"] + "\n" + df.loc[j, "text"]
    songs, y = _songs(df), class_ids(df["artist"], corpus.labels)
    probs = teach(songs, y, len(corpus.labels), CFG)
    first = sum(len(split_tokens(s, CFG)) for s in songs[:i])
    rows = probs[first:first + len(split_tokens(songs[i], CFG))]
    assert rows[0, 0] > rows[-1, 0] and rows[-1, 1] > rows[0, 1]


def test_a_song_never_teaches_its_own_windows(corpus):
    from sklearn.model_selection import StratifiedKFold

    y = class_ids(corpus.train["artist"], corpus.labels)
    songs = _songs(corpus.train)
    changed = [["completely", "different", "words", "here"], *songs[1:]]
    a, b = (teach(s, y, len(corpus.labels), CFG) for s in (songs, changed))
    held = next(h for _, h in StratifiedKFold(teacher.FOLDS, shuffle=True, random_state=0).split(y, y) if 0 in h)

    def mates(of):  # the rows of the windows of song 0's fold mates
        rows = np.cumsum([0] + [len(split_tokens(s, CFG)) for s in of])
        return np.concatenate([np.arange(rows[i], rows[i + 1]) for i in held if i != 0])

    assert not np.allclose(a[0], b[0])  # song 0's own windows changed ...
    assert np.allclose(a[mates(songs)], b[mates(changed)])  # ... its mates were taught by a model without it


def test_summed_token_features_are_the_char_ngrams_of_the_joined_window():
    window = ["Don't", "stop", ",", "don't", "STOP", "now", "!"]
    index = {t: i for i, t in enumerate(dict.fromkeys(window))}
    counts = (teacher._bag([window], index) @ teacher._features(list(index), "chars")).toarray()[0]
    names = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5)).fit(list(index)).get_feature_names_out()
    direct = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5)).fit([" ".join(window)])
    expected = direct.transform([" ".join(window)]).toarray()[0]
    assert dict(zip(names, counts, strict=True)) == {n: c for n, c in
                                                     zip(direct.get_feature_names_out(), expected, strict=True)}


def test_an_artist_with_one_song_gets_the_uniform_guess(corpus):
    lone = corpus.labels[0]
    train = pd.concat([corpus.train[corpus.train["artist"] != lone],
                       corpus.train[corpus.train["artist"] == lone].head(1)]).reset_index(drop=True)
    probs = teach(_songs(train), class_ids(train["artist"], corpus.labels), len(corpus.labels), CFG)
    assert np.allclose(probs, 1 / len(corpus.labels))


def test_auto_distils_from_chars_only_with_many_artists():
    from lyricsdash.config import AUTO_TEACHER_MIN_ARTISTS

    auto = TrainConfig()
    assert auto.teacher == "auto" and auto.distill > 0
    assert auto.teacher_for(3) is None and auto.teacher_for(AUTO_TEACHER_MIN_ARTISTS) == "chars"
    assert auto.replace(teacher="tokens").teacher_for(3) == "tokens"
    assert auto.replace(teacher="chars", distill=0.0).teacher_for(20) is None
    assert teach([["a"]], [0], 3, auto) is None


def test_the_tokens_teacher_reads_the_tokens_as_given(corpus):
    songs, y = _songs(corpus.train), class_ids(corpus.train["artist"], corpus.labels)
    probs = soft_targets(songs, [[s] for s in songs], y, len(corpus.labels), "tokens")
    assert probs.shape == (len(songs), len(corpus.labels)) and np.allclose(probs.sum(1), 1.0)


def test_songs_that_share_no_feature_get_the_uniform_guess():
    songs = [[f"w{i}"] for i in range(4)]  # every song its own word: no n-gram lies in two songs
    probs = soft_targets(songs, [[s] for s in songs], [0, 0, 1, 1], 2, "tokens")
    assert np.allclose(probs, 0.5)
