"""People who sign in: staff accounts, invitations, credentials, sessions and CSRF.

Identity lives in the gateway, the one place that already decides who is calling. A signed-in
person is forwarded to the services as actor kind `person`, the way a key is.
"""
