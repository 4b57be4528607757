import pytest

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


def test_the_three_token_kinds():
    text = "Lovin' you, baby... Don't GO!"
    assert tokenize(text, "words") == ["lovin", "you", "baby", "don't", "go"]
    assert tokenize(text, "words+punct") == ["lovin", "'", "you", ",", "baby", ".", ".", ".", "don't", "go", "!"]
    assert tokenize(text, "cased+punct") == ["Lovin", "'", "you", ",", "baby", ".", ".", ".", "Don't", "GO", "!"]


def test_every_kinds_spans_cover_its_tokens_in_the_normalized_text():
    from lyricsdash.text import TOKEN_KINDS, normalize, read

    text = "I’m here — “Ça va?” she said_ok"
    for kind in TOKEN_KINDS:
        spans, norm = read(text, kind).spans, normalize(text)
        got = [norm[a:b] for a, b in spans]
        assert got == tokenize(text, kind) or [w.casefold() for w in got] == tokenize(text, kind)


def test_plain_is_what_lyrics_sites_write_and_marks_are_single_punctuation_tokens():
    from lyricsdash.text import is_mark, plain

    assert plain("Hello, World! Don't — go.") == "hello world don't go"
    assert plain("Hello, World!\n\n...\nDon't — go.") == "hello world\ndon't go"  # lines stay lines
    assert [is_mark(t) for t in ["!", "—", "_", "a", "7", "don't", "<unk>"]] == [True] * 3 + [False] * 4


def test_repeated_lines_are_read_once_whatever_their_case_and_punctuation():
    text = "Hey Jude, don't\nNa na na\nhey jude DON'T!\n\n...\nNa na na\nthe end"
    assert tokenize(text, "cased+punct", "once") == ["Hey", "Jude", ",", "don't", "Na", "na", "na", ".", ".", ".",
                                                     "the", "end"]
    assert tokenize(text, "words", "once") == ["hey", "jude", "don't", "na", "na", "na", "the", "end"]
    assert len(tokenize(text, "cased+punct", "all")) == 19


def test_spans_of_lines_read_once_point_at_the_first_singing():
    from lyricsdash.text import normalize, read

    text = "la la\nLa, la!\nyou\nla la"
    spans, norm = read(text, "cased+punct", "once").spans, normalize(text)
    assert [norm[a:b] for a, b in spans] == tokenize(text, "cased+punct", "once") == ["la", "la", "you"]
    assert spans[-1] == (norm.index("you"), norm.index("you") + 3)


@pytest.mark.parametrize("repeats", ["all", "once"])
def test_a_reading_holds_exactly_the_tokens_tokenize_gives(repeats):
    from lyricsdash.text import TOKEN_KINDS, read

    text = "Straße, STRASSE!\nDon’t — stop\n\nstraße, strasse\nΣΊΣΥΦΟΣ ﬁne_day\nDon't — stop"
    for kind in TOKEN_KINDS:
        r = read(text, kind, repeats)
        assert r.tokens == tokenize(text, kind, repeats), kind
        assert r.spans is None or len(r.spans) == len(r.tokens)


def test_char_grams_are_the_char_baselines_n_grams_hashed_stably_case_folded_and_without_marks():
    import zlib

    from sklearn.feature_extraction.text import CountVectorizer

    from lyricsdash.text import char_grams

    analyzer = CountVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()
    expected = sorted({zlib.crc32(g.encode()) % 4096 for g in analyzer("lovin you a")})
    assert char_grams(["Lovin", "you", ",", "a", "YOU", "<unk>"], 4096) == expected
    assert char_grams([",", "!"], 4096) == [] and char_grams([], 4096) == []
    # pinned: a saved run reads the same buckets on any machine, in any later version
    assert char_grams(["you"], 4096) == [36, 294, 364, 388, 1641, 2070, 2164, 3209, 3972, 4037]
