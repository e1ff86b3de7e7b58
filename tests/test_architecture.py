"""The layering DESIGN.md fixes: no import cycles (imports inside functions and under
TYPE_CHECKING included), and pure machine models (no file system, clock or /proc)."""

from __future__ import annotations

import ast
from pathlib import Path

import accelsim

PACKAGE = Path(accelsim.__file__).parent
OUTER = ("accelsim.measure", "accelsim.report", "accelsim.scenario", "accelsim.cli",
         "accelsim.engine", "accelsim.demo", "accelsim.training")
FORBIDDEN_IN_MACHINES = {"os", "time", "pathlib", "json", "importlib", "platform", "shutil",
                         "tempfile", "io", "glob", "subprocess", "threadpoolctl"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def resolve(name: str) -> str:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def imports(module: str) -> set[str]:
    """Every module an accelsim module imports, wherever the import statement sits."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                         for a in node.names)
    return found


def graph() -> dict[str, set[str]]:
    return {m: {resolve(d) for d in imports(m) if d.startswith("accelsim")} - {m, ""}
            for m in MODULES}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_machines_import_nothing_from_the_outer_layers():
    for module, deps in graph().items():
        if module.startswith("accelsim.machines"):
            bad = {d for d in deps if d.startswith(OUTER)}
            assert not bad, f"{module} imports {bad}"


def test_machines_touch_no_files_clocks_or_proc():
    for module, path in MODULES.items():
        if module.startswith("accelsim.machines"):
            stdlib = {d.split(".")[0] for d in imports(module)}
            assert not stdlib & FORBIDDEN_IN_MACHINES, (module, stdlib & FORBIDDEN_IN_MACHINES)
            text = path.read_text(encoding="utf-8")
            for needle in ("open(", "/proc", "/sys/", "perf_counter", "read_text", "environ"):
                assert needle not in text, (module, needle)


def test_lowering_and_networks_never_import_machines():
    for module, deps in graph().items():
        if module in ("accelsim.lower", "accelsim.ir") or module.startswith("accelsim.nn"):
            assert not {d for d in deps if d.startswith("accelsim.machines")}, module
