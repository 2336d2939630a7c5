"""Where ../shared (fixtures and the acceptance samples) is: CI clones the project beside it;
a clone made elsewhere (the acceptance check's) finds it beside the repository it came from."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from lms.config import PROJECT_ROOT


def _find() -> Path:
    candidates = []
    if os.environ.get("LMS_SHARED_DIR"):
        candidates.append(Path(os.environ["LMS_SHARED_DIR"]))
    candidates.append(PROJECT_ROOT.parent / "shared")
    origin = subprocess.run(["git", "-C", str(PROJECT_ROOT), "remote", "get-url", "origin"],
                            capture_output=True, text=True, check=False).stdout.strip()
    if origin and "://" not in origin:
        candidates.append(Path(origin).resolve().parent / "shared")
    for path in candidates:
        if (path / "fixtures").is_dir():
            return path
    return candidates[-1]


SHARED = _find()
