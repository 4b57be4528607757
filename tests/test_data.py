import pandas as pd
import pytest
from conftest import fake_rows, write_csv

from lyricsdash.data import (
    DATA_ENV,
    DataError,
    assignment_files,
    filter_artists,
    make_corpus,
    read_songs,
    stratified_split,
)
from lyricsdash.demo import DEMO_LABEL, demo_corpus

COLS = ["artist", "song", "text"]


def test_reads_the_kaggle_format_ignoring_extra_columns(tmp_path):
    p = write_csv(tmp_path / "s.csv", [(a, s, "/a/b", t) for a, s, t in fake_rows()],
                  ("artist", "song", "link", "text"))
    df, notes = read_songs(p)
    assert list(df.columns) == ["artist", "song", "text"] and len(df) == 18 and notes == []


def test_accepts_column_aliases_in_any_case(tmp_path):
    p = write_csv(tmp_path / "s.csv", fake_rows(), ("Artist", "Title", "Lyric"))
    df, _ = read_songs(p)
    assert set(df["artist"]) == {"A", "B", "C"}


def test_song_column_is_optional(tmp_path):
    p = write_csv(tmp_path / "s.csv", [(a, t) for a, _, t in fake_rows()], ("artist", "lyrics"))
    df, _ = read_songs(p)
    assert df["song"].iloc[0] == "song 1"


def test_byte_order_mark_and_quoted_newlines(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes('\ufeffartist,song,text\nA,x,"line one  \nline two"\nB,y,"words here"\n'.encode())
    df, _ = read_songs(p)
    assert df["text"].iloc[0] == "line one  \nline two"


@pytest.mark.parametrize("content,msg", [
    (b"", "is empty"),
    (b"   \n", "is empty"),
    (b"artist,song\nA,x\n", "no 'text' column.*accepted names"),
    (b"singer_name,lyrics\nA,x\n", "no 'artist' column"),
    (b"artist,song,text\n", "no song with both"),
    (b"artist,song,text\nA,x,\"unclosed\n", "not a readable CSV|no song"),
    ("artist,song,text\nA,x,caf\u00e9\n".encode("latin-1"), "not UTF-8.*line 2.*iconv"),
])
def test_bad_files_give_one_clear_error_naming_the_file(tmp_path, content, msg):
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    with pytest.raises(DataError, match=msg) as e:
        read_songs(p)
    assert "bad.csv" in str(e.value) and "\n" not in str(e.value)


def test_missing_file_names_the_setting(tmp_path):
    with pytest.raises(DataError, match=DATA_ENV):
        read_songs(tmp_path / "nope.csv")


def test_empty_lyrics_are_dropped_and_counted(tmp_path):
    rows = fake_rows() + [("A", "empty", "   "), ("", "no artist", "words")]
    df, notes = read_songs(write_csv(tmp_path / "s.csv", rows))
    assert len(df) == 18 and "dropped 2 row(s)" in notes[0]


def test_fewer_than_two_artists_is_an_error(tmp_path):
    p = write_csv(tmp_path / "one.csv", fake_rows(artists=("A",)))
    with pytest.raises(DataError, match="at least 2 artists"):
        make_corpus(p)


def test_test_artist_absent_from_training_is_an_error(tmp_path):
    train = write_csv(tmp_path / "train.csv", fake_rows(artists=("A", "B")))
    test = write_csv(tmp_path / "test.csv", fake_rows(artists=("A", "Z"), per_artist=2))
    with pytest.raises(DataError, match="test.csv.*absent from the training data: Z"):
        make_corpus(train, test)


def test_duplicates_between_train_and_test_are_reported(tmp_path):
    rows = fake_rows()
    train = write_csv(tmp_path / "train.csv", rows)
    test = write_csv(tmp_path / "test.csv", rows[:2] + fake_rows(seed=9)[:1])
    c = make_corpus(train, test)
    assert any(n.startswith("2 song(s) appear in both") for n in c.notes)


def test_single_file_is_split_stratified_and_seeded(tmp_path):
    p = write_csv(tmp_path / "s.csv", fake_rows(per_artist=20))
    a, b = make_corpus(p, seed=3), make_corpus(p, seed=3)
    assert a.test.equals(b.test) and len(a.test) == 6 and a.test["artist"].value_counts().tolist() == [2, 2, 2]
    assert len(a.val) == 6 and set(a.val["song"]).isdisjoint(a.train["song"])
    assert not make_corpus(p, seed=4).test.equals(a.test)


def test_split_keeps_one_song_of_every_artist_in_training():
    df = pd.DataFrame(fake_rows(per_artist=1), columns=COLS)
    keep, held = stratified_split(df, 0.5, 0)
    assert len(keep) == 3 and held.empty


def test_every_artist_with_two_songs_gives_one_to_validation_and_one_song_each_is_a_clear_error(tmp_path):
    few = pd.DataFrame(fake_rows(per_artist=3), columns=COLS)  # 10 % of 3 songs rounds to none
    corpus = make_corpus(few, few.copy())
    assert corpus.val["artist"].value_counts().tolist() == [1, 1, 1] and len(corpus.train) == 6
    single = pd.DataFrame(fake_rows(per_artist=1), columns=COLS)
    with pytest.raises(DataError, match="a single song per artist"):
        make_corpus(single, single.copy())


def test_artist_filter_by_name_and_top_k():
    df = pd.DataFrame(fake_rows(artists=("A", "B")) + fake_rows(artists=("C",), per_artist=2), columns=COLS)
    assert set(filter_artists(df, top_k=2)["artist"]) == {"A", "B"}
    assert set(filter_artists(df, artists=["C"])["artist"]) == {"C"}
    with pytest.raises(DataError, match="not in the data: Q"):
        filter_artists(df, artists=["Q"])


def test_assignment_files_found_through_the_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(DATA_ENV, raising=False)
    assert assignment_files() is None
    d = tmp_path / "elsewhere"
    d.mkdir()
    for name in ("songdata_train.csv", "songdata_test.csv"):
        write_csv(d / name, fake_rows())
    monkeypatch.setenv(DATA_ENV, str(d))
    assert assignment_files()[0] == d / "songdata_train.csv"


def test_demo_corpus_is_labelled_synthetic_and_deterministic():
    a, b = demo_corpus(), demo_corpus()
    assert a.name == DEMO_LABEL and "synthetic" in a.name
    assert a.train.equals(b.train) and len(a.labels) == 3
    assert all(label.startswith("Demo") for label in a.labels)


@pytest.mark.realdata
def test_real_assignment_files_load(real_data):
    c = make_corpus(real_data / "songdata_train.csv", real_data / "songdata_test.csv")
    assert c.labels == ["ABBA", "Bee Gees", "Bob Dylan"]
    assert len(c.train) + len(c.val) == 391 and len(c.test) == 43
    assert c.test["artist"].value_counts().max() == 19


def test_a_row_longer_than_the_header_is_an_error_not_lost_data(tmp_path):
    p = tmp_path / "long_row.csv"
    p.write_text("artist,text\nA,words,extra\nB,more words\n")
    with pytest.raises(DataError, match="long_row.csv is not a readable CSV"):
        read_songs(p)


def test_lyrics_to_classify_need_only_a_text_column():
    from lyricsdash.data import read_lyrics

    df, notes = read_lyrics(b"lyrics\nsome words here\n\nmore words\n", "mine.csv")
    assert df["text"].tolist() == ["some words here", "more words"] and set(df["artist"]) == {""}
    with pytest.raises(DataError, match="no 'text' column"):
        read_lyrics(b"artist,title\nA,B\n", "bad.csv")
