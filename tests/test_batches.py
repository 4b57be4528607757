import random

import numpy as np

from lyricsdash.batches import bucket_batches, sorted_batches, split_ids
from lyricsdash.text import UNK_ID


def test_windows_cover_the_whole_song_including_its_tail():
    ids = list(range(10, 110))  # 100 words
    parts = split_ids(ids, "windows", max_len=1000, window=30, stride=20)
    assert all(len(p) == 30 for p in parts)
    assert parts[0][0] == 10 and parts[-1][-1] == 109
    assert set(i for p in parts for i in p) == set(ids)


def test_whole_strategy_truncates_to_max_len_and_empty_song_becomes_unk():
    assert split_ids(list(range(50)), "whole", max_len=20, window=8, stride=4) == [list(range(20))]
    assert split_ids([], "windows", max_len=20, window=8, stride=4) == [[UNK_ID]]


def test_bucket_batches_use_every_index_once_and_group_similar_lengths():
    lengths = np.random.default_rng(0).integers(1, 500, 1000)
    batches = bucket_batches(lengths, 32, random.Random(0))
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(1000))
    spread = np.mean([lengths[b].max() - lengths[b].min() for b in batches])
    assert spread < 60  # unsorted batches of 32 would spread over ~470


def test_sorted_batches_stay_under_the_token_cap():
    lengths = np.random.default_rng(1).integers(1, 900, 300)
    batches = sorted_batches(lengths, max_tokens=4000)
    assert sorted(np.concatenate(batches).tolist()) == list(range(300))
    assert all(len(b) * lengths[b].max() <= 4000 or len(b) == 1 for b in batches)


def test_each_song_bag_holds_the_distinct_words_read_and_dropping_never_empties_one():
    import torch

    from lyricsdash.batches import bags_of, drop_from_bags, encode
    from lyricsdash.config import TrainConfig
    from lyricsdash.text import Vocab

    songs = [["a", "b", "a", "c"] * 10, ["c", "zz"], []]
    vocab = Vocab.build(songs[:1], min_freq=1)
    samples = encode(songs, [0, 1, 0], vocab, TrainConfig(window=8, stride=4, max_len=30, context="bag"))
    assert [b.tolist() for b in samples.bags] == [sorted(vocab.encode(["a", "b", "c"])),
                                                  sorted(vocab.encode(["c", "zz"])), [UNK_ID]]
    assert [b.tolist() for b in bags_of(samples, [0, len(samples.seqs) - 1])] == [samples.bags[0].tolist(), [UNK_ID]]
    torch.manual_seed(0)
    big = [torch.arange(2, 1002)]
    assert 850 < len(drop_from_bags(big, 0.1)[0]) < 950
    assert all(len(b) == 1 for b in drop_from_bags([torch.tensor([5])] * 20, 0.9))
    assert drop_from_bags(big, 0.0) is big


def test_with_characters_a_song_bag_holds_after_its_words_the_n_grams_of_every_word_read_even_unknown_ones():
    from lyricsdash.batches import encode
    from lyricsdash.config import TrainConfig
    from lyricsdash.text import Vocab, char_grams

    songs = [["Lovin", "you", ",", "lovin", "you"] * 4 + ["never-read"], ["zz", "!"]]
    vocab = Vocab.build(songs[:1], min_freq=1)
    cfg = TrainConfig(window=8, stride=4, max_len=20, char_buckets=1024)
    bags = [b.tolist() for b in encode(songs, [0, 1], vocab, cfg).bags]
    v = len(vocab)
    words = sorted(vocab.encode(["Lovin", "you", ",", "lovin"]))  # the window reads "never-read" not
    assert bags[0] == words + [v + g for g in char_grams(["lovin", "you"], 1024)]  # case folded, no marks
    assert bags[1] == [UNK_ID] + [v + g for g in char_grams(["zz"], 1024)]  # an unknown word keeps its n-grams
    assert len(bags[1]) > 1 and all(v <= g < v + 1024 for g in bags[1][1:])
