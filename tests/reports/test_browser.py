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
    assert charts.count() == len(population) + 2  # one per organisation, the bridges, the heatmap
    for k in range(charts.count()):
        chart = charts.nth(k)
        box = chart.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 60, (k, box)
        drawn = chart.evaluate(
            "svg => [svg.getBBox().width, svg.getBBox().height, svg.querySelectorAll('rect').length,"
            " svg.querySelectorAll('text').length]"
        )
        assert drawn[0] > 50 and drawn[1] > 30 and drawn[2] > 3 and drawn[3] > 3, (k, drawn)
    # Nothing is wider than the window: no table or chart is clipped or needs sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.locator("h2").all_inner_texts() == [
        "Summary",
        "JP\u2013IN pairings",
        "Same-country pairings",
        "Programmes and funders that can support them",
        "Why each pairing: every line and its quote",
        "Partners by organisation",
        "Ecosystem: gaps and bridges",
        "Settings and reproducibility",
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    page.screenshot(path=str(ARTIFACTS / "report-top.png"))
    context.close()


# The size, in CSS pixels, every chart's text is drawn at on the page (font-size times the chart's scale).
TEXT_SIZES = """() => [...document.querySelectorAll('svg.chart')].flatMap(svg => {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    return [...svg.querySelectorAll('text')].map(t => [svg.id, parseFloat(t.getAttribute('font-size')) * scale]);
})"""


def test_charts_are_legible_and_have_axis_titles(browser: Any, report_file: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(report_file.as_uri(), wait_until="load")
    small = [(chart, size) for chart, size in page.evaluate(TEXT_SIZES) if size < 10]
    assert small == [], small[:5]  # the heatmap's numbers were about 6 px
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 718, "height": 1000})  # A4 less the @page margins, at 96 dpi
    small = [(chart, size) for chart, size in page.evaluate(TEXT_SIZES) if size < 8]  # 6 pt on paper
    assert small == [], small[:5]
    titles = page.evaluate(
        "[...document.querySelectorAll('svg.chart')].map(svg => [svg.id, [...svg.querySelectorAll('text')]"
        ".map(t => t.textContent).join(' | ')])"
    )
    for chart, text in titles:
        if chart.startswith("org"):
            assert "summed strength (1-3 per item)" in text and "offers" in text and "needs" in text, chart
        elif chart == "bridges":
            assert "pairs with a benefit" in text and "or more (of" in text, text
        else:
            assert chart == "heatmap" and "pair score" in text
    context.close()


def test_a_phone_never_scrolls_sideways(browser: Any, report_file: Path) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    page.goto(report_file.as_uri(), wait_until="load")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report-phone.png"))
    context.close()


def test_the_background_badge_sits_inside_the_cell_of_its_own_claim(browser: Any, report_file: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(report_file.as_uri(), wait_until="load")
    placed = page.evaluate("""() => [...document.querySelectorAll('table.lines .badge.bg')].map(badge => {
        const cell = badge.closest('td'), b = badge.getBoundingClientRect(), c = cell.getBoundingClientRect();
        return [b.left >= c.left - 0.5 && b.right <= c.right + 0.5, cell.dataset.label,
                cell.querySelector('.background') !== null || cell.textContent.includes('(note above)')];
    })""")
    assert placed and all(inside for inside, _, _ in placed), [p for p in placed if not p[0]][:3]
    assert all(label.endswith((" offers", " needs")) for _, label, _ in placed)  # a claim's cell, not the dimension's
    assert all(own for _, _, own in placed)  # the badge belongs to the claim beside it
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


def test_report_prints_on_a4_with_the_decision_first(browser: Any, report_file: Path) -> None:
    context = browser.new_context(viewport={"width": 718, "height": 1000})  # A4 less the @page margins, at 96 dpi
    page = context.new_page()
    page.goto(report_file.as_uri(), wait_until="load")
    page.emulate_media(media="print")
    overflowing = page.evaluate("""() => [...document.querySelectorAll('table, svg.chart, pre')]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map(e => e.tagName + ' ' + (e.closest('[id]') || {}).id)""")
    assert overflowing == []
    # The first page holds the summary and the table of every headline pair, the second the first pairs with
    # their reasons; the details start on a page of their own.
    page_height = (297 - 25) / 25.4 * 96  # the A4 height less the @page margins, in CSS pixels
    bottom = "s => document.querySelector(s).getBoundingClientRect().bottom"
    assert page.evaluate(bottom, "table.pairs") < page_height
    assert page.evaluate(bottom, "#pick-1") < 2 * page_height
    assert page.evaluate("getComputedStyle(document.querySelector('.details-start')).breakBefore") == "page"
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = page.pdf(path=str(ARTIFACTS / "report.pdf"), format="A4", print_background=False)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 5 < pages < 60  # a top-10 report printed to 66 pages before the redesign
    context.close()
