"""The wording files: the shipped ones load, and a broken one stops start-up clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.intake.settings import DATA_DIR
from services.intake.wording import IvrScript, Replies, load


def test_the_shipped_wording_is_complete_and_versioned() -> None:
    script = load(DATA_DIR / "ivr.yaml", IvrScript)
    replies = load(DATA_DIR / "replies.yaml", Replies)
    assert script.version and replies.version
    assert "999" in script.greeting and "999" in script.crisis.no_one_available
    assert set(replies.response_times) == {"emergency", "very_urgent", "urgent", "routine"}
    assert set(replies.callbacks) == {"crisis", "high", "medium", "routine"}
    for template in (replies.sms.received, replies.sms.joined, replies.sms.crisis,
                     replies.email.subject, replies.email.body):
        assert "{reference}" in template


def test_a_missing_entry_names_the_file_and_the_entry(tmp_path: Path) -> None:
    broken = tmp_path / "ivr.yaml"
    text = (DATA_DIR / "ivr.yaml").read_text().replace("greeting:", "greetng:")
    broken.write_text(text)
    with pytest.raises(ValueError) as err:
        load(broken, IvrScript)
    assert str(broken) in str(err.value) and "greeting" in str(err.value)


def test_a_file_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "replies.yaml"
    bad.write_text("version: [unclosed\n")
    with pytest.raises(ValueError, match="replies.yaml"):
        load(bad, Replies)
