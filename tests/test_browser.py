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

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-quic", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(runs_dir, log_path, data_dir=None):
    """`streamlit run` on a free localhost port; returns (process, url) once /_stcore/health answers.

    Without ``data_dir`` the app has no data configured and uses the demo corpus.
    """
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "LYRICSDASH_DATA_DIR"}
    env.update(LYRICSDASH_RUNS_DIR=str(runs_dir), PYTHONPATH=str(ROOT))
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


def test_live_training_streams_then_classifies(server, page):
    from playwright.sync_api import expect

    page.goto(f"{server}/train")
    start = page.get_by_role("button", name="▶ Start training")
    expect(start).to_be_enabled(timeout=60_000)
    epochs = page.get_by_role("slider", name="epochs")
    epochs.focus()
    epochs.press("End")  # 500 epochs: long enough to be stopped by hand
    expect(epochs).to_have_value("500")
    # the preview took the new value: thousands of steps in all (the default makes a few hundred)
    expect(page.get_by_text(re.compile(r"steps per epoch, \d{1,3}(,\d{3})+ in all"))).to_be_visible(timeout=30_000)
    start.click()
    expect(page.get_by_text("Run 2")).to_be_visible(timeout=30_000)  # run ids start with the year
    page.wait_for_function(f"({POINTS_JS})() > 0", timeout=60_000)
    first = page.evaluate(POINTS_JS)
    # the chart grows while training runs, refreshed by the fragment without any user action
    page.wait_for_function(f"({POINTS_JS})() > {first}", timeout=60_000)
    second = page.evaluate(POINTS_JS)
    page.wait_for_function(f"({POINTS_JS})() > {second}", timeout=60_000)
    assert page.evaluate(POINTS_JS) > second > first > 0

    page.get_by_role("button", name="■ Stop").click()
    expect(page.get_by_text("Test accuracy of that checkpoint")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("(stopped)")).to_be_visible()

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
