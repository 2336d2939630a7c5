"""Module boundaries the import linter cannot see: a name starting with ``_`` is private to its
module, so no module of ``lms`` imports one from another (``from lms.x import _name``), nor
reaches into one (``lms.x._name`` / ``module._name`` after ``from lms import x``). A helper that
two modules need gets a public name in the module that owns the concept."""

from __future__ import annotations

import ast
from pathlib import Path

import lms

ROOT = Path(lms.__file__).resolve().parent
# Names that start with "_" without being private: dunders, and the gettext aliases.
_ALLOWED = {"_", "_l"}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__")) and name not in _ALLOWED


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def private_imports(root: Path = ROOT) -> list[str]:
    """Every private name one module of ``root`` takes from another, as ``file:line: what``."""
    found: list[str] = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        module = _module_name(path, root)
        lms_modules: set[str] = set()  # local names bound to lms modules, for attribute access
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _absolute(module, node, path.name == "__init__.py")
                if not (source == "lms" or source.startswith("lms.")) or source == module:
                    continue
                for alias in node.names:
                    if _private(alias.name) or any(_private(p) for p in source.split(".")[1:]):
                        found.append(f"{path.relative_to(root.parent)}:{node.lineno}: from {source} import "
                                     f"{alias.name}")
                    else:
                        lms_modules.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("lms") and any(_private(p) for p in alias.name.split(".")):
                        found.append(f"{path.relative_to(root.parent)}:{node.lineno}: import {alias.name}")
                    if alias.name.startswith("lms"):
                        lms_modules.add(alias.asname or alias.name.split(".")[0])
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name)
                    and node.value.id in lms_modules):
                found.append(f"{path.relative_to(root.parent)}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_no_module_of_lms_uses_another_modules_private_names() -> None:
    assert private_imports() == []


def test_the_check_finds_a_private_import(tmp_path: Path) -> None:
    package = tmp_path / "lms"
    (package / "web").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "web" / "__init__.py").write_text("")
    (package / "web" / "a.py").write_text("def _helper() -> None: ...\ndef public() -> None: _helper()\n")
    (package / "web" / "b.py").write_text("from lms.web.a import _helper\nfrom lms.web.a import public\n")
    (package / "web" / "c.py").write_text("from lms.web import a\na._helper()\n")
    (package / "web" / "d.py").write_text("from .a import _helper\nfrom flask_babel import gettext as _\n")
    assert private_imports(package) == ["lms/web/b.py:1: from lms.web.a import _helper",
                                        "lms/web/c.py:2: a._helper",
                                        "lms/web/d.py:1: from lms.web.a import _helper"]
