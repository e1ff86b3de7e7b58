"""The layering ARCHITECTURE.md fixes: packages import only downward (imports inside
functions and under TYPE_CHECKING included), no module cycles, pure machine models (no file
system, clock or /proc), and reports that never build a machine or read the host."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import accelsim

PACKAGE = Path(accelsim.__file__).parent
LAYERS = (  # bottom to top: a unit may import only the units below it
    "accelsim.errors", "accelsim.version", "accelsim.units", "accelsim.tables",
    "accelsim.precision", "accelsim.checks", "accelsim.files", "accelsim.ir", "accelsim.nn",
    "accelsim.lower", "accelsim.quant", "accelsim.energy", "accelsim.machines",
    "accelsim.metrics", "accelsim.comparison", "accelsim.measure", "accelsim.build",
    "accelsim.book", "accelsim.scenario", "accelsim.engine", "accelsim.sweep",
    "accelsim.validation", "accelsim.report", "accelsim.plot", "accelsim.api",
    "accelsim.training", "accelsim.demo", "accelsim.cli", "accelsim",
)
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


def unit(module: str) -> str:
    """The layer a module belongs to: its top-level package or module."""
    return ".".join(module.split(".")[:2])


def arrows_up(edges: dict[str, set[str]], layers: tuple[str, ...]) -> list[str]:
    """Every import from a unit to a unit at its own rank or above (another unit), as
    'importer -> imported'."""
    rank = {u: i for i, u in enumerate(layers)}
    return sorted(f"{m} -> {d}" for m, deps in edges.items() for d in deps
                  if unit(d) != unit(m) and rank[unit(d)] >= rank[unit(m)])


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


def test_the_layer_check_finds_an_arrow_running_back_up():
    edges = {"accelsim.sweep.store": {"accelsim.report.writers"}, "accelsim.report.writers":
             {"accelsim.sweep.store", "accelsim.files"}, "accelsim.files": set()}
    layers = ("accelsim.files", "accelsim.sweep", "accelsim.report")
    assert arrows_up(edges, layers) == ["accelsim.sweep.store -> accelsim.report.writers"]


def test_every_unit_has_a_layer():
    assert {unit(m) for m in MODULES} <= set(LAYERS)


def test_packages_import_only_downward():
    assert arrows_up(graph(), LAYERS) == []


def test_no_import_cycles():
    assert cycles(graph()) == []


@pytest.mark.parametrize("outer", ["accelsim.machines.presets", "accelsim.build",
                                   "accelsim.measure", "accelsim.engine"])
def test_reports_build_no_machine_and_read_no_host(outer):
    for module, deps in graph().items():
        if unit(module) == "accelsim.report":
            assert not {d for d in deps if d.startswith(outer)}, module


def test_machines_touch_no_files_clocks_or_proc():
    for module, path in MODULES.items():
        if module.startswith("accelsim.machines"):
            stdlib = {d.split(".")[0] for d in imports(module)}
            assert not stdlib & FORBIDDEN_IN_MACHINES, (module, stdlib & FORBIDDEN_IN_MACHINES)
            text = path.read_text(encoding="utf-8")
            for needle in ("open(", "/proc", "/sys/", "perf_counter", "read_text", "environ"):
                assert needle not in text, (module, needle)


def test_code_cites_only_files_inside_the_repository():
    for module, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        for needle in ("../shared", "shared/validation", "DESIGN.md convention"):
            assert needle not in text, (module, needle)
