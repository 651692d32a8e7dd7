"""List the import cycles among a package's modules: `python scripts/import_cycles.py storage`.

Each group is a set of modules that all reach each other through imports (a strongly connected
component of grimp's graph, counting imports inside functions); the shortest chain each way
shows one circle per pair. The `acyclic_siblings` contracts in pyproject.toml fail on these;
this names every module of a circle, where lint-imports names only the imports to cut.
"""

from __future__ import annotations

import sys

import grimp


def cycle_groups(graph: grimp.ImportGraph, package: str) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module, sorted."""
    modules = sorted(m for m in graph.modules if m.startswith(package + "."))
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & set(modules)) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in edges[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == module:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * len(modules)))
    for module in modules:
        if module not in index:
            visit(module)
    return sorted(groups)


def main(package: str) -> int:
    graph = grimp.build_graph(package, cache_dir=None)
    groups = cycle_groups(graph, package)
    for group in groups:
        print(f"{len(group)} modules: {' '.join(group)}")
        first = group[0]
        for other in group[1:]:
            there = graph.find_shortest_chain(importer=first, imported=other) or ()
            back = graph.find_shortest_chain(importer=other, imported=first) or ()
            print(f"  {' -> '.join(there)}  |  {' -> '.join(back)}")
    if not groups:
        print(f"no import cycles in {package}")
    return 1 if groups else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "storage"))
