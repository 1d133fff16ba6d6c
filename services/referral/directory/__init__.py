"""The Living Well Network directory (Open Referral UK) and signposting, owned by referral."""
