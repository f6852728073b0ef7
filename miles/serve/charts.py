"""The dashboard's own SVG: a probability gauge, signed factor bars, views over time, a histogram.

Each returns markup safe to place in a page (every text escaped; no ``style`` attributes, so a strict
content-security policy holds). Curves of the evaluation come from ``miles.eval.plots``.
"""

from __future__ import annotations

import html
import math

POSITIVE, NEGATIVE, MUTED = "#1a7f37", "#cf222e", "#8c959f"


def gauge(p: float, interval: list[float] | None, w: int = 220) -> str:
    """A half-circle gauge of a probability with its interval as a lighter band."""
    r, cx, cy = w * 0.4, w / 2, w * 0.48

    def point(q: float) -> tuple[float, float]:
        a = math.pi * (1 - q)
        return cx + r * math.cos(a), cy - r * math.sin(a)

    def arc(q0: float, q1: float, colour: str, width: int) -> str:
        (x0, y0), (x1, y1) = point(q0), point(q1)
        return (f'<path d="M {x0:.1f} {y0:.1f} A {r:.1f} {r:.1f} 0 0 1 {x1:.1f} {y1:.1f}" fill="none" '
                f'stroke="{colour}" stroke-width="{width}"/>')

    parts = [f'<svg class="gauge" viewBox="0 0 {w} {w * 0.62:.0f}" xmlns="http://www.w3.org/2000/svg" role="img" '
             f'aria-label="probability of breaking out {p:.0%}">', arc(0.0, 1.0, "#eaeef2", 16)]
    if interval:
        parts.append(arc(max(0.0, interval[0]), min(1.0, max(interval[1], interval[0] + 1e-3)), "#9ecbff", 16))
    x, y = point(p)
    parts.append(f'<line x1="{cx:.1f}" y1="{cy:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="#24292f" stroke-width="3"/>')
    parts.append(f'<text x="{cx:.1f}" y="{cy + 28:.1f}" text-anchor="middle" font-size="22" '
                 f'font-weight="600">{p:.0%}</text>')
    if interval:
        parts.append(f'<text x="{cx:.1f}" y="{cy + 44:.1f}" text-anchor="middle" font-size="11" fill="#57606a">'
                     f'range {interval[0]:.0%}–{interval[1]:.0%}</text>')
    parts.append("</svg>")
    return "".join(parts)


def signed_bars(rows: list[tuple[str, float]], w: int = 520) -> str:
    """One bar per (label, change in log-odds): right and green when it raises the odds, left and red when it
    lowers them, each with its multiple of the odds ("×0.75"). The longest bar leaves room for its number
    beside it, so a value never runs into its label."""
    if not rows:
        return ""
    h, mid = 22 * len(rows) + 6, w * 0.62
    top = max(abs(v) for _, v in rows) or 1.0
    half = w - mid - 60
    room = 50  # for the number beside the longest bar
    out = [f'<svg class="bars" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" role="img" '
           'aria-label="what moves the prediction">',
           f'<line x1="{mid}" y1="0" x2="{mid}" y2="{h}" stroke="{MUTED}"/>']
    for i, (label, v) in enumerate(rows):
        bw = (half - room) * abs(v) / top
        x = mid if v >= 0 else mid - bw
        y = 22 * i + 5
        out.append(f'<text x="{mid - half - 8:.0f}" y="{y + 12}" text-anchor="end" font-size="12">'
                   f'{html.escape(label)}</text>')
        out.append(f'<rect x="{x:.1f}" y="{y}" width="{max(bw, 1):.1f}" height="14" '
                   f'fill="{POSITIVE if v >= 0 else NEGATIVE}"/>')
        tx = mid + bw + 4 if v >= 0 else mid - bw - 4
        out.append(f'<text x="{tx:.1f}" y="{y + 12}" font-size="11" text-anchor="{"start" if v >= 0 else "end"}">'
                   f'×{math.exp(v):.2f}</text>')
    out.append("</svg>")
    return "".join(out)


def time_series(points: list[tuple[float, float]], xlabel: str, ylabel: str, w: int = 520, h: int = 220) -> str:
    """A line through (x, y) points with dots (views over hours since publishing)."""
    if not points:
        return "<p>(no observations)</p>"
    pad = 44
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y1 = max(ys) or 1.0

    def sx(x):
        return pad + (x - x0) / (x1 - x0) * (w - pad - 12)

    def sy(y):
        return h - pad + 8 - y / y1 * (h - pad - 8)

    pts = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in points)
    out = [f'<svg class="series" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" font-size="11">',
           f'<line x1="{pad}" y1="{h - pad + 8}" x2="{w - 12}" y2="{h - pad + 8}" stroke="{MUTED}"/>',
           f'<line x1="{pad}" y1="8" x2="{pad}" y2="{h - pad + 8}" stroke="{MUTED}"/>',
           f'<polyline points="{pts}" fill="none" stroke="#0969da" stroke-width="2"/>']
    out += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="#0969da"/>' for x, y in points]
    out.append(f'<text x="{pad}" y="{h - 8}">{x0:.0f}</text><text x="{w - 12}" y="{h - 8}" text-anchor="end">'
               f'{x1:.0f} {html.escape(xlabel)}</text>')
    out.append(f'<text x="4" y="14">{y1:,.0f} {html.escape(ylabel)}</text>')
    out.append("</svg>")
    return "".join(out)


def histogram(counts: list[int], edges: list[float], xlabel: str, w: int = 520, h: int = 200) -> str:
    if not counts:
        return "<p>(no outcomes yet)</p>"
    pad, top = 30, max(counts) or 1
    bw = (w - 2 * pad) / len(counts)
    out = [f'<svg class="hist" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" font-size="11">']
    for i, c in enumerate(counts):
        bh = (h - 2 * pad) * c / top
        out.append(f'<rect x="{pad + i * bw:.1f}" y="{h - pad - bh:.1f}" width="{bw - 1:.1f}" height="{bh:.1f}" '
                   f'fill="#0969da"><title>{edges[i]:.2f}–{edges[i + 1]:.2f}: {c}</title></rect>')
    out.append(f'<text x="{pad}" y="{h - 8}">{edges[0]:.2f}</text>'
               f'<text x="{w - pad}" y="{h - 8}" text-anchor="end">{edges[-1]:.2f} {html.escape(xlabel)}</text>')
    out.append("</svg>")
    return "".join(out)
