import math

import numpy as np
import pytest
import torch

from lyricsdash.batches import encode
from lyricsdash.config import TrainConfig
from lyricsdash.engine import build_model
from lyricsdash.nb import init_embedding, nb_log_ratios
from lyricsdash.prepare import prepare
from lyricsdash.text import PAD_ID, Vocab, tokenize


def test_a_toy_corpus_by_hand():
    # words: 2 "a", 3 "b"; class 0 songs: "a a b", "a"; class 1 song: "b"
    vocab = Vocab(["<pad>", "<unk>", "a", "b"])
    samples = encode([["a", "a", "b"], ["a"], ["b"]], [0, 0, 1], vocab, TrainConfig(length_strategy="whole"))
    table = nb_log_ratios(samples, len(vocab), 2).numpy()  # (V, C)
    # presence counts (a word counts once per song): class 0: a=2, b=1 (total 3); class 1: b=1 (total 1); V=4
    p0 = np.log(np.array([0, 0, 2, 1]) + 1) - math.log(3 + 4)
    p1 = np.log(np.array([0, 0, 0, 1]) + 1) - math.log(1 + 4)
    mean = (p0 + p1) / 2
    expected = np.stack([p0 - mean, p1 - mean], axis=1)
    expected[PAD_ID] = 0.0
    assert np.allclose(table, expected, atol=1e-6)
    assert table[2, 0] > 0 > table[2, 1]  # "a" speaks for class 0


def test_the_pad_row_stays_zero_and_the_first_c_dimensions_are_written(corpus):
    cfg = TrainConfig(embed_dim=16, hidden_size=8, nb_init=2.0, min_freq=1)
    data = prepare(corpus, cfg)
    model = build_model(data, cfg)
    w = model.embedding.weight.detach()
    table = nb_log_ratios(data.train, len(data.vocab), len(data.labels))
    assert torch.equal(w[PAD_ID], torch.zeros(16))
    assert torch.allclose(w[:, :3], 2.0 * table)


def test_validation_and_test_songs_never_influence_it(corpus):
    cfg = TrainConfig(embed_dim=16, hidden_size=8, min_freq=1)
    changed = corpus.__class__(corpus.train, corpus.val.assign(text="harbor harbor disco"),
                               corpus.test.assign(text="desert desert sea"), corpus.labels)
    a, b = prepare(corpus, cfg), prepare(changed, cfg)
    assert torch.equal(nb_log_ratios(a.train, len(a.vocab), 3), nb_log_ratios(b.train, len(b.vocab), 3))
    first_c = [build_model(d, cfg).embedding.weight[:, :3] for d in (a, b)]  # the rest is random
    assert torch.equal(*first_c)


def test_more_artists_than_embedding_dimensions_fill_them_with_the_best_low_rank_approximation():
    gen = torch.Generator().manual_seed(0)
    table = torch.randn(40, 3, generator=gen) @ torch.randn(3, 12, generator=gen)  # rank 3, 12 "artists"
    table[PAD_ID] = 0
    emb = torch.nn.Embedding(40, 8, padding_idx=PAD_ID)
    init_embedding(emb, table, 1.0)
    w = emb.weight.detach()
    # the 8 coordinates keep every distance between words (the table has rank 3 <= 8), and pad stays zero
    dist = lambda x: torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist")  # noqa: E731
    assert torch.allclose(dist(w), dist(table), atol=1e-3)
    assert torch.equal(w[PAD_ID], torch.zeros(8))


@pytest.mark.parametrize("channel", ["input", "logits"])
def test_the_frozen_channel_is_a_buffer_not_a_parameter(corpus, channel):
    cfg = TrainConfig(embed_dim=16, hidden_size=8, nb_channel=channel, min_freq=1)
    data = prepare(corpus, cfg)
    model = build_model(data, cfg)
    assert model.nb_table.shape == (len(data.vocab), 3) and not model.nb_table.requires_grad
    assert "nb_table" in model.state_dict() and all(p is not model.nb_table for p in model.parameters())


def test_the_lr_table_is_centred_scaled_like_naive_bayes_and_favours_each_words_own_artist(corpus):
    from lyricsdash.nb import lr_log_ratios

    cfg = TrainConfig(embed_dim=16, hidden_size=8, min_freq=1, init_table="lr")
    data = prepare(corpus, cfg)
    lr = lr_log_ratios(data.train, len(data.vocab), len(data.labels))  # (V, C)
    nb = nb_log_ratios(data.train, len(data.vocab), len(data.labels))
    assert lr.shape == nb.shape and torch.equal(lr[PAD_ID], torch.zeros(3))
    assert torch.allclose(lr.sum(1), torch.zeros(len(data.vocab)), atol=1e-4)
    assert torch.allclose(lr.pow(2).mean().sqrt(), nb.pow(2).mean().sqrt(), rtol=1e-4)
    own = {}  # words that occur in one artist's training songs only, and in several of them
    for toks, artist in zip(corpus.train["text"].map(lambda t: set(tokenize(t, cfg.tokens))), corpus.train["artist"],
                            strict=True):
        for w in toks:
            own.setdefault(w, []).append(artist)
    solo = {w: a[0] for w, a in own.items() if len(set(a)) == 1 and len(a) >= 3 and w in data.vocab.stoi}
    assert len(solo) >= 3
    for w, artist in solo.items():
        assert int(lr[data.vocab.stoi[w]].argmax()) == data.labels.index(artist), w
    model = build_model(data, cfg)
    assert torch.allclose(model.embedding.weight.detach()[:, :3], lr)
