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
        out, _ = model.layers[0](model.embedding(tokens))
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
@pytest.mark.parametrize("bidirectional", [False, True])
def test_the_aligned_cpu_path_computes_what_packing_computes(pooling, bidirectional):
    model = _model(pooling, bidirectional, layers=3)
    batch = collate([torch.randint(2, 50, (n,)) for n in (17, 3, 40, 1, 40)])
    with torch.no_grad():
        model.use_packing = True
        packed = model(*batch)
        model.use_packing = False
        aligned = model(*batch)
    assert torch.allclose(packed, aligned, atol=1e-5)


def test_the_aligned_path_trains_like_packing():
    """Gradients agree too, so training is the same whichever path runs."""
    grads = []
    for packing in (True, False):
        model = _model("mean", True).train()
        model.dropout.p = 0.0
        model.use_packing = packing
        model(*collate([torch.randint(2, 50, (n,)) for n in (12, 5, 30)])).sum().backward()
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None]))
    assert torch.allclose(grads[0], grads[1], atol=1e-5)


def test_song_context_lets_words_outside_the_window_count():
    """With context, a window's logits also read its song's bag of words; without, the bag is ignored."""
    torch.manual_seed(0)
    spec = ModelSpec(50, 3, 8, 12, 1, True, 0.0, "mean", context=True)
    model = LyricsLSTM(spec).eval()
    tokens, lengths = collate([torch.tensor([3, 4, 5]), torch.tensor([3, 4, 5])])
    bags = [torch.tensor([3, 4, 5]), torch.tensor([3, 4, 5, 40, 41])]  # the same window, from two songs
    with torch.no_grad():
        logits = model(tokens, lengths, bags)
    assert not torch.allclose(logits[0], logits[1], atol=1e-4)
    assert "of the song's mean word embedding" in describe(model)
    with pytest.raises(ValueError, match="one bag per row"):
        model(tokens, lengths)
    alone = _model("mean", True)
    with torch.no_grad():
        read = alone(tokens, lengths, bags)
    assert torch.allclose(read[0], read[1]) and "context_head.weight" not in alone.state_dict()


def test_a_bags_n_grams_add_their_mean_embedding_through_their_own_head():
    """Ids from vocab_size on are n-gram buckets: their mean goes through char_head, the words' through
    context_head; a bag without n-grams adds char_head's bias alone."""
    torch.manual_seed(0)
    model = LyricsLSTM(ModelSpec(50, 3, 8, 12, 1, True, 0.0, "mean", context=True, char_buckets=64, char_dim=4))
    assert not model.char_table.weight.any()  # silent at the start
    torch.nn.init.normal_(model.char_table.weight)
    bags = [torch.tensor([3, 4, 50 + 7, 50 + 9]), torch.tensor([5])]
    with torch.no_grad():
        got = model.context_logits(bags)
        words = model.context_head(torch.stack([model.embedding.weight[[3, 4]].mean(0), model.embedding.weight[5]]))
        grams = model.char_head(torch.stack([model.char_table.weight[[7, 9]].mean(0), torch.zeros(4)]))
    assert torch.allclose(got, words + grams, atol=1e-6)
    assert "character n-gram embedding (64 buckets)" in describe(model)
    assert "char_table.weight" in model.state_dict()


def test_the_bag_has_its_own_dropout_rate():
    """In training, the bag's mean vectors drop at bag_dropout, not at the LSTM's dropout."""
    torch.manual_seed(0)
    bags = [torch.tensor([3, 4, 50 + 7, 50 + 9]), torch.tensor([5, 50 + 1])]

    def twice(dropout, bag_dropout):
        model = LyricsLSTM(ModelSpec(50, 3, 8, 12, 1, True, dropout, "mean", context=True, char_buckets=64,
                                     char_dim=4, bag_dropout=bag_dropout)).train()
        torch.nn.init.normal_(model.char_table.weight)
        with torch.no_grad():
            return model.context_logits(bags), model.context_logits(bags)

    a, b = twice(dropout=0.9, bag_dropout=0.0)
    assert torch.equal(a, b)  # the LSTM's heavy dropout never touches the bag
    a, b = twice(dropout=0.0, bag_dropout=0.5)
    assert not torch.equal(a, b)


def test_a_spec_saved_before_song_context_rebuilds_windows_alone():
    saved = {k: v for k, v in ModelSpec(50, 3, 8, 12, 1, True, 0.0, "mean").to_dict().items()
             if k not in ("context", "char_buckets", "char_dim")}
    assert LyricsLSTM(ModelSpec(**saved)).context_head is None
    words_bag = {**saved, "context": True}  # saved with context=bag, before character n-grams
    model = LyricsLSTM(ModelSpec(**words_bag))
    assert model.context_head is not None and model.char_table is None and model.char_head is None
