"""Intake's fixtures for the desk's intake tests (its fake peers, not notify's)."""

from tests.intake.conftest import email_sender, intake, intake_config, peers  # noqa: F401
