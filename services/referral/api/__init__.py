"""Referral's routes, one module per audience."""
