"""The HTML report in real headless Chromium: no errors, every chart drawn, no network, prints cleanly.

Screenshots and a PDF print are saved under test-artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.reports.support import ARTIFACTS, run, shipped

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's chromium is not installed at /usr/bin/chromium "
        "(apt-get install chromium); the browser tests need it",
    ),
]


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report exactly as an organiser makes it: `matchmaker report --format html --out report.html`."""
    path = tmp_path_factory.mktemp("html") / "report.html"
    code, _, err = run("report", "--format", "html", "--out", str(path))
    assert code == 0, err
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


class Recorder:
    """Every console message, page error and request of one page."""

    def __init__(self, page: Any) -> None:
        self.console: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: self.console.append((m.type, m.text)))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))


def test_report_renders_without_errors_and_every_chart_is_drawn(browser: Any, report_file: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)  # it opens offline
    page = context.new_page()
    seen = Recorder(page)
    page.goto(report_file.as_uri(), wait_until="load")

    assert seen.errors == []
    assert [m for m in seen.console if m[0] in ("error", "warning")] == []
    charts = page.locator("svg.chart")
    population, _ = shipped()
    assert charts.count() == len(population) + 2  # the heatmap, one per organisation, the bridges
    for k in range(charts.count()):
        chart = charts.nth(k)
        box = chart.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 60, (k, box)
        drawn = chart.evaluate(
            "svg => { const b = svg.querySelector('g').getBBox(); return [b.width, b.height,"
            " svg.querySelectorAll('path, use').length]; }"
        )
        assert drawn[0] > 50 and drawn[1] > 30 and drawn[2] > 10, (k, drawn)
    # Nothing is wider than the window: no table or chart is clipped or needs sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.locator("h2").all_inner_texts() == [
        "How to read this report",
        "Top pairings",
        "Why each pairing",
        "Partners by organisation",
        "Ecosystem: gaps and bridges",
        "Settings and reproducibility",
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    page.screenshot(path=str(ARTIFACTS / "report-top.png"))
    context.close()


def test_report_makes_no_network_request(browser: Any, report_file: Path) -> None:
    context = browser.new_context()
    page = context.new_page()
    seen = Recorder(page)
    routed: list[str] = []

    def only_the_report(route: Any) -> None:
        routed.append(route.request.url)
        if route.request.url == report_file.as_uri():
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_the_report)
    page.goto(report_file.as_uri(), wait_until="networkidle")
    assert seen.requests == [report_file.as_uri()]
    assert routed in ([], [report_file.as_uri()])  # file:// may bypass routing; nothing else may appear
    context.close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).paths.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


def test_served_over_http_the_server_sees_one_request_only(browser: Any, report_file: Path) -> None:
    """Over a loopback server even a favicon request would show; the page asks for nothing but itself."""
    _Quiet.paths = []
    handler = lambda *a: _Quiet(*a, directory=str(report_file.parent))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        context = browser.new_context()
        page = context.new_page()
        seen = Recorder(page)
        url = f"http://127.0.0.1:{server.server_address[1]}/report.html"
        page.goto(url, wait_until="networkidle")
        page.wait_for_timeout(300)
        assert seen.requests == [url] and seen.errors == []
        context.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert _Quiet.paths == ["/report.html"]


def test_report_prints_on_a4_without_clipping(browser: Any, report_file: Path) -> None:
    context = browser.new_context(viewport={"width": 718, "height": 1000})  # A4 less the @page margins, at 96 dpi
    page = context.new_page()
    page.goto(report_file.as_uri(), wait_until="load")
    page.emulate_media(media="print")
    overflowing = page.evaluate("""() => [...document.querySelectorAll('table, svg.chart, pre')]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map(e => e.tagName + ' ' + (e.closest('[id]') || {}).id)""")
    assert overflowing == []
    assert page.evaluate("getComputedStyle(document.querySelector('#pairs')).breakBefore") == "page"
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = page.pdf(path=str(ARTIFACTS / "report.pdf"), format="A4", print_background=False)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages > 5
    context.close()
