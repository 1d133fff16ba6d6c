"""A Twilio-compatible mock REST server (Messages, Calls, signed callbacks) for tests and dev."""

from livewell.twilio_mock.app import create_mock_app

__all__ = ["create_mock_app"]
