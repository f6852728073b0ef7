"""SVG plots drawn on the server: no script, no network, one string each (the report and the dashboard).

    svg_lines([("LightGBM", fpr, tpr)], "false positive rate", "true positive rate", diagonal=True, title="ROC")
    svg_bars([("title embedding", 0.12)], title="What drives the head")
    calibration_points(y, p)          # (mean predicted, observed rate) per populated bin
"""

from __future__ import annotations

import html

import numpy as np

# Okabe & Ito's qualitative palette (told apart with the common colour-vision deficiencies), yellow last.
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
DASHES = ["", "6 3", "2 2"]  # a second and third round of the palette is dashed, then dotted
CHAR_W = 6.8  # a generous width of one character at font-size 12, to size the legend


def svg_lines(series: list[tuple[str, np.ndarray, np.ndarray]], xlabel: str, ylabel: str, diagonal: bool = False,
              title: str = "", size: int = 280) -> str:
    """Curves on the unit square, titled, with the legend in its own box to the right of the plotting area
    (never over a curve). The plotting area is ``rect.plot-area``, the legend's box ``rect.legend``."""
    left, top, gap = 44, 30 if title else 12, 14
    sx = lambda x: left + x * size  # noqa: E731
    sy = lambda y: top + (1 - y) * size  # noqa: E731
    lx = left + size + gap
    lw = 34 + CHAR_W * max((len(n) for n, _, _ in series), default=0)
    lh = 16 * len(series) + 8
    w, h = lx + lw + 4, max(top + size + 36, top + lh + 4)
    out = [f'<svg width="{w:.0f}" height="{h:.0f}" viewBox="0 0 {w:.0f} {h:.0f}" xmlns="http://www.w3.org/2000/svg" '
           f'font-size="12" role="img" aria-label="{html.escape(title or ylabel)}">']
    if title:
        out.append(f'<title>{html.escape(title)}</title><text class="title" x="{left}" y="18" font-size="13" '
                   f'font-weight="600">{html.escape(title)}</text>')
    out.append(f'<rect class="plot-area" x="{left}" y="{top}" width="{size}" height="{size}" fill="none" stroke="#999"/>')
    for t in (0, 0.5, 1):
        out.append(f'<text x="{sx(t)}" y="{top + size + 14}" text-anchor="middle">{t:g}</text>'
                   f'<text x="{left - 4}" y="{sy(t) + 4}" text-anchor="end">{t:g}</text>')
    out.append(f'<text x="{left + size / 2}" y="{top + size + 30}" text-anchor="middle">{html.escape(xlabel)}</text>')
    out.append(f'<text x="12" y="{top + size / 2}" text-anchor="middle" transform="rotate(-90 12 {top + size / 2})">'
               f'{html.escape(ylabel)}</text>')
    if diagonal:
        out.append(f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(1)}" y2="{sy(1)}" stroke="#bbb" stroke-dasharray="4"/>')
    if series:
        out.append(f'<rect class="legend" x="{lx}" y="{top}" width="{lw:.0f}" height="{lh}" fill="none" stroke="#ddd"/>')
    for i, (name, x, y) in enumerate(series):
        c, dash = COLOURS[i % len(COLOURS)], DASHES[(i // len(COLOURS)) % len(DASHES)]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        step = max(1, len(x) // 300)
        pts = " ".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in zip(x[::step], y[::step]))
        out.append(f'<polyline fill="none" stroke="{c}" stroke-width="2"{dashed} points="{pts}"/>')
        ly = top + 14 + 16 * i
        out.append(f'<line x1="{lx + 6}" y1="{ly - 4}" x2="{lx + 26}" y2="{ly - 4}" stroke="{c}" stroke-width="2"'
                   f'{dashed}/><text x="{lx + 30}" y="{ly}">{html.escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)


def svg_bars(rows: list[tuple[str, float]], w: int = 420, unit: str = "", title: str = "") -> str:
    if not rows:
        return "<p>(none)</p>"
    head = 22 if title else 0
    h = 18 * len(rows) + 10 + head
    top = max(abs(v) for _, v in rows) or 1.0
    out = [f'<svg width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg" font-size="12">']
    if title:
        out.append(f'<title>{html.escape(title)}</title><text class="title" x="0" y="14" font-size="13" '
                   f'font-weight="600">{html.escape(title)}</text>')
    for i, (name, v) in enumerate(rows):
        bw = (w - 200) * abs(v) / top
        y = head + 18 * i
        out.append(f'<text x="0" y="{y + 14}">{html.escape(name)}</text>'
                   f'<rect x="150" y="{y + 4}" width="{bw:.1f}" height="12" fill="{COLOURS[0]}"/>'
                   f'<text x="{155 + bw:.1f}" y="{y + 14}">{v:.3f}{unit}</text>')
    out.append("</svg>")
    return "".join(out)


def calibration_points(y: np.ndarray, p: np.ndarray, bins: int = 10):
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    xs, ys = [], []
    for b in range(bins):
        m = idx == b
        if m.sum() >= 5:
            xs.append(p[m].mean())
            ys.append(y[m].mean())
    return np.array(xs), np.array(ys)
