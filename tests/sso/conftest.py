"""Fixtures of the single sign-on tests; the provider itself is in tests/sso/partner.py."""

from tests.sso.partner import provider, sso_app, sso_client

__all__ = ["provider", "sso_app", "sso_client"]
