"""Alembic revisions (package ``lms._migrations.versions`` in the wheel)."""
