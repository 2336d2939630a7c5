"""Uploaded tables (CSV or XLSX) handed to the services as files, as the CLI hands them."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from werkzeug.datastructures import FileStorage

__all__ = ["saved_table"]


@contextmanager
def saved_table(upload: FileStorage) -> Iterator[Path]:
    """The upload saved in a private temporary folder (removed afterwards) as ``table.csv`` or
    ``table.xlsx`` by its extension; report problems under ``upload.filename``, not this path."""
    name = (upload.filename or "").lower()
    suffix = ".xlsx" if name.endswith((".xlsx", ".xlsm")) else ".csv"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"table{suffix}"
        upload.save(path)
        yield path
