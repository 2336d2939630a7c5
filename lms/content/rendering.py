"""Markdown to HTML with an allow-list sanitiser (nh3). Run at sync time, not per request."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import markdown
import nh3

__all__ = ["render_inline", "render_markdown", "sanitise_html"]

_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "b", "i", "u", "s", "sub", "sup", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "div",
    "span", "figure", "figcaption", "dl", "dt", "dd", "details", "summary",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height", "loading"},
    "th": {"scope"},
    "ol": {"start"},
}
_CLASSES = {
    "div": {"admonition", "note", "warning", "tip", "danger"},
    "p": {"admonition-title"},
}
_URL_SCHEMES = {"https", "http", "mailto", "tel"}


# An image of a lesson is a file of its course's assets/ folder: a plain name, no scheme, no
# '..' and no absolute path (the checker refuses the others; the sanitiser drops their src).
_ASSET = re.compile(r"assets/(?:[A-Za-z0-9_-][A-Za-z0-9._-]*/)*[A-Za-z0-9_-][A-Za-z0-9._-]*")


def _assets_only(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not (_ASSET.fullmatch(value) and ".." not in value):
        return None
    return value


def sanitise_html(html: str, *, assets_only: bool = False) -> str:
    """Allow-listed HTML. ``assets_only``: images may only come from the course's ``assets/``."""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        allowed_classes=_CLASSES,
        url_schemes=_URL_SCHEMES,
        clean_content_tags={"script", "style"},
        link_rel="noopener noreferrer",
        attribute_filter=_assets_only if assets_only else None,
    )


# A box written `!!! tip` with no title of its own would be titled in English ("Tip") by the
# Markdown extension, inside a Vietnamese lesson: give it the Vietnamese word instead.
_UNTITLED_BOX = re.compile(r'^([ \t]*!!![ \t]+)(note|warning|tip|danger)[ \t]*$', re.MULTILINE | re.IGNORECASE)
_BOX_TITLES = {"note": "Lưu ý", "warning": "Cảnh báo", "tip": "Mẹo", "danger": "Nguy hiểm"}


def _titled_boxes(text: str) -> str:
    return _UNTITLED_BOX.sub(lambda m: f'{m.group(1)}{m.group(2)} "{_BOX_TITLES[m.group(2).lower()]}"', text)


_TABLE = re.compile(r"<table>(.*?)</table>", re.DOTALL)
_HEAD_CELL = re.compile(r"<th\b[^>]*>(.*?)</th>", re.DOTALL)
_ROW = re.compile(r"<tr>(.*?)</tr>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def _reflowing_tables(html: str) -> str:
    """Tables that turn into one card per row on a phone: each cell carries its column's heading
    as ``data-label`` (the site's CSS shows it before the cell), so no table makes a phone scroll
    sideways or squeezes its words. Runs after sanitising, on the sanitiser's own output."""
    def one(table: re.Match[str]) -> str:
        body = table.group(1)
        head, sep, rows = body.partition("</thead>")
        if not sep:
            return table.group(0)
        labels = [_TAG.sub("", cell).strip().replace('"', "&quot;") for cell in _HEAD_CELL.findall(head)]

        def row(match: re.Match[str]) -> str:
            cells = iter(labels)
            return "<tr>" + re.sub(r"<td(?=[\s>])", lambda _: f'<td data-label="{next(cells, "")}"',
                                   match.group(1)) + "</tr>"

        return '<table class="reflow">' + head + sep + _ROW.sub(row, rows) + "</table>"

    return _TABLE.sub(one, html) if "<table>" in html else html



_IMG = re.compile(r"<img\b[^>]*>")
_SRC = re.compile(r'\bsrc="(assets/[^"]+)"')
_SVG_SIZE = re.compile(r'<svg\b[^>]*?\bwidth="(\d+(?:\.\d+)?)(?:px)?"[^>]*?\bheight="(\d+(?:\.\d+)?)(?:px)?"', re.S)
_VIEWBOX = re.compile(r'<svg\b[^>]*?\bviewBox="\s*[-\d.]+[\s,]+[-\d.]+[\s,]+([\d.]+)[\s,]+([\d.]+)\s*"', re.S)


def svg_size(path: Path) -> tuple[int, int] | None:
    """Width and height an SVG file declares (attributes, else its viewBox), so the page keeps
    room for a lazy-loaded picture and does not jump while it arrives."""
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:4000]
    except OSError:
        return None
    m = _SVG_SIZE.search(head) or _VIEWBOX.search(head)
    return (round(float(m.group(1))), round(float(m.group(2)))) if m else None


def _finish_image(tag: str, size_of: Callable[[str], tuple[int, int] | None] | None, asset_base: str | None) -> str:
    src = _SRC.search(tag)
    extra = []
    if 'loading="' not in tag:
        extra.append('loading="lazy"')
    if src and size_of is not None and "width=" not in tag:
        size = size_of(src.group(1))
        if size:
            extra.append(f'width="{size[0]}" height="{size[1]}"')
    if src and asset_base is not None:
        tag = tag.replace(f'src="{src.group(1)}"', f'src="{asset_base.rstrip("/")}/{src.group(1)[len("assets/"):]}"')
    return tag[:4] + (" " + " ".join(extra) if extra else "") + tag[4:]


def render_markdown(text: str, *, asset_base: str | None = None, lesson: bool = False,
                    asset_folder: Path | None = None) -> str:
    """Render Markdown; ``assets/x`` image paths are rewritten under ``asset_base``.

    A ``lesson``'s images come only from its course's ``assets/`` (and get the width and height
    of the SVG in ``asset_folder``, the course folder), and its ``<details markdown="1">`` blocks
    (self-check answers that open without JavaScript) have their Markdown rendered."""
    extensions = ["tables", "admonition", "sane_lists"] + (["md_in_html"] if lesson else [])
    md = markdown.Markdown(extensions=extensions, output_format="html")
    html = _reflowing_tables(sanitise_html(md.convert(_titled_boxes(text)), assets_only=lesson))

    def size_of(src: str) -> tuple[int, int] | None:
        if asset_folder is None:
            return None
        path = (asset_folder / src).resolve()
        if (asset_folder / "assets").resolve() not in path.parents or path.suffix.lower() != ".svg":
            return None
        return svg_size(path)

    return _IMG.sub(lambda m: _finish_image(m.group(0), size_of, asset_base), html)


def render_inline(text: str) -> str:
    """Short texts (question stems, choices, feedback): Markdown without block wrappers."""
    html = render_markdown(text)
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html
