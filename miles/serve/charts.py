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

    parts = [f'<svg class="gauge" viewBox="0 0 {w} {cy + 54:.0f}" xmlns="http://www.w3.org/2000/svg" role="img" '
             f'aria-label="probability of breaking out {p:.0%}">', arc(0.0, 1.0, "#eaeef2", 16)]
    if interval:
        parts.append(arc(max(0.0, interval[0]), min(1.0, max(interval[1], interval[0] + 1e-3)), "#9ecbff", 16))
    x, y = point(p)
    parts.append(f'<line x1="{cx:.1f}" y1="{cy:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="#24292f" stroke-width="3"/>')
    parts.append(f'<text x="{cx:.1f}" y="{cy + 28:.1f}" text-anchor="middle" font-size="22" '
                 f'font-weight="600">{p:.0%}</text>')
    if interval:
        parts.append(f'<text x="{cx:.1f}" y="{cy + 46:.1f}" text-anchor="middle" font-size="13" fill="#57606a">'
                     f'range {interval[0]:.0%}–{interval[1]:.0%}</text>')
    parts.append("</svg>")
    return "".join(parts)


def signed_bars(rows: list[tuple[str, float]]) -> str:
    """One row per (label, change in log-odds): the label, a bar right and green when it raises the odds or
    left and red when it lowers them, and its multiple of the odds ("×0.75"). Labels and numbers are page
    text in their own grid cells (never drawn over a bar or each other, and as large as the page's text on a
    phone); only the bar is SVG, whose attributes a strict content-security policy allows."""
    if not rows:
        return ""
    top = max(abs(v) for _, v in rows) or 1.0
    out = ['<div class="bars" role="list" aria-label="what moves the prediction">']
    for label, v in rows:
        width = 50 * abs(v) / top
        x = 50 if v >= 0 else 50 - width
        out.append(f'<div class="bar-row" role="listitem"><span class="bar-label">{html.escape(label)}</span>'
                   f'<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">'
                   f'<line x1="50" y1="0" x2="50" y2="10" stroke="{MUTED}" stroke-width="0.6"/>'
                   f'<rect x="{x:.2f}" y="2" width="{max(width, 0.4):.2f}" height="6" '
                   f'fill="{POSITIVE if v >= 0 else NEGATIVE}"/></svg>'
                   f'<span class="bar-value {"up" if v >= 0 else "down"}">×{math.exp(v):.2f}</span></div>')
    out.append("</div>")
    return "".join(out)


SLOTS = (("pre_upload", "before"), ("early_1h", "1 h"), ("early_6h", "6 h"), ("early_24h", "24 h"))


def trajectory(history: list[dict], w: int = 300, h: int = 110) -> str:
    """A live video's P at each moment it was scored (before upload, 1, 6, 24 hours), each with its interval
    as a bar; a moment never scored is an empty slot."""
    if not history:
        return ""
    left, top, bottom = 44, 10, h - 24
    step = (w - left - 44) / (len(SLOTS) - 1)
    slot = {m: left + 10 + i * step for i, (m, _) in enumerate(SLOTS)}

    def sy(p):
        return bottom - p * (bottom - top)

    out = [f'<svg class="trajectory" width="{w}" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" '
           f'font-size="12" role="img" aria-label="chance of breaking out at each moment scored">',
           f'<line x1="{left}" y1="{bottom}" x2="{w - 4}" y2="{bottom}" stroke="{MUTED}"/>',
           f'<text x="{left - 6}" y="{sy(1) + 9}" text-anchor="end">100%</text>'
           f'<text x="{left - 6}" y="{bottom}" text-anchor="end">0%</text>']
    out += [f'<text x="{slot[m]:.1f}" y="{h - 6}" text-anchor="middle">{name}</text>' for m, name in SLOTS]
    pts = []
    for s in history:
        if s["moment"] not in slot:
            continue
        x = slot[s["moment"]]
        pts.append((x, sy(s["p"])))
        out.append(f'<line x1="{x:.1f}" y1="{sy(s["lo"]):.1f}" x2="{x:.1f}" y2="{sy(s["hi"]):.1f}" stroke="#9ecbff" '
                   f'stroke-width="8"><title>{s["p"]:.0%} ({s["lo"]:.0%}–{s["hi"]:.0%}), scored at '
                   f'{s["age_hours"]:.1f} h</title></line>')
    if len(pts) > 1:
        out.append(f'<polyline points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in pts)}" fill="none" stroke="#0969da" '
                   'stroke-width="2"/>')
    out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#0969da"/>' for x, y in pts]
    out.append("</svg>")
    return "".join(out)


def growth(own: list[tuple[float, float]], neighbours: dict[str, int | None], w: int = 300, h: int = 120) -> str:
    """A live video's views against its age (a line), beside the median of its similar earlier videos at 1, 6
    and 24 hours (hollow dots joined by a dashed line): log views, ages 0 to 24 h."""
    marks = [(float(k.removesuffix("h")), v) for k, v in neighbours.items() if v is not None]
    own = [(a, v) for a, v in own if a <= 24]
    values = [v for _, v in own + marks if v and v > 0]
    if not values:
        return ""
    left, top, bottom, right = 52, 8, h - 24, w - 8
    lo, hi = math.log10(max(1.0, min(values))), math.log10(max(values) * 1.2)
    hi = hi if hi > lo else lo + 1

    def sx(a):
        return left + a / 24 * (right - left)

    def sy(v):
        return bottom - (math.log10(max(v, 1.0)) - lo) / (hi - lo) * (bottom - top)

    out = [f'<svg class="growth" width="{w}" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" font-size="12" '
           'role="img" aria-label="views by age against similar earlier videos">',
           f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{MUTED}"/>',
           f'<text x="{left - 4}" y="{top + 9}" text-anchor="end">{10 ** hi:,.0f}</text>'
           f'<text x="{left - 4}" y="{bottom}" text-anchor="end">{10 ** lo:,.0f}</text>',
           f'<text x="{left}" y="{h - 6}">0 h</text><text x="{right}" y="{h - 6}" text-anchor="end">24 h</text>']
    if marks:
        out.append(f'<polyline points="{" ".join(f"{sx(a):.1f},{sy(v):.1f}" for a, v in marks)}" fill="none" '
                   f'stroke="{MUTED}" stroke-dasharray="4 3"/>')
        out += [f'<circle cx="{sx(a):.1f}" cy="{sy(v):.1f}" r="3.5" fill="#fff" stroke="{MUTED}" stroke-width="1.5">'
                f'<title>similar videos at {a:g} h: {v:,} views (median)</title></circle>' for a, v in marks]
    if own:
        out.append(f'<polyline points="{" ".join(f"{sx(a):.1f},{sy(v):.1f}" for a, v in own)}" fill="none" '
                   'stroke="#0969da" stroke-width="2"/>')
        out += [f'<circle cx="{sx(a):.1f}" cy="{sy(v):.1f}" r="3" fill="#0969da"><title>{v:,.0f} views at {a:.1f} h'
                '</title></circle>' for a, v in own]
    out.append("</svg>")
    return "".join(out)


def time_series(points: list[tuple[float, float]], xlabel: str, ylabel: str, w: int = 360, h: int = 200) -> str:
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
    out = [f'<svg class="series" width="{w}" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" font-size="13">',
           f'<line x1="{pad}" y1="{h - pad + 8}" x2="{w - 12}" y2="{h - pad + 8}" stroke="{MUTED}"/>',
           f'<line x1="{pad}" y1="8" x2="{pad}" y2="{h - pad + 8}" stroke="{MUTED}"/>',
           f'<polyline points="{pts}" fill="none" stroke="#0969da" stroke-width="2"/>']
    out += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="#0969da"/>' for x, y in points]
    out.append(f'<text x="{pad}" y="{h - 8}">{x0:.0f}</text><text x="{w - 12}" y="{h - 8}" text-anchor="end">'
               f'{x1:.0f} {html.escape(xlabel)}</text>')
    out.append(f'<text x="4" y="14">{y1:,.0f} {html.escape(ylabel)}</text>')
    out.append("</svg>")
    return "".join(out)


def histogram(counts: list[int], edges: list[float], xlabel: str, w: int = 360, h: int = 180) -> str:
    if not counts:
        return "<p>(no outcomes yet)</p>"
    pad, top = 30, max(counts) or 1
    bw = (w - 2 * pad) / len(counts)
    out = [f'<svg class="hist" width="{w}" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" font-size="13">']
    for i, c in enumerate(counts):
        bh = (h - 2 * pad) * c / top
        out.append(f'<rect x="{pad + i * bw:.1f}" y="{h - pad - bh:.1f}" width="{bw - 1:.1f}" height="{bh:.1f}" '
                   f'fill="#0969da"><title>{edges[i]:.2f}–{edges[i + 1]:.2f}: {c}</title></rect>')
    out.append(f'<text x="{pad}" y="{h - 8}">{edges[0]:.2f}</text>'
               f'<text x="{w - pad}" y="{h - 8}" text-anchor="end">{edges[-1]:.2f} {html.escape(xlabel)}</text>')
    out.append("</svg>")
    return "".join(out)
