"""`python -m livewell.twilio_mock --port N --account-sid AC… --auth-token …`"""

from __future__ import annotations

import argparse
import os

import uvicorn

from livewell.twilio_mock.app import create_mock_app


def main(argv: list[str] | None = None) -> None:
    """Serve the mock on 127.0.0.1 until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m livewell.twilio_mock",
        description="A Twilio-compatible REST mock: point TWILIO_API_BASE_URL at it.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--account-sid", default=os.environ.get("TWILIO_ACCOUNT_SID"),
                        help="the only account it accepts (AC + 32 hex)")
    parser.add_argument("--auth-token", default=os.environ.get("TWILIO_AUTH_TOKEN"),
                        help="the token of basic auth and of every signature it makes")
    parser.add_argument("--gateway-url", default=None,
                        help="where callbacks and inbound SMS go, e.g. http://127.0.0.1:8000")
    parser.add_argument("--public-url", default=None,
                        help="the URL signatures are computed over (default: --gateway-url)")
    parser.add_argument("--number", default="+442000000000",
                        help="the single number an inbound SMS is sent to")
    args = parser.parse_args(argv)
    if not args.account_sid or not args.auth_token:
        parser.error("--account-sid and --auth-token are required")
    app = create_mock_app(account_sid=args.account_sid, auth_token=args.auth_token,
                          gateway_url=args.gateway_url, public_url=args.public_url)
    app.state.mock.default_to = args.number
    print(f"Twilio mock on http://{args.host}:{args.port} (account {args.account_sid})",
          flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
