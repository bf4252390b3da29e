"""The HTML report of a real small run, opened in a real headless Chromium driven over the DevTools protocol.

Chromium (Debian's `chromium`) is spoken to through --remote-debugging-pipe: JSON
messages ending in a NUL byte on file descriptors 3 (to it) and 4 (from it), so
no websocket client is needed. Every network request it would make goes to a
closed proxy port and is recorded from the Network domain's events.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vlmbench.cli.app import app

pytestmark = [pytest.mark.integration, pytest.mark.workers, pytest.mark.transformers, pytest.mark.tesseract]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: Set to a path to keep the test's screenshot of the whole report there.
SCREENSHOT_VARIABLE = "VLMBENCH_REPORT_SCREENSHOT"


class DevTools:
    """A Chromium started with --remote-debugging-pipe, and one page attached to it."""

    def __init__(self, profile: Path) -> None:
        assert CHROMIUM, "Chromium is not installed: `scripts/install-system-deps.sh --tests` (make test) installs Debian's chromium"
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()
        # Above the descriptors the child is given: moving them onto 3 and 4 must not overwrite either.
        child_read = fcntl.fcntl(to_browser_read, fcntl.F_DUPFD, 20)
        child_write = fcntl.fcntl(from_browser_write, fcntl.F_DUPFD, 20)
        os.close(to_browser_read)
        os.close(from_browser_write)

        def onto_3_and_4() -> None:
            os.dup2(child_read, 3)
            os.dup2(child_write, 4)

        self.process = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             f"--user-data-dir={profile}", "--no-first-run", "--no-default-browser-check",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             # Whatever the page asks of the network goes to a port nobody listens on.
             "--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND", "about:blank"],
            # Not close_fds: it would run after preexec_fn and close 3 and 4 again. The pipes' other ends
            # are not inheritable (os.pipe), so the browser gets these two and its standard streams only.
            close_fds=False, preexec_fn=onto_3_and_4,  # noqa: PLW1509 - a test, started from one thread
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(child_read)
        os.close(child_write)
        self._next_id = 0
        self._buffer = b""
        self.events: list[dict] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.call(f"{domain}.enable", session=True)

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_browser], [], [], max(left, 0))
            assert ready, "Chromium did not answer in time"
            chunk = os.read(self._from_browser, 1 << 20)
            assert chunk, "Chromium closed its DevTools pipe"
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: bool = False, timeout: float = 30.0, **params) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                assert "error" not in reply, f"{method}: {reply['error']}"
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._receive(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")


RUN_CSV = """model_name,dataset,task,filter_question_type,metrics,metrics_aggregators,limit,sample
tesseract-eng,synthetic-docs-en,ocr,full_text,"['CER', 'WER']","['general', 'by_doc_type']",,6
easyvqa-tiny,easy-vqa,vqa,,['accuracy'],"['general', 'by_question_type']",80,
majority-easy-vqa,easy-vqa,vqa,,['accuracy'],"['general', 'by_question_type']",80,
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """A real run: Tesseract on synthetic documents of three classes, the tiny VQA model and the majority baseline."""
    folder = tmp_path_factory.mktemp("browser-run")
    config = folder / "run.csv"
    config.write_text(RUN_CSV, encoding="utf-8")
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    result = CliRunner().invoke(app, ["run", str(config), "--out", str(folder / "out"), "--jobs", "2",
                                      "--gpu-price", "2.5"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return folder / "out" / "report.html"


@pytest.fixture(scope="module")
def page(report, tmp_path_factory):
    browser = DevTools(tmp_path_factory.mktemp("chromium-profile"))
    try:
        browser.call("Emulation.setDeviceMetricsOverride", session=True, width=1280, height=900,
                     deviceScaleFactor=1, mobile=False)
        browser.call("Page.navigate", session=True, url=report.as_uri())
        browser.wait_for("Page.loadEventFired")
        yield browser
    finally:
        browser.close()


def test_the_report_renders_without_errors_or_network(page, report):
    assert page.evaluate("document.title").startswith("vlmbench run ")
    errors = [e for e in page.events if e.get("method") == "Runtime.exceptionThrown"
              or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
              or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]
    assert errors == []
    requested = [e["params"]["request"]["url"] for e in page.events if e.get("method") == "Network.requestWillBeSent"]
    assert requested and requested[0] == report.as_uri()  # the network domain was listening
    assert [url for url in requested if not url.startswith(("file:", "data:"))] == []
    # Nor anything in the file that would reach out if the page were opened elsewhere.
    html = report.read_text(encoding="utf-8")
    assert re.findall(r"""(?:src|href|action)\s*=\s*["']?(?:https?:|//)|url\(\s*["']?(?:https?:|//)|@import""",
                      html) == []


def test_the_charts_and_thumbnails_are_drawn(page):
    images = page.evaluate("""Array.from(document.images).map(i => ({
        alt: i.alt, ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth,
        section: i.closest('section').id, type: i.src.split(';')[0].slice(5)}))""")
    broken = [image["alt"] for image in images if not image["ok"]]
    assert broken == []
    sections = {image["section"] for image in images if image["type"] == "image/png"}
    assert {"models", "speed", "cost"} <= sections  # score bars, speed, quality against throughput
    assert any("Pareto" in image["alt"] for image in images)
    thumbnails = [image for image in images if image["section"] == "samples"]
    assert thumbnails and all(image["type"] == "image/jpeg" and image["w"] <= 160 for image in thumbnails)
    # The cost table priced from --gpu-price, the Pareto front marked.
    cost = page.evaluate("""Object.fromEntries(Array.from(document.querySelectorAll('table.cost tbody tr')).map(
        r => [r.cells[0].innerText.trim(), Array.from(r.cells).map(c => c.innerText.trim())]))""")
    header = page.evaluate("Array.from(document.querySelectorAll('table.cost th')).map(c => c.innerText.trim())")
    column = {name.lower(): i for i, name in enumerate(header)}
    assert set(cost) == {"tesseract-eng", "easyvqa-tiny", "majority-easy-vqa"}
    assert all(re.fullmatch(r"\d+\.\d+", row[column["cost / 1k samples"]]) for row in cost.values())
    # Only the transformers model counts the tokens it generates; no job here used a GPU.
    assert float(cost["easyvqa-tiny"][column["tokens/s"]].replace(",", "")) > 0
    assert cost["tesseract-eng"][column["tokens/s"]] == cost["majority-easy-vqa"][column["tokens/s"]] == "–"
    assert {row[column["peak gpu mem"]] for row in cost.values()} == {"–"}
    assert page.evaluate("document.querySelectorAll('table.cost tr.front').length") >= 2


VISIBLE_ROWS = """(() => {
  const browser = document.querySelector(%s);
  return Array.from(browser.querySelectorAll('tr.sample')).filter(r => r.offsetParent !== null).map(r => ({
    id: r.dataset.id, pick: r.dataset.pick.split(' '), a: JSON.parse(r.dataset.annotations)}));
})()"""


def choose(page, browser: str, column: str, value: str) -> list[dict]:
    page.evaluate(f"""(() => {{
        const select = document.querySelector({json.dumps(browser)}).querySelector('select[data-filter="{column}"]');
        select.value = {json.dumps(value)};
        select.dispatchEvent(new Event('change'));
    }})()""")
    return page.evaluate(VISIBLE_ROWS % json.dumps(browser))


def test_the_sample_browser_filters(page):
    browsers = page.evaluate("""Array.from(document.querySelectorAll('.browser')).map(b => ({
        id: b.id, title: b.querySelector('h3').innerText, models: b.querySelectorAll('th.ans').length,
        filters: Array.from(b.querySelectorAll('select[data-filter]')).map(s => ({
            column: s.dataset.filter, options: Array.from(s.options).map(o => o.value)}))}))""")
    by_dataset = {b["title"].split(" · ")[0]: b for b in browsers}
    assert set(by_dataset) == {"synthetic-docs-en", "easy-vqa"}
    assert by_dataset["easy-vqa"]["models"] == 2  # both models' answers side by side

    docs = by_dataset["synthetic-docs-en"]
    doc_classes = next(f["options"][1:] for f in docs["filters"] if f["column"] == "doc_class")
    assert len(doc_classes) >= 2
    selector = f"#{docs['id']}"
    everything = page.evaluate(VISIBLE_ROWS % json.dumps(selector))
    for doc_class in doc_classes:
        shown = choose(page, selector, "doc_class", doc_class)
        expected = [row["id"] for row in everything if row["a"]["doc_class"] == doc_class]
        assert [row["id"] for row in shown] == expected and expected
        counter = page.evaluate(f"document.querySelector('{selector} .n-shown').innerText")
        assert counter == str(len(expected))
    assert len(choose(page, selector, "doc_class", "")) == len(everything)

    vqa = f"#{by_dataset['easy-vqa']['id']}"
    everything = page.evaluate(VISIBLE_ROWS % json.dumps(vqa))
    question_types = next(f["options"][1:] for f in by_dataset["easy-vqa"]["filters"]
                          if f["column"] == "question_type")
    shown = choose(page, vqa, "question_type", question_types[0])
    assert 0 < len(shown) < len(everything)
    assert all(row["a"]["question_type"] == question_types[0] for row in shown)
    # Two filters at once: what the models disagree on, of that question type.
    both = choose(page, vqa, "pick", "disagree")
    assert both and all("disagree" in row["pick"] and row["a"]["question_type"] == question_types[0]
                        for row in both)
    choose(page, vqa, "question_type", "")
    worst = choose(page, vqa, "pick", "worst-1")  # the majority baseline's worst answers
    assert worst and all("worst-1" in row["pick"] for row in worst)
    assert len(choose(page, vqa, "pick", "")) == len(everything)  # as it was, for the screenshot


def test_a_screenshot_of_the_whole_report(page, tmp_path):
    height = page.evaluate("document.documentElement.scrollHeight")
    shot = page.call("Page.captureScreenshot", session=True, format="png", captureBeyondViewport=True,
                     clip={"x": 0, "y": 0, "width": 1280, "height": height, "scale": 1})
    data = base64.b64decode(shot["data"])
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and height > 2000
    path = Path(os.environ.get(SCREENSHOT_VARIABLE) or tmp_path / "report.png")
    path.write_bytes(data)
