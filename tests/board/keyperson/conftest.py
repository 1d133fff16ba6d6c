"""Keyperson's in-process harness for the board's keyperson tests."""

from tests.keyperson.conftest import keyperson, sent, settings, template_url  # noqa: F401
