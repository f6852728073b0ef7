"""Turning results into text for a terminal: tables, sizes, and the lines each command prints.

The library returns results; ``miles.cli`` prints them through these helpers (and nothing below the
CLI prints). Control characters in any value are shown escaped, so a hostile title cannot move the cursor.
"""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Callable

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """``text`` with control characters (ANSI escapes, NUL, ...) shown as ``\\xNN`` instead of sent."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(n)


def _cell(v) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (bytes, bytearray)):
        return f"<{len(v)} bytes>"
    text = clean(str(v))
    return text if len(text) <= 60 else text[:57] + "..."


def format_table(rows: list[dict], formatters: dict[str, Callable] | None = None) -> str:
    if not rows:
        return "(no rows)"
    formatters = formatters or {}
    cols = list(rows[0])
    cells = [[str(formatters.get(c, _cell)(r.get(c))) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=False)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) for row in cells]
    return "\n".join(lines)


def _jsonable(v):
    if isinstance(v, (bytes, bytearray)):
        return f"<{len(v)} bytes>"
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def to_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, default=str)


def _is_nested(t) -> bool:
    import pyarrow as pa

    return pa.types.is_list(t) or pa.types.is_fixed_size_list(t) or pa.types.is_struct(t) or pa.types.is_large_list(t)


def print_arrow(table, fmt: str = "table", out=None) -> None:
    out = out or sys.stdout
    if fmt == "csv":
        import pyarrow.csv as pacsv

        safe = table.select([c for c in table.column_names if not _is_nested(table.schema.field(c).type)])
        buf = io.BytesIO()
        pacsv.write_csv(safe, buf)
        out.write(buf.getvalue().decode())
        return
    rows = table.to_pylist()
    if fmt == "json":
        out.write(json.dumps([{k: _jsonable(v) for k, v in r.items()} for r in rows], ensure_ascii=False,
                             default=str) + "\n")
        return
    out.write(format_table(rows) + "\n")
    out.write(f"({table.num_rows} row{'s' if table.num_rows != 1 else ''})\n")


def prediction_lines(out: dict) -> list[str]:
    """What ``miles predict`` prints."""
    ci, band = out["viral_interval"], out["velocity_interval"]
    card = out.get("card") or {}
    lines = [clean(card[k]) for k in ("headline", "views", "sure", "channel", "mostly_channel") if card.get(k)]
    if card.get("break_out_means"):
        lines.append(f"  ({clean(card['break_out_means'])})")
    lines += [f"P(viral) {out['viral_probability']:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else "")
             + f" · velocity {out['velocity']:.2f} log10 views/h" + (f" [{band[0]:.2f}, {band[1]:.2f}]" if band else "")]
    label = out["label"]
    at = "the latest observation" if label["age_hours"] is None else f"{label['age_hours']:g} h"
    within = {"platform_week": " of its platform and week", "platform": " of its platform"}.get(label["cohort"], "")
    lines.append(f"  (viral: top {label['viral_fraction']:.0%}{within} by {label['target']} at {at}; calibrated "
                 f"on {out['calibrated_on']} recent training videos)")
    lines += [f"  ({out[k]})" for k in ("interval_means", "velocity_interval_means") if out.get(k)]
    lines += [f"  - {clean(f['says'])}" for f in out["factors"]]
    lines += [f"note: {clean(n)}" for n in out["notes"]]
    if out["similar"]:
        lines += ["similar videos that broke out:", format_table(out["similar"])]
    return lines


def live_lines(out: dict) -> list[str]:
    """What ``miles predict --video-id`` prints: the moment used, the card, how the video is doing."""
    ci = out["viral_interval"]
    moment = "before upload" if out["moment"] == "pre_upload" else f"at {out['moment'].removeprefix('early_')}"
    lines = [f"{out['video_id']}, {out['age_hours']:g} h old, scored {moment} by the {out['head']} model:"]
    card = out.get("card") or {}
    lines += [clean(card[k]) for k in ("headline", "views", "sure") if card.get(k)]
    lines.append(f"P(viral) {out['viral_probability']:.2f}" + (f" [{ci[0]:.2f}, {ci[1]:.2f}]" if ci else ""))
    prog = out["progress"]
    if prog["views"] is not None:
        usual = prog["creator_usual"]
        lines.append(f"{prog['views']:,} views at {prog['age_hours']:g} h" + (
            f"; the creator's {usual['videos']} earlier videos had {usual['median_views']:,.0f} (median) by then"
            if usual else ""))
    lines += [f"  - {clean(f['says'])}" for f in out["factors"]]
    lines += [f"note: {clean(n)}" for n in out["notes"]]
    if prog["neighbours"]:
        lines += ["similar earlier videos, views at 1 h / 6 h / 24 h:",
                  format_table([{"video_id": n["video_id"], "viral": n["viral"], **n["views_at"], "title": n["title"]}
                                for n in prog["neighbours"]])]
    return lines


def eval_lines(result) -> list[str]:
    """What ``miles eval`` prints: the table, the widest gain of embeddings, and what was left out."""
    from miles.eval.verdicts import encoder_choice

    lines = [format_table(result.table().to_dict("records"))]
    gains = [g for g in result.gains if g["versus"] == "metadata" and "@" not in g["features"]]
    widest = {(g["head"], g["moment"], g["split"]): g["features"]
              for g in sorted(gains, key=lambda g: g["features"].count("+"))}
    for g in gains:
        if g["features"] == widest[(g["head"], g["moment"], g["split"])]:
            lines.append(f"gain of {g['features']} over metadata, {g['head']} {g['moment']} {g['split']} "
                         f"{g['metric']}: {g['gain']:+.3f} [{g['ci_low']:+.3f}, {g['ci_high']:+.3f}] (positive = better)")
    for moment, split in dict.fromkeys((g["moment"], g["split"]) for g in result.gains):
        lines += [f"{moment} {split}: {sentence}" for sentence in encoder_choice(result.gains, moment, split)]
    ahead = [g["features"].split("@", 1)[1] for g in result.gains  # a compared encoder clearly ahead
             if "@" in g["versus"] and g["metric"] == "auroc" and g["ci_low"] > 0]
    lines += [f"to deploy {name}: miles train --text-encoder {name}" for name in dict.fromkeys(ahead)]
    lines += [f"note: {n}" for n in result.notes]
    return lines


def demo_lines(result) -> list[str]:
    """What ``miles demo`` prints: each stage, the results table with intervals, the gain of embeddings,
    the store and where the report is."""
    lines = list(result.lines)
    ev = result.eval
    lines += ["", format_table(ev.table().query("split != 'random'").to_dict("records"))]
    for g in ev.gains:
        if g["versus"] == "metadata" and g["features"] == "metadata+text+image" and g["split"] != "random":
            lines.append(f"gain of embeddings, {g['head']} {g['moment']} {g['split']} {g['metric']}: "
                         f"{g['gain']:+.3f} [{g['ci_low']:+.3f}, {g['ci_high']:+.3f}]")
    lines += [f"note: {n}" for n in ev.notes]
    lines.append(f"trained {len(result.trained)} deployable heads into {result.store}/heads")
    lines.append("stages: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in result.timings))
    lines += ["", f"store {result.store} (SYNTHETIC demo data, seed {result.seed}"
              + (", the hard setting)" if result.hard else ")"),
              format_table(result.store.info(), {"bytes": human_bytes}), "", f"report: {result.report}"]
    return lines
