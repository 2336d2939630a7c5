"""Markdown to HTML with an allow-list sanitiser (nh3). Run at sync time, not per request."""

from __future__ import annotations

import re

import markdown
import nh3

__all__ = ["render_inline", "render_markdown", "sanitise_html"]

_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "b", "i", "u", "s", "sub", "sup", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "div",
    "span", "figure", "figcaption", "dl", "dt", "dd",
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


def sanitise_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        allowed_classes=_CLASSES,
        url_schemes=_URL_SCHEMES,
        clean_content_tags={"script", "style"},
        link_rel="noopener noreferrer",
    )


_IMG_SRC = re.compile(r'(<img\b[^>]*\bsrc=")assets/')
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


def render_markdown(text: str, *, asset_base: str | None = None) -> str:
    """Render lesson Markdown; ``assets/x`` image paths are rewritten under ``asset_base``."""
    md = markdown.Markdown(extensions=["tables", "admonition", "sane_lists"], output_format="html")
    html = _reflowing_tables(sanitise_html(md.convert(_titled_boxes(text))))
    if asset_base is not None:
        html = _IMG_SRC.sub(lambda m: m.group(1) + asset_base.rstrip("/") + "/", html)
    html = html.replace("<img ", '<img loading="lazy" ') if 'loading="' not in html else html
    return html


def render_inline(text: str) -> str:
    """Short texts (question stems, choices, feedback): Markdown without block wrappers."""
    html = render_markdown(text)
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html
