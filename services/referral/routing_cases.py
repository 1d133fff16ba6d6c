"""`livewell routing test CASES.csv`: check a table of cases against a rules file.

Columns: `name`, `postcode`, `needs` (separated by spaces or `;`), `urgency` (the referrer's
view, may be empty), the risk flags `immediate_danger`, `self_harm`, `harm_to_others`,
`safeguarding` (`yes`/`true`/`1` or empty), and the expectations `expect_urgency`,
`expect_locality`, `expect_team` (an empty expectation is not checked).
"""

from __future__ import annotations

import csv
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from services.referral.routing import URGENCIES, RoutingInput, Urgency, decide
from services.referral.rules import RulesError, configured_rules_path, load_rules

FLAGS = ("immediate_danger", "self_harm", "harm_to_others", "safeguarding")
EXPECTED = ("expect_urgency", "expect_locality", "expect_team")
_TRUE = {"yes", "y", "true", "1", "x"}


def _urgency(raw: str, line: int) -> Urgency | None:
    value = raw.strip()
    if not value:
        return None
    for known in URGENCIES:
        if known == value:
            return known
    raise ValueError(f"line {line}: unknown urgency {value!r}")


def run_routing_test(cases_csv: Path, rules: Path | None = None, out: TextIO | None = None) -> int:
    """Print pass/fail for each case; 0 when all pass, 1 when any fails, 2 when unusable."""
    out = out or sys.stdout
    try:
        ruleset = load_rules(rules or configured_rules_path())
    except RulesError as exc:
        print(f"rules refused: {exc}", file=out)
        return 2
    try:
        with cases_csv.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        print(f"cannot read {cases_csv}: {exc.strerror}", file=out)
        return 2
    missing = {"name", "postcode", "needs", *EXPECTED} - set(rows[0] if rows else {})
    if missing:
        print(f"{cases_csv}: missing columns {sorted(missing)}", file=out)
        return 2
    now = datetime.now(UTC)
    print(f"rules {ruleset.version} ({ruleset.source})", file=out)
    print(f"{'result':<6}  {'case':<40}  {'urgency':<12} {'locality':<11} team", file=out)
    failures = 0
    for line, row in enumerate(rows, start=2):
        try:
            given = RoutingInput(
                requested_urgency=_urgency(row.get("urgency") or "", line),
                risk={f: (row.get(f) or "").strip().lower() in _TRUE for f in FLAGS},
                needs=(row.get("needs") or "").replace(";", " ").split(),
                postcode=(row.get("postcode") or "").strip() or None)
        except ValueError as exc:
            print(f"{'ERROR':<6}  {row.get('name', '')[:40]:<40}  {exc}", file=out)
            failures += 1
            continue
        route = decide(ruleset, given, now)
        got = {"expect_urgency": route.urgency, "expect_locality": route.locality,
               "expect_team": route.team}
        wrong = [f"{col.removeprefix('expect_')}: expected {row[col].strip()}, got {got[col]}"
                 for col in EXPECTED if (row.get(col) or "").strip()
                 and row[col].strip() != got[col]]
        failures += bool(wrong)
        print(f"{'FAIL' if wrong else 'pass':<6}  {row['name'][:40]:<40}  {route.urgency:<12} "
              f"{route.locality:<11} {route.team}", file=out)
        for problem in wrong:
            print(f"{'':<8}{problem}", file=out)
    print(f"{len(rows) - failures} passed, {failures} failed", file=out)
    return 1 if failures else 0


if __name__ == "__main__":
    rules_arg = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    sys.exit(run_routing_test(Path(sys.argv[1]), rules_arg))
