"""Shared fixtures. Every test starts from the same seeds."""

import os
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from lyricsdash.config import TrainConfig
from lyricsdash.data import DATA_ENV, TEST_FILE, TRAIN_FILE
from lyricsdash.demo import demo_corpus

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _seed_everything():
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture
def tiny_cfg() -> TrainConfig:
    """A config that trains on the demo corpus in a second or two."""
    return TrainConfig(embed_dim=16, hidden_size=16, epochs=4, lr=0.02, batch_size=16, word_dropout=0.0,
                       dropout=0.1, min_freq=1)


@pytest.fixture(scope="session")
def corpus():
    return demo_corpus()


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    d = tmp_path / "runs"
    monkeypatch.setenv("LYRICSDASH_RUNS_DIR", str(d))
    return d


def real_data_dir() -> Path | None:
    """The real assignment files: $LYRICSDASH_DATA_DIR, or ../shared/data beside the checkout."""
    for d in (os.environ.get(DATA_ENV), ROOT.parent / "shared" / "data"):
        if d and (Path(d) / TRAIN_FILE).is_file() and (Path(d) / TEST_FILE).is_file():
            return Path(d)
    return None


@pytest.fixture(scope="session")
def real_data() -> Path:
    d = real_data_dir()
    if d is None:
        if os.environ.get("LYRICSDASH_REQUIRE_REAL_DATA"):
            pytest.fail(f"LYRICSDASH_REQUIRE_REAL_DATA is set but {DATA_ENV} holds no {TRAIN_FILE}/{TEST_FILE}")
        pytest.skip(f"real lyrics not available (set {DATA_ENV})")
    return d


def write_csv(path: Path, rows, columns=("artist", "song", "text")) -> Path:
    pd.DataFrame(rows, columns=list(columns)).to_csv(path, index=False)
    return path


def fake_rows(artists=("A", "B", "C"), per_artist=6, words=30, seed=0):
    """Invented rows: each artist repeats its own words, so a model can learn them."""
    rng = random.Random(seed)
    rows = []
    for a in artists:
        own = [f"{a.lower()}word{i}" for i in range(8)]
        for i in range(per_artist):
            text = " ".join(rng.choice(own + ["the", "love", "night"]) for _ in range(words))
            rows.append((a, f"{a} song {i}", text))
    return rows


def kaggle_like_bytes(songs=57_650, artists=643, words_per_song=196, seed=0) -> bytes:
    """Invented songs in the Kaggle songdata layout (artist, song, link, text; lines end in two spaces), about
    70 MB at the defaults, with artists' song counts as skewed as the real file's."""
    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{i}" for i in range(5000)])
    weights = 1.0 / np.arange(1, artists + 1) ** 0.3
    who = rng.choice(artists, size=songs, p=weights / weights.sum())
    lines = ["artist,song,link,text"]
    for i, a in enumerate(who):
        words = vocab[rng.integers(0, len(vocab), words_per_song)]
        text = "  \n".join(" ".join(words[j:j + 8]) for j in range(0, words_per_song, 8))
        lines.append(f'Artist {a:03d},Song {i},/a/{a}/{i}.html,"{text}"')
    return ("\n".join(lines) + "\n").encode()
