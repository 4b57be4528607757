import time

import pytest

from lyricsdash.engine import train
from lyricsdash.recorder import RunRecorder
from lyricsdash.runs import RunFolder
from lyricsdash.system import FIELDS, SystemSampler


def test_the_sampler_writes_a_row_every_interval_and_one_at_the_end(tmp_path):
    sampler = SystemSampler(tmp_path / "system.csv", every_s=0.05)
    sampler.step = 7
    end = time.perf_counter() + 0.4
    while time.perf_counter() < end:  # busy, so the CPU share is visibly above zero
        sum(range(10_000))
    sampler.stop()
    df = RunFolder(tmp_path).system()
    assert list(df.columns) == list(FIELDS) and len(df) >= 4
    assert (df["rss_mb"] > 10).all() and df["cpu_percent"].max() > 10 and (df["step"] == 7).all()
    assert df["elapsed_s"].is_monotonic_increasing
    assert df["gpu_percent"].isna().all() and df["gpu_memory_mb"].isna().all()  # CPU: nothing to say


def test_a_run_folder_records_its_system_metrics(corpus, tiny_cfg, runs_dir):
    rec = RunRecorder(runs_dir)
    result = train(corpus, tiny_cfg, [rec])
    df = RunFolder(rec.dir).system()
    assert len(df) >= 1 and df["step"].iloc[-1] == result.steps  # the row written when the run ends


def test_a_folder_without_system_metrics_reads_as_an_empty_table(tmp_path):
    assert RunFolder(tmp_path).system().empty


@pytest.mark.parametrize("torn", ["1.0,3,50.0,12", "1.0,3,50.0,"])
def test_a_torn_last_row_is_dropped(tmp_path, torn):
    (tmp_path / "system.csv").write_text(",".join(FIELDS) + "\n0.5,1,20.0,100.0,,\n" + torn)
    assert len(RunFolder(tmp_path).system()) == 1
