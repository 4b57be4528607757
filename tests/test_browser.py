"""The real-browser proof of live streaming: Playwright drives Debian's chromium against `streamlit run`."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import ROOT

from lyricsdash.config import TrainConfig
from lyricsdash.demo import demo_corpus
from lyricsdash.stats import preview

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-quic", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(runs_dir, log_path, data_dir=None, warm=False):
    """`streamlit run` on a free localhost port; returns (process, url) once /_stcore/health answers.

    Without ``data_dir`` the app has no data configured and uses the demo corpus. ``warm``: keep a training
    process started ahead, as the app does by default (off for most tests: each would warm one up).
    """
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "LYRICSDASH_DATA_DIR"}
    env.update(LYRICSDASH_RUNS_DIR=str(runs_dir), PYTHONPATH=str(ROOT), LYRICSDASH_WARM="1" if warm else "0")
    if data_dir:
        env["LYRICSDASH_DATA_DIR"] = str(data_dir)
    with open(log_path, "a") as log:
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"),
                                 "--server.headless", "true", "--server.port", str(port),
                                 "--server.address", "127.0.0.1"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.2)  # polling the health endpoint until the server answers
    proc.kill()
    pytest.fail("streamlit did not start: " + log_path.read_text()[-2000:])


def stop_server(proc):
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def chromium_available():
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: scripts/test.sh installs it")
        pytest.skip("Debian's chromium is not installed")


@pytest.fixture
def server(tmp_path, chromium_available):
    proc, url = start_server(tmp_path / "runs", tmp_path / "server.log")
    yield url
    stop_server(proc)


@pytest.fixture
def warm_server(tmp_path, chromium_available):
    """The app as it runs by default: a training process started ahead takes the first Start."""
    proc, url = start_server(tmp_path / "runs", tmp_path / "server.log", warm=True)
    yield url
    stop_server(proc)


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield pg
        browser.close()


POINTS_JS = """() => {
  const plot = document.querySelectorAll('.js-plotly-plot')[0];
  const traces = plot && (plot._fullData || plot.data);  // _fullData holds the decoded (typed) arrays
  if (!traces) return 0;
  return traces.reduce((n, trace) => n + (trace.x && trace.x.length ? trace.x.length : 0), 0);
}"""


LAST_STEP_JS = """() => {
  const plot = document.querySelectorAll('.js-plotly-plot')[0];
  const traces = plot && (plot._fullData || plot.data);
  let last = 0;
  for (const trace of traces || []) {
    for (const x of trace.x || []) { if (typeof x === 'number' && x > last) last = x; }
  }
  return last;
}"""

MARK_JS = "() => { document.querySelectorAll('.js-plotly-plot')[0].ldMark = true; }"
MARKED_JS = "() => document.querySelectorAll('.js-plotly-plot')[0].ldMark === true"
X_RANGE_JS = """() => {
  const layout = document.querySelectorAll('.js-plotly-plot')[0]._fullLayout;
  return [layout.xaxis.autorange, layout.xaxis.range];
}"""

LOG_AXIS_JS = """() => {
  const plot = document.querySelectorAll('.js-plotly-plot')[0];
  return plot && plot._fullLayout ? plot._fullLayout.yaxis.type : null;
}"""


def status_step(text: str) -> int:
    """The step in a status line such as "running: step 1,234 / 50,000 · …" (-1 if the run is not running)."""
    found = re.search(r"running: step ([\d,]+) /", text)
    return int(found.group(1).replace(",", "")) if found else -1


def test_live_training_streams_then_classifies(warm_server, page, tmp_path):
    from playwright.sync_api import expect

    server = warm_server
    page.goto(f"{server}/train")
    start = page.get_by_role("button", name="▶ Start training")
    expect(start).to_be_enabled(timeout=60_000)
    epochs = page.get_by_role("slider", name="Epochs")
    epochs.focus()
    epochs.press("End")  # 500 epochs: long enough to be stopped by hand
    expect(epochs).to_have_attribute("aria-valuetext", "500")  # a select slider: the value is its text
    # the preview took the new value: thousands of steps in all (the default makes a few hundred)
    expect(page.get_by_text(re.compile(r"steps per epoch, \d{1,3}(,\d{3})+ in all"))).to_be_visible(timeout=30_000)
    start.click()
    expect(page.get_by_role("heading", name=re.compile(r"^Run 2"))).to_be_visible(timeout=30_000)  # ids: the year
    page.wait_for_function(f"({LAST_STEP_JS})() > 0", timeout=60_000)
    first = page.evaluate(LAST_STEP_JS)
    # the chart reaches later steps while training runs, refreshed by the fragment without any user action
    # (the last step drawn, not the number of points: a live chart keeps at most 200 per curve)
    page.wait_for_function(f"({LAST_STEP_JS})() > {first}", timeout=60_000)
    second = page.evaluate(LAST_STEP_JS)
    page.wait_for_function(f"({LAST_STEP_JS})() > {second}", timeout=60_000)
    assert page.evaluate(LAST_STEP_JS) > second > first > 0
    # the status, read from the run folder by its own timed fragment, moves every STATUS_EVERY_S
    status = page.get_by_test_id("stProgress").first
    steps = []
    for _ in range(20):  # 10 s
        steps.append(status_step(status.inner_text()))
        page.wait_for_timeout(500)
    assert steps == sorted(steps) and len(set(steps)) >= 3, steps
    # a refresh remounts a chart (Streamlit 1.67 derives its element id from the figure), so zoom needs a pause
    page.evaluate(MARK_JS)
    last = page.evaluate(LAST_STEP_JS)
    page.wait_for_function(f"({LAST_STEP_JS})() > {last}", timeout=30_000)
    assert page.evaluate(MARKED_JS) is False  # a new chart: a zoom would be lost
    page.get_by_text("Pause live updates").click()
    page.wait_for_timeout(1000)
    page.evaluate(MARK_JS)
    plot = page.locator(".js-plotly-plot").first.locator(".nsewdrag").first
    box = plot.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5, steps=8)
    page.mouse.up()
    zoomed = page.evaluate(X_RANGE_JS)
    assert zoomed[0] is False, zoomed  # the drag zoomed the x-axis: no autorange
    page.wait_for_timeout(7000)  # longer than the curves' refresh
    assert page.evaluate(MARKED_JS) is True and page.evaluate(X_RANGE_JS) == zoomed  # paused: the zoom stays
    page.get_by_text("Pause live updates").click()
    # a click while the fragments refresh takes effect at once
    page.get_by_text("Log-scale error").click()
    page.wait_for_function(f"() => ({LOG_AXIS_JS})() === 'log'", timeout=10_000)

    page.get_by_role("button", name="■ Stop").click()
    expect(page.get_by_text("Test accuracy of the kept weights")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("(stopped)")).to_be_visible()
    log = (tmp_path / "server.log").read_text()  # the training process did not run the app (streamlit_app.py)
    assert "ScriptRunContext" not in log and "No runtime found" not in log, log[-2000:]

    page.goto(f"{server}/classify")
    box = page.get_by_placeholder("Paste the lyrics of a song here…")
    expect(box).to_be_visible(timeout=30_000)
    box.fill("dance floor groove mirror ball glitter disco funky shine boogie")
    page.keyboard.press("Control+Enter")
    page.get_by_role("button", name="Classify").click()
    expect(page.get_by_text("Sounds most like")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("words read")).to_be_visible()


def start_training_and_see_points(page, url):
    from playwright.sync_api import expect

    page.goto(f"{url}/train")
    start = page.get_by_role("button", name="▶ Start training")
    expect(start).to_be_enabled(timeout=60_000)
    epochs = page.get_by_role("slider", name="Epochs")
    epochs.focus()
    epochs.press("End")  # 500 epochs: still training when the test kills the server, however fast the machine
    expect(epochs).to_have_attribute("aria-valuetext", "500")
    start.click()
    page.wait_for_function(f"({POINTS_JS})() > 20", timeout=60_000)


def test_a_server_killed_mid_training_restarts_cleanly(tmp_path, chromium_available, page):
    from playwright.sync_api import expect

    runs = tmp_path / "runs"
    proc, url = start_server(runs, tmp_path / "server.log")
    try:
        start_training_and_see_points(page, url)
    finally:
        proc.kill()  # SIGKILL: no chance to save anything more
        proc.wait(30)
    killed = next(runs.iterdir()).name
    proc, url = start_server(runs, tmp_path / "server.log")
    try:
        page.goto(f"{url}/runs")
        expect(page.get_by_text(f"Run: {killed} (interrupted)")).to_be_visible(timeout=30_000)
        start_training_and_see_points(page, url)  # a new training starts on the restarted server
        assert len([d for d in runs.iterdir() if d.is_dir()]) == 2
    finally:
        stop_server(proc)


def make_runs(runs_dir, n):
    from lyricsdash.engine import train
    from lyricsdash.recorder import RunRecorder

    ids = []
    for seed in range(n):
        rec = RunRecorder(runs_dir, run_id=f"run-{seed}", data="demo")
        train(demo_corpus(), TrainConfig(embed_dim=8, hidden_size=8, epochs=1, seed=seed, baselines=False), [rec])
        ids.append(rec.run_id)
    return ids


def test_a_double_click_on_delete_deletes_one_run(tmp_path, chromium_available, page):
    from playwright.sync_api import expect

    runs = tmp_path / "runs"
    first, second = make_runs(runs, 2)
    proc, url = start_server(runs, tmp_path / "server.log")
    try:
        page.goto(f"{url}/runs")
        page.get_by_role("button", name="Delete run…").click()
        yes = page.get_by_role("button", name=re.compile("Yes, delete"))
        expect(yes).to_be_visible(timeout=30_000)
        name = yes.inner_text()
        box = yes.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(1200)  # a user's impatient second click, 1.2 s later, on the same spot
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        deleted = second if second in name else first  # the newest run is shown first
        expect(page.get_by_text(f"Deleted run {deleted}.")).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1500)
        left = sorted(d.name for d in runs.iterdir() if d.is_dir())
        assert left == sorted({first, second} - {deleted})
        expect(page.get_by_role("button", name=re.compile("Yes, delete"))).to_have_count(0)
    finally:
        stop_server(proc)


def test_the_runs_table_shows_every_column_at_1400_pixels(tmp_path, chromium_available, page):
    from playwright.sync_api import expect

    runs = tmp_path / "runs"
    make_runs(runs, 2)
    proc, url = start_server(runs, tmp_path / "server.log")
    try:
        page.goto(f"{url}/runs")  # the page fixture's viewport: 1400 x 1000
        expect(page.get_by_test_id("stDataFrame").first).to_be_visible(timeout=60_000)
        page.wait_for_timeout(1000)  # the grid sizes its columns after it is shown
        widths = page.evaluate("""() => {
          const s = document.querySelector('[data-testid="stDataFrame"] .dvn-scroller');
          return [s.scrollWidth, s.clientWidth];
        }""")
        assert widths[0] <= widths[1], widths  # no column beyond the right edge (a canvas: AppTest cannot see it)
    finally:
        stop_server(proc)


def test_the_tab_that_pressed_start_shows_the_running_run_disabled_and_live_best_validation(server, page):
    from playwright.sync_api import expect

    page.goto(f"{server}/train")
    start = page.get_by_role("button", name="▶ Start training")
    expect(start).to_be_enabled(timeout=60_000)
    for name, key in (("Epochs", "End"), ("Hidden units per direction", "End"), ("Embedding size", "End"),
                      ("Batch size", "Home")):  # long epochs: hundreds of single-sequence steps of a big model
        slider = page.get_by_role("slider", name=name)
        slider.focus()
        slider.press(key)
    per_epoch = preview(demo_corpus(), TrainConfig(epochs=500, hidden_size=512, embed_dim=512, batch_size=1))
    expect(page.get_by_text(f"{per_epoch['steps_per_epoch']} steps per epoch")).to_be_visible(timeout=30_000)
    start.click()
    expect(page.get_by_text(re.compile(r"is training with the settings shown"))).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="▶ Start training")).to_be_disabled()
    epochs = page.get_by_role("slider", name="Epochs")
    expect(epochs).to_be_disabled()
    expect(epochs).to_have_attribute("aria-valuetext", "500")  # the running run's own value
    # the best validation accuracy shows before the first epoch ends (evaluations come every few steps)
    metric = page.get_by_test_id("stMetric").filter(has_text="Best validation accuracy so far")
    status = page.get_by_test_id("stProgress").first
    seen = None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and seen is None:
        text, bar = metric.inner_text(), status.inner_text() if status.count() else ""
        if "%" in text and 0 <= status_step(bar) < 340:
            seen = (text, bar)
        page.wait_for_timeout(250)
    assert seen, "the best validation accuracy stayed n/a through the first epoch"
    page.get_by_role("button", name="■ Stop").click()
    expect(page.get_by_role("button", name="▶ Start training")).to_be_enabled(timeout=60_000)


def test_choosing_a_test_song_in_the_explorer_explains_it(tmp_path, chromium_available, page):
    """Runs page: a click on a test song's row shows its probabilities and why, from the sidebar's lyrics."""
    from playwright.sync_api import expect

    runs = tmp_path / "runs"
    (run,) = make_runs(runs, 1)  # trained on the demo corpus, which the server without data also uses
    proc, url = start_server(runs, tmp_path / "server.log")
    try:
        page.goto(f"{url}/runs")
        page.get_by_text("Test songs: which ones this run gets wrong").click()
        songs = page.get_by_test_id("stDataFrame").last  # the per-artist table, then the songs
        expect(songs).to_be_visible(timeout=30_000)
        chosen = page.get_by_text(re.compile(r"the model gives [\d.]+ % to the true artist"))
        for _ in range(5):  # the grid is a canvas that takes clicks only once drawn
            songs.click(position={"x": 18, "y": 52})  # the first song's row marker (under a 35 px header)
            try:
                expect(chosen).to_be_visible(timeout=8_000)
                break
            except AssertionError:
                continue
        expect(chosen).to_be_visible()
        expect(page.get_by_role("heading", name="Why this artist?")).to_be_visible(timeout=60_000)
        expect(page.get_by_text(re.compile(r"^Words for "))).to_be_visible()
        expect(page.get_by_text(re.compile(r"contributions add up to the difference"))).to_be_visible()
        expect(page.get_by_text("run folders keep no lyrics")).to_have_count(0)
    finally:
        stop_server(proc)


def test_why_this_artist_follows_each_new_answer(tmp_path, chromium_available, page):
    """Classify one song, then another with another answer: the explanation is of the new answer (it kept
    explaining the first one's artist)."""
    from playwright.sync_api import expect

    from lyricsdash.engine import train
    from lyricsdash.recorder import RunRecorder

    runs = tmp_path / "runs"
    cfg = TrainConfig(embed_dim=16, hidden_size=16, epochs=4, lr=0.02, batch_size=16, min_freq=1, baselines=False)
    train(demo_corpus(), cfg, [RunRecorder(runs, data="demo")])
    proc, url = start_server(runs, tmp_path / "server.log")
    try:
        page.goto(f"{url}/classify")
        box = page.get_by_placeholder("Paste the lyrics of a song here…")
        question = page.get_by_role("combobox", name="Explain the score of")  # the selection is its value
        for words, artist in (("sea wave harbor sail anchor tide salt shore", "Harbor Lights"),
                              ("dance floor groove mirror ball glitter disco funky", "Velvet Disco Club")):
            expect(box).to_be_visible(timeout=30_000)
            box.fill(words)  # and straight to the button: the text and the click reach the server in one rerun
            page.get_by_role("button", name="Classify", exact=True).click()
            expect(page.get_by_text(re.compile(f"Sounds most like Demo · {artist}"))).to_be_visible(timeout=30_000)
            expect(question).to_have_value(f"Demo · {artist}", timeout=30_000)
            expect(page.get_by_text(f"Words for Demo · {artist}")).to_be_visible(timeout=30_000)
    finally:
        stop_server(proc)


def test_the_report_downloads_as_one_html_page(tmp_path, chromium_available, page):
    """The Runs page builds the report only when its button is clicked (it embeds plotly.js)."""
    from playwright.sync_api import expect

    runs = tmp_path / "runs"
    (run,) = make_runs(runs, 1)
    proc, url = start_server(runs, tmp_path / "server.log")
    try:
        page.goto(f"{url}/runs")
        button = page.get_by_role("button", name="Download the report (HTML)")
        expect(button).to_be_visible(timeout=30_000)
        with page.expect_download(timeout=60_000) as download:
            button.click()
        html = (tmp_path / "report.html")
        download.value.save_as(html)
        text = html.read_text(encoding="utf-8")
        assert download.value.suggested_filename == f"{run}-report.html"
        assert "<title>lyricsdash report</title>" in text and f"Run: {run} (finished)" in text
    finally:
        stop_server(proc)


def test_a_training_started_from_the_cli_is_watched_live_on_the_train_page(server, page, tmp_path):
    import signal

    from playwright.sync_api import expect

    runs = tmp_path / "runs"  # the server's runs folder (the server fixture)
    cli = subprocess.Popen([sys.executable, "-m", "lyricsdash", "train", "--demo", "--quiet", "--runs-dir", str(runs),
                            "--set", "epochs=300", "--set", "baselines=false"], cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.DEVNULL)
    try:
        page.goto(f"{server}/train")
        heading = page.get_by_role("heading", name=re.compile(r"^Run \S+, training in another process"))
        expect(heading).to_be_visible(timeout=60_000)  # found on a page load once its folder exists
        status = page.get_by_test_id("stProgress").first
        expect(status).to_have_text(re.compile(r"running: step [\d,]+ /"), timeout=60_000)
        page.wait_for_function(f"({LAST_STEP_JS})() > 0", timeout=60_000)
        first, first_step = status_step(status.inner_text()), page.evaluate(LAST_STEP_JS)
        # with no click: the status and the curves follow the CLI's metrics.csv
        page.wait_for_function(f"({LAST_STEP_JS})() > {first_step}", timeout=30_000)
        expect(status).not_to_have_text(re.compile(rf"running: step {first:,} /"), timeout=10_000)
        assert status_step(status.inner_text()) > first >= 0
        expect(page.get_by_role("button", name="■ Stop")).to_have_count(0)  # not this server's to stop
    finally:
        cli.send_signal(signal.SIGINT)  # the CLI stops cleanly
        cli.wait(60)
    expect(heading).to_have_count(0, timeout=30_000)  # it ended: the page drops it by itself
