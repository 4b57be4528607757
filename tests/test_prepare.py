from lyricsdash.config import TrainConfig
from lyricsdash.prepare import prepare


def test_the_vocabulary_comes_from_the_training_songs_only(corpus):
    cfg = TrainConfig(min_freq=1)
    changed = corpus.__class__(corpus.train, corpus.val.assign(text="zzvalword"), corpus.test.assign(text="zztest"),
                               corpus.labels)
    data = prepare(changed, cfg)
    assert "zzvalword" not in data.vocab.stoi and "zztest" not in data.vocab.stoi
    assert data.val.n_songs == len(corpus.val) and data.test.n_songs == len(corpus.test)
    assert list(data.train.labels) == [corpus.labels.index(a) for a in corpus.train["artist"]]


def test_windows_cover_each_song(corpus):
    data = prepare(corpus, TrainConfig(window=16, stride=8))
    assert set(data.train.song) == set(range(len(corpus.train)))
    assert max(data.train.lengths) == 16
