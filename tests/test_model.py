import pytest
import torch

from lyricsdash.batches import collate
from lyricsdash.model import LyricsLSTM, ModelSpec, count_parameters, describe


def _model(pooling, bidirectional, layers=2):
    torch.manual_seed(0)
    return LyricsLSTM(ModelSpec(50, 3, 8, 12, layers, bidirectional, 0.3, pooling)).eval()


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_never_changes_a_prediction(pooling, bidirectional):
    model = _model(pooling, bidirectional)
    song = torch.randint(2, 50, (7,))
    long_song = torch.randint(2, 50, (60,))
    with torch.no_grad():
        alone = model(*collate([song]))[0]
        batched = model(*collate([long_song, song]))[1]
        tokens, lengths = collate([song])
        extra = torch.cat([tokens, torch.zeros(1, 25, dtype=torch.long)], dim=1)
        padded = model(extra, lengths)[0]
    assert torch.allclose(alone, batched, atol=1e-5)
    assert torch.allclose(alone, padded, atol=1e-5)


def test_reading_the_last_padded_step_would_differ():
    """The reference design's mistake: the output at the last padded position is not the song's state."""
    model = _model("last", False, layers=1)
    song = torch.randint(2, 50, (5,))
    tokens = torch.cat([song, torch.zeros(30, dtype=torch.long)])[None]
    with torch.no_grad():
        out, _ = model.lstm(model.embedding(tokens))
        naive = model.head(out[:, -1])
        right = model(tokens, torch.tensor([5]))
    assert not torch.allclose(naive, right, atol=1e-3)


def test_parameter_count_matches_the_formula():
    m = LyricsLSTM(ModelSpec(100, 4, 10, 20, 1, True, 0.0, "max"))
    lstm = 2 * (4 * 20 * (10 + 20) + 8 * 20)
    assert count_parameters(m) == 100 * 10 + lstm + (40 * 4 + 4)
    assert "BiLSTM(20)" in describe(m)


def test_output_shape_and_gradients_flow():
    m = _model("mean", True).train()
    tokens, lengths = collate([torch.tensor([3, 4, 5]), torch.tensor([6])])
    logits = m(tokens, lengths)
    assert logits.shape == (2, 3)
    logits.sum().backward()
    assert m.embedding.weight.grad[0].abs().sum() == 0  # the pad embedding never learns


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
def test_unpadded_fast_path_equals_the_packed_path(pooling):
    """Batches without pads skip packing; the result must be what packing gives."""
    model = _model(pooling, True)
    a, b = torch.randint(2, 50, (9,)), torch.randint(2, 50, (9,))
    with torch.no_grad():
        fast = model(*collate([a, b]))  # equal lengths: no pads, plain tensor
        packed = model(*collate([a, b, torch.randint(2, 50, (4,))]))[:2]  # a shorter song forces packing
    assert torch.allclose(fast, packed, atol=1e-5)
