"""The service as an integrating developer sees it: documented public routes only."""

from __future__ import annotations

from services.intake.app import create_app
from tests.support.service import ServiceHarness


def test_public_routes_are_documented_and_internal_ones_are_not() -> None:
    schema = create_app().openapi()
    paths = schema["paths"]
    for path in ("/twilio/voice", "/twilio/voice/menu", "/twilio/sms", "/email/inbound",
                 "/api/v1/callbacks", "/api/v1/people/{person_id}/merge", "/api/v1/contacts"):
        assert path in paths, path
        for operation in paths[path].values():
            assert len(operation.get("description", "")) > 40, (path, "needs a docstring")
    assert not [p for p in paths if p.startswith("/internal")]
    assert "text/xml" in paths["/twilio/voice"]["post"]["responses"]["200"]["content"]


async def test_requests_that_bypass_the_gateway_are_refused(intake: ServiceHarness) -> None:
    resp = await intake.client.post("/twilio/voice", data={"CallSid": "CA1"},
                                    headers={"x-internal-token": "wrong"})
    assert resp.status_code == 403
