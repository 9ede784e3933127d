"""The shape of core/: it never imports streamlit, its imports run one way down the pipeline's
stages (docs/decisions/0001-core-layout.md), and no module imports itself round a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

# Lowest first. A module may import its own layer and the layers below it, never one above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core.errors", "core.settings", "core.progress"),
    ("core.storage", "core.config"),
    ("core.music",),
    ("core.audio",),
    ("core.tokens",),
    ("core.transcription",),
    ("core.data",),
    ("core.model",),
    ("core.training",),
    ("core.generation",),
    ("core.library",),
    ("core.evaluation",),
    ("core.harmonize",),
    ("core.jobs",),
    ("core.housekeeping", "core.commands", "core.cli", "core.__main__"),
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of a core module, at the top or inside a function."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "core":  # `from core import jobs`: the submodules are imported
                found += [(node.lineno, f"core.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return [(line, name) for line, name in found if name.split(".")[0] in ("core", "streamlit")]


def _core_modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((REPO / "core").rglob("*.py"))}


def _layer(module: str) -> int:
    for index, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    raise AssertionError(f"{module} is in no layer of LAYERS: add it where it belongs")


def test_core_never_imports_streamlit():
    offenders = [
        f"{path.relative_to(REPO)}:{line}"
        for path in _core_modules().values()
        for line, name in _imports(path)
        if name.split(".")[0] == "streamlit"
    ]
    assert offenders == []


def test_every_module_is_in_a_layer():
    for module in _core_modules():
        if module != "core":
            _layer(module)


def test_imports_never_run_up_a_layer():
    offenders = []
    for module, path in _core_modules().items():
        if module == "core":
            continue
        for line, name in _imports(path):
            if name.startswith("core") and name != "core" and _layer(name) > _layer(module):
                offenders.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    assert offenders == []


def test_no_import_cycle():
    modules = _core_modules()

    def resolve(name: str) -> str | None:  # `from core.music.piece import X` → core.music.piece
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {
        module: {
            target
            for _, name in _imports(path)
            if (target := resolve(name)) and target not in (module, "core")
            # a package's face importing its own modules is how a face works, not a cycle
            and not target.startswith(module + ".")
        }
        for module, path in modules.items()
    }
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == [], "\n".join(" -> ".join(c) for c in cycles)
