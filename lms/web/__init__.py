"""Flask blueprints, forms, templates and static files. Thin: parse, call a service, render."""

from lms.web.extension import LMS

__all__ = ["LMS"]
