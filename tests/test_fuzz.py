"""Property-based fuzzing: every input ends in a result or one clear error, never an unhandled exception."""

import csv
import io

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lyricsdash.config import ConfigError, TrainConfig, field_names, parse_overrides
from lyricsdash.data import DataError, make_corpus, read_songs
from lyricsdash.predictor import PredictError, Predictor
from lyricsdash.text import tokenize

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# text with emoji, right-to-left scripts, combining marks, quotes, CR/LF, commas and NULs
WEIRD = st.lists(st.one_of(
    st.characters(codec="utf-8", exclude_categories=["Cs"]),
    st.sampled_from(list("\"',\n\r\t ;") + ["😀", "مرحبا", "שלום", "é", "\u0301", "\ufeff", "\x00", "’"])),
    max_size=60).map("".join)
HEADERS = st.lists(st.sampled_from(["artist", "Artist", "song", "Title", "text", "lyrics", "link", "", "x",
                                    "artist", "text"]), min_size=0, max_size=5)


def _csv(header, rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    if header:
        w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _loads_or_explains(data: bytes):
    try:
        df, notes = read_songs(data, "fuzz.csv")
    except DataError as e:
        assert str(e) and "\n" not in str(e)
        return None
    assert list(df.columns) == ["artist", "song", "text"] and len(df) > 0
    assert (df["text"].str.strip() != "").all() and (df["artist"] != "").all()
    return df


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes(data):
    _loads_or_explains(data)


@FUZZ
@given(st.sampled_from(["utf-8", "utf-16", "latin-1", "cp1252", "utf-8-sig"]), st.lists(WEIRD, max_size=6))
def test_wrong_encodings_and_boms(encoding, cells):
    text = "artist,song,text\n" + "".join(f'A{i},s,"{c.replace(chr(34), "")}"\n' for i, c in enumerate(cells))
    _loads_or_explains(text.encode(encoding, errors="replace"))


@FUZZ
@given(HEADERS, st.lists(st.lists(WEIRD, min_size=0, max_size=5), max_size=8))
@example(header=["artist", "text"], rows=[["", "", ""]])  # found by hypothesis: a row longer than the header
def test_structured_csvs_with_missing_duplicated_headers_and_empty_cells(header, rows):
    _loads_or_explains(_csv(header, rows))


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C", "😀 band", "فرقة"]), WEIRD), min_size=1, max_size=12),
       st.integers(0, 5))
def test_corpus_building_from_tiny_sets_with_one_song_artists(rows, seed):
    df = pd.DataFrame([(a, f"s{i}", t) for i, (a, t) in enumerate(rows)], columns=["artist", "song", "text"])
    data = _csv(["artist", "song", "text"], df.values.tolist())
    try:
        c = make_corpus(data, seed=seed)
    except DataError as e:
        assert str(e)
        return
    assert len(c.labels) >= 2 and len(c.train) >= len(c.labels) - 0
    assert set(c.test["artist"]) <= set(c.labels)


def test_a_hundred_thousand_character_lyric_loads():
    long = "la " * 70_000  # 210,000 characters, beyond the csv module's default field limit
    df, _ = read_songs(_csv(["artist", "song", "text"], [["A", "x", long], ["B", "y", "short"]]), "big.csv")
    assert len(df.loc[0, "text"]) == len(long)


@FUZZ
@given(WEIRD)
def test_tokenizer_never_fails_and_is_stable(text):
    tokens = tokenize(text)
    assert all(t and t == t.casefold() and " " not in t for t in tokens)
    assert tokenize(" ".join(tokens)) == tokens


@FUZZ
@given(st.dictionaries(st.sampled_from([*field_names(), "bogus", "Lr", ""]),
                       st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=True), st.booleans(), WEIRD,
                                 st.none()), max_size=5))
def test_config_values_of_any_type(values):
    try:
        cfg = TrainConfig.from_dict(values)
    except ConfigError as e:
        assert str(e)
        return
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


@FUZZ
@given(st.lists(WEIRD, max_size=4))
def test_set_key_value_strings(pairs):
    try:
        TrainConfig.from_dict(parse_overrides(pairs))
    except ConfigError as e:
        assert str(e)


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    from lyricsdash.demo import demo_corpus
    from lyricsdash.engine import train
    from lyricsdash.recorder import RunRecorder

    rec = RunRecorder(tmp_path_factory.mktemp("runs"))
    train(demo_corpus(), TrainConfig(embed_dim=8, hidden_size=8, epochs=1, min_freq=1), [rec])
    return Predictor.from_run(rec.dir)


@FUZZ
@given(text=WEIRD)
def test_pasted_text_of_any_kind(predictor, text):
    try:
        p = predictor.predict(text)
    except PredictError as e:
        assert "no text" in str(e)
        assert not text.strip()
        return
    assert abs(sum(p.probabilities.values()) - 1) < 1e-4
    assert p.unknown_words <= p.words
