"""EvalSet and Rolling: a song's score is the mean of its windows' log-probabilities, however it is batched."""

import pytest
import torch

from lyricsdash.engine import build_model
from lyricsdash.evaluate import EvalSet, Rolling
from lyricsdash.prepare import prepare


@pytest.fixture
def sets(corpus, tiny_cfg):
    data = prepare(corpus, tiny_cfg)
    torch.manual_seed(0)
    model = build_model(data, tiny_cfg)
    return data, model


def _perturbed(model):
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))


def test_the_batch_size_never_changes_a_songs_score(sets):
    data, model = sets
    big, small = EvalSet(data.test, torch.device("cpu"), 32768), EvalSet(data.test, torch.device("cpu"), 256)
    assert len(small.batches) > len(big.batches) > 0
    torch.testing.assert_close(big.song_scores(model), small.song_scores(model), atol=1e-5, rtol=0)


def test_rolling_values_equal_a_full_evaluation_once_a_cycle_has_read_the_same_weights(sets):
    data, model = sets
    val, test = (EvalSet(d, torch.device("cpu"), 256) for d in (data.val, data.test))
    rolling = Rolling([val, test])
    assert not rolling.ready and rolling.cycle == len(val.batches) + len(test.batches) > 2
    rolling.score_all(model, step=1)
    assert rolling.ready and rolling.lag(1) == 0
    assert rolling.measure(1) == pytest.approx(test.evaluate(model)[:2])
    before = test.evaluate(model)[0]
    _perturbed(model)
    assert test.evaluate(model)[0] != pytest.approx(before)
    for step in range(2, 2 + rolling.cycle - 1):  # all but the last batch rescored with the new weights
        rolling.score_next(model, step)
    assert rolling.lag(step) == step - 1  # the last batch is still the first step's
    assert rolling.measure(1) != pytest.approx(test.evaluate(model)[:2])
    rolling.score_next(model, step + 1)
    assert rolling.lag(step + 1) == rolling.cycle - 1
    assert rolling.measure(0) == pytest.approx(val.evaluate(model)[:2])
    assert rolling.measure(1) == pytest.approx(test.evaluate(model)[:2])


def test_a_rolling_state_saved_and_loaded_gives_the_same_values(sets):
    data, model = sets
    make = lambda: Rolling([EvalSet(d, torch.device("cpu"), 256) for d in (data.val, data.test)])  # noqa: E731
    a = make()
    a.score_all(model, 1)
    _perturbed(model)
    a.score_next(model, 2)
    b = make()
    b.load(a.state())
    assert (b.measure(0), b.measure(1), b.lag(2), b.cursor) == (a.measure(0), a.measure(1), a.lag(2), a.cursor)
