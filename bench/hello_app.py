"""The baseline for bench/burst.py: a bare Flask app with one JSON endpoint, served by the same
gunicorn settings and hit by the same client pool as the LMS."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello() -> dict[str, str]:
    return {"hello": "world"}
