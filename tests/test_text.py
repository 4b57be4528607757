from lyricsdash.text import PAD_ID, UNK_ID, Vocab, tokenize


def test_tokenizer_keeps_inner_apostrophes_and_lowercases():
    assert tokenize("Don't STOP lovin' me, rock'n'roll!") == ["don't", "stop", "lovin", "me", "rock'n'roll"]


def test_tokenizer_handles_curly_quotes_accents_and_other_scripts():
    assert tokenize("I’m Ça va ÉTÉ") == ["i'm", "ça", "va", "été"]
    assert tokenize("Привет мир") == ["привет", "мир"]
    assert tokenize("...   !!!") == []


def test_vocab_orders_by_frequency_and_respects_min_freq_and_max_size():
    v = Vocab.build([["b", "a", "a", "c"], ["a", "b"]], min_freq=2)
    assert v.itos == ["<pad>", "<unk>", "a", "b"]
    assert v.encode(["a", "c", "zzz"]) == [2, UNK_ID, UNK_ID]
    assert len(Vocab.build([["a", "b", "c"]], max_size=3)) == 3


def test_vocab_json_round_trip():
    v = Vocab.build([["héllo", "wörld", "héllo"]])
    w = Vocab.from_json(v.to_json())
    assert w.itos == v.itos and w.stoi["héllo"] == v.stoi["héllo"]
    assert w.stoi["<pad>"] == PAD_ID
