"""The handoff SMS's one link into the desk: `PUBLIC_BASE_URL/desk/h/<reference>`. The path
holds nothing but the reference, and the link is left out rather than let the text leave
GSM-7 or grow past two segments (a long or odd base URL)."""

from __future__ import annotations

from services.notify.gsm import is_gsm7, segments

MAX_SEGMENTS = 2


def handoff_link(public_base_url: str, reference: str) -> str:
    return f"{public_base_url.rstrip('/')}/desk/h/{reference}"


def with_desk_link(text: str, public_base_url: str, reference: str) -> str:
    """`text` with the handoff's link at the end, when it still fits."""
    longer = f"{text} {handoff_link(public_base_url, reference)}"
    if is_gsm7(longer) and segments(longer) <= MAX_SEGMENTS:
        return longer
    return text
