"""Only what setup.cfg cannot say: the top-level folders ``migrations/`` and ``certificates/``
stay where the project keeps them, and ship inside the wheel as ``lms._migrations`` and
``lms._certificate_templates`` (read with importlib.resources, never through a repository path)."""

from setuptools import find_packages, setup

MAPPED = {"lms._migrations": "migrations", "lms._certificate_templates": "certificates"}

setup(
    packages=[*find_packages(include=["lms", "lms.*"]), *MAPPED, "lms._migrations.versions"],
    package_dir={**MAPPED, "lms._migrations.versions": "migrations/versions"},
    package_data={
        "lms": ["data/**/*", "translations/*/LC_MESSAGES/*", "translations/*.pot"],
        "lms.web": ["templates/**/*", "static/**/*"],
        "lms._migrations": ["script.py.mako"],
        "lms._certificate_templates": ["README.md", "*/*"],
    },
)
