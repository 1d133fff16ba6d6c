"""Intake's in-process harness for the board's intake tests."""

from tests.intake.conftest import email_sender, intake, intake_config, peers  # noqa: F401
