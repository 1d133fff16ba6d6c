"""`livewell directory seed | import | export` against a database of its own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from livewell.cli import main
from tests.directory.conftest import example, seed_data


def test_seed_then_export_then_import_elsewhere_gives_the_same_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LIVEWELL_VAR_DIR", str(tmp_path / "one"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["directory", "seed"]) == 0
    assert main(["directory", "seed"]) == 0  # loading twice changes nothing
    out = tmp_path / "directory.json"
    assert main(["directory", "export", str(out)]) == 0
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(s["name"] for s in exported["services"]) == sorted(
        s["name"] for s in seed_data()["services"])
    monkeypatch.setenv("LIVEWELL_VAR_DIR", str(tmp_path / "two"))
    assert main(["directory", "import", str(out)]) == 0
    again = tmp_path / "again.json"
    assert main(["directory", "export", str(again)]) == 0
    assert json.loads(again.read_text(encoding="utf-8")) == exported
    capsys.readouterr()


def test_an_invalid_file_is_refused_naming_where(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LIVEWELL_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**example("service_full"), "status": "open-ish"}))
    assert main(["directory", "import", str(bad)]) == 1
    assert "services.0.status" in capsys.readouterr().err
