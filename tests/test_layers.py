"""The house rules, checked on the source: no import cycle (imports inside functions included), and
imports only run down the floors: store ← sources, embed, heads ← eval ← queries ← serve ← cli."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "miles"
FLOORS = {"errors": 0, "bounded": 0, "net": 0, "versions": 0, "cluster": 0, "store": 0, "sources": 1, "embed": 1, "heads": 1, "eval": 2, "collect": 2, "queries": 3, "present": 4,
          "pipeline": 4, "serve": 5, "cli": 6, "__init__": 0}


def modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Every miles module ``path`` imports, at any depth of the file."""
    pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("miles")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(pkg.split(".")[: len(pkg.split(".")) - node.level + 1] + ([base] if base else []))
            if not base.startswith("miles"):
                continue
            for a in node.names:
                sub = f"{base}.{a.name}"
                out.add(sub if sub in known else base)
    return {m for m in out if m in known and m != name}


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports(path, name, set(mods)) for name, path in mods.items()}


def floor(module: str) -> int:
    parts = module.split(".")
    return FLOORS[parts[1] if len(parts) > 1 else "__init__"]


def test_no_import_cycle():
    g = graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(g[m]):
            if state.get(n) == 1:
                pytest.fail("import cycle: " + " → ".join(stack[stack.index(n):] + [n]))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            visit(m)


def test_imports_run_down_the_floors():
    bad = []
    for m, deps in graph().items():
        for d in deps:
            same_package = m.split(".")[:2] == d.split(".")[:2]
            if not same_package and (floor(d) > floor(m) or (floor(d) == floor(m) and floor(m) > 0)):
                bad.append(f"{m} imports {d}")
    assert not bad, "\n".join(sorted(bad))


def test_the_checker_sees_lazy_imports_and_cycles(tmp_path, monkeypatch):
    """The two checks above fail when a cycle or an upward import is hidden inside a function."""
    pkg = tmp_path / "miles"
    (pkg / "store").mkdir(parents=True)
    (pkg / "eval").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "store" / "__init__.py").write_text("")
    (pkg / "eval" / "__init__.py").write_text("")
    (pkg / "store" / "a.py").write_text("def f():\n    from miles.eval.b import g\n")
    (pkg / "eval" / "b.py").write_text("from miles.store.a import f\n")
    import sys

    monkeypatch.setattr(sys.modules[__name__], "ROOT", pkg)
    with pytest.raises(pytest.fail.Exception, match="import cycle"):
        test_no_import_cycle()
    with pytest.raises(AssertionError, match="miles.store.a imports miles.eval.b"):
        test_imports_run_down_the_floors()


def test_no_module_changes_global_state_on_import():
    """Importing every module of Miles leaves os.environ as it was (the libraries it uses are imported
    first: what they set is theirs)."""
    import os
    import subprocess
    import sys

    code = ("import os, json, importlib\n"
            "import torch, faiss, lightgbm, lance, lancedb, duckdb, sklearn, shap, transformers, timm, pandas\n"
            "before = dict(os.environ)\n"
            f"for name in {sorted(m for m in modules() if not m.endswith('__main__'))!r}:\n"
            "    importlib.import_module(name)\n"
            "changed = {k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k)}\n"
            "print(json.dumps(sorted(changed)))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env={k: v for k, v in os.environ.items() if not k.startswith(("LANCE_", "HF_", "TRANSFORMERS_"))})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "[]"
