"""Module boundaries import-linter sees only through this project's own contract type
(tests/import_contracts.py, the contract "private-names" in setup.cfg): a name starting with ``_`` is private to its
module, so no module of ``lms`` imports one from another (``from lms.x import _name``), nor
reaches into one (``lms.x._name`` / ``module._name`` after ``from lms import x``). A helper that
two modules need gets a public name in the module that owns the concept."""

from __future__ import annotations

from pathlib import Path

from tests.import_contracts import private_imports


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
