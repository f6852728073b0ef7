"""DESIGN.md describes the code as it is: its rooms section is generated from the code, and every file it,
the README or a docstring names exists."""

import re

from tests.rooms import BEGIN, DESIGN, END, ROOT, replaced

REPO = ROOT.parent
FILE = re.compile(r"(?<![\w/.-])((?:miles|tests|benchmarks|docs|[a-z_]+)/[\w/.-]*\w\.(?:py|md|sh))\b")


def test_the_rooms_section_is_the_codes():
    text = DESIGN.read_text()
    assert BEGIN in text and END in text
    assert text == replaced(text), "DESIGN.md's rooms differ from the code: run `python -m tests.rooms --write`"


def _named(text: str) -> set[str]:
    return {m for m in FILE.findall(text) if not m.startswith(("shared/", "data/"))}


def _exists(name: str) -> bool:
    return any((base / name).exists() for base in (REPO, REPO / "miles"))


def test_every_file_the_docs_and_docstrings_name_exists():
    sources = [DESIGN, REPO / "README.md", *sorted((REPO / "miles").rglob("*.py"))]
    missing = sorted(f"{path.relative_to(REPO)} names {name}" for path in sources
                     for name in _named(path.read_text()) if not _exists(name))
    assert not missing, "\n".join(missing)


def test_a_renamed_file_is_caught():
    assert not _exists("heads/parity.py") and _named("see `tests/heads/test_parity.py`") == {"tests/heads/test_parity.py"}
