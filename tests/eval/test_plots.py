"""The evaluation's curves are readable: a title, a legend in its own box beside the plotting area (computed
from the coordinates the SVG carries, so a legend drawn over the curves fails), one distinct colour a line."""

import xml.etree.ElementTree as ET

import numpy as np

from miles.eval.plots import svg_bars, svg_lines

NS = "{http://www.w3.org/2000/svg}"
NAMES = ["the title-only TF-IDF baseline", "the creator's own track record", "LightGBM on metadata",
         "LightGBM on metadata, title and thumbnail", "the fusion MLP on metadata",
         "the fusion MLP on metadata, title and thumbnail"]


def box(el) -> tuple[float, float, float, float]:
    x, y = float(el.get("x")), float(el.get("y"))
    return x, y, x + float(el.get("width")), y + float(el.get("height"))


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def six_curves() -> ET.Element:
    x = np.linspace(0, 1, 50)
    series = [(n, x, x ** (1 + i / 3)) for i, n in enumerate(NAMES)]
    return ET.fromstring(svg_lines(series, "recall", "precision", title="Precision against recall"))


def test_a_plot_has_a_title():
    svg = six_curves()
    assert svg.find(f"{NS}title").text == "Precision against recall"
    assert [t.text for t in svg.iter(f"{NS}text") if t.get("class") == "title"] == ["Precision against recall"]
    assert "<title>" in svg_bars([("title", 0.1)], title="Mean |SHAP| by feature group")


def test_the_legend_lies_beside_the_plotting_area_and_inside_the_picture():
    svg = six_curves()
    rects = {r.get("class"): box(r) for r in svg.iter(f"{NS}rect")}
    area, legend = rects["plot-area"], rects["legend"]
    assert not overlap(area, legend) and legend[0] >= area[2]
    assert legend[2] <= float(svg.get("width")) and legend[3] <= float(svg.get("height"))
    labels = [t for t in svg.iter(f"{NS}text") if t.text in NAMES]
    assert len(labels) == len(NAMES)
    for t in labels:  # every entry's text starts inside the legend's box, never over the curves
        assert legend[0] <= float(t.get("x")) < legend[2] and legend[1] < float(t.get("y")) <= legend[3]
    for line in svg.iter(f"{NS}polyline"):  # and every curve stays in the plotting area
        pts = [tuple(map(float, p.split(","))) for p in line.get("points").split()]
        assert all(area[0] <= px <= area[2] and area[1] <= py <= area[3] for px, py in pts)


def test_each_line_has_its_own_colour():
    colours = [p.get("stroke") for p in six_curves().iter(f"{NS}polyline")]
    assert len(colours) == len(NAMES) == len(set(colours))
