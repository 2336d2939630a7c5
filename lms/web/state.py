"""What the LMS keeps per Flask app (``app.extensions["lms"]``): its settings, its own engine and
sessionmaker, and the prefix it is mounted under. A module of its own so that every view can read it
(through lms.web.db.state) without importing the extension that imports every view."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from lms.config import Settings

__all__ = ["LMSState"]


@dataclass
class LMSState:
    settings: Settings
    engine: Engine
    sessionmaker: sessionmaker[Session]
    url_prefix: str
