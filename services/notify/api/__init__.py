"""Notify's routes: internal (other services), Twilio callbacks (via the gateway), staff."""
