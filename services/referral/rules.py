"""Loading routing rules from their YAML file, and keeping the last good ones when it breaks."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.referral.localities import LocalityDataError, load_districts
from services.referral.routing import Rules, RuleSet

log = logging.getLogger(__name__)

DEFAULT_RULES = Path(__file__).parent / "rules" / "routing.yaml"


class RulesSettings(BaseSettings):
    """Where the rules in force live (`LIVEWELL_ROUTING_RULES`, default the shipped file)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    routing_rules: Path = Field(default=DEFAULT_RULES, alias="LIVEWELL_ROUTING_RULES")


def configured_rules_path() -> Path:
    """The rules file this deployment uses."""
    return RulesSettings().routing_rules


class RulesError(ValueError):
    """A rules file that cannot be used, with a message a rules author can act on."""


def load_rules(path: Path) -> RuleSet:
    """Read, parse and validate a rules file and the locality data it names."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"cannot read rules file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RulesError(f"rules file {path} is not valid YAML{where}") from exc
    if not isinstance(raw, dict):
        raise RulesError(f"rules file {path} must be a mapping with version, urgency, "
                         "localities and teams")
    try:
        rules = Rules.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}"
                             for e in exc.errors())
        raise RulesError(f"rules file {path} is invalid: {problems}") from exc
    data = (path.parent / rules.localities.data).resolve()
    try:
        districts = load_districts(data)
    except LocalityDataError as exc:
        raise RulesError(f"rules file {path}: {exc}") from exc
    return RuleSet(rules=rules, districts=districts, source=path)


@dataclass(frozen=True, slots=True)
class ReloadResult:
    version: str
    changed: bool
    error: str | None


class RulesStore:
    """The rules in force. A changed file is picked up on the next use (its mtime is checked);
    a broken one is refused with its error kept for the reload endpoint, and the old rules stay."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ruleset = load_rules(path)  # no good rules at start-up: refuse to start
        self._mtime = _mtime(path)
        self.last_error: str | None = None
        self.loaded_at: datetime | None = None

    @property
    def ruleset(self) -> RuleSet:
        """The current rules, reloading first if the file changed since it was last read."""
        mtime = _mtime(self.path)
        if mtime != self._mtime:
            self.reload()
        return self._ruleset

    def reload(self) -> ReloadResult:
        """Read the file again now; on failure keep the rules in force and report why."""
        mtime = _mtime(self.path)
        try:
            fresh = load_rules(self.path)
        except RulesError as exc:
            self._mtime = mtime  # do not re-read a broken file on every request
            self.last_error = str(exc)
            log.error("routing rules refused; the previous rules stay in force",
                      extra={"event": "rules.refused", "rules_version": self._ruleset.version})
            return ReloadResult(self._ruleset.version, False, self.last_error)
        changed = fresh.rules != self._ruleset.rules or fresh.districts != self._ruleset.districts
        self._ruleset, self._mtime, self.last_error = fresh, mtime, None
        log.info("routing rules loaded", extra={"event": "rules.loaded",
                                                "rules_version": fresh.version})
        return ReloadResult(fresh.version, changed, None)


def _mtime(path: Path) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None
