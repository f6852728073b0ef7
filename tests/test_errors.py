"""One error contract: an input mistake is a MilesError (CLI exit 2, API 4xx, a plain message); a bare
built-in exception from Miles's own code is a bug (CLI "internal error", exit 1; API 500)."""

import ast
import builtins
from pathlib import Path

import pytest

BUILTIN = {name for name in dir(builtins)
           if isinstance(getattr(builtins, name), type) and issubclass(getattr(builtins, name), BaseException)}
PACKAGE = Path(__file__).resolve().parents[1] / "miles"


def bare_raises(root: Path = PACKAGE) -> list[str]:
    """``file:line`` of every ``raise <built-in exception>(...)`` in the package whose line does not say
    it is internal (a bug, not input)."""
    out = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and \
                    isinstance(node.exc.func, ast.Name) and node.exc.func.id in BUILTIN:
                if "# internal" not in lines[node.lineno - 1]:
                    out.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    return out


def test_every_input_mistake_is_a_miles_error():
    assert bare_raises() == []


def test_the_walk_sees_a_bare_raise(tmp_path):
    pkg = tmp_path / "miles"
    pkg.mkdir()
    (pkg / "m.py").write_text('def f(x):\n    if x < 0:\n        raise ValueError(f"bad {x}")\n'
                              '    raise TypeError("never")  # internal: a bug, not input\n')
    assert bare_raises(pkg) == ["miles/m.py:3"]


def test_a_bare_value_error_is_an_internal_error_on_the_command_line(monkeypatch, capsys):
    import miles.cli as cli

    def boom(args):
        raise ValueError("a bug")

    monkeypatch.setitem(cli.COMMANDS, "encoders", boom)
    assert cli.main(["encoders"]) == 1
    assert "internal error: ValueError: a bug" in capsys.readouterr().err

    def mistake(args):
        from miles.errors import MilesError

        raise MilesError("a mistake, and what to do")

    monkeypatch.setitem(cli.COMMANDS, "encoders", mistake)
    assert cli.main(["encoders"]) == 2
    err = capsys.readouterr().err
    assert "error: a mistake, and what to do" in err and "internal" not in err


@pytest.mark.parametrize("exc, status", [("MilesError", 422), ("NotFound", 404), ("TooLarge", 413),
                                         ("ValueError", 500), ("KeyError", 500)])
def test_the_api_answers_a_mistake_with_a_4xx_and_a_bug_with_a_500(exc, status):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    import miles.errors as errors
    from miles.serve.security import install_error_handlers

    app = FastAPI()
    install_error_handlers(app)
    cls = getattr(errors, exc, None) or getattr(builtins, exc)

    @app.get("/x")
    def x():
        raise cls("the detail")

    r = TestClient(app, raise_server_exceptions=False).get("/x")
    assert r.status_code == status
    body = r.json()
    assert ("the detail" in body["detail"]) is (status < 500)  # a bug's text never reaches the client
