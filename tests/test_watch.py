import math

from lyricsdash.records import RECORD_FIELDS
from lyricsdash.watch import FolderWatch, MetricsTail, running_elsewhere


def row(step, val="", test="", best=""):
    values = {k: "" for k in RECORD_FIELDS} | {"step": step, "epoch": 1, "train_loss": 1.0 / step,
                                                "tokens": 64 * step, "elapsed_s": step / 10, "val_acc": val,
                                                "test_acc": test, "val_best": best}
    return ",".join(str(values[k]) for k in RECORD_FIELDS) + "\n"


def test_the_tail_reads_only_complete_new_lines(tmp_path):
    path = tmp_path / "metrics.csv"
    path.write_text(",".join(RECORD_FIELDS) + "\n" + row(1) + row(2, 0.5))
    tail = MetricsTail(path)
    first = tail.poll()
    assert [r["step"] for r in first] == [1, 2] and first[1]["val_acc"] == 0.5 and math.isnan(first[0]["val_acc"])
    line = row(3)
    with open(path, "a") as f:
        f.write(line[:10])  # a torn line: the writer is mid-row
    assert tail.poll() == []
    with open(path, "a") as f:
        f.write(line[10:] + row(4))
    assert [r["step"] for r in tail.poll()] == [3, 4] and tail.poll() == []
    assert [r["step"] for r in tail.buffer.records()] == [1, 2, 3, 4]
    path.write_text(",".join(RECORD_FIELDS) + "\n" + row(1))  # cut back (a resume): read again
    assert [r["step"] for r in tail.poll()] == [1] and len(tail.buffer) == 1


def test_a_run_training_elsewhere_is_followed_through_its_folder(corpus, tiny_cfg, runs_dir):
    import threading

    from lyricsdash.engine import train
    from lyricsdash.recorder import RunRecorder
    from lyricsdash.records import Callback

    seen, release = threading.Event(), threading.Event()

    class Pause(Callback):  # hold the run at step 5 while it is watched
        def on_step(self, record):
            if record["step"] == 5:
                seen.set()
                release.wait(30)

    rec = RunRecorder(runs_dir)
    t = threading.Thread(target=train, args=(corpus, tiny_cfg, [rec, Pause()]))
    t.start()
    try:
        assert seen.wait(60)
        assert running_elsewhere(runs_dir) == [rec.run_id] and running_elsewhere(runs_dir, rec.run_id) == []
        watch = FolderWatch(rec.dir)
        p = watch.progress()
        assert (p.status, p.steps, p.total_steps) == ("running", 5, rec.summary.total_steps) and not p.done
        assert watch.snapshot().metrics["step"].tolist() == [1, 2, 3, 4, 5]
    finally:
        release.set()
        t.join(60)
    snap = watch.snapshot()
    assert snap.done and snap.status == "finished" and snap.steps == snap.total_steps
    assert snap.best_val_accuracy == rec.summary.best_val_accuracy


def test_progress_and_snapshot_agree_and_the_frame_is_built_outside_the_lock(tmp_path, monkeypatch):
    import lyricsdash.watch as watch_module
    from lyricsdash.runs import RunFolder, Summary
    from lyricsdash.store import write_json

    folder = RunFolder(tmp_path / "run-1")
    folder.path.mkdir()
    write_json(folder.summary_path, Summary("run-1", "finished", total_steps=4).to_dict())
    rows = [row(1, 0.4, 0.2, 1.0), row(2), row(3, 0.6, 0.3, 1.0), row(4, 0.5, 0.25, 0.0)]  # val_best: the engine's
    folder.metrics_path.write_text(",".join(RECORD_FIELDS) + "\n" + "".join(rows))
    watch = FolderWatch(folder.path)
    held, real = [], watch_module.pd.DataFrame
    monkeypatch.setattr(watch_module.pd, "DataFrame",
                        lambda *a, **k: held.append(watch._lock.locked()) or real(*a, **k))
    snap, progress = watch.snapshot(), watch.progress()
    assert held == [False] and (snap.best_step, snap.best_val_accuracy, snap.latest_test_acc) == (3, 0.6, 0.25)
    assert {k: v for k, v in vars(progress).items() if k != "since_start_s"} == \
        {k: v for k, v in vars(snap).items() if k not in ("metrics", "baselines", "since_start_s")}
