import math

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from lyricsdash.engine import train
from lyricsdash.events import SCALARS
from lyricsdash.recorder import RunRecorder
from lyricsdash.runs import RunFolder


@pytest.fixture(scope="module")
def run(corpus, tmp_path_factory):
    from lyricsdash.config import TrainConfig

    rec = RunRecorder(tmp_path_factory.mktemp("runs"))
    train(corpus, TrainConfig(embed_dim=8, hidden_size=8, epochs=2, min_freq=1, eval_every=3), [rec])
    events = EventAccumulator(str(rec.dir), size_guidance={"scalars": 0, "tensors": 0})  # 0: keep every point
    events.Reload()
    return rec.dir, events


def test_tensorboard_reads_back_every_number_of_metrics_csv(run):
    d, events = run
    metrics = RunFolder(d).metrics()
    for name in SCALARS:
        want = metrics[["step", name]].dropna()
        got = [(e.step, e.value) for e in events.Scalars(name)]
        assert [s for s, _ in got] == want["step"].tolist(), name
        assert [v for _, v in got] == pytest.approx(want[name].tolist(), rel=1e-6), name
    assert 0 < len(events.Scalars("test_acc")) < len(events.Scalars("train_loss"))  # evaluated steps only


def test_the_hparams_tab_gets_the_settings_and_final_scores(run):
    d, events = run
    summary = RunFolder(d).summary()
    assert events.Scalars("final/test_accuracy")[-1].value == pytest.approx(summary.test_accuracy)
    content = events.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    hp = start.session_start_info.hparams
    assert hp["hidden_size"].number_value == 8 and hp["tokens"].string_value == "cased+punct"
    assert hp["status"].string_value == "finished"
    experiment = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"])
    metrics = {m.name.tag for m in experiment.experiment.metric_infos}
    assert metrics == {"final/test_accuracy", "final/test_loss", "final/best_val_accuracy"}
    assert not math.isnan(summary.best_val_accuracy)
