"""SVG plots drawn on the server: no script, no network, one string each (the report and the dashboard).

    svg_lines([("lightgbm", fpr, tpr)], "false positive rate", "true positive rate", diagonal=True)
    svg_bars([("title embedding", 0.12)])
    calibration_points(y, p)          # (mean predicted, observed rate) per populated bin
"""

from __future__ import annotations

import html

import numpy as np

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"]


def svg_lines(series: list[tuple[str, np.ndarray, np.ndarray]], xlabel: str, ylabel: str, diagonal: bool = False,
               w: int = 360, h: int = 300) -> str:
    pad = 40
    sx = lambda x: pad + x * (w - pad - 10)  # noqa: E731
    sy = lambda y: h - pad - y * (h - pad - 10)  # noqa: E731
    out = [f'<svg width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg" font-size="11">',
           f'<rect x="{pad}" y="10" width="{w - pad - 10}" height="{h - pad - 10}" fill="none" stroke="#999"/>']
    for t in (0, 0.5, 1):
        out.append(f'<text x="{sx(t) - 6}" y="{h - pad + 14}">{t:g}</text><text x="{pad - 24}" y="{sy(t) + 4}">{t:g}</text>')
    out.append(f'<text x="{w / 2 - 20}" y="{h - 6}">{html.escape(xlabel)}</text>')
    out.append(f'<text x="10" y="{h / 2}" transform="rotate(-90 10 {h / 2})">{html.escape(ylabel)}</text>')
    if diagonal:
        out.append(f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(1)}" y2="{sy(1)}" stroke="#ccc" stroke-dasharray="4"/>')
    for i, (name, x, y) in enumerate(series):
        c = COLOURS[i % len(COLOURS)]
        step = max(1, len(x) // 300)
        pts = " ".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in zip(x[::step], y[::step]))
        out.append(f'<polyline fill="none" stroke="{c}" stroke-width="1.6" points="{pts}"/>')
        out.append(f'<text x="{pad + 8}" y="{24 + 13 * i}" fill="{c}">{html.escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)


def svg_bars(rows: list[tuple[str, float]], w: int = 420, unit: str = "") -> str:
    if not rows:
        return "<p>(none)</p>"
    h = 18 * len(rows) + 10
    top = max(abs(v) for _, v in rows) or 1.0
    out = [f'<svg width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg" font-size="11">']
    for i, (name, v) in enumerate(rows):
        bw = (w - 200) * abs(v) / top
        out.append(f'<text x="0" y="{18 * i + 14}">{html.escape(name)}</text>'
                   f'<rect x="150" y="{18 * i + 4}" width="{bw:.1f}" height="12" fill="#1f77b4"/>'
                   f'<text x="{155 + bw:.1f}" y="{18 * i + 14}">{v:.3f}{unit}</text>')
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
