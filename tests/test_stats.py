import pytest

from lyricsdash import stats
from lyricsdash.config import TrainConfig

INFO = {"train_tokens": 64_000, "train_sequences": 1_000, "vocab_size": 500}


def test_the_teacher_is_in_the_estimate_only_when_the_run_has_one(monkeypatch):
    monkeypatch.setattr(stats, "measure_tokens_per_s", lambda *a, **k: 10_000.0)
    cfg = TrainConfig(epochs=2)  # teacher=auto: none on 3 artists, chars on 20
    three, _ = stats.estimate_seconds(cfg, INFO, 3)
    twenty, tps = stats.estimate_seconds(cfg, INFO, 20)
    assert three == pytest.approx(1.25 * 64_000 * 2 / 10_000) and tps == 10_000.0
    assert stats.teacher_seconds(cfg, INFO, 3) == 0.0
    assert twenty - three == pytest.approx(stats.teacher_seconds(cfg, INFO, 20)) and twenty > three
    assert stats.teacher_seconds(TrainConfig(distill=0.0), INFO, 20) == 0.0


@pytest.mark.parametrize("context", ["bag", "off"])
def test_the_speed_behind_the_estimate_is_measured_on_the_configs_own_model(context):
    cfg = TrainConfig(embed_dim=8, hidden_size=8, batch_size=4, threads=1, context=context)
    assert stats.measure_tokens_per_s(cfg, vocab_size=50, num_classes=3, seq_len=16, steps=1) > 0
