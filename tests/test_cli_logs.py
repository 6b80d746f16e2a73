"""The library reports through logging; the command line shows tinct's log on stderr."""

from __future__ import annotations

import ast
import io
import logging
import sys
from pathlib import Path

import pytest

import tinct
from tinct.cli.logs import show_tinct_log

PACKAGE = Path(tinct.__file__).parent


def test_the_command_line_shows_tinct_log_messages_once(capsys: pytest.CaptureFixture[str]) -> None:
    show_tinct_log()
    show_tinct_log()
    logging.getLogger("tinct.export.onnx_cache").info("exporting a model once")
    logging.getLogger("tinct.weights.store").debug("not shown")
    assert capsys.readouterr().err == "tinct: exporting a model once\n"


def test_a_swapped_and_closed_stderr_is_left_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    show_tinct_log()
    earlier = io.StringIO()
    monkeypatch.setattr(sys, "stderr", earlier)
    logging.getLogger("tinct.weights.store").info("first")
    earlier.close()  # what a test runner does with the stream it captured into
    later = io.StringIO()
    monkeypatch.setattr(sys, "stderr", later)
    logging.getLogger("tinct.weights.store").info("second")
    assert later.getvalue() == "tinct: second\n"


def test_library_modules_do_not_print() -> None:
    printing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative.startswith("cli/"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                printing.append(f"{relative}:{node.lineno}")
    assert printing == []
