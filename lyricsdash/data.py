"""Loading songs (Kaggle "songdata" CSV format) and splitting them.

Every problem with an input file becomes a ``DataError`` whose message is one
paragraph naming the file, the column or row, and the fix.
"""

from __future__ import annotations

import csv
import io
import os
import random
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .text import tokenize

DATA_ENV = "LYRICSDASH_DATA_DIR"
TRAIN_FILE, TEST_FILE = "songdata_train.csv", "songdata_test.csv"

# Accepted spellings of each column, compared case-insensitively.
ALIASES = {
    "artist": ("artist", "artists", "singer", "band", "author"),
    "song": ("song", "title", "song_name", "name", "track"),
    "text": ("text", "lyrics", "lyric", "song_lyrics", "words"),
}


class DataError(ValueError):
    """A data file that cannot be used, explained in one paragraph."""


@dataclass
class Corpus:
    """Train/validation/test songs (DataFrames with columns artist, song, text)."""

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    labels: list[str]  # artist names; the index is the class id
    notes: list[str] = field(default_factory=list)  # dropped rows, duplicates, ...
    name: str = "dataset"

    def summary(self) -> dict:
        return {"name": self.name, "labels": self.labels, "train": len(self.train), "val": len(self.val),
                "test": len(self.test), "notes": self.notes}


# --------------------------------------------------------------------- reading
def read_songs(source, name: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read one CSV (path, bytes or file object) -> (songs, notes).

    Returns a DataFrame with columns ``artist, song, text``; rows with empty
    lyrics or artist are dropped and counted in ``notes``.
    """
    raw, name = _read_bytes(source, name)
    text = _decode(raw, name)
    if not text.strip():
        raise DataError(f"{name} is empty. Give a CSV file with a header row 'artist,song,text' and one song per row.")
    try:
        with warnings.catch_warnings():  # a row with more fields than the header is an error, not lost data
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, on_bad_lines="error",
                             index_col=False)  # never take a column as the index
    except (pd.errors.ParserError, pd.errors.ParserWarning, csv.Error, pd.errors.EmptyDataError, ValueError) as e:
        raise DataError(f"{name} is not a readable CSV file ({_one_line(e)}). Check that quotes are balanced "
                        "and that every row has as many fields as the header.") from None
    df = _pick_columns(df, name)
    return _clean_rows(df, name)


def _read_bytes(source, name):
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = name or path.name
        if not path.is_file():
            raise DataError(f"{name}: no such file ({path}). Check the path, or set {DATA_ENV} to the folder "
                            f"holding {TRAIN_FILE} and {TEST_FILE}.")
        return path.read_bytes(), name
    if isinstance(source, bytes):
        return source, name or "uploaded file"
    return source.read(), name or getattr(source, "name", "uploaded file")


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DataError(f"{name} is not UTF-8 text: byte {e.start} (line {line}) cannot be decoded. Re-save the "
                        "file as UTF-8 (for example from a spreadsheet: 'CSV UTF-8'), or convert it with "
                        "`iconv -f latin1 -t utf-8`.") from None


def read_lyrics(source, name: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read a CSV of lyrics to classify -> (songs, notes): columns ``artist`` (empty when the file has none),
    ``song``, ``text``. Malformed lines and rows without lyrics are left out and counted in ``notes``; the
    good rows are kept."""
    raw, name = _read_bytes(source, name)
    text = _decode(raw, name)
    if not text.strip():
        raise DataError(f"{name} is empty. Give a CSV file with a header row naming a 'text' (lyrics) column.")
    bad: list[str] = []
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, engine="python", index_col=False,
                         on_bad_lines=lambda fields: bad.append(",".join(fields)[:60]) and None)
    except (pd.errors.ParserError, csv.Error, pd.errors.EmptyDataError, ValueError) as e:
        raise DataError(f"{name} is not a readable CSV file ({_one_line(e)}). Check that quotes are balanced.") \
            from None
    df = _pick_columns(df, name, required=("text",))
    notes = [f"{name}: left out {len(bad)} malformed line(s) with more fields than the header (first: "
             f"{bad[0]!r}...)."] if bad else []
    empty = df["text"].astype(str).str.strip() == ""
    if empty.any():
        rows = ", ".join(str(i + 2) for i in np.flatnonzero(empty.to_numpy())[:5])
        notes.append(f"{name}: left out {int(empty.sum())} row(s) without lyrics (CSV lines {rows}"
                     f"{' ...' if empty.sum() > 5 else ''}).")
    df = df[~empty].reset_index(drop=True).astype(str)
    if df.empty:
        raise DataError(f"{name} holds no row with lyrics. Fill the 'text' column.")
    return df, notes


def _pick_columns(df: pd.DataFrame, name: str, required=("artist", "text")) -> pd.DataFrame:
    lower = {}
    for col in df.columns:
        lower.setdefault(str(col).strip().lower(), col)
    chosen = {}
    for want, aliases in ALIASES.items():
        hit = next((lower[a] for a in aliases if a in lower), None)
        if hit is None and want in required:
            found = ", ".join(repr(" ".join(str(c).split())[:40]) for c in list(df.columns)[:10]) or "none"
            raise DataError(f"{name} has no '{want}' column (found: {found}). "
                            f"The first row must be a header naming the columns; accepted names for this one: "
                            f"{', '.join(aliases)}.")
        chosen[want] = hit
    artist = df[chosen["artist"]] if chosen["artist"] is not None else ""
    out = pd.DataFrame({"artist": artist, "text": df[chosen["text"]]})
    out["song"] = df[chosen["song"]] if chosen["song"] is not None else [f"song {i + 1}" for i in range(len(df))]
    return out[["artist", "song", "text"]]


def _clean_rows(df: pd.DataFrame, name: str) -> tuple[pd.DataFrame, list[str]]:
    df = df.astype(str)
    df["artist"] = df["artist"].str.strip()
    empty = (df["text"].str.strip() == "") | (df["artist"] == "")
    notes = []
    if empty.any():
        rows = ", ".join(str(i + 2) for i in np.flatnonzero(empty.to_numpy())[:5])  # +2: header, 1-based
        notes.append(f"{name}: dropped {int(empty.sum())} row(s) with empty lyrics or artist (CSV lines {rows}"
                     f"{' ...' if empty.sum() > 5 else ''}).")
    df = df[~empty].reset_index(drop=True)
    if df.empty:
        raise DataError(f"{name} holds no song with both an artist and lyrics. Fill the 'artist' and 'text' "
                        "columns.")
    return df, notes


def _one_line(e: Exception) -> str:
    return " ".join(str(e).split())[:200]


# ------------------------------------------------------------------ splitting
def stratified_split(df: pd.DataFrame, fraction: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out ``fraction`` of each artist's songs: at least one of an artist with two or more, and at least one
    stays in the first part."""
    rng = random.Random(seed)
    keep, held = [], []
    for _, idx in sorted(df.groupby("artist").indices.items()):
        idx = list(idx)
        rng.shuffle(idx)
        n = min(max(1, round(len(idx) * fraction)), len(idx) - 1)
        held += idx[:n]
        keep += idx[n:]
    return df.iloc[sorted(keep)].reset_index(drop=True), df.iloc[sorted(held)].reset_index(drop=True)


def filter_artists(df: pd.DataFrame, artists: list[str] | None = None, top_k: int | None = None) -> pd.DataFrame:
    """Keep the named artists, or the ``top_k`` artists with most songs."""
    if artists:
        missing = sorted(set(artists) - set(df["artist"]))
        if missing:
            raise DataError(f"Artist(s) not in the data: {', '.join(missing)}. Check the spelling.")
        df = df[df["artist"].isin(artists)]
    if top_k:
        counts = df["artist"].value_counts(sort=False)
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]
        df = df[df["artist"].isin([a for a, _ in top])]
    return df.reset_index(drop=True)


def make_corpus(train, test=None, *, val_fraction: float = 0.1, test_fraction: float = 0.1, seed: int = 0,
                artists: list[str] | None = None, top_k: int | None = None, name: str | None = None) -> Corpus:
    """Build a Corpus from a train source and an optional test source.

    Sources are paths, bytes, file objects or DataFrames. Without ``test`` the
    training songs are split stratified by artist with ``seed``. The
    validation set is always carved from the training songs.
    """
    train_df, notes = _as_frame(train, "train file")
    if test is None:
        train_df = filter_artists(train_df, artists, top_k)
        train_df, test_df = stratified_split(train_df, test_fraction, seed)
    else:
        test_df, test_notes = _as_frame(test, "test file")
        notes += test_notes
        train_df = filter_artists(train_df, artists, top_k)
        test_df = test_df[test_df["artist"].isin(set(train_df["artist"]))] if (artists or top_k) else test_df
    labels = sorted(train_df["artist"].unique())
    _check_labels(labels, test_df, train, test)
    notes += _duplicate_note(train_df, test_df)
    train_df, val_df = stratified_split(train_df, val_fraction, seed + 1)
    if val_df.empty:
        raise DataError(f"{_name_of(train)} has a single song per artist: none is left to hold out for "
                        "validation. Give at least two songs for one artist or more.")
    return Corpus(train_df, val_df, test_df.reset_index(drop=True), labels, notes, name or _name_of(train))


def _as_frame(source, default_name):
    if isinstance(source, pd.DataFrame):
        return source[["artist", "song", "text"]].reset_index(drop=True), []
    if isinstance(source, (str, os.PathLike)):
        return read_songs(source)
    return read_songs(source, getattr(source, "name", None) or default_name)


def _check_labels(labels, test_df, train_src, test_src):
    if len(labels) < 2:
        raise DataError(f"{_name_of(train_src)} has {len(labels)} artist(s) ({', '.join(labels)}); a classifier "
                        "needs songs by at least 2 artists. Add songs by other artists.")
    unseen = sorted(set(test_df["artist"]) - set(labels))
    if unseen:
        raise DataError(f"{_name_of(test_src)} has songs by artist(s) absent from the training data: "
                        f"{', '.join(unseen[:10])}. Remove those rows from the test file or add their songs to "
                        "the training file.")
    if test_df.empty:
        raise DataError("The test set is empty after filtering artists. Choose artists that appear in it.")


def _duplicate_note(train_df, test_df) -> list[str]:
    key = lambda s: " ".join(tokenize(s))  # noqa: E731
    dup = len(set(map(key, train_df["text"])) & set(map(key, test_df["text"])))
    return [f"{dup} song(s) appear in both train and test (same words); their test scores are not independent."] \
        if dup else []


def _name_of(source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    return getattr(source, "name", None) or "uploaded file"


# -------------------------------------------------------------- where data is
def assignment_files(data_dir: str | os.PathLike | None = None) -> tuple[Path, Path] | None:
    """The real assignment files: ``$LYRICSDASH_DATA_DIR`` or ``./data``; None when absent."""
    candidates = [data_dir] if data_dir else [os.environ.get(DATA_ENV), "data"]
    for d in filter(None, candidates):
        train, test = Path(d) / TRAIN_FILE, Path(d) / TEST_FILE
        if train.is_file() and test.is_file():
            return train, test
    return None
