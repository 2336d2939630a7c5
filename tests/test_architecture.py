"""The layer picture stays a picture: no two modules of ``lms`` import each other, round any loop."""

import ast
from pathlib import Path

from tests.architecture import cycles, layer_of, module_edges, picture


def test_the_cycle_finder_finds_a_loop_and_nothing_in_a_tree() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b", "c"}, "b": {"c"}}) == []


def test_no_module_of_lms_is_in_an_import_cycle() -> None:
    loops = cycles(module_edges())
    assert loops == [], "modules that import each other: " + "; ".join(" <-> ".join(c) for c in loops)


def test_imports_only_go_down_the_layers() -> None:
    below = {"lms.domain": set(), "lms.store": {"lms.domain"}, "lms.content": {"lms.domain"},
             "lms.jobs": {"lms.domain", "lms.store"}, "lms.certificates": {"lms.domain", "lms.content"}}
    edges = module_edges()
    upward = [(a, b) for a, targets in edges.items() for b in targets
              if layer_of(a) in below and layer_of(b) not in below[layer_of(a)] | {layer_of(a), "lms"}]
    assert upward == [], picture(edges)


# Modules whose in-function imports of lms were left for another work package to hoist (they were
# being changed for speed at the same time). Empty this once they are done; do not add to it.
LAZY_LMS_IMPORTS_LEFT: set[str] = set()


def test_modules_of_lms_are_imported_at_the_top() -> None:
    """With no import cycle left, an import of an lms module inside a function only hides a
    dependency (and a cycle it would close): it belongs in the module's header. Optional or heavy
    third-party libraries (weasyprint, openpyxl, redis, ...) may still be imported lazily."""
    root = Path(__file__).resolve().parent.parent
    found = []
    for path in sorted((root / "lms").rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if name in LAZY_LMS_IMPORTS_LEFT:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                           else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                if any(m == "lms" or m.startswith("lms.") for m in modules) or (
                        isinstance(node, ast.ImportFrom) and node.level > 0):
                    found.append(f"{name}:{node.lineno}")
    assert found == [], "imports of lms inside functions: " + ", ".join(found)
