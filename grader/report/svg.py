"""Small inline SVG charts (training curves, score histogram) for self-contained HTML reports.

Hand-written rather than matplotlib: a report needs two tiny chart types, and building them as
SVG text keeps rendering fast, import-free (no plotting backend in the grader process) and the
output free of external references. Every value is escaped by `markupsafe`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")


def _num(x: object) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x) if math.isfinite(float(x)) else None


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def line_chart(series: dict[str, Sequence[object]], *, title: str = "", width: int = 360,
               height: int = 200) -> Markup:
    """One panel with a polyline per named series (x = epoch 1..n). Non-numbers are skipped."""
    clean = {name: [(i + 1, v) for i, x in enumerate(vals) if (v := _num(x)) is not None]
             for name, vals in series.items() if isinstance(vals, list | tuple)}
    clean = {k: v for k, v in clean.items() if v}
    if not clean:
        return Markup("")
    left, right, top, bottom = 44, 10, 34, 30
    xs = [p[0] for pts in clean.values() for p in pts]
    ys = [p[1] for pts in clean.values() for p in pts]
    x0, x1 = min(xs), max(max(xs), min(xs) + 1)
    y0, y1 = min(ys), max(ys)
    if y1 - y0 < 1e-12:
        y0, y1 = y0 - 0.5, y1 + 0.5
    pw, ph = width - left - right, height - top - bottom

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * ph

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="14" font-size="12" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#888"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#888"/>',
    ]
    for frac in (0.0, 0.5, 1.0):
        yv = y0 + frac * (y1 - y0)
        parts.append(f'<text x="{left - 4}" y="{sy(yv) + 4:.1f}" font-size="10" '
                     f'text-anchor="end">{_fmt(yv)}</text>')
    parts.append(f'<text x="{left}" y="{height - 16}" font-size="10">{x0}</text>')
    parts.append(f'<text x="{left + pw}" y="{height - 16}" font-size="10" text-anchor="end">{x1}</text>')
    parts.append(f'<text x="{left + pw / 2:.0f}" y="{height - 4}" font-size="10" '
                 f'text-anchor="middle">epoch</text>')
    for n, (name, pts) in enumerate(clean.items()):
        color = PALETTE[n % len(PALETTE)]
        dash = ' stroke-dasharray="5 3"' if name.startswith("val_") else ""
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{coords}"/>')
        for x, y in pts:
            parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{color}"/>')
        lx = left + 60 + (n % 2) * 130  # legend on the title rows, above the plot area
        ly = 12 + (n // 2) * 13
        parts.append(f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 14}" y2="{ly - 4}" stroke="{color}" '
                     f'stroke-width="2"{dash}/><text x="{lx + 18}" y="{ly}" font-size="10">'
                     f"{escape(name)}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))


def history_charts(history: dict[str, object]) -> list[Markup]:
    """Keras-style history -> one chart for the losses and one for the other metrics."""
    if not isinstance(history, dict):
        return []
    losses = {k: v for k, v in history.items() if "loss" in k}
    metrics = {k: v for k, v in history.items() if "loss" not in k}
    charts = [line_chart(losses, title="loss"), line_chart(metrics, title="metrics")]
    return [c for c in charts if c]


def histogram(values: Sequence[float], *, maximum: float, bins: int = 10, width: int = 520,
              height: int = 180, title: str = "scores") -> Markup:
    """Counts of `values` in `bins` equal ranges of 0..maximum, as labelled bars."""
    maximum = maximum if maximum > 0 else 1.0
    counts = [0] * bins
    for v in values:
        k = min(int(max(v, 0.0) / maximum * bins), bins - 1)
        counts[k] += 1
    left, bottom, top = 30, 34, 20
    pw, ph = width - left - 10, height - top - bottom
    bw = pw / bins
    peak = max(counts) or 1
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%">'
        f'<title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#888"/>',
    ]
    for k, c in enumerate(counts):
        h = c / peak * ph
        x = left + k * bw
        lo = maximum * k / bins
        parts.append(f'<rect class="hbar" x="{x + 2:.1f}" y="{top + ph - h:.1f}" width="{bw - 4:.1f}" '
                     f'height="{h:.1f}" fill="#4a7bd0"><title>{_fmt(lo)}–{_fmt(lo + maximum / bins)}: '
                     f"{c}</title></rect>")
        if c:
            parts.append(f'<text x="{x + bw / 2:.1f}" y="{top + ph - h - 3:.1f}" font-size="10" '
                         f'text-anchor="middle">{c}</text>')
        parts.append(f'<text x="{x:.1f}" y="{top + ph + 13}" font-size="10" '
                     f'text-anchor="middle">{_fmt(lo)}</text>')
    parts.append(f'<text x="{left + pw:.1f}" y="{top + ph + 13}" font-size="10" '
                 f'text-anchor="middle">{_fmt(maximum)}</text>')
    parts.append(f'<text x="{left + pw / 2:.0f}" y="{height - 4}" font-size="10" '
                 f'text-anchor="middle">{escape(title)}</text></svg>')
    return Markup("".join(parts))


def class_accuracy_chart(per_class: Sequence[object], *, title: str = "accuracy per digit",
                         width: int = 360, height: int = 170) -> Markup:
    """One bar per class (digit) of the grader's measured accuracy, labelled, worst in red."""
    values = [_num(v) for v in per_class]
    if not values or all(v is None for v in values):
        return Markup("")
    left, bottom, top = 38, 30, 22
    pw, ph = width - left - 8, height - top - bottom
    bw = pw / len(values)
    known = [v for v in values if v is not None]
    worst = min(known)
    parts = [f'<svg class="chart class-chart" role="img" viewBox="0 0 {width} {height}" width="100%">'
             f'<title>{escape(title)}</title>',
             f'<text x="{left}" y="14" font-size="12">{escape(title)}</text>',
             f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#888"/>',
             f'<text x="{left - 4}" y="{top + 4}" font-size="10" text-anchor="end">100%</text>',
             f'<text x="{left - 4}" y="{top + ph}" font-size="10" text-anchor="end">0</text>']
    for k, v in enumerate(values):
        x = left + k * bw + 2
        label = (f'<text x="{x + (bw - 4) / 2:.1f}" y="{top + ph + 13}" font-size="11" '
                 f'text-anchor="middle">{k}</text>')
        if v is None:
            parts.append(label)
            continue
        h = max(v, 0.0) * ph
        colour = "#c0392b" if v == worst else "#1e8a4c"
        parts.append(f'<rect class="cbar" x="{x:.1f}" y="{top + ph - h:.1f}" width="{bw - 4:.1f}" '
                     f'height="{h:.1f}" fill="{colour}"><title>{k}: {v * 100:.1f}%</title></rect>{label}'
                     f'<text x="{x + (bw - 4) / 2:.1f}" y="{top + ph - h - 3:.1f}" font-size="9" '
                     f'text-anchor="middle">{v * 100:.0f}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
