"""The project's modules import one another without a cycle (docs/architecture.md).

A cycle hidden behind an import inside a function, or under `TYPE_CHECKING`, is still a cycle:
two modules that cannot be read, tested or changed apart. grimp (the engine of import-linter)
reads every import statement of every module, wherever it stands, without running any.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

PACKAGES = ("services", "gateway", "livewell")


def strongly_connected(graph: grimp.ImportGraph) -> list[list[str]]:
    """The groups of two or more modules that each reach every other by imports (Tarjan's
    algorithm, without recursion: a long import chain must not hit Python's stack limit)."""
    imports = {m: sorted(graph.find_modules_directly_imported_by(m))
               for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in imports:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            module, next_child = work.pop()
            if next_child == 0:
                index[module] = low[module] = len(index)
                stack.append(module)
                on_stack.add(module)
            children = imports[module]
            if next_child < len(children):
                work.append((module, next_child + 1))
                child = children[next_child]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            if low[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
            if work:  # back in the parent: it reaches whatever its child reaches
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
    return groups


def describe(graph: grimp.ImportGraph, group: list[str]) -> str:
    """One cycle of `group`, each step with the line that makes it."""
    first = group[0]
    second = next(m for m in sorted(graph.find_modules_directly_imported_by(first))
                  if m in group)
    back = graph.find_shortest_chain(importer=second, imported=first)
    chain = [first, *(back or (second, first))]
    steps = []
    for importer, imported in zip(chain, chain[1:], strict=False):
        details = graph.get_import_details(importer=importer, imported=imported)
        where = (f" (line {details[0]['line_number']}: {details[0]['line_contents']})"
                 if details else "")
        steps.append(f"  {importer} -> {imported}{where}")
    return f"cycle among {', '.join(group)}:\n" + "\n".join(steps)


def test_no_import_cycle_among_the_projects_modules() -> None:
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    cycles = strongly_connected(graph)
    assert not cycles, "modules that import each other:\n" + "\n".join(
        describe(graph, group) for group in cycles)


def test_a_cycle_is_found_and_named_even_behind_a_function_or_type_checking(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check itself, on a package written for it: a cycle through three modules, one
    step inside a function and one under `TYPE_CHECKING`, and a cycle of two, are reported
    with their modules; a module that only imports one of them is not."""
    package = tmp_path / "cyclepkg"
    package.mkdir()
    for name, source in {
        "__init__": "",
        "a": "def later() -> None:\n    from cyclepkg import b  # noqa: F401\n",
        "b": "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from cyclepkg import c\n",
        "c": "import cyclepkg.a\n",
        "d": "import cyclepkg.a\n",
        "e": "from cyclepkg import f\n",
        "f": "from cyclepkg import e\n",
    }.items():
        (package / f"{name}.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("cyclepkg", cache_dir=None)
    cycles = strongly_connected(graph)
    assert cycles == [["cyclepkg.a", "cyclepkg.b", "cyclepkg.c"], ["cyclepkg.e", "cyclepkg.f"]]
    message = describe(graph, cycles[0])
    assert "cyclepkg.a -> cyclepkg.b (line 2:" in message
    assert "cyclepkg.b -> cyclepkg.c" in message and "cyclepkg.c -> cyclepkg.a" in message
