"""Charts for the HTML report, written directly as inline SVG: bars, a heatmap, axes and their titles.

Every chart is laid out in CSS pixels at the width it is shown at (``WIDTH`` or less), so its text is
the size it says (``TEXT_PX``, never below ``SMALL_PX``) on screen and about 0.8 of it on an A4 page;
text stays text (the reader's own sans-serif font, selectable, searchable). A chart costs
milliseconds: no plotting library, no fonts, no files. Colours are readable in grey print too (bars
carry their values, the heatmap its numbers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import numpy as np

from matchmaker.application.report import Heatmap, OrganisationSection
from matchmaker.core.ecosystem import Ecosystem

OFFER_COLOUR = "#2166ac"
NEED_COLOUR = "#d6604d"
MUTUAL_COLOUR = "#d6604d"
INK = "#1b1f24"
MUTED = "#5b6470"
GRID = "#d8dde3"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'DejaVu Sans', Arial, sans-serif"
TEXT_PX = 12
SMALL_PX = 10.5
WIDTH = 880  # the widest a chart is shown (the report's text column)
# The heatmap's colour scale, light to dark (after ColorBrewer YlGnBu): interpolated linearly.
SCALE = ("#ffffd9", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84")


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _text(x: float, y: float, content: str, *, size: float = TEXT_PX, anchor: str = "start", **extra: str) -> str:
    attributes = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in extra.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}"{attributes}>{_e(content)}</text>'


def _rect(x: float, y: float, width: float, height: float, fill: str, stroke: str = "") -> str:
    outline = f' stroke="{stroke}"' if stroke else ""
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" fill="{fill}"{outline}/>'


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}"/>'


def _svg(width: float, height: float, label: str, body: list[str], prefix: str) -> str:
    return (
        f'<svg class="chart" id="{_e(prefix)}" role="img" aria-label="{_e(label)}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'font-family="{FONT}" fill="{INK}"><title>{_e(label)}</title>{"".join(body)}</svg>'
    )


def _text_width(text: str, size: float = TEXT_PX) -> float:
    """A generous estimate of the width of ``text`` in the reader's sans-serif (no font is measured)."""
    return len(text) * 0.64 * size


def colour(value: float, top: float) -> str:
    """The heatmap colour of ``value`` on a scale from 0 to ``top``.

    >>> colour(0.0, 1.0), colour(1.0, 1.0)
    ('#ffffd9', '#0c2c84')
    """
    share = 0.0 if top <= 0 else min(max(value / top, 0.0), 1.0)
    position = share * (len(SCALE) - 1)
    low = int(position)
    high = min(low + 1, len(SCALE) - 1)
    mix = position - low
    a = [int(SCALE[low][k : k + 2], 16) for k in (1, 3, 5)]
    b = [int(SCALE[high][k : k + 2], 16) for k in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * mix):02x}" for x, y in zip(a, b, strict=True))


def _ticks(limit: float) -> list[float]:
    """Round tick values from 0 to at least ``limit`` (about five; whole numbers: the charts count).

    >>> _ticks(11), _ticks(3)
    ([0.0, 3.0, 6.0, 9.0, 12.0], [0.0, 1.0, 2.0, 3.0])
    """
    if limit <= 0:
        return [0.0, 1.0]
    raw = max(limit / 5, 1.0)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 3, 5, 10) if m * magnitude >= raw)
    count = math.ceil(limit / step - 1e-9)
    return [round(k * step, 10) for k in range(count + 1)]


def _axis(x0: float, width: float, y: float, limit: float, title: str | tuple[str, ...]) -> tuple[list[str], float]:
    """A horizontal axis from 0 to ``limit`` at ``y``: ticks, values and its title (one line a string); the scale."""
    ticks = _ticks(limit)
    top = ticks[-1]
    scale = width / top
    parts = [f'<line x1="{x0:.1f}" y1="{y:.1f}" x2="{x0 + width:.1f}" y2="{y:.1f}" stroke="{MUTED}"/>']
    for tick in ticks:
        x = x0 + tick * scale
        parts.append(f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x:.1f}" y2="{y + 4:.1f}" stroke="{MUTED}"/>')
        parts.append(_text(x, y + 16, f"{tick:g}", size=SMALL_PX, anchor="middle", fill=MUTED))
    for k, line in enumerate((title,) if isinstance(title, str) else title):
        parts.append(_text(x0 + width / 2, y + 34 + k * (TEXT_PX + 3), line, anchor="middle", font_weight="600"))
    return parts, scale


def _legend(x: float, y: float, entries: Sequence[tuple[str, str]]) -> list[str]:
    parts = []
    for colour_, label in entries:
        parts.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="12" height="12" fill="{colour_}"/>')
        parts.append(_text(x + 17, y + 1, label))
        x += 17 + _text_width(label) + 18
    return parts


def strength_svg(section: OrganisationSection, dimensions: Sequence[str], limit: float, prefix: str) -> str:
    """Offers against needs per dimension for one organisation: summed strength, grouped horizontal bars.

    ``limit`` is the largest sum over every organisation, so charts of different organisations share
    one scale; each bar carries its value.
    """
    offered = [section.offered[d] for d in dimensions]
    needed = [section.needed[d] for d in dimensions]
    left = 16 + max((_text_width(d) for d in dimensions), default=40)
    width = 330.0
    plot = width - left - 30
    row, bar = 28.0, 10.0
    top = 30.0
    height = top + row * len(dimensions) + 46
    axis, scale = _axis(left, plot, top + row * len(dimensions), limit, "summed strength (1-3 per item)")
    body = _legend(left, 14, ((OFFER_COLOUR, "offers"), (NEED_COLOUR, "needs")))
    for k, d in enumerate(dimensions):
        y = top + k * row + 4
        body.append(_text(left - 8, y + bar + 3, d, anchor="end"))
        for value, dy, fill in ((offered[k], 0, OFFER_COLOUR), (needed[k], bar + 1, NEED_COLOUR)):
            length = value * scale
            body.append(_rect(left, y + dy, length, bar, fill))
            if value:
                body.append(_text(left + length + 4, y + dy + bar - 2, str(value), size=SMALL_PX))
    body.extend(axis)
    label = f"{section.profile.name}, summed strength of offers and needs: " + "; ".join(
        f"{d} offers {o}, needs {n}" for d, o, n in zip(dimensions, offered, needed, strict=True)
    )
    return _svg(width, height, label, body, prefix)


def bridges_svg(ecosystem: Ecosystem, prefix: str = "bridges") -> str:
    """Strong cross-border bridges per dimension: at least one way, and both ways."""
    dimensions = [b.dimension for b in ecosystem.bridges]
    strong = [b.strong for b in ecosystem.bridges]
    mutual = [b.mutual for b in ecosystem.bridges]
    first, second = ecosystem.bridge
    left = 16 + max((_text_width(d) for d in dimensions), default=40)
    width = 330.0
    plot = width - left - 30
    row, bar = 30.0, 18.0
    top = 30.0
    height = top + row * len(dimensions) + 61
    of = f"of {ecosystem.bridge_from:g} or more (of {ecosystem.bridge_pairs})"
    title = (f"{first}-{second} pairs with a benefit", of)
    axis, scale = _axis(left, plot, top + row * len(dimensions), max([*strong, 1]), title)
    body = _legend(6, 14, ((OFFER_COLOUR, "at least one way"), (MUTUAL_COLOUR, "both ways")))
    for k, d in enumerate(dimensions):
        y = top + k * row + (row - bar) / 2
        body.append(_text(left - 8, y + bar - 5, d, anchor="end"))
        body.append(_rect(left, y, strong[k] * scale, bar, OFFER_COLOUR))
        body.append(_rect(left, y + 4, mutual[k] * scale, bar - 8, MUTUAL_COLOUR))
        value = f"{strong[k]} ({mutual[k]})"
        body.append(_text(left + strong[k] * scale + 4, y + bar - 5, value, size=SMALL_PX))
    body.extend(axis)
    label = f"Strong {first}-{second} bridges: " + "; ".join(
        f"{d} {s} ({m} both ways)" for d, s, m in zip(dimensions, strong, mutual, strict=True)
    )
    return _svg(width, height, label, body, prefix)


def heatmap_svg(heatmap: Heatmap, prefix: str = "heatmap") -> str:
    """The pair-score matrix, organisations grouped by country, every score of 0.05 or more written in its cell.

    The cells are as large as the report's width allows (at most 34 px), the numbers 10.5 px or more.
    """
    profiles = heatmap.profiles
    n = len(profiles)
    labels = [f"{p.id} ({p.country})" for p in profiles]
    label_px = min(12 + max((_text_width(t) for t in labels), default=40), 210)
    cell = float(np.clip((WIDTH - label_px - 20) / max(n, 1), 22, 34))
    size = max(SMALL_PX, min(TEXT_PX, cell * 0.42))
    scores = np.nan_to_num(heatmap.scores, nan=0.0)
    top_score = float(scores.max()) or 1.0
    x0, y0 = label_px, label_px
    grid = cell * n
    legend_y = y0 + grid + 30
    width, height = x0 + grid + 12, legend_y + 44
    body = []
    for k, text in enumerate(labels):
        body.append(_text(x0 - 6, y0 + k * cell + cell / 2 + 4, text, size=size, anchor="end"))
        x = x0 + k * cell + cell / 2 + 4
        body.append(_text(x, y0 - 6, text, size=size, transform=f"rotate(-90 {x:.1f} {y0 - 6:.1f})"))
    for i in range(n):
        for j in range(n):
            raw = heatmap.scores[i, j]
            x, y = x0 + j * cell, y0 + i * cell
            if np.isnan(raw):
                body.append(_rect(x, y, cell, cell, "#eef0f3"))
                continue
            value = float(raw)
            body.append(_rect(x, y, cell, cell, colour(value, top_score)))
            if value >= 0.05:
                ink = "#ffffff" if value > 0.55 * top_score else INK
                number = f"{value:.2f}"[1:]
                middle = (x + cell / 2, y + cell / 2 + size * 0.36)
                body.append(_text(*middle, number, size=size, anchor="middle", fill=ink))
    countries = [p.country for p in profiles]
    for k in range(1, n):
        if countries[k] != countries[k - 1]:
            at = k * cell
            body.append(_line(x0, y0 + at, x0 + grid, y0 + at, INK))
            body.append(_line(x0 + at, y0, x0 + at, y0 + grid, INK))
    body.append(_rect(x0, y0, grid, grid, "none", GRID))
    steps = 40
    bar_width = min(grid, 320.0)
    for k in range(steps):
        body.append(
            f'<rect x="{x0 + k * bar_width / steps:.2f}" y="{legend_y - 12:.1f}" width="{bar_width / steps + 0.5:.2f}" '
            f'height="12" fill="{colour(top_score * k / (steps - 1), top_score)}"/>'
        )
    body.append(_text(x0, legend_y + 14, "0", size=SMALL_PX, anchor="middle", fill=MUTED))
    body.append(_text(x0 + bar_width, legend_y + 14, f"{top_score:.2f}", size=SMALL_PX, anchor="middle", fill=MUTED))
    body.append(_text(x0 + bar_width + 14, legend_y - 1, "pair score (row organisation with column organisation)"))
    label = "Heatmap of pair scores between " + ", ".join(p.id for p in profiles)
    return _svg(width, height, label, body, prefix)
