"""Charts for the HTML report, drawn with matplotlib and returned as inline SVG.

Figures are built with the object-oriented API (``matplotlib.figure.Figure``), never pyplot, so no
display or GUI backend is involved and nothing global changes. Text is drawn as paths, so a chart
looks the same on every machine and in print without loading a font; ids are prefixed per chart so
several SVGs can live in one HTML document.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from matchmaker.application.report import Heatmap, OrganisationSection
from matchmaker.core.ecosystem import Ecosystem

OFFER_COLOUR = "#2166ac"
NEED_COLOUR = "#d6604d"
_ID = re.compile(r'\bid="([^"]+)"')


@contextmanager
def _style() -> Iterator[None]:
    with matplotlib.rc_context(
        {
            "svg.fonttype": "path",
            "svg.hashsalt": "matchmaker",  # deterministic ids: the same report renders to the same bytes
            "font.family": "DejaVu Sans",
            "font.size": 8,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 9,
            "axes.titleweight": "bold",
        }
    ):
        yield


def to_svg(figure: Figure, prefix: str, label: str) -> str:
    """The figure as an ``<svg>`` element for inlining: no XML prolog, ids prefixed, labelled for readers."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    ids = set(_ID.findall(text))
    text = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', text)
    # References to ids: href="#x", xlink:href="#x" and url(#x).
    text = re.sub(
        r'(href="#|url\(#)([^")]+)',
        lambda m: f"{m.group(1)}{prefix}-{m.group(2)}" if m.group(2) in ids else m.group(0),
        text,
    )
    return text.replace("<svg ", f'<svg class="chart" role="img" aria-label="{_attr(label)}" ', 1)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def heatmap_svg(heatmap: Heatmap, prefix: str = "heatmap") -> str:
    """The pair-score matrix as a heatmap, organisations grouped by country, scores written in the cells."""
    profiles = heatmap.profiles
    n = len(profiles)
    scores = np.nan_to_num(heatmap.scores, nan=0.0)
    with _style():
        size = max(4.0, 0.28 * n + 2.4)
        figure = Figure(figsize=(size + 0.9, size), layout="constrained")
        axes = figure.add_subplot()
        top = float(scores.max()) or 1.0
        image = axes.imshow(
            np.ma.masked_invalid(heatmap.scores), cmap="YlGnBu", vmin=0.0, vmax=top, interpolation="nearest"
        )
        labels = [f"{p.id} ({p.country})" for p in profiles]
        axes.set_xticks(range(n), labels, rotation=90, fontsize=7)
        axes.set_yticks(range(n), labels, fontsize=7)
        axes.tick_params(length=0)
        for spine in axes.spines.values():
            spine.set_visible(False)
        for i in range(n):
            for j in range(n):
                value = scores[i, j]
                if value >= 0.05:
                    colour = "white" if value > 0.6 * top else "#1a1a1a"
                    axes.text(j, i, f"{value:.2f}"[1:], ha="center", va="center", fontsize=5.5, color=colour)
        countries = [p.country for p in profiles]
        for k in range(1, n):
            if countries[k] != countries[k - 1]:
                axes.axhline(k - 0.5, color="#333333", linewidth=1.0)
                axes.axvline(k - 0.5, color="#333333", linewidth=1.0)
        axes.set_title("Pair scores (row organisation with column organisation)")
        bar = figure.colorbar(image, ax=axes, shrink=0.6, pad=0.01)
        bar.set_label("score")
        return to_svg(figure, prefix, "Heatmap of pair scores between " + ", ".join(p.id for p in profiles))


def _margins(figure: Figure, labels: Sequence[str], top: float = 0.5, bottom: float = 0.12) -> None:
    """Fixed margins (in inches) instead of a layout engine: several times faster for small charts."""
    width, height = figure.get_size_inches()
    left = 0.15 + 0.062 * max((len(label) for label in labels), default=4)
    figure.subplots_adjust(left=left / width, right=1 - 0.3 / width, top=1 - top / height, bottom=bottom / height)


def strength_svg(section: OrganisationSection, dimensions: Sequence[str], limit: float, prefix: str) -> str:
    """Offers against needs per dimension for one organisation: summed strength, grouped horizontal bars.

    The bars carry their values, so there is no x axis; ``limit`` is the largest sum over every
    organisation, so charts of different organisations share one scale.
    """
    offered = [section.offered[d] for d in dimensions]
    needed = [section.needed[d] for d in dimensions]
    with _style():
        figure = Figure(figsize=(3.9, 0.36 * len(dimensions) + 0.62))
        _margins(figure, dimensions)
        axes = figure.add_subplot()
        y = np.arange(len(dimensions))
        height = 0.4
        axes.barh(y - height / 2, offered, height, color=OFFER_COLOUR, label="offers")
        axes.barh(y + height / 2, needed, height, color=NEED_COLOUR, label="needs")
        for k in range(len(dimensions)):
            for value, dy in ((offered[k], -height / 2), (needed[k], height / 2)):
                if value:
                    axes.text(value + limit * 0.015, k + dy, str(value), va="center", fontsize=7)
        axes.set_yticks(y, list(dimensions))
        axes.tick_params(axis="y", length=0)
        axes.set_ylim(len(dimensions) - 0.5, -0.5)
        axes.set_xlim(0, limit * 1.1)
        axes.xaxis.set_visible(False)
        axes.spines["bottom"].set_visible(False)
        axes.legend(
            loc="lower left",
            fontsize=7,
            frameon=False,
            ncols=2,
            bbox_to_anchor=(-0.02, 0.98),
            handlelength=1.0,
            borderaxespad=0.0,
        )
        label = f"{section.profile.name}, summed strength of offers and needs: " + "; ".join(
            f"{d} offers {o}, needs {n}" for d, o, n in zip(dimensions, offered, needed, strict=True)
        )
        return to_svg(figure, prefix, label)


def bridges_svg(ecosystem: Ecosystem, prefix: str = "bridges") -> str:
    """Strong cross-border bridges per dimension: one way and both ways."""
    dimensions = [b.dimension for b in ecosystem.bridges]
    strong = [b.strong for b in ecosystem.bridges]
    mutual = [b.mutual for b in ecosystem.bridges]
    first, second = ecosystem.bridge
    with _style():
        figure = Figure(figsize=(4.6, 0.4 * len(dimensions) + 1.0))
        _margins(figure, dimensions, top=0.4, bottom=0.45)
        axes = figure.add_subplot()
        y = np.arange(len(dimensions))
        axes.barh(y, strong, 0.6, color=OFFER_COLOUR, label="at least one way")
        axes.barh(y, mutual, 0.6, color=NEED_COLOUR, label="both ways")
        for k, value in enumerate(strong):
            axes.text(value + 0.1, k, str(value), va="center", fontsize=7)
        axes.set_yticks(y, dimensions)
        axes.invert_yaxis()
        axes.set_xlim(0, max([*strong, 1]) * 1.15)
        axes.set_xlabel(
            f"{first}-{second} pairs with benefit >= {ecosystem.bridge_from:g} (of {ecosystem.bridge_pairs} pairs)",
            fontsize=7,
        )
        axes.tick_params(axis="y", length=0)
        axes.legend(
            loc="lower left",
            fontsize=7,
            frameon=False,
            ncols=2,
            bbox_to_anchor=(-0.02, 0.98),
            handlelength=1.0,
            borderaxespad=0.0,
        )
        label = f"Strong {first}-{second} bridges: " + "; ".join(
            f"{d} {s} ({m} both ways)" for d, s, m in zip(dimensions, strong, mutual, strict=True)
        )
        return to_svg(figure, prefix, label)
