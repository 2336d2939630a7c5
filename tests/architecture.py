"""The import graph of ``lms`` (grimp, the library under import-linter): cycles between modules and
the picture of which layer imports which. ``python -m tests.architecture`` prints the picture that
docs/architecture.md shows; tests/test_architecture.py keeps it free of cycles."""

from __future__ import annotations

from collections import Counter, defaultdict

import grimp

# The layers from top to bottom, as setup.cfg's import-linter contract names them.
LAYERS = ("lms.web", "lms.cli", "lms.services", "lms.certificates", "lms.content", "lms.store", "lms.jobs",
          "lms.domain")


def module_edges() -> dict[str, set[str]]:
    """Every import between two modules of ``lms``, those inside functions included."""
    graph = grimp.build_graph("lms")
    edges: dict[str, set[str]] = defaultdict(set)
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith("lms") and imported != module:
                edges[module].add(imported)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import one another, directly or round a loop (Tarjan's strongly
    connected components, iterative so that a deep graph cannot overflow the stack)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    nodes = sorted(set(edges) | {m for targets in edges.values() for m in targets})
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def layer_of(module: str) -> str:
    return next((layer for layer in LAYERS if module == layer or module.startswith(layer + ".")), "lms")


def picture(edges: dict[str, set[str]]) -> str:
    """Which layer imports which, with the number of module-to-module imports: a text picture."""
    counts: Counter[tuple[str, str]] = Counter()
    for source, targets in edges.items():
        for target in targets:
            a, b = layer_of(source), layer_of(target)
            if a != b:
                counts[(a, b)] += 1
    order = {layer: n for n, layer in enumerate(("lms", *LAYERS))}
    lines = [f"{a:<17} -> {b:<17} {n:>4} imports" for (a, b), n in
             sorted(counts.items(), key=lambda item: (order[item[0][0]], order[item[0][1]]))]
    return "\n".join(lines)


if __name__ == "__main__":
    graph = module_edges()
    print(picture(graph))
    loops = cycles(graph)
    print(f"\nmodules in import cycles: {sum(len(c) for c in loops)}")
    for loop in loops:
        print("  cycle:", " <-> ".join(loop))
