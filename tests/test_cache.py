from lyricsdash.cache import CACHE_ENV, tokenize_many
from lyricsdash.text import tokenize


def test_large_corpora_are_cached_on_disk_and_give_the_same_tokens(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    texts = ["Don't stop me now", "Ça va, ça va"] * 10
    first = tokenize_many(texts, min_chars=10)
    assert any(tmp_path.rglob("*"))  # written to the cache
    assert tokenize_many(texts, min_chars=10) == first == [tokenize(t) for t in texts]


def test_small_corpora_skip_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "c"))
    assert tokenize_many(["a b"]) == [["a", "b"]]
    assert not (tmp_path / "c").exists()
