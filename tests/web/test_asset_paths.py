"""Course assets are served only from the course's own assets/ folder (issue 13, item 5):
``..``, absolute paths, encoded separators and symbolic links out are all refused."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lms.content.assets import asset_file


@pytest.fixture()
def content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    (root / "khoa-a" / "assets" / "hinh").mkdir(parents=True)
    (root / "khoa-a" / "assets" / "hinh" / "anh.png").write_bytes(b"\x89PNG fake")
    (root / "khoa-a" / "course.toml").write_text("secret = 1\n")
    (root / "khoa-b" / "assets").mkdir(parents=True)
    (root / "khoa-b" / "assets" / "b.png").write_bytes(b"\x89PNG b")
    (tmp_path / "outside.txt").write_text("root:x:0:0")
    os.symlink(tmp_path / "outside.txt", root / "khoa-a" / "assets" / "link.png")
    os.symlink(root / "khoa-b" / "assets", root / "khoa-a" / "assets" / "other")
    os.symlink(tmp_path, root / "khoa-a" / "assets" / "up")
    return root


def test_only_files_inside_the_course_assets_are_named(content: Path) -> None:
    assert asset_file(content, "khoa-a", "hinh/anh.png") == (content / "khoa-a/assets/hinh/anh.png").resolve()
    for course, name in [("khoa-a", "../course.toml"), ("khoa-a", "hinh/../../course.toml"),
                         ("..", "khoa-a/course.toml"),
                         ("khoa-a", "/etc/passwd"), ("khoa-a", "link.png"), ("khoa-a", "other/b.png"),
                         ("khoa-a", "up/outside.txt"), ("khoa-a", "hinh\\..\\..\\course.toml"), ("khoa-a", ".hidden"),
                         ("khoa-a", "hinh/anh.png\x00.txt"), ("khoa-a", "hinh"), ("khoa-a", "khong-co.png"),
                         ("KHOA-A", "hinh/anh.png"), ("khoa-a/..", "x")]:
        assert asset_file(content, course, name) is None, (course, name)


def test_the_asset_route_refuses_escapes(app: Flask, client: FlaskClient, content: Path) -> None:
    app.extensions["lms"].settings = replace(app.extensions["lms"].settings, content_path=content)
    with client.get("/courses/khoa-a/assets/hinh/anh.png") as ok:  # closes the file send_file opened
        assert ok.status_code == 200 and ok.data == b"\x89PNG fake"
    for path in ("/courses/khoa-a/assets/..%2Fcourse.toml", "/courses/khoa-a/assets/%2E%2E/course.toml",
                 "/courses/%2E%2E/assets/khoa-a/course.toml", "/courses/khoa-a/assets/link.png",
                 "/courses/khoa-a/assets/up/outside.txt", "/courses/khoa-a/assets/%2Fetc%2Fpasswd",
                 "/courses/khoa-a/assets/other/b.png"):
        r = client.get(path, follow_redirects=True)  # werkzeug merges "//" with a redirect first
        assert r.status_code == 404 and b"root:x" not in r.data and b"secret" not in r.data, path
