"""The benchmark's Markdown table, built from its JSON results."""

from __future__ import annotations

from typing import Any


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} ms"


def _met(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "**no**")


def _lat(block: dict[str, Any]) -> str:
    lat = block.get("latency_ms") or {}
    if not lat:
        return "n/a"
    return f"{lat['p50']:.1f} / {lat['p95']:.1f} / {lat['p99']:.1f} ms"


def _outboxes(ref: dict[str, Any]) -> str:
    state = ref.get("outbox_at_end")
    if not state:
        return ""
    waiting = sum(v.get("waiting", 0) for v in state.values())
    dead = sum(v.get("dead", 0) for v in state.values())
    return f" (at the end {waiting} outbox rows still queued, {dead} dead letters)"


def rows(results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measure, result, goal, met) for every figure that was measured."""
    out: list[tuple[str, str, str, str]] = []
    for name in ("voice", "referrals", "assignment"):
        if (results.get(name) or {}).get("error") and name != "assignment":
            out.append((f"{name} phase", f"failed: {results[name]['error'][:120]}", "—",
                        "**no**"))
    voice = results.get("voice")
    if voice and "error" not in voice:
        bare, stack = voice["bare"], voice["stack"]
        c = voice["concurrency"]
        how = f"{c} connections" + (f", median of {voice['rounds']} alternating rounds"
                                    if voice.get("rounds", 1) > 1 else "")
        out.append((f"voice webhook, bare FastAPI + uvicorn (the limit), {how}",
                    f"{bare['max']['rps']:.0f} req/s", "—", ""))
        out.append((f"voice webhook through gateway → intake, {how}",
                    f"{stack['max']['rps']:.0f} req/s = **{voice['ratio']:.2f}×** bare",
                    "≥ 0.5×", _met(voice["ratio"] >= 0.5)))
        p99 = (stack["fixed_rate"].get("latency_ms") or {}).get("p99")
        out.append((f"voice p50 / p95 / p99 at {voice['rate']:.0f} req/s (open loop), bare",
                    _lat(bare["fixed_rate"]), "—", ""))
        out.append((f"voice p50 / p95 / p99 at {voice['rate']:.0f} req/s (open loop), "
                    "gateway → intake", _lat(stack["fixed_rate"]), "p99 ≤ 50 ms",
                    _met(p99 is not None and p99 <= 50 and not stack["fixed_rate"]["errors"])))
    light = results.get("referrals_light")
    if light:
        p95 = (light.get("handoff_latency_ms") or {}).get("p95")
        out.append((f"partner referral → handoff SMS, p95 at a light {light['rate']:.0f}/s for "
                    f"{light['seconds']:.0f} s (lost {light['lost']}, duplicated "
                    f"{light['duplicated']})", _ms(p95), "—", ""))
    ref = results.get("referrals")
    if ref and "error" not in ref:
        p95 = (ref.get("handoff_latency_ms") or {}).get("p95")
        out.append((f"partner referral → handoff SMS at the mock, p95 at {ref['rate']:.0f}/s "
                    f"for {ref['seconds']:.0f} s ({ref['accepted']} accepted of {ref['sent']})",
                    _ms(p95), "≤ 1 s", _met(p95 is not None and p95 <= 1000)))
        urgent = ref.get("emergency")
        if urgent:
            ms = urgent.get("handoff_ms")
            out.append((f"an emergency referral sent {urgent.get('sent_after_s', '?')} s into "
                        f"the {ref['rate']:.0f}/s run → its handoff SMS",
                        _ms(ms) if "error" not in urgent else urgent["error"], "≤ 2 s",
                        _met(ms is not None and ms <= 2000)))
        out.append((f"handoff SMS lost / duplicated at {ref['rate']:.0f}/s (not handed off "
                    f"{ref['drain_seconds']:.0f} s after the last; refused "
                    f"{ref['refused']}; throughput {ref.get('handoffs_per_second')} handoffs/s)",
                    f"{ref['lost']} / {ref['duplicated']}{_outboxes(ref)}",
                    "0 / 0", _met(ref["lost"] == 0 and ref["duplicated"] == 0
                                  and ref["refused"] == 0)))
    asg = results.get("assignment")
    if asg:
        p99 = asg.get("p99_ms")
        out.append(("assignment p99, 2,000 workers and 200,000 people",
                    _ms(p99) if p99 is not None else f"not measured ({asg.get('error', '?')})",
                    "≤ 20 ms", _met(None if p99 is None else p99 <= 20)))
    fig = results.get("figures")
    if fig:
        worst = fig.get("max_seconds")
        out.append((f"monthly report, 20,000 contacts and 5,000 referrals (slowest of "
                    f"{fig.get('runs', '?')}; median {fig.get('median_seconds', '?')} s)",
                    f"{worst:.2f} s" if worst is not None
                    else f"not measured ({fig.get('error', '?')})",
                    "≤ 2 s", _met(None if worst is None else worst <= 2)))
    mem = results.get("memory")
    if mem:
        idle = sum(mem["idle_mb"].values())
        out.append(("resident memory of the seven processes (gateway, four services, site, "
                    "desk), idle", f"{idle:.0f} MB",
                    "≤ 400 MB", _met(idle <= 400)))
        if mem.get("idle_pss_mb"):
            pss = sum(mem["idle_pss_mb"].values())
            out.append(("proportional memory (PSS: shared pages counted once) of the seven, idle",
                        f"{pss:.0f} MB", "—", ""))
        out.append(("resident memory of the seven processes, peak under load",
                    f"{sum(mem['load_peak_mb'].values()):.0f} MB", "—", ""))
    return out


def markdown(results: dict[str, Any]) -> str:
    """The table the README and docs/benchmarks.md carry."""
    lines = ["| measure | result | goal | met |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows(results)]
    machine = results.get("machine", {})
    lines.append("")
    lines.append(f"`make bench`, {results.get('finished_at', '?')}, {machine.get('cpus', '?')} "
                 f"CPUs, load average before the run {machine.get('load_before', '?')}, "
                 f"PostgreSQL {machine.get('postgres', '?')}.")
    return "\n".join(lines)
