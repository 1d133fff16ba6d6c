"""The limit of the stack: a bare FastAPI endpoint on uvicorn that parses a Twilio voice form
and answers constant TwiML, served exactly as the services are (`serve`: one process,
uvloop and httptools when installed, no access log)."""

from __future__ import annotations

import argparse

from fastapi import FastAPI, Request
from fastapi.responses import Response

from services.common.serve import serve

TWIML = ('<?xml version="1.0" encoding="UTF-8"?><Response><Gather numDigits="1" '
         'action="/twilio/voice/menu"><Say>If you are in danger call 999.</Say></Gather>'
         "</Response>")


def create_bare_app() -> FastAPI:
    """One route: parse the form as intake would, answer the same TwiML every time."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/twilio/voice")
    async def voice(request: Request) -> Response:
        form = await request.form()
        if not form.get("CallSid"):
            return Response(status_code=400)
        return Response(content=TWIML, media_type="text/xml")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="the bare TwiML endpoint for the benchmark")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    serve(create_bare_app(), args.port)


if __name__ == "__main__":
    main()
