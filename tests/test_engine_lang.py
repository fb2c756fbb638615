"""engine/lang is pure: no I/O, no asyncio, nothing of the engine outside the package."""

from __future__ import annotations

import ast
from pathlib import Path

import dflow_nb.engine.lang as lang

PURE_STDLIB = {
    "__future__", "base64", "binascii", "calendar", "collections", "contextlib", "decimal",
    "functools", "hashlib", "importlib", "json", "logging", "math", "posixpath", "random", "re",
    "string", "sys", "threading", "time", "typing", "unicodedata", "uuid", "zlib", "re2",
}  # fmt: skip


def test_lang_imports_only_itself_and_pure_stdlib() -> None:
    for path in Path(lang.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    assert node.level == 1, f"{path.name} imports outside engine/lang"
                else:
                    assert node.module.split(".")[0] in PURE_STDLIB, (path.name, node.module)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name.split(".")[0] in PURE_STDLIB, (path.name, alias.name)


def test_old_paths_give_the_same_objects() -> None:
    from dflow_nb.engine import depends, expr, govaluate, substitute
    from dflow_nb.engine.lang import depends as d2
    from dflow_nb.engine.lang import expr as e2
    from dflow_nb.engine.lang import govaluate as g2
    from dflow_nb.engine.lang import substitute as s2

    for old, new in ((expr, e2), (govaluate, g2), (substitute, s2), (depends, d2)):
        for name in new.__all__:
            assert getattr(old, name) is getattr(new, name), (old.__name__, name)
    assert substitute._has_var is s2._has_var  # private names too


def test_modules_stay_small() -> None:
    sizes = {
        p.name: len(p.read_text().splitlines()) for p in Path(lang.__file__).parent.glob("*.py")
    }
    assert max(sizes.values()) < 1000, sizes
