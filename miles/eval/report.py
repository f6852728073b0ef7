"""The evaluation report: one self-contained HTML file (inline SVG, no scripts, no network).

ROC and PR curves, calibration, the ablation table with intervals, the gain of embeddings over
metadata, SHAP summaries, and a plain-language reading of the numbers.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sklearn.metrics import precision_recall_curve, roc_curve

from miles.eval.plots import calibration_points, svg_bars, svg_lines
from miles.eval.reading import reading
from miles.eval.verdicts import SPLIT_WORDS, head_words, verdict


def _fmt(r: dict) -> str:
    return f"{r['value']:.3f} <small>[{r['ci_low']:.3f}, {r['ci_high']:.3f}]</small>"


def write_report(result, path: str | Path, shap_summary: dict | None = None, title: str = "Miles evaluation",
                 served: str | None = None) -> Path:
    """Write the report for an ``EvalResult``; ``shap_summary``: {"groups": [...], "features": [...]};
    ``served``: the head the dashboard serves (its standing is said on each split)."""
    path = Path(path)
    recs = result.records
    moments = list(dict.fromkeys(r["moment"] for r in recs))
    splits = list(dict.fromkeys(r["split"] for r in recs))
    focus_moment = moments[0]
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>"
             "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 7px;text-align:right}"
             "th{background:#f4f4f4}td:first-child,td:nth-child(2){text-align:left}.row{display:flex;gap:1em;flex-wrap:wrap}"
             "</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             f"<p>Generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC in {result.seconds:.0f} s.</p>"]
    parts.append("<h2>What the numbers mean</h2>"
                 + "".join(f"<p>{html.escape(s)}</p>" for s in reading(result, focus_moment, served)))
    for split in splits:
        where = SPLIT_WORDS.get(split, split)
        parts.append(f"<h2>{html.escape(where.capitalize())} · {html.escape(focus_moment)}</h2><div class='row'>")
        fits = [f for f in result.fitted if f.split == split and f.moment == focus_moment and
                f.features in ("title", "creator_prior", "metadata", "metadata+text+image")]
        y, v, _ = result.labels[(focus_moment, split)]
        roc, pr, cal = [], [], []
        for f in fits:
            yt = y[f.test_idx]
            if len(np.unique(yt)) < 2:
                continue
            name = head_words(f.head, f.features)
            fpr, tpr, _ = roc_curve(yt, f.p_viral)
            prec, rec, _ = precision_recall_curve(yt, f.p_viral)
            cx, cy = calibration_points(yt, f.p_viral)
            roc.append((name, fpr, tpr))
            pr.append((name, rec[::-1], prec[::-1]))
            cal.append((name, cx, cy))
        parts += [svg_lines(roc, "false positive rate", "true positive rate", diagonal=True,
                            title="ROC: true against false positives"),
                  svg_lines(pr, "recall", "precision", title="Precision against recall"),
                  svg_lines(cal, "predicted chance of breaking out", "observed rate", diagonal=True,
                            title="Calibration: predicted against observed"), "</div>"]
    parts.append("<h2>All results</h2><table><tr><th>moment</th><th>split</th><th>head</th><th>features</th>"
                 "<th>AUROC ↑</th><th>AUPRC ↑</th><th>prevalence</th><th>Brier ↓</th><th>ECE ↓</th><th>velocity MAE ↓</th>"
                 "<th>Spearman ↑</th><th>P range coverage</th><th>velocity range coverage</th><th>n train</th>"
                 "<th>n test</th></tr>")
    keyed: dict[tuple, dict] = {}
    prevalence = {(r["moment"], r["split"]): r for r in recs if r["metric"] == "prevalence"}
    for r in recs:
        if r["metric"] != "prevalence":
            keyed.setdefault((r["moment"], r["split"], r["head"], r["features"]), {})[r["metric"]] = r
    for (m, s, h, f), d in keyed.items():
        d = {**d, "prevalence": prevalence.get((m, s))}
        cells = "".join(f"<td>{_fmt(d[k]) if d.get(k) else ''}</td>" for k in (
            "auroc", "auprc", "prevalence", "brier", "ece", "velocity_mae", "spearman", "p_coverage",
            "velocity_coverage"))
        parts.append(f"<tr><td>{m}</td><td>{s}</td><td>{h}</td><td>{f}</td>{cells}<td>{d['auroc']['n_train']}</td>"
                     f"<td>{d['auroc']['n']}</td></tr>")
    parts.append("</table><p>↑ higher is better, ↓ lower is better; brackets hold 95% intervals.</p>"
                 "<h2>Paired gains (positive = better: a higher AUROC, a lower Brier score or MAE)</h2><table><tr>"
                 "<th>moment</th><th>split</th><th>head</th><th>features</th><th>over</th><th>metric</th>"
                 "<th>gain [95% CI]</th><th>reading</th></tr>")
    for g in result.gains:
        parts.append(f"<tr><td>{g['moment']}</td><td>{g['split']}</td><td>{g['head']}</td><td>{g['features']}</td>"
                     f"<td>{g['versus']}</td><td>{g['metric']}</td><td>{g['gain']:+.3f} <small>[{g['ci_low']:+.3f}, "
                     f"{g['ci_high']:+.3f}]</small></td><td>{verdict(g)}</td></tr>")
    parts.append("</table>")
    if shap_summary:
        parts.append("<h2>What drives the LightGBM head (SHAP, test rows)</h2><div class='row'><div><h3>by group</h3>"
                     + svg_bars([(r["name"], r["mean_abs"]) for r in shap_summary["groups"]],
                                  title="Mean |SHAP| by feature group") + "</div><div>"
                     "<h3>scalar features</h3>" + svg_bars([(r["name"], r["mean_abs"]) for r in shap_summary["features"][:12]],
                                                           title="Mean |SHAP| by scalar feature")
                     + "</div></div><p>Mean |SHAP value| in log-odds of <i>viral</i>. A group's value is the sum of "
                     "its columns' values.</p>")
        if shap_summary.get("mlp_groups"):
            parts.append("<h3>Fusion MLP, exact Shapley values over the same groups</h3>"
                         + svg_bars([(r["name"], r["mean_abs"]) for r in shap_summary["mlp_groups"]],
                                  title="Mean |Shapley value| by feature group"))
        if shap_summary.get("examples"):
            parts.append("<h3>Example explanations</h3><ul>" + "".join(
                f"<li><b>{html.escape(e['video_id'])}</b> “{html.escape(e['title'][:80])}”: "
                + ", ".join(f"{html.escape(n)} {v:+.2f}" for n, v in e["top"]) + "</li>" for e in shap_summary["examples"])
                + "</ul>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
