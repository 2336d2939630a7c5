"""import-linter contract types of this project (registered in setup.cfg's [importlinter]).

``private_names``: a name starting with ``_`` is private to its module, so no module of the root
package imports one from another (``from lms.x import _name``), nor reaches into one
(``lms.x._name`` / ``module._name`` after ``from lms import x``). import-linter's own contract
types see which modules import which, not which names, hence this one, which reads the sources
with ``ast``. A helper that two modules need gets a public name in the module that owns it."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, output

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



class PrivateNamesContract(Contract):
    """No module of the root package takes a private name from another of its modules."""

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        found: list[str] = []
        for package in self.session_options.get("root_packages") or [self.session_options["root_package"]]:
            spec = importlib.util.find_spec(package)
            if spec is None or spec.origin is None:
                continue
            found += private_imports(Path(spec.origin).resolve().parent)
        return ContractCheck(kept=not found, metadata={"found": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for line in check.metadata["found"]:
            output.print_error(f"- {line}")
        output.new_line()
