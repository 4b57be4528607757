import dataclasses
import math
import threading

import pytest
import torch

from lyricsdash.engine import RECORD_FIELDS, Callback, TrainingError, train
from lyricsdash.records import Scores, is_full


class Collect(Callback):
    def __init__(self):
        self.records, self.info, self.ended = [], None, None

    def on_start(self, info):
        self.info = info

    def on_step(self, record):
        self.records.append(record)

    def on_end(self, result):
        self.ended = result


def test_short_training_on_the_demo_corpus_beats_chance(corpus, tiny_cfg):
    c = Collect()
    result = train(corpus, tiny_cfg, [c])
    assert result.status == "finished"
    assert result.kept.test_acc > 0.6  # chance is 1/3
    assert len(c.records) == result.steps == c.info.total_steps
    assert c.ended is result


def test_every_global_step_reports_a_plain_record(corpus, tiny_cfg):
    c = Collect()
    train(corpus, tiny_cfg.replace(eval_every=3, epochs=2), [c])
    steps = [r["step"] for r in c.records]
    epoch_ends = {r["step"] for r, nxt in zip(c.records, c.records[1:], strict=False) if nxt["epoch"] != r["epoch"]}
    assert steps == list(range(1, len(steps) + 1))
    for r in c.records:
        assert tuple(r) == RECORD_FIELDS
        assert all(isinstance(v, (int, float)) for v in r.values())
        evaluated = r["step"] % 3 == 0 or r["step"] == steps[-1] or r["step"] in epoch_ends
        assert math.isnan(r["test_acc"]) != evaluated
    assert c.records[-1]["tokens"] > c.records[0]["tokens"] > 0
    assert [r["elapsed_s"] for r in c.records] == sorted(r["elapsed_s"] for r in c.records)


@pytest.mark.parametrize("select_by", ["val_loss", "val_acc"])
def test_the_checkpoint_is_chosen_on_validation_never_on_test(corpus, tiny_cfg, select_by):
    c = Collect()
    result = train(corpus, tiny_cfg.replace(keep="best_val", select_by=select_by), [c])
    evals = [r for r in c.records if is_full(r)]  # rolling values choose nothing
    chosen = next(r for r in evals if r["step"] == result.best.step)
    if select_by == "val_loss":
        assert chosen["val_loss"] == min(r["val_loss"] for r in evals)
    else:
        assert chosen["val_acc"] == max(r["val_acc"] for r in evals)
        best_loss_among_ties = min(r["val_loss"] for r in evals if r["val_acc"] == chosen["val_acc"])
        assert chosen["val_loss"] == best_loss_among_ties
    assert result.kept.step == result.best.step and result.kept.test_acc == chosen["test_acc"]
    flagged = [r["step"] for r in evals if r["val_best"] == 1.0]  # the records carry the engine's choice
    assert flagged[-1] == result.best.step and all(r["val_best"] in (0.0, 1.0) for r in evals)
    scores = Scores()
    for r in c.records:
        scores.add(r)
    assert scores.best_step == result.best.step  # what a live view shows is the engine's choice, by select_by
    assert sum(map(sum, result.confusion)) == len(corpus.test)
    assert sum(result.confusion[i][i] for i in range(3)) / len(corpus.test) == pytest.approx(chosen["test_acc"])


def test_stop_event_ends_training_between_steps(corpus, tiny_cfg):
    stop = threading.Event()

    class StopAfter3(Collect):
        def on_step(self, record):
            super().on_step(record)
            if record["step"] == 3:
                stop.set()

    c = StopAfter3()
    result = train(corpus, tiny_cfg.replace(epochs=50), [c], stop)
    assert result.status == "stopped" and result.steps == 3 and len(c.records) == 3


def test_whole_song_strategy_and_each_pooling_train(corpus, tiny_cfg):
    for pooling in ("last", "mean"):
        r = train(corpus, tiny_cfg.replace(length_strategy="whole", pooling=pooling, epochs=2))
        assert r.steps == 2 * math.ceil(len(corpus.train) / tiny_cfg.batch_size)


def test_same_seed_same_curve(corpus, tiny_cfg):
    a, b = Collect(), Collect()
    train(corpus, tiny_cfg.replace(epochs=1), [a])
    train(corpus, tiny_cfg.replace(epochs=1), [b])
    assert [r["train_loss"] for r in a.records] == [r["train_loss"] for r in b.records]


def test_divergence_is_a_clear_error(corpus, tiny_cfg, monkeypatch):
    import torch.nn.functional as F

    monkeypatch.setattr(F, "cross_entropy", lambda *a, **k: a[0].sum() * float("nan"))
    with pytest.raises(TrainingError, match="Lower the learning rate"):
        train(corpus, tiny_cfg.replace(epochs=1))


def test_asking_for_cuda_without_a_gpu_is_a_clear_error(corpus, tiny_cfg, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(TrainingError, match="no CUDA GPU"):
        train(corpus, tiny_cfg.replace(device="cuda"))


def test_keep_final_keeps_the_last_steps_weights_and_scores(corpus, tiny_cfg):
    c = Collect()
    result = train(corpus, tiny_cfg.replace(keep="final", eval_every=5), [c])
    last = c.records[-1]
    assert result.kept.step == result.steps == last["step"] and result.kept.test_acc == last["test_acc"]
    assert sum(result.confusion[i][i] for i in range(3)) / len(corpus.test) == pytest.approx(last["test_acc"])


def test_a_stopped_run_keeps_and_scores_the_step_it_stopped_at(corpus, tiny_cfg):
    stop = threading.Event()

    class StopAfter4(Collect):
        def on_step(self, record):
            super().on_step(record)
            if record["step"] == 4:
                stop.set()

    result = train(corpus, tiny_cfg.replace(epochs=50, eval_every=1000), [StopAfter4()], stop)
    assert result.status == "stopped" and result.steps == 4
    assert result.kept.step == 4 and not math.isnan(result.kept.test_acc) and result.kept.state is not None


def test_the_automatic_cadence_evaluates_in_full_at_the_first_step_and_epoch_ends_and_rolls_between():
    from lyricsdash.engine import EvalClock

    full, rolling = EvalClock.FULL, EvalClock.ROLLING
    clock = EvalClock(0, total_steps=1000)
    assert {clock.due(s, False) for s in range(1, 1000)} == {rolling}  # the loop makes the first one full
    assert clock.due(1000, False) == full and clock.due(17, True) == full  # the last step and epoch ends
    clock.spend(0.01)
    clock.spend(0.1)
    assert clock.spent == pytest.approx(0.11)  # full and rolling time both count
    assert EvalClock(3, 10).due(6, False) == full and EvalClock(3, 10).due(7, False) is None


def test_every_step_has_values_that_roll_between_full_evaluations_and_change_nothing(corpus, tiny_cfg):
    cfg = tiny_cfg.replace(epochs=2, batch_size=4)  # small evaluation batches: a cycle of several steps
    c = Collect()
    rolled = train(corpus, cfg, [c])
    epoch_ends = {r["step"] for r, nxt in zip(c.records, c.records[1:], strict=False) if nxt["epoch"] != r["epoch"]}
    full = {1, c.records[-1]["step"]} | epoch_ends
    assert all(not math.isnan(r["test_acc"]) and not math.isnan(r["val_loss"]) for r in c.records)
    assert {r["step"] for r in c.records if not math.isnan(r["val_best"])} == full  # only full ones choose
    assert {r["step"] for r in c.records if r["eval_lag"] == 0} == full
    lags = [r["eval_lag"] for r in c.records if r["step"] not in full]
    assert lags and min(lags) >= 1 and max(lags) > 1
    plain = train(corpus, cfg.replace(eval_every=100000))  # epoch ends only
    for k, v in plain.model.state_dict().items():
        assert torch.equal(v, rolled.model.state_dict()[k]), k  # rolling evaluations never touch training
    assert rolled.kept.test_acc == plain.kept.test_acc


def test_the_teacher_reads_the_training_songs_alone_and_its_targets_change_the_training(corpus, tiny_cfg,
                                                                                        monkeypatch):
    import lyricsdash.engine as engine
    from lyricsdash.text import tokenize

    seen = []
    real = engine.teach

    def spy(songs, y, n_classes, cfg, progress):
        seen.append((songs, cfg.teacher))
        return real(songs, y, n_classes, cfg, progress)

    monkeypatch.setattr(engine, "teach", spy)
    cfg = tiny_cfg.replace(distill=0.5, teacher="chars", epochs=1)
    with_teacher = train(corpus, cfg)
    assert seen == [([tokenize(t, cfg.tokens, cfg.repeats) for t in corpus.train["text"]], "chars")]  # never val/test
    without = train(corpus, cfg.replace(distill=0.0))
    changed = [not (a == b).all() for a, b in zip(with_teacher.model.state_dict().values(),
                                                  without.model.state_dict().values(), strict=True)]
    assert any(changed)


def test_the_default_teacher_sits_out_three_artists(corpus, tiny_cfg):
    """teacher=auto on the 3 demo artists trains exactly as without distillation."""
    import torch

    auto = train(corpus, tiny_cfg.replace(epochs=1))
    off = train(corpus, tiny_cfg.replace(epochs=1, distill=0.0))
    assert auto.model.state_dict().keys() == off.model.state_dict().keys()
    assert all(torch.equal(a, off.model.state_dict()[k]) for k, a in auto.model.state_dict().items())


def test_plain_share_one_feeds_the_model_plain_ids_and_zero_the_text_as_written(corpus, tiny_cfg, monkeypatch):
    from lyricsdash.model import LyricsLSTM
    from lyricsdash.text import is_mark

    read = []
    forward = LyricsLSTM.forward

    def spy(self, tokens, lengths, bags=None):
        if self.training:  # the windows, and the songs' bags of words read beside them (song context)
            words = [i for bag in bags for i in bag.tolist() if 1 < i < self.spec.vocab_size]  # not its n-grams
            read.append(tokens[tokens > 1].tolist() + words)
        return forward(self, tokens, lengths, bags)

    monkeypatch.setattr(LyricsLSTM, "forward", spy)
    commas = corpus.train.assign(text=corpus.train["text"].str.replace(" ", ", ", n=3))
    punctuated = dataclasses.replace(corpus, train=commas)
    for share in (1.0, 0.0):
        read.clear()
        r = train(punctuated, tiny_cfg.replace(plain_share=share, epochs=1, baselines=False, word_dropout=0.0))
        words = [r.vocab.itos[i] for ids in read for i in ids]
        marks = sum(map(is_mark, words))
        capitals = sum(w[:1].isupper() for w in words)
        assert (marks == capitals == 0) if share == 1.0 else (marks > 0 and capitals > 0)
