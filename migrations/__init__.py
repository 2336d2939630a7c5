"""Alembic environment and revisions, shipped in the wheel as ``lms._migrations``."""
