"""The house's floors, read from the code's own imports (every `import`, also those
inside functions or under TYPE_CHECKING): entry points (`bot/app/`) → `handlers/` →
the domain (`bot/`) → `models/`. Nothing imports a floor above its own, and no
modules import each other in a circle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "models")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
            if "migrations" not in path.parts}


MODULES = project_modules()


def imports_of(name: str) -> set[str]:
    """The project modules `name` imports (a `from package import module` names the module)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def floor(name: str) -> int:
    """3 entry points, 2 handlers, 1 domain, 0 models (the bare `bot` package is the domain's)."""
    if name == "bot.app" or name.startswith("bot.app."):
        return 3
    if name.split(".")[0] == "handlers":
        return 2
    if name.split(".")[0] == "bot":
        return 1
    return 0


def test_the_graph_covers_every_floor():
    floors = {floor(name) for name in MODULES}
    assert floors == {0, 1, 2, 3}
    assert "handlers.complaints" in GRAPH["bot.app.factory"]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_import_goes_up_a_floor(name):
    upward = sorted(target for target in GRAPH[name] if floor(target) > floor(name))
    assert not upward, f"{name} (floor {floor(name)}) imports a higher floor: {upward}"


def test_only_entry_points_import_entry_points():
    # Within the top floor anything goes; tests and benchmarks may use entry points too.
    for name, targets in GRAPH.items():
        if floor(name) < 3:
            assert not [t for t in targets if floor(t) == 3], name


def test_there_are_no_import_circles():
    # Tarjan's strongly connected components: any component of two or more is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    assert not circles, f"import circles: {circles}"


def test_the_walk_sees_an_upward_import(tmp_path, monkeypatch):
    # The rule above is only as good as the walk: a domain module that imports a
    # handler inside a function must be caught.
    fake = tmp_path / "bot" / "sneaky.py"
    fake.parent.mkdir()
    fake.write_text("def f():\n    from handlers import complaint_views\n")
    monkeypatch.setitem(MODULES, "bot.sneaky", fake)
    assert "handlers.complaint_views" in imports_of("bot.sneaky")
