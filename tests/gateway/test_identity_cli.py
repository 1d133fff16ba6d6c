"""`livewell staff invite|list|disable` as the contract says: a single-use invitation URL
under PUBLIC_BASE_URL (also in var/dry-run/email.jsonl without SMTP), a list without secrets,
and disabling by email."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from livewell.cli import main


@pytest.fixture
def operator(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LIVEWELL_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://line.example.org")
    monkeypatch.delenv("SMTP_URL", raising=False)
    return tmp_path


def test_invite_list_and_disable(operator: Path, capsys: pytest.CaptureFixture[str]) -> None:
    email = f"cli-{operator.name}@hub.example"
    assert main(["staff", "invite", "--email", email, "--role", "coordinator"]) == 0
    url = capsys.readouterr().out.strip().splitlines()[-1]
    assert url.startswith("https://line.example.org/desk/invite/")
    [mail] = [json.loads(line) for line in
              (operator / "dry-run" / "email.jsonl").read_text().splitlines()]
    assert mail["to"] == email and mail["url"] == url and url in mail["body"]

    assert main(["staff", "list"]) == 0
    listed = [line for line in capsys.readouterr().out.splitlines() if email in line]
    assert listed and "coordinator" in listed[0] and "invited" in listed[0]
    assert url.rsplit("/", 1)[-1] not in listed[0]

    assert main(["staff", "disable", "--email", email.upper()]) == 0
    assert "sessions have ended" in capsys.readouterr().out
    assert main(["staff", "list"]) == 0
    assert "disabled" in next(line for line in capsys.readouterr().out.splitlines()
                              if email in line)


def test_bad_invitations_are_refused_naming_what_is_wrong(
    operator: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["staff", "invite", "--email", "kw@hub.example", "--role", "key_worker"]) == 2
    assert "--keyworker-id" in capsys.readouterr().err
    assert main(["staff", "invite", "--email", "not-an-email", "--role", "admin"]) == 2
    assert "email" in capsys.readouterr().err.lower()
    assert main(["staff", "disable", "--email", "nobody@hub.example"]) == 1
