"""WSGI entry point for gunicorn: ``gunicorn lms.wsgi:app``."""

from lms import create_app
from lms.web.job_pages import resume_in_background

app = create_app()
resume_in_background(app)  # jobs a stopped server left unfinished go on (without Redis)
