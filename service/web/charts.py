"""Line charts as inline SVG, drawn on the server (no script, no chart library)."""

from __future__ import annotations

import math
from html import escape

from service.web.i18n import number

COLOURS = ("#1f5fbf", "#c0392b", "#1e7a3c", "#9a6400", "#6b3fa0")
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 560, 220, 56, 12, 14, 40  # room for "12,000"


def _step(least: float) -> int:
    """The smallest round step (1, 2 or 5 × 10^n, at least 1) not below ``least``."""
    power = 10 ** max(0, math.floor(math.log10(max(least, 1))))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= least)


def line_chart(labels: list[str], series: dict[str, list[float | None]], title: str,
               share: bool = False) -> str:
    """An SVG line chart of ``series`` over ``labels``; ``share`` draws values 0..1 as %."""
    values = [v for points in series.values() for v in points if v is not None]
    # Counts get four round whole-number steps (1, 2 or 5 times a power of ten).
    top = 1.0 if share else 4 * _step(max([*values, 1]) / 4)
    step = (WIDTH - LEFT - RIGHT) / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return LEFT + i * step

    def y(v: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - v / top)

    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
             f'xmlns="http://www.w3.org/2000/svg" font-size="12" font-family="sans-serif">',
             f"<title>{escape(title)}</title>"]
    for k in range(5):  # grid lines with their values
        v = top * k / 4
        label = f"{v:.0%}" if share else number(round(v))  # thousands separated
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                     f'stroke="#e3e7ee"/><text x="{LEFT - 6}" y="{y(v) + 4:.1f}" '
                     f'text-anchor="end" fill="#5d6675">{label}</text>')
    for i, label in enumerate(labels):
        if len(labels) <= 12 or i % 2 == 0:
            parts.append(f'<text x="{x(i):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                         f'fill="#5d6675">{escape(label[2:] if len(label) == 7 else label)}</text>')
    for n, (name, points) in enumerate(series.items()):
        colour = COLOURS[n % len(COLOURS)]
        path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(points) if v is not None)
        if path:
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                         f'points="{path}"/>')
        for i, v in enumerate(points):
            if v is not None:
                shown = f"{v:.1%}" if share else number(v)
                parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}">'
                             f"<title>{escape(name)} {escape(labels[i])}: {shown}</title>"
                             "</circle>")
        parts.append(f'<rect x="{LEFT + n * 130}" y="{HEIGHT - 14}" width="10" height="10" '
                     f'fill="{colour}"/><text x="{LEFT + n * 130 + 14}" y="{HEIGHT - 5}">'
                     f"{escape(name)}</text>")
    parts.append("</svg>")
    return "".join(parts)
