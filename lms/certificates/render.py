"""Certificate HTML/CSS template to PDF bytes (WeasyPrint), with a fetcher that can read only
data: URLs and the template's own files: no file:, no http:, no redirects."""

from __future__ import annotations

import functools
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import jinja2
import segno

__all__ = ["CertificateView", "FetchRefused", "render_pdf", "safe_fetcher", "template_dir", "template_settings"]

# Shipped in the package (setup.py maps the repository's certificates/ folder here).
TEMPLATES = Path(str(files("lms._certificate_templates")))


class FetchRefused(ValueError):
    """A URL the certificate renderer will not fetch."""


@dataclass(frozen=True)
class CertificateView:
    holder: str
    course: str
    version: str
    competences: list[dict[str, str]]
    issuer: str
    place: str
    signatory: str
    date: str
    expires: str | None
    code: str
    verify_url: str


def template_dir(name: str = "default") -> Path:
    """A unit's template folder (``certificates/<NSO code>/``), or the default one."""
    folder = (TEMPLATES / name).resolve()
    if TEMPLATES.resolve() not in folder.parents or not folder.is_dir():
        folder = (TEMPLATES / "default").resolve()
    return folder


def safe_fetcher(*folders: Path) -> Any:
    """A WeasyPrint URL fetcher confined to data: URLs and files inside ``folders``; it follows
    no redirects and refuses every other scheme (http:, https:, ftp:, file: elsewhere)."""
    from weasyprint.urls import URLFetcher

    roots = [f.resolve() for f in folders]

    class SandboxFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            parsed = urlparse(url)
            if parsed.scheme == "file" and not parsed.netloc:
                path = Path(unquote(parsed.path)).resolve()
                if not (any(root in path.parents for root in roots) and path.is_file()):
                    raise FetchRefused(f"refused to fetch {url[:80]!r}")
            elif parsed.scheme != "data":
                raise FetchRefused(f"refused to fetch {url[:80]!r}")
            return super().fetch(url, headers)

    return SandboxFetcher(allowed_protocols={"data", "file"}, allow_redirects=False, timeout=5)


def _mime(path: Path) -> str:
    return {".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg",
            ".ttf": "font/ttf", ".otf": "font/otf", ".woff2": "font/woff2"}.get(path.suffix.lower(),
                                                                             "application/octet-stream")


def template_settings(template: str) -> dict[str, str]:
    """``template.toml`` of a unit's template: issuer, signatory and place, when it sets them."""
    path = template_dir(template) / "template.toml"
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {k: str(v) for k, v in data.items() if k in ("issuer", "signatory", "place")}


@functools.lru_cache(maxsize=64)
def _environment(folder: str, default: str) -> jinja2.Environment:
    """One Jinja environment per template folder, so the template is parsed once per process
    (it still reloads when its file changes: auto_reload stays on)."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader([folder, default]), autoescape=True)


class _Kit:
    """What WeasyPrint would otherwise build for every document: a font configuration (Fontconfig
    loading its configuration and font list, a Pango font map that then loads each face and its
    metrics again) and the template's stylesheets parsed and compiled into selectors. Neither is
    safe to use from two threads at once (the Pango font map and WeasyPrint's caches beside it are
    unlocked, and a CSS object belongs to the font configuration it was parsed with), so a kit is
    lent to one render at a time (:func:`_borrow_kit`)."""

    def __init__(self) -> None:
        from weasyprint.text.fonts import FontConfiguration

        self.font_config = FontConfiguration()
        self._sheets: dict[tuple[tuple[str, int], ...], list[Any]] = {}

    def stylesheets(self, paths: list[Path], fetcher: Any) -> list[Any]:
        """``paths`` parsed once per kit, again when one of the files changes."""
        from weasyprint import CSS

        key = tuple((str(path), _mtime(path)) for path in paths)
        sheets = self._sheets.get(key)
        if sheets is None:
            sheets = [CSS(url=path.as_uri(), url_fetcher=fetcher, font_config=self.font_config) for path in paths]
            if len(self._sheets) >= 32:  # old versions of edited files
                self._sheets.clear()
            self._sheets[key] = sheets
        return sheets


_IDLE_KITS: list[_Kit] = []
_IDLE_LOCK = threading.Lock()
_MAX_IDLE_KITS = 4  # as many as renders usually run at once in one process (threads of a gthread worker)


@contextmanager
def _borrow_kit() -> Iterator[_Kit]:
    """A kit for this render alone. Kept in a process-wide pool rather than per thread: the
    embedded default renders each certificate in a new short-lived thread, which a per-thread kit
    would never outlive. A render that fails drops its kit instead of returning it."""
    with _IDLE_LOCK:
        kit = _IDLE_KITS.pop() if _IDLE_KITS else None
    if kit is None:
        kit = _Kit()
    yield kit
    with _IDLE_LOCK:
        if len(_IDLE_KITS) < _MAX_IDLE_KITS:
            _IDLE_KITS.append(kit)


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def render_pdf(view: CertificateView, *, template: str = "default") -> bytes:
    from weasyprint import HTML

    default = template_dir("default")
    folder = template_dir(template)
    # a unit's folder may replace certificate.html, or only add extra.css and template.toml; the
    # default style.css and the unit's extra.css are applied here, parsed once per kit
    env = _environment(str(folder), str(default))
    sheets = [default / "style.css"] + ([folder / "extra.css"] if (folder / "extra.css").is_file() else [])
    # a PNG drawn without smoothing (style.css: image-rendering: pixelated) keeps the modules as
    # sharp as an SVG would; WeasyPrint parsing and drawing the SVG's path (a thousand-odd
    # segments) was about a sixth of a render
    qr = segno.make(view.verify_url, error="m").png_data_uri(scale=4, border=1)
    html = env.get_template("certificate.html").render(
        title=f"Giấy chứng nhận {view.code}", description=f"{view.holder} — {view.course}",
        keywords="Bình dân học vụ số, chứng nhận, " + ", ".join(c["code"] for c in view.competences),
        # extra_css: a unit's own certificate.html written when templates linked their stylesheets
        # may still link style.css and {{ extra_css }}; linked, they are author rules, which outrank
        # the renderer's (user) ones, so the unit's extra.css must be linked after style.css there too
        extra_css=(folder / "extra.css").as_uri() if len(sheets) > 1 else None, qr=qr, **view.__dict__)
    fetcher = safe_fetcher(folder, default)
    document = HTML(string=html, base_url=default.as_uri() + "/", url_fetcher=fetcher)
    with _borrow_kit() as kit:
        pdf: bytes = document.write_pdf(stylesheets=kit.stylesheets(sheets, fetcher), font_config=kit.font_config,
                                        pdf_variant=None, attachments=[], uncompressed_pdf=False)
    return pdf
