import math

import pytest
import torch
import torch.nn.functional as F

from lyricsdash.calibrate import expected_calibration_error, fit_temperature, reliability
from lyricsdash.engine import train
from lyricsdash.evaluate import EvalSet
from lyricsdash.prepare import prepare
from lyricsdash.recorder import RunRecorder
from lyricsdash.runs import RunFolder


def _overconfident(n=4000, c=5, t_true=3.0):
    """Scores whose honest temperature is t_true: labels drawn from softmax(z / t_true), scores = z."""
    z = torch.randn(n, c) * 4
    y = torch.multinomial(F.softmax(z / t_true, dim=1), 1).squeeze(1)
    return F.log_softmax(z, dim=1), y


def test_the_fitted_temperature_is_the_one_that_made_the_labels():
    scores, y = _overconfident()
    assert fit_temperature(scores, y) == pytest.approx(3.0, rel=0.1)


def test_calibration_lowers_cross_entropy_and_calibration_error():
    scores, y = _overconfident()
    t = fit_temperature(scores, y)
    assert F.cross_entropy(scores / t, y) < F.cross_entropy(scores, y)
    before = expected_calibration_error(F.softmax(scores, 1), y)
    after = expected_calibration_error(F.softmax(scores / t, 1), y)
    assert after < before / 2 and after < 0.05


def test_reliability_bins_hold_every_song_once():
    scores, y = _overconfident(n=500)
    bins = reliability(F.softmax(scores, 1), y, bins=10)
    assert sum(b["songs"] for b in bins) == 500
    assert all(b["lo"] <= b["confidence"] <= b["hi"] for b in bins)


def test_too_few_validation_songs_keep_temperature_one():
    assert fit_temperature(torch.zeros(1, 3), torch.tensor([0])) == 1.0


def test_a_run_keeps_the_temperature_fitted_on_validation_and_every_reader_applies_it(corpus, tiny_cfg, runs_dir):
    rec = RunRecorder(runs_dir)
    result = train(corpus, tiny_cfg, [rec])
    data = prepare(corpus, tiny_cfg)
    val = EvalSet(data.val, torch.device("cpu"))
    t = float(result.model.temperature)
    assert t != 1.0
    result.model.temperature.fill_(1.0)
    assert t == pytest.approx(fit_temperature(val.song_scores(result.model), val.labels))  # validation chose it
    model = RunFolder(rec.dir).load()[0]
    assert float(model.temperature) == pytest.approx(t)  # saved in model.pt
    s = RunFolder(rec.dir).summary()
    assert s.temperature == pytest.approx(t) and 0 <= s.test_ece <= 1
    test = EvalSet(data.test, torch.device("cpu"))
    assert s.test_loss == pytest.approx(F.cross_entropy(test.song_scores(model) / t, test.labels).item(), abs=1e-5)
    assert s.test_accuracy == pytest.approx(result.kept.test_acc)


def test_a_checkpoint_saved_before_calibration_loads_with_temperature_one(corpus, tiny_cfg, runs_dir):
    rec = RunRecorder(runs_dir)
    train(corpus, tiny_cfg, [rec])
    path = rec.dir / "model.pt"
    blob = torch.load(path, weights_only=True)
    del blob["state_dict"]["temperature"]
    torch.save(blob, path)
    assert float(RunFolder(rec.dir).load()[0].temperature) == 1.0
    assert math.isfinite(RunFolder(rec.dir).summary().test_loss)
