import torch

from lyricsdash.augment import PlainView
from lyricsdash.batches import collate
from lyricsdash.text import PAD_ID, UNK_ID, Vocab, plain, tokenize


def test_a_plain_batch_holds_the_ids_a_plain_paste_of_the_same_lyrics_gets():
    songs = ["Hello, World! hello you.", "Me -- and YOU, you!", ", . !"]
    vocab = Vocab.build([tokenize(s, "cased+punct") for s in songs[:2]] + [["world"]])
    tokens, lengths = collate([torch.tensor(vocab.encode(tokenize(s, "cased+punct"))) for s in songs])
    out, new_lengths = PlainView(vocab, "cased+punct")(tokens, lengths)
    expected = [vocab.encode(tokenize(plain(s), "cased+punct")) or [UNK_ID] for s in songs]
    assert new_lengths.tolist() == [len(e) for e in expected]
    for row, e in zip(out.tolist(), expected, strict=True):
        assert row[:len(e)] == e and set(row[len(e):]) <= {PAD_ID}
    assert vocab.stoi.get("me") is None and expected[1][0] == UNK_ID  # "Me" never seen lower-case: <unk>


def test_lower_case_tokens_only_lose_their_punctuation():
    vocab = Vocab.build([tokenize("a, b. c!", "words+punct")])
    tokens, lengths = collate([torch.tensor(vocab.encode(tokenize("a, b. c!", "words+punct")))])
    out, n = PlainView(vocab, "words+punct")(tokens, lengths)
    assert [vocab.itos[i] for i in out[0, : int(n[0])]] == ["a", "b", "c"]


def test_a_plain_bag_holds_the_distinct_plain_ids_of_the_song():
    vocab = Vocab.build([tokenize("The cat, the hat!", "cased+punct")])
    view = PlainView(vocab, "cased+punct")
    bag = torch.unique(torch.tensor(vocab.encode(tokenize("The cat, the hat!", "cased+punct"))))
    (out, only_marks) = view.bags([bag, torch.tensor(vocab.encode([",", "!"]))])
    assert out.tolist() == sorted(vocab.encode(["the", "cat", "hat"]))  # "The" and "the" are one plain word
    assert only_marks.tolist() == [UNK_ID]
    v = len(vocab)  # n-gram ids (from v on) are case-folded already: they stay, after the words
    (grams, marks_and_grams) = view.bags([torch.cat([bag, torch.tensor([v + 3, v + 9])]),
                                          torch.tensor(vocab.encode([",", "!"]) + [v])])
    assert grams.tolist() == sorted(vocab.encode(["the", "cat", "hat"])) + [v + 3, v + 9]
    assert marks_and_grams.tolist() == [UNK_ID, v]
