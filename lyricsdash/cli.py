"""Command line: ``python -m lyricsdash train | sweep | cv | search | config | predict | report | runs |
export``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
import threading
from dataclasses import asdict
from pathlib import Path

from . import distributed
from .config import ConfigError, TrainConfig, parse_overrides
from .data import DataError, read_lyrics
from .engine import TrainingError, train
from .experiments import Experiment, Plan, describe, run_all, train_here
from .predictor import PredictError, Predictor, score_table
from .recorder import RunRecorder
from .records import Callback, Status, evaluated
from .report import pct, report_text
from .resume import ResumeError
from .runs import RunError, RunFolder, list_runs, resolve_run, runs_root
from .search import JOURNAL, best_trial, parse_space
from .sources import DataSource

USER_ERRORS = (DataError, ConfigError, RunError, PredictError, TrainingError, ResumeError, distributed.PeerLost,
               OSError)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # the reader went away (`... | head`): what it wanted was printed
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's docs: nothing left to flush
        return 0
    except USER_ERRORS as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m lyricsdash", description="Train and use an LSTM that tells which "
                                "artist wrote a song's lyrics.")
    sub = p.add_subparsers(required=True, metavar="command")
    t = _data_args(sub.add_parser("train", help="train a model and save a run folder"))
    t.add_argument("--resume", metavar="RUN", help="go on with a stopped or interrupted run, in its folder, from "
                   "where it stopped (its settings and recorded data; exactly as if it had never stopped)")
    t.add_argument("--name", help="a name for the run (the Runs page shows it)")
    t.set_defaults(func=cmd_train)
    sw = _data_args(sub.add_parser("sweep", help="runs over seeds, or one setting swept over values x seeds: "
                                   "--set hidden_size=32,64,128 --seeds 3"))
    sw.add_argument("--seeds", type=int, default=3, help="runs per value (default 3)")
    sw.set_defaults(func=cmd_sweep)
    cv = _data_args(sub.add_parser("cv", help="k-fold cross-validation of a setting (train and test pooled)"))
    cv.add_argument("--folds", type=int, default=5)
    cv.add_argument("--seeds", type=int, default=1, help="runs per fold (default 1)")
    cv.set_defaults(func=cmd_cv)
    se = _data_args(sub.add_parser("search", help="an Optuna search of the validation accuracy over settings: "
                                   "--param lr --param hidden_size=32:256 --param pooling=mean,max --trials 20"))
    se.add_argument("--param", action="append", default=[], metavar="SETTING[=LO:HI|=A,B]",
                    help="a setting to vary (repeatable): alone, its whole range from `config`; =lo:hi narrows "
                         "it; =a,b,c lists values")
    se.add_argument("--trials", type=int, default=20, help="how many trials (default 20)")
    se.set_defaults(func=cmd_search)
    c = sub.add_parser("config", help="list the settings with defaults, ranges and help")
    c.set_defaults(func=cmd_config)
    pr = sub.add_parser("predict", help="classify lyrics with a run: one song, or a CSV of songs (--csv)")
    pr.add_argument("--run", required=True, help="run folder or run id")
    pr.add_argument("--file", help="read the lyrics of one song from this file")
    pr.add_argument("--csv", help="classify every song of this CSV (a 'text' or 'lyrics' column; 'song' and "
                    "'artist' optional): one row per song; with artists, also the accuracy and confusion matrix")
    pr.add_argument("--out", help="with --csv: write the table here instead of to stdout")
    pr.add_argument("--json", action="store_true")
    pr.add_argument("text", nargs="?", help="the lyrics")
    pr.set_defaults(func=cmd_predict)
    r = sub.add_parser("report", help="write the curves and report of a run as one HTML file")
    r.add_argument("--run", required=True)
    r.add_argument("--out", required=True)
    r.set_defaults(func=cmd_report)
    ls = sub.add_parser("runs", help="list runs")
    ls.add_argument("--runs-dir")
    ls.set_defaults(func=cmd_runs)
    ex = sub.add_parser("export", help="every run's scalars in one long CSV (run, step, name, value) with its "
                        "settings as columns")
    ex.add_argument("--runs-dir")
    ex.add_argument("--out", required=True, help="the CSV file to write ('-': stdout)")
    ex.set_defaults(func=cmd_export)
    return p


def _data_args(t: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options every training command takes: data, runs folder, settings, output."""
    t.add_argument("--train", help="training CSV (artist,song,text); default: $LYRICSDASH_DATA_DIR, ./data, "
                   "else the synthetic demo corpus")
    t.add_argument("--test", help="test CSV; without it the training file is split by artist")
    t.add_argument("--demo", action="store_true", help="use the built-in synthetic demo corpus")
    t.add_argument("--artists", help="comma-separated artists to keep")
    t.add_argument("--top-k", type=int, help="keep the K artists with most songs")
    t.add_argument("--runs-dir", help="where run folders go (default $LYRICSDASH_RUNS_DIR or ./runs)")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a TrainConfig field "
                   "(repeatable); see `python -m lyricsdash config`")
    t.add_argument("--json", action="store_true", help="end stdout with one JSON object")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    return t


# ---------------------------------------------------------------------- train
def data_source(args) -> DataSource:
    """--demo, --train/--test, else the assignment files, else the demo corpus (with a note)."""
    if args.demo:
        return DataSource("demo")
    if args.train is not None:
        return DataSource("files", args.train, args.test)
    found = DataSource.assignment()
    if found is None:
        print("note: no data given and none configured; training on the synthetic demo corpus.", file=sys.stderr)
        return DataSource("demo")
    return DataSource("files", found.train, found.test)


def load_corpus(args, cfg: TrainConfig, source: DataSource | None = None):
    """-> (corpus, the data in words, the source as a run records it)."""
    source = source or data_source(args)
    if args.artists or args.top_k:
        artists = tuple(a.strip() for a in args.artists.split(",")) if args.artists else ()
        source = dataclasses.replace(source, artists=artists, top_k=args.top_k or 0)
    return source.load(cfg.val_fraction, cfg.seed), source.describe(), source.to_record()


class _Progress(Callback):
    def __init__(self, quiet: bool):
        self.quiet, self.bar = quiet, None

    def on_start(self, info):
        if not self.quiet:
            from tqdm import tqdm

            self.bar = tqdm(total=info.total_steps, unit="step", file=sys.stderr, dynamic_ncols=True)

    def on_step(self, rec):
        if self.bar:
            self.bar.update(1)
            if evaluated(rec):
                self.bar.set_postfix(loss=f"{rec['train_loss']:.3f}", val=f"{rec['val_acc']:.3f}",
                                     test=f"{rec['test_acc']:.3f}")

    def on_end(self, result):
        self._close()

    def on_fail(self, error):
        self._close()

    def _close(self):
        if self.bar:
            self.bar.close()


def cmd_train(args) -> int:
    if args.resume:
        return _resume(args)
    cfg = TrainConfig.from_dict(parse_overrides(args.set))
    corpus, data, source = load_corpus(args, cfg)
    main = distributed.from_env().main
    for note in corpus.notes if main else []:
        print(f"note: {note}", file=sys.stderr)
    if main and (args.top_k or args.artists):
        songs = corpus.train["artist"].value_counts() + corpus.val["artist"].value_counts()
        print(f"note: training on {len(corpus.labels)} artists: "
              + ", ".join(f"{a} ({songs[a]} songs)" for a in corpus.labels), file=sys.stderr)
    recorder = RunRecorder(args.runs_dir, data=data, source=source, name=args.name or "")
    stop = threading.Event()
    _stop_on_signals(stop)
    result = train(corpus, cfg, [recorder, _Progress(args.quiet)], stop)
    if not main:
        return 0  # under torchrun, rank 0 writes the run folder and reports
    return _report(args, recorder, result)


def _resume(args) -> int:
    """Go on with a stopped, failed or interrupted run in its own folder, on the songs it recorded (or those
    the data options name, for a run trained on an upload)."""
    if args.set:
        raise ConfigError("A resumed run keeps its own settings; leave out --set (or train a new run).")
    folder = RunFolder(resolve_run(args.resume, args.runs_dir))
    point = folder.resume_point()
    cfg, summary = RunFolder(folder.path).config(), folder.summary()
    given = args.demo or args.train is not None
    if summary.source is None and not given:
        raise RunError(f"Run {folder.run_id} records no data it can load again (it trained on an uploaded file, "
                       "or on a cross-validation fold): give the training file again with --train (and --test).")
    source = data_source(args) if given else DataSource.from_record(summary.source)
    corpus, _, _ = load_corpus(args, cfg, source)
    print(f"resuming {folder.run_id} from step {point['step']} of {summary.total_steps}", file=sys.stderr)
    recorder = RunRecorder.resuming(folder.path)
    stop = threading.Event()
    _stop_on_signals(stop)
    result = train(corpus, cfg, [recorder, _Progress(args.quiet)], stop, resume_from=point)
    return _report(args, recorder, result)


def _report(args, recorder: RunRecorder, result) -> int:
    summary = RunFolder(recorder.dir).summary()
    print(report_text(summary))
    print(f"Run folder: {recorder.dir}")
    if args.json:
        print(json.dumps({"run_dir": str(recorder.dir), "run_id": recorder.run_id, "status": result.status,
                          "params": result.params, "train_seconds": round(result.train_seconds, 3),
                          "test_accuracy": summary.test_accuracy, "keep": summary.keep,
                          "kept_step": summary.kept_step, "best_val_accuracy": summary.best_val_accuracy,
                          "best_step": summary.best_step,
                          "baselines": {k: v.get("test_acc") for k, v in summary.baselines.items()},
                          "steps": result.steps, "tokens_per_second": summary.tokens_per_second}))
    return 0


def cmd_sweep(args) -> int:
    overrides = parse_overrides(args.set)
    swept = [k for k, v in overrides.items() if "," in v]
    if len(swept) > 1:
        raise ConfigError(f"A sweep varies one setting; {', '.join(swept)} all have several values.")
    if not swept:
        return _experiment(args, Plan("seeds", overrides, seeds=args.seeds))
    base = {k: v for k, v in overrides.items() if k != swept[0]}
    values = [v.strip() for v in overrides[swept[0]].split(",") if v.strip()]
    return _experiment(args, Plan("sweep", base, swept[0], values, seeds=args.seeds))


def cmd_cv(args) -> int:
    return _experiment(args, Plan("cv", parse_overrides(args.set), seeds=args.seeds, folds=args.folds))


def _experiment(args, plan: Plan) -> int:
    """Run an experiment's runs one after another in this process; Ctrl-C stops the current run and skips
    the rest."""
    corpus, data, source = load_corpus(args, TrainConfig.from_dict(plan.base))
    exp = Experiment.create(plan, args.runs_dir, data)
    stop = threading.Event()
    _stop_on_signals(stop)
    total = plan.trials if plan.kind == "search" else len(exp.runs)
    print(f"Experiment {exp.path}: {describe(exp)}", file=sys.stderr)

    def train_one(run_corpus, cfg, i, observers=()):
        # a fold's songs are not the source's: its run records none, and a resume asks for files
        recorder = RunRecorder(args.runs_dir, data=data, source=None if plan.kind == "cv" else source)
        result = train_here(run_corpus, cfg, recorder, observers, [_Progress(args.quiet)], stop)
        r = exp.runs[i]
        fold = f" fold {r.fold + 1}" if r.fold is not None else ""
        print(f"run {i + 1}/{total} {r.label} seed {r.seed}{fold}: {result.status}, validation "
              f"{pct(result.kept.val_acc)}, test {pct(result.kept.test_acc)}", file=sys.stderr)
        return recorder.run_id, result.status

    run_all(exp, corpus, train_one, stop.is_set)
    if plan.kind == "search":
        return _search_report(args, exp)
    results = exp.results()
    for label, r in results.items():
        print(f"{plan.setting or 'setting'}={label}: test accuracy mean {pct(r['mean'])}, min {pct(r['min'])}, "
              f"max {pct(r['max'])} over {r['n']} run(s)")
    print(f"Experiment folder: {exp.path}")
    if args.json:
        print(json.dumps({"experiment_dir": str(exp.path), "status": exp.status, "kind": plan.kind,
                          "setting": plan.setting, "settings": {k: {kk: (None if isinstance(vv, float) and
                                                                          vv != vv else vv)
                                                                    for kk, vv in v.items()}
                                                                for k, v in results.items()}}))
    return 0


def _search_report(args, exp: Experiment) -> int:
    runs = exp.runs
    best = best_trial(exp)
    kinds = (Status.FINISHED, Status.PRUNED, Status.FAILED, Status.STOPPED)
    counts = {s: sum(r.status == s for r in runs) for s in kinds}
    print(f"{len(runs)} trials: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    if best:
        print(f"best: {best.label}, validation accuracy {pct(best.value)} (test {pct(best.test_accuracy)}), "
              f"run {best.run_id}: " + ", ".join(f"{k}={v}" for k, v in best.params.items()))
    print(f"Experiment folder: {exp.path} (Optuna study: {exp.path / JOURNAL})")
    if args.json:
        print(json.dumps({"experiment_dir": str(exp.path), "status": exp.status, "kind": "search",
                          "best": best and asdict(best), "trials": [asdict(r) for r in runs]}))
    return 0


def cmd_search(args) -> int:
    plan = Plan("search", parse_overrides(args.set), space=parse_space(args.param), trials=args.trials)
    return _experiment(args, plan)


def _stop_on_signals(stop: threading.Event) -> None:
    """First Ctrl-C (or SIGTERM) stops cleanly after the current step; a second one aborts."""
    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        print("\nstopping after this step (press Ctrl-C again to abort)", file=sys.stderr)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


# ---------------------------------------------------------------- the others
def cmd_config(args) -> int:
    from .config import field_names, field_spec

    for name in field_names():
        s = field_spec(name)
        rng = f"one of {', '.join(s['choices'])}" if s["choices"] else (
            f"{s['min']}..{s['max']}" if s["min"] is not None else s["type"].__name__)
        print(f"{name}={s['default']!r}  [{rng}]  {s['help']}")
    return 0


def cmd_predict(args) -> int:
    if args.csv:
        return _predict_csv(args)
    if args.file:
        text = Path(args.file).read_text(encoding="utf-8", errors="replace")
    elif args.text is not None:
        text = args.text
    else:
        text = sys.stdin.read()
    pred = Predictor.from_run(resolve_run(args.run)).predict(text)
    if args.json:
        print(json.dumps(pred.to_dict(), ensure_ascii=False))
        return 0
    for artist, p in pred.probabilities.items():
        print(f"{p:7.2%}  {artist}")
    if pred.second_opinion:
        s = pred.second_opinion
        print(f"second opinion ({s['method']}): {s['artist']} {s['probability']:.2%}")
    print(f"{pred.words} words read, {pred.unknown_words} unknown to the model ({pred.unknown_distinct} different)"
          + (" (no known words: the answer rests on their spelling alone, the character n-grams the model reads)"
             if pred.on_spelling_alone else " (no known words: the answer is the model's output for the "
             "unknown-word token alone)" if pred.no_known_words else "")
          + ("; text truncated to the words the model reads" if pred.truncated else ""))
    return 0


def _predict_csv(args) -> int:
    """The table to stdout (or --out), notes and the score to stderr; --json: one object holding all."""
    songs, notes = read_lyrics(args.csv)
    predictor = Predictor.from_run(resolve_run(args.run))
    table = predictor.classify_frame(songs)
    score = score_table(table, predictor.labels)
    if args.json:
        print(json.dumps({"notes": notes, "rows": json.loads(table.to_json(orient="records")),
                          "score": score and score.to_dict()}, ensure_ascii=False))
        return 0
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if args.out:
        table.to_csv(args.out, index=False)
        print(f"wrote {len(table):,} rows to {args.out}", file=sys.stderr)
    else:
        table.to_csv(sys.stdout, index=False)
    if score is not None:
        print(f"accuracy on the {score.known:,} songs by artists the model knows: {pct(score.accuracy)}"
              + (f" ({score.others:,} by other artists left out)" if score.others else "")
              + f"\nconfusion matrix (rows: true artist, columns: predicted):\n{score.confusion.to_string()}",
              file=sys.stderr)
    return 0


def cmd_report(args) -> int:
    from .report import report_html

    run_dir = resolve_run(args.run)
    summary = RunFolder(run_dir).summary()
    out = Path(args.out)
    out.write_text(report_html(summary, RunFolder(run_dir).metrics()), encoding="utf-8")
    print(f"wrote {out}")
    return 0


def cmd_export(args) -> int:
    from .export import long_table

    table, warnings = long_table(args.runs_dir)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    table.to_csv(sys.stdout if args.out == "-" else args.out, index=False)
    if args.out != "-":
        print(f"wrote {len(table):,} rows from {table['run'].nunique()} run(s) to {args.out}", file=sys.stderr)
    return 0


def cmd_runs(args) -> int:
    runs, warnings = list_runs(args.runs_dir)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if not runs:
        print(f"No runs in {runs_root(args.runs_dir)}/ yet. Train one: python -m lyricsdash train")
    for s in runs:
        acc = s.test_accuracy
        print(f"{s.run_id}  {s.status:11}  params={s.params:>9,}  "
              f"test_acc={'n/a' if acc is None else f'{acc:.3f}'}")
    return 0
