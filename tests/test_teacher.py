import numpy as np
import pandas as pd

from lyricsdash.teacher import soft_targets


def test_soft_targets_are_out_of_fold_probabilities_of_the_training_songs(corpus):
    probs = soft_targets(corpus.train, corpus.labels, "cased+punct")
    assert probs.shape == (len(corpus.train), len(corpus.labels))
    assert np.allclose(probs.sum(1), 1.0)
    truth = np.array([corpus.labels.index(a) for a in corpus.train["artist"]])
    assert (probs.argmax(1) == truth).mean() > 0.8  # the demo artists are easy to tell apart
    assert probs.max(1).mean() < 0.99  # held out: not the near one-hot of a model that saw the song


def test_the_songs_held_out_with_a_song_never_depend_on_its_lyrics(corpus):
    from sklearn.model_selection import StratifiedKFold

    from lyricsdash.teacher import FOLDS

    changed = corpus.train.copy()
    changed.loc[changed.index[0], "text"] = "completely different words here"
    a = soft_targets(corpus.train, corpus.labels, "words")
    b = soft_targets(changed, corpus.labels, "words")
    y = [corpus.labels.index(x) for x in corpus.train["artist"]]
    held = next(h for _, h in StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(y, y) if 0 in h)
    mates = [i for i in held if i != 0]
    assert not np.allclose(a[0], b[0])
    assert np.allclose(a[mates], b[mates])  # their model was fitted on the other folds, without song 0


def test_an_artist_with_one_song_gets_the_uniform_guess(corpus):
    lone = corpus.labels[0]
    train = pd.concat([corpus.train[corpus.train["artist"] != lone],
                       corpus.train[corpus.train["artist"] == lone].head(1)]).reset_index(drop=True)
    assert np.allclose(soft_targets(train, corpus.labels, "words"), 1 / len(corpus.labels))
