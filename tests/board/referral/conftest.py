"""Referral's in-process harness for the board's referral tests."""

from tests.referral.conftest import referral  # noqa: F401
