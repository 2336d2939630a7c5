"""The layer picture stays a picture: no two modules of ``lms`` import each other, round any loop."""

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
