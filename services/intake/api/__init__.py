"""Intake's routes: Twilio webhooks, email in, staff APIs and the internal API."""
