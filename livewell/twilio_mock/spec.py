"""Request checks driven by Twilio's published OpenAPI description (see `spec/README.md`).

Path sid patterns, the `required` lists and each form parameter's type, pattern, length and
enum come from the spec file. Twilio states a few rules only in prose; they are the table
`ONE_OF` below, each with the error code Twilio documents for it.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

SPEC_FILE = Path(__file__).with_name("spec") / "twilio_api_v2010_messages_calls.json"
PREFIX = "/2010-04-01/Accounts/{AccountSid}/"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")

# Rules from Twilio's prose, not expressible in the spec: (resource, names, code, message).
ONE_OF: tuple[tuple[str, tuple[str, ...], int, str], ...] = (
    ("Messages.json", ("From", "MessagingServiceSid"), 21603, "A 'From' phone number is required."),
    ("Messages.json", ("Body", "MediaUrl", "ContentSid"), 21602, "Message body is required."),
    ("Calls.json", ("Url", "Twiml", "ApplicationSid"), 21205, "Url parameter is required."),
)
# The error code Twilio answers when a parameter of the spec's `required` list is missing.
MISSING_CODES = {("Messages.json", "To"): (21604, "A 'To' phone number is required."),
                 ("Calls.json", "To"): (21201, "No 'To' number is specified"),
                 ("Calls.json", "From"): (21213, "No 'From' number is specified")}
INVALID_TO = {"Messages.json": (21211, "Invalid 'To' Phone Number"),
              "Calls.json": (21217, "Phone number does not appear to be valid")}


class TwilioError(Exception):
    """An error as Twilio renders it: HTTP status, numeric code and message."""

    def __init__(self, status: int, code: int, message: str,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "status": self.status,
                "more_info": f"https://www.twilio.com/docs/errors/{self.code}"}


@cache
def spec() -> dict[str, Any]:
    """The stored subset of Twilio's description."""
    data: dict[str, Any] = json.loads(SPEC_FILE.read_text())
    return data


def operation(resource: str, method: str) -> dict[str, Any]:
    """One operation of the spec, e.g. ("Messages.json", "post")."""
    op: dict[str, Any] = spec()["paths"][PREFIX + resource][method]
    return op


def check_path(resource: str, method: str, values: dict[str, str]) -> None:
    """Raise a Twilio 404 when a path sid does not match the spec's pattern."""
    for param in operation(resource, method).get("parameters", []):
        if param.get("in") != "path":
            continue
        pattern = param.get("schema", {}).get("pattern")
        value = values.get(param["name"], "")
        if pattern and not re.fullmatch(pattern.strip("^$"), value):
            raise TwilioError(404, 20404, f"The requested resource {resource} was not found")


def _form_schema(resource: str) -> dict[str, Any]:
    body = operation(resource, "post")["requestBody"]["content"]
    schema: dict[str, Any] = body["application/x-www-form-urlencoded"]["schema"]
    return schema


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        resolved: dict[str, Any] = spec()["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        return resolved
    return schema


def _check_value(name: str, value: str, schema: dict[str, Any]) -> None:
    schema = _resolve(schema)
    kind = schema.get("type")
    bad = TwilioError(400, 21205 if kind == "string" and schema.get("format") == "uri" else 20001,
                      f"Invalid parameter: {name}")
    if kind == "integer" and not re.fullmatch(r"-?\d+", value):
        raise bad
    if kind == "number" and not re.fullmatch(r"-?\d+(\.\d+)?", value):
        raise bad
    if kind == "boolean" and value.lower() not in ("true", "false"):
        raise bad
    if "enum" in schema and value not in schema["enum"]:
        raise bad
    pattern = schema.get("pattern")
    if pattern and not re.fullmatch(pattern.strip("^$"), value):
        raise bad
    if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", 10**9):
        raise bad
    if schema.get("format") == "uri" and not re.match(r"^https?://[^/_\s]+", value):
        raise bad


def check_create(resource: str, form: dict[str, list[str]]) -> None:
    """Check a create request's form against the spec and Twilio's stated rules."""
    schema = _form_schema(resource)
    present = {k for k, v in form.items() if any(x != "" for x in v)}
    for name in schema.get("required", []):
        if name not in present:
            code, message = MISSING_CODES.get((resource, name), (21201, f"{name} is required"))
            raise TwilioError(400, code, message)
    for res, names, code, message in ONE_OF:
        if res == resource and not present & set(names):
            raise TwilioError(400, code, message)
    props: dict[str, Any] = schema.get("properties", {})
    for name, values in form.items():
        prop = props.get(name)
        if prop is None:
            continue  # Twilio ignores parameters it does not know
        item_schema = prop.get("items", {}) if prop.get("type") == "array" else prop
        for value in values:
            _check_value(name, value, item_schema)
    to = form["To"][0]
    if not E164.match(to):
        code, message = INVALID_TO[resource]
        raise TwilioError(400, code, message)


def resource_properties(schema_name: str) -> list[str]:
    """The property names of a response schema, e.g. `api.v2010.account.message`."""
    return list(spec()["components"]["schemas"][schema_name]["properties"])


def response_problems(schema_name: str, obj: dict[str, Any]) -> list[str]:
    """What in `obj` disagrees with the spec's response schema (missing keys, bad enums)."""
    schema = spec()["components"]["schemas"][schema_name]
    problems = [f"missing {k}" for k in schema["properties"] if k not in obj]
    for key, prop in schema["properties"].items():
        prop = _resolve(prop)
        value = obj.get(key)
        if value is not None and "enum" in prop and value not in prop["enum"]:
            problems.append(f"{key}={value!r} not in enum")
        pattern = prop.get("pattern")
        if isinstance(value, str) and pattern and not re.fullmatch(pattern.strip("^$"), value):
            problems.append(f"{key} does not match {pattern}")
    return problems
