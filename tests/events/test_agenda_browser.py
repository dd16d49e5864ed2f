"""Printed agendas in real headless Chromium: one A4 page per participant, nothing loaded, legible on a phone.

Organisers print the agendas because phones die and venue Wi-Fi fails (issue 11). The PDF print and a
phone screenshot are saved under test-artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from matchmaker.cli import app
from tests.reports.support import ARTIFACTS
from tests.reports.test_browser import ARGS, CHROMIUM, Recorder

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "india-japan-event.yaml"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="the browser tests need Debian's chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What an organiser prints: `matchmaker event schedule EVENT_FILE --out DIR`."""
    out = tmp_path_factory.mktemp("event") / "day"
    result = CliRunner().invoke(app, ["event", "schedule", str(EXAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def test_every_agenda_prints_on_one_a4_page_of_its_own(browser: Any, day: Path) -> None:
    participants = len(list((day / "agendas").glob("*.html")))
    context = browser.new_context(offline=True)  # it opens offline
    page = context.new_page()
    seen = Recorder(page)
    page.goto((day / "agendas.html").as_uri(), wait_until="load")
    assert seen.errors == [] and [m for m in seen.console if m[0] in ("error", "warning")] == []
    assert [url for url in seen.requests if not url.startswith("file:")] == []
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = page.pdf(path=str(ARTIFACTS / "agendas.pdf"), format="A4", print_background=False)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == participants
    context.close()


def test_an_agenda_fits_a_phone_without_sideways_scrolling(browser: Any, day: Path) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2, offline=True)
    page = context.new_page()
    page.goto((day / "agendas" / "sakana-ai.html").as_uri(), wait_until="load")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    sizes = page.evaluate(
        "() => [...document.querySelectorAll('body *')].filter(e => e.childNodes.length && e.innerText?.trim())"
        ".map(e => parseFloat(getComputedStyle(e).fontSize))"
    )
    assert sizes and min(sizes) >= 11, min(sizes)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "agenda-phone.png"), full_page=True)
    context.close()
