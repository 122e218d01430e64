"""The import graph of ``gateway/``: no cycles, and the layers depend one way.

The layers are frontends → engine → backend interfaces ← backends, with the
configuration and the XMPP link beside them, and ``gateway.service`` the one
place that wires concrete frontends to concrete backends.  The graph is read
from the source with :mod:`ast`, so it holds every ``import`` of a
``gateway`` module wherever it is written: at module level, inside a
function, or under ``if TYPE_CHECKING``.  An edge names the module imported:
``from gateway.engine import acl`` is an edge to ``gateway.engine.acl``,
``from gateway.engine.acl import Matcher`` too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import gateway

PACKAGE = Path(gateway.__file__).parent

Graph = Mapping[str, frozenset[str]]


def _modules(root: Path) -> dict[str, Path]:
    """Every module of the package at ``root`` by dotted name (a package by its ``__init__``)."""
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterator[str]:
    """The dotted names ``node`` imports; ``from X import y`` gives ``X.y``, module or not."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        anchor = package[: len(package) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    for alias in node.names:
        yield f"{base}.{alias.name}"


def read_graph(root: Path) -> dict[str, frozenset[str]]:
    """Module -> the modules of the package at ``root`` it imports (itself excluded)."""
    modules = _modules(root)
    prefix = root.name

    def known(name: str) -> str | None:
        # "gateway.engine.acl.Matcher" is an import of gateway.engine.acl
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, frozenset[str]] = {}
    for module, path in modules.items():
        targets: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for name in _imported(node, module, path.name == "__init__.py"):
                if name == prefix or name.startswith(prefix + "."):
                    target = known(name)
                    if target is not None:
                        targets.add(target)
        targets.discard(module)
        graph[module] = frozenset(targets)
    return graph


def find_cycles(graph: Graph) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) through each strongly connected group of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(start: str) -> None:
        # Tarjan's algorithm, iteratively: the graph's depth is not bounded by our stack
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return [_cycle_in(graph, group) for group in groups]


def _cycle_in(graph: Graph, group: set[str]) -> list[str]:
    """The shortest cycle from the group's first module back to itself."""
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & group):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - a group has one


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _edges(graph: Graph, source: str) -> Iterator[tuple[str, str]]:
    for module in sorted(graph):
        if _within(module, source):
            for target in sorted(graph[module]):
                yield module, target


def _backend_packages() -> list[str]:
    """The backend implementations: each package under ``gateway/backends/``."""
    return sorted(
        f"gateway.backends.{path.parent.name}"
        for path in (PACKAGE / "backends").glob("*/__init__.py")
    )


GRAPH = read_graph(PACKAGE)

SAMPLE = {
    "__init__.py": "",
    "a.py": "import os\nfrom gw import b, c\n",
    "b.py": "def f():\n    from gw.c import thing\n",
    "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import gw.sub.d\nthing = 1\n",
    "sub/__init__.py": "from . import d\nfrom ..a import x\n",
    "sub/d.py": "from gw import __version__\n",
}


def test_the_graph_is_read(tmp_path: Path) -> None:
    """Every import of a package module counts, however written; others do not.

    From-imports of modules and of names, imports inside functions, under
    ``TYPE_CHECKING`` and relative ones are edges; ``import os`` is not.
    """
    for name, text in SAMPLE.items():
        (tmp_path / "gw" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "gw" / name).write_text(text)
    assert read_graph(tmp_path / "gw") == {
        "gw": frozenset(),
        "gw.a": frozenset({"gw.b", "gw.c"}),
        "gw.b": frozenset({"gw.c"}),
        "gw.c": frozenset({"gw.sub.d"}),
        "gw.sub": frozenset({"gw.sub.d", "gw.a"}),
        "gw.sub.d": frozenset({"gw"}),
    }
    # and the real package is read: tap.py imports the service inside a method
    assert "gateway.service" in GRAPH["gateway.tap"]


def test_cycles_are_found() -> None:
    """The cycle finder reports a loop by its modules, and nothing for a tree."""
    loop = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset()}
    assert find_cycles(loop) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": frozenset({"b"}), "b": frozenset()}) == []


def test_no_import_cycle_in_gateway() -> None:
    """No module of ``gateway/`` imports, however indirectly, a module that imports it."""
    cycles = [" -> ".join(cycle) for cycle in find_cycles(GRAPH)]
    assert cycles == [], "import cycles:\n" + "\n".join(cycles)


def test_engine_imports_no_outer_layer() -> None:
    """The engine imports nothing from config, frontends, xmpp or a backend implementation.

    Of the backends it sees only their interfaces (``gateway.backends.interfaces``).
    """
    forbidden = ["gateway.config", "gateway.frontends", "gateway.xmpp", *_backend_packages()]
    found = [
        f"{module} -> {target}"
        for module, target in _edges(GRAPH, "gateway.engine")
        if any(_within(target, layer) for layer in forbidden)
    ]
    assert found == [], "the engine reaches outwards:\n" + "\n".join(found)


def test_backends_import_no_frontend() -> None:
    """No backend module imports a frontend."""
    found = [
        f"{module} -> {target}"
        for module, target in _edges(GRAPH, "gateway.backends")
        if _within(target, "gateway.frontends")
    ]
    assert found == [], "backends reach the frontends:\n" + "\n".join(found)


def test_backends_import_no_other_backend() -> None:
    """A backend package imports no other backend package; what two backends share lives
    beside them in ``gateway/backends/`` (e.g. ``remote_accounts``, ``trust``)."""
    packages = _backend_packages()
    found = [
        f"{module} -> {target}"
        for package in packages
        for module, target in _edges(GRAPH, package)
        if any(_within(target, other) for other in packages if other != package)
    ]
    assert found == [], "backends import one another:\n" + "\n".join(found)


#: the assembly: modules that build services, wiring frontends to backends
ASSEMBLY = ("gateway.service", "gateway.tap", "gateway.scripts")


def test_only_the_assembly_joins_frontends_and_backends() -> None:
    """Only ``gateway.service``, ``gateway.tap`` and ``gateway.scripts`` import both layers.

    "Both" means a frontend module and a backend module other than the
    interfaces every layer may share.
    """
    found = []
    for module, targets in sorted(GRAPH.items()):
        if any(_within(module, allowed) for allowed in ASSEMBLY):
            continue
        frontends = sorted(t for t in targets if _within(t, "gateway.frontends"))
        backends = sorted(
            t
            for t in targets
            if _within(t, "gateway.backends") and t != "gateway.backends.interfaces"
        )
        if frontends and backends:
            found.append(f"{module} -> {', '.join(frontends + backends)}")
    assert found == [], "frontends and backends joined outside the assembly:\n" + "\n".join(found)


def test_link_knows_only_the_queue_contract() -> None:
    """No module of ``gateway/xmpp`` imports a backend implementation, the store's queue included.

    The link takes any :class:`~gateway.backends.interfaces.OutboundQueue`;
    the daemon wires the store's in.
    """
    found = [
        f"{module} -> {target}"
        for module, target in _edges(GRAPH, "gateway.xmpp")
        if _within(target, "gateway.backends") and target != "gateway.backends.interfaces"
    ]
    assert found == [], "the link reaches into a backend:\n" + "\n".join(found)


def test_nothing_in_the_daemon_uses_the_test_doubles() -> None:
    """No module of ``gateway/`` imports :mod:`gateway.testing`: the fakes are for tests only.

    ``gateway.testing`` itself stands on the interfaces it fakes (the
    backend and queue protocols, the stanza sink, the engine's model and
    errors), never on a backend implementation or the link.
    """
    users = sorted(module for module, targets in GRAPH.items() if "gateway.testing" in targets)
    assert users == [], "the daemon imports the test doubles: " + ", ".join(users)
    reaches = [
        target
        for target in sorted(GRAPH["gateway.testing"])
        if any(_within(target, layer) for layer in ["gateway.xmpp", *_backend_packages()])
    ]
    assert reaches == [], "gateway.testing reaches past the interfaces: " + ", ".join(reaches)
