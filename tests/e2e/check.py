#!/usr/bin/env python3
"""Checks what `failover-watch --output jsonl` printed during one end-to-end scenario.

Usage: check.py SCENARIO DIR --litellm-version V [--interval S] [--router-timeout S]
                [--cooldown S]

DIR holds:
  watch.jsonl    the watcher's standard output, one JSON object per line (its `direct` lines,
                 one per probe while direct probes are on, as by default, are requests to the
                 primary mock too: the mocks' counters are compared with both);
  markers.jsonl  what tests/e2e/run.sh did and when (`{"event": "primary-down", "at": EPOCH}`),
                 and the mocks' own counters (`{"event": "stats", "mock": "primary",
                 "label": "before", "at": EPOCH, "stats": {"requests": N, "completions": N}}`;
                 `requests` counts every model request a mock received, `completions` those it
                 answered normally).

The LiteLLM version under test (1.83.14 or 1.106.12) chooses what the checks expect where the
versions differ (docs/litellm.md): what attributes a stream answer, error messages, what the
example's primary receives.

Prints one line per check (`ok` or `FAIL`) and, when a check failed, the evidence: the timeline
of requests, of the direct probes not answered 200, of transitions and markers. Exits 1 when a
check failed, 2 on bad usage. Standard library only.
"""

import argparse
import json
import re
import sys
from datetime import datetime
from pathlib import Path

PRIMARY = "llama-fp8"
FALLBACK_GROUP = "llama3"
VERSIONS = ("1.83.14", "1.106.12")
# How far from a marker a request may have been sent and still be counted on either side of it.
# The runner acts half an interval after a probe leaves, so real requests are ~0.5 s away.
EPS = 0.25
LETTER = {"primary": "P", "fallback": "F", "error": "E"}


class Expect:
    """What one LiteLLM version shows in one scenario, where the versions differ."""

    def __init__(self, version, stream):
        self.version = version
        self.stream = stream
        new = version == "1.106.12"
        # x-litellm-model-group and -attempted-fallbacks: on every normal answer; on streams
        # only from 1.106.12 on (1.83.14's streams carry only the deployment's id).
        self.group_headers = new or not stream
        # The fallback as a normal answer names it, its deployment, on streams too (1.83.14's
        # through the deployment map; 1.106.12's chunks say `llama3`, the group).
        self.fallback_model = "ollama/llama3"
        # 1.106.12 asks an openai/ deployment for its model list once, at the proxy's start.
        self.startup_requests = 1 if new else 0

    def both_down_500(self):
        """LiteLLM's 500 when the primary and then the fallback refused the connection: the
        beginning of the message, up to the fallback's port."""
        if self.version == "1.83.14":
            return re.compile(
                r"litellm\.InternalServerError: InternalServerError: OpenAIException - Connection "
                r"error\.\. Received Model Group=llama-fp8 Available Model Group Fallbacks=\['llama3'\] "
                r"Error doing the fallback: litellm\.APIConnectionError: OllamaException - Cannot "
                r"connect to host 127\.0\.0\.1:[0-9]+ "
            )
        return re.compile(
            r"litellm\.InternalServerError: InternalServerError: OpenAIException - Connection "
            r"error\. LiteLLM: model group 'llama-fp8' failed with the error above\. Fallback to "
            r"llama3 also failed: litellm\.APIConnectionError: OllamaException - Cannot connect to "
            r"host REDACTED:[0-9]+ "
        )

    def cooldown_429(self, cooldown):
        """LiteLLM's 429 when the primary is in cooldown: the whole message."""
        extra = "All deployments for selected model are in cooldown. " if self.version == "1.106.12" else ""
        return re.compile(
            re.escape(
                f"No deployments available for selected model, Try again in {cooldown:g} seconds. "
                f"{extra}Passed model=llama-fp8. pre-call-checks=False, cooldown_list=['"
            )
            + r"[0-9a-f]{64}'\]"
        )


def epoch(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class Run:
    """The watcher's output and the runner's markers, parsed."""

    def __init__(self, directory):
        self.lines = []
        self.bad_lines = []
        path = Path(directory, "watch.jsonl")
        for number, raw in enumerate(path.read_text().splitlines(), 1):
            if not raw.strip():
                continue
            try:
                self.lines.append(json.loads(raw))
            except json.JSONDecodeError as error:
                self.bad_lines.append(f"line {number}: {error}: {raw[:120]!r}")
        self.requests = sorted(
            (x for x in self.lines if x.get("type") == "request"), key=lambda r: r["seq"]
        )
        for r in self.requests:
            r["t_sent"] = epoch(r["sent_at"])
        self.transitions = [x for x in self.lines if x.get("type") == "transition"]
        for t in self.transitions:
            t["t_at"] = epoch(t["at"])
        # The direct probes (`disable_fallbacks`) beside the probes: the primary on its own.
        self.direct = [x for x in self.lines if x.get("type") == "direct"]
        for d in self.direct:
            d["t_sent"] = epoch(d["sent_at"])
        self.skips = [x for x in self.lines if x.get("type") == "skip"]
        self.abandoned = [x for x in self.lines if x.get("type") == "abandoned"]
        summaries = [x for x in self.lines if x.get("type") == "summary"]
        self.summary = summaries[-1] if summaries else None
        self.summary_is_last = bool(self.lines) and self.lines[-1].get("type") == "summary"
        self.markers = []
        self.stats = {}
        markers = Path(directory, "markers.jsonl")
        if markers.exists():
            for raw in markers.read_text().splitlines():
                if raw.strip():
                    m = json.loads(raw)
                    if m["event"] == "stats":
                        self.stats[(m["mock"], m["label"])] = m["stats"]
                    self.markers.append(m)
        self.origin = self.requests[0]["t_sent"] if self.requests else 0.0

    def marker(self, name):
        for m in self.markers:
            if m["event"] == name:
                return m["at"]
        raise KeyError(f"the runner recorded no marker {name!r}")

    def pattern(self, requests=None):
        return "".join(LETTER.get(r["result"], "?") for r in (requests or self.requests))

    def sent_between(self, start, end):
        return [r for r in self.requests if start <= r["t_sent"] < end]

    def direct_answered(self, start=float("-inf"), end=float("inf")):
        """Direct probes sent in [start, end) that the primary answered (200): each is a
        completion of the primary mock, like a request attributed to the primary."""
        return sum(1 for d in self.direct if start <= d["t_sent"] < end and d.get("status") == 200)

    def by_seq(self, seq):
        return next((r for r in self.requests if r["seq"] == seq), None)

    def rel(self, t):
        return t - self.origin

    def timeline(self):
        """The evidence: every request, transition and marker in time order."""
        rows = []
        for r in self.requests:
            detail = (
                f"model={r.get('model')} group={r.get('model_group')} "
                f"fallbacks={r.get('attempted_fallbacks')} evidence={r.get('evidence')} "
                f"reply={r.get('reply')!r}"
                if r["result"] != "error"
                else f"status={r.get('status')} kind={r.get('error_kind')} "
                f"error={(r.get('error') or '')[:110]!r}"
            )
            late = " late" if r.get("late") else ""
            rows.append(
                (
                    r["t_sent"],
                    f"  #{r['seq']:<3} sent {self.rel(r['t_sent']):6.2f}s "
                    f"{r['result']:<8} {r['latency_ms']:8.0f} ms{late}  {detail}",
                )
            )
        for d in self.direct:
            if d.get("status") != 200:
                rows.append(
                    (
                        d["t_sent"],
                        f"  d{d['seq']:<3} sent {self.rel(d['t_sent']):6.2f}s direct   "
                        f"{d['latency_ms']:8.0f} ms  state={d.get('state')} status={d.get('status')} "
                        f"message={(d.get('message') or '')[:90]!r}",
                    )
                )
        for t in self.transitions:
            rows.append(
                (
                    t["t_at"],
                    f"  ---- {self.rel(t['t_at']):6.2f}s TRANSITION {t['kind']} (seq {t['seq']}): "
                    f"{t['from']} {t.get('from_model')} -> {t['to']} {t.get('to_model')}, "
                    f"failed_during={t.get('failed_during')}",
                )
            )
        for m in self.markers:
            what = m["event"] if m["event"] != "stats" else f"stats {m['mock']} {m['label']} {m['stats']}"
            rows.append((m["at"], f"  ==== {self.rel(m['at']):6.2f}s RUNNER {what}"))
        rows.sort(key=lambda row: row[0])
        lines = [row for _, row in rows]
        lines += [f"  skip: {json.dumps(s)}" for s in self.skips]
        lines += [f"  abandoned: {json.dumps(a)}" for a in self.abandoned]
        lines += [f"  unparsable: {b}" for b in self.bad_lines]
        lines.append(f"  summary: {json.dumps(self.summary)}")
        return "\n".join(lines)


class Checks:
    def __init__(self, scenario):
        self.scenario = scenario
        self.failed = 0
        self.passed = 0

    def check(self, condition, what, evidence=""):
        if condition:
            self.passed += 1
            print(f"  ok   {what}")
        else:
            self.failed += 1
            print(f"  FAIL {what}" + (f": {evidence}" if evidence else ""))
        return condition


def seqs(requests):
    return [r["seq"] for r in requests]


def delta(run, mock, before, after, field):
    return run.stats[(mock, after)][field] - run.stats[(mock, before)][field]


def common(run, c, args, allow_errors=False):
    """What every scenario must show, whatever its story."""
    c.check(not run.bad_lines, "every output line is JSON", "; ".join(run.bad_lines[:3]))
    c.check(run.summary is not None and run.summary_is_last, "the last line is the summary")
    if run.summary is None:
        return False
    s = run.summary
    numbers = seqs(run.requests)
    c.check(len(run.requests) >= 5, f"at least 5 answered requests ({len(run.requests)})")
    c.check(
        numbers == list(range(1, len(numbers) + 1)),
        "requests are numbered 1..N without gap or duplicate",
        f"seqs {numbers}",
    )
    c.check(not run.skips, "no probe was skipped", f"{len(run.skips)} skip lines")
    c.check(not run.abandoned, "no probe was abandoned", f"{len(run.abandoned)} abandoned lines")
    count = {k: sum(1 for r in run.requests if r["result"] == k) for k in LETTER}
    c.check(
        (s["total"], s["primary"], s["fallback"], s["failed"], s["succeeded"])
        == (
            len(run.requests),
            count["primary"],
            count["fallback"],
            count["error"],
            count["primary"] + count["fallback"],
        ),
        "the summary's counts match the request lines",
        f"summary total/primary/fallback/failed/succeeded = {s['total']}/{s['primary']}/"
        f"{s['fallback']}/{s['failed']}/{s['succeeded']}, lines give {len(run.requests)}/"
        f"{count['primary']}/{count['fallback']}/{count['error']}",
    )
    kinds = [t["kind"] for t in run.transitions]
    c.check(
        (s["failovers"], s["recoveries"], s["outages"], s["restorations"])
        == tuple(kinds.count(k) for k in ("failover", "recovery", "outage", "restored")),
        "the summary's transition counts match the transition lines",
        f"summary {s['failovers']}/{s['recoveries']}/{s['outages']}/{s['restorations']}, lines {kinds}",
    )
    # The schedule: a probe leaves every interval, whatever the earlier ones are doing.
    gaps = [b["t_sent"] - a["t_sent"] for a, b in zip(run.requests, run.requests[1:])]
    odd = [
        (run.requests[i + 1]["seq"], round(g, 3))
        for i, g in enumerate(gaps)
        if abs(g - args.interval) > EPS
    ]
    c.check(not odd, f"probes left every {args.interval:g} s (±{EPS} s)", f"(seq, gap) {odd}")
    if not allow_errors:
        errors = [r for r in run.requests if r["result"] == "error"]
        c.check(
            not errors,
            "no request failed",
            "; ".join(f"#{r['seq']} {r.get('status')} {(r.get('error') or '')[:80]}" for r in errors),
        )
    fallback_model = args.expect.fallback_model
    for result, model, reply in (("primary", PRIMARY, "Hi."), ("fallback", fallback_model, "Hello!")):
        wrong = [
            f"#{r['seq']} model={r.get('model')!r} reply={r.get('reply')!r}"
            for r in run.requests
            if r["result"] == result and (r.get("model") != model or r.get("reply") != reply)
        ]
        c.check(
            not wrong,
            f"every answer attributed to the {result} names {model} and carries the {result} "
            f"mock's reply {reply!r}",
            "; ".join(wrong[:5]),
        )
    # The version the proxy named in its answers (x-litellm-version).
    c.check(
        s.get("litellm_version") == args.litellm_version,
        f"summary: litellm_version is {args.litellm_version}, the version under test",
        f"litellm_version={s.get('litellm_version')!r}",
    )
    return True


def attribution_evidence(run, c, args):
    """Normal answers carry the model-group headers, and so do streams on 1.106.12; streams on
    1.83.14 carry only the deployment's id."""
    served = [r for r in run.requests if r["result"] != "error"]
    if args.expect.group_headers:
        bad = [
            r["seq"]
            for r in served
            if r.get("evidence") != "model_group_header"
            or r.get("model_group") != (PRIMARY if r["result"] == "primary" else FALLBACK_GROUP)
            or r.get("attempted_fallbacks") != (0 if r["result"] == "primary" else 1)
        ]
        c.check(
            not bad,
            f"every {'stream ' if args.expect.stream else ''}answer is attributed by "
            "x-litellm-model-group, with attempted fallbacks 0 (primary) or 1 (fallback)"
            + (f" (streams carry it on {args.litellm_version})" if args.expect.stream else ""),
            f"seqs {bad}",
        )
    else:
        bad = [
            r["seq"]
            for r in served
            if r.get("evidence") != "deployment" or r.get("model_group") is not None
        ]
        c.check(
            not bad,
            f"every stream answer is attributed by its deployment (no model-group header on "
            f"streams on {args.litellm_version})",
            f"seqs {bad}",
        )
    if args.expect.stream:
        c.check(
            all(r.get("ttft_ms") is not None for r in served),
            "every stream answer has a time to first token",
        )


def failover_story(run, c, args, down_event, up_event, failures_lag=0.0):
    """Primary, then the fallback from the fault on, then the primary again after the
    cooldown. `failures_lag`: how long after the fault's end its last failures can still
    reach the router (and start or extend the cooldown). Returns (first fallback request,
    recovery request) or None."""
    attribution_evidence(run, c, args)
    fallback_model = args.expect.fallback_model
    down, up = run.marker(down_event), run.marker(up_event)
    pattern = run.pattern()
    if not c.check(
        re.fullmatch(r"P+F+P+", pattern) is not None,
        "results by seq: primary, then fallback, then primary again (P+F+P+)",
        pattern,
    ):
        return None
    first_f = next(r for r in run.requests if r["result"] == "fallback")
    back = next(r for r in run.requests if r["seq"] > first_f["seq"] and r["result"] == "primary")
    before = [r for r in run.requests if r["t_sent"] < down - EPS]
    c.check(
        before and all(r["result"] == "primary" for r in before),
        f"every request sent before '{down_event}' was served by the primary",
        run.pattern(before),
    )
    c.check(
        down - EPS <= first_f["t_sent"] <= down + args.interval + EPS,
        f"the first request sent after '{down_event}' was already served by the fallback",
        f"first fallback #{first_f['seq']} sent {first_f['t_sent'] - down:+.2f} s from the fault",
    )
    during = run.sent_between(down + EPS, up - EPS)
    c.check(
        len(during) >= 3 and all(r["result"] == "fallback" for r in during),
        f"every request sent between '{down_event}' and '{up_event}' was served by the fallback",
        run.pattern(during),
    )
    wait = back["t_sent"] - up
    c.check(
        -EPS <= wait <= failures_lag + args.cooldown + 2 * args.interval + 1.0,
        f"traffic returned to the primary after '{up_event}', within the cooldown "
        f"({args.cooldown:g} s)" + (f" after the last failures ({failures_lag:g} s)" if failures_lag else "")
        + " plus two intervals",
        f"#{back['seq']} sent {wait:+.2f} s after it",
    )
    kinds = [(t["kind"], t["from"], t["to"], t.get("to_model")) for t in run.transitions]
    c.check(
        kinds
        == [("failover", "primary", "fallback", fallback_model), ("recovery", "fallback", "primary", PRIMARY)],
        f"transitions: one failover to {fallback_model}, then one recovery to {PRIMARY}",
        f"{kinds}",
    )
    if len(run.transitions) == 2:
        failover, recovery = run.transitions
        c.check(
            failover["seq"] == first_f["seq"] and recovery["seq"] == back["seq"],
            "the failover is reported at the first fallback answer and the recovery at the first "
            "primary answer after it",
            f"failover at #{failover['seq']} (first fallback #{first_f['seq']}), recovery at "
            f"#{recovery['seq']} (first primary again #{back['seq']})",
        )
        c.check(
            failover.get("from_model") == PRIMARY and recovery.get("from_model") == fallback_model,
            "the transitions name the models they leave",
            f"failover from {failover.get('from_model')!r}, recovery from {recovery.get('from_model')!r}",
        )
    s = run.summary
    c.check(
        (s["failovers"], s["recoveries"], s["outages"], s["failed"], s["primary_never_served"])
        == (1, 1, 0, 0, False),
        "summary: 1 failover, 1 recovery, no outage, no failure, primary served",
        json.dumps({k: s[k] for k in ("failovers", "recoveries", "outages", "failed", "primary_never_served")}),
    )
    return first_f, back


def count(requests, result):
    return sum(1 for r in requests if r["result"] == result)


def scenario_killed(run, c, args):
    story = failover_story(run, c, args, "primary-down", "primary-up")
    if story is None:
        return
    down, up = run.marker("primary-down"), run.marker("primary-up")
    before = [r for r in run.requests if r["t_sent"] < down]
    after_up = [r for r in run.requests if r["t_sent"] >= up]
    # The mocks' own counters: who really answered (the direct probes the primary answered too).
    before_p = count(before, "primary") + run.direct_answered(end=down)
    c.check(
        delta(run, "primary", "before", "before-kill", "completions") == before_p,
        "the primary mock answered exactly the requests attributed to it (and the direct probes "
        "it answered) before the kill",
        f"mock {delta(run, 'primary', 'before', 'before-kill', 'completions')}, "
        f"watcher {count(before, 'primary')} + {run.direct_answered(end=down)} direct",
    )
    restarted = run.stats[("primary", "after")]
    after_p = count(after_up, "primary") + run.direct_answered(start=up)
    c.check(
        restarted["completions"] == after_p and restarted["requests"] == restarted["completions"],
        "the restarted primary mock answered exactly the requests attributed to it (and the "
        "direct probes it answered) after the restart, and nothing else",
        f"mock {restarted}, watcher {count(after_up, 'primary')} + "
        f"{run.direct_answered(start=up)} direct",
    )
    c.check(
        delta(run, "fallback", "before", "after", "completions") == count(run.requests, "fallback"),
        "the fallback mock answered exactly the requests attributed to the fallback",
        f"mock {delta(run, 'fallback', 'before', 'after', 'completions')}, "
        f"watcher {count(run.requests, 'fallback')}",
    )


def scenario_500(run, c, args):
    if failover_story(run, c, args, "primary-500", "primary-ok") is None:
        return
    answered = delta(run, "primary", "before", "after", "completions")
    refused = delta(run, "primary", "before", "after", "requests") - answered
    c.check(
        answered == count(run.requests, "primary") + run.direct_answered(),
        "the primary mock answered exactly the requests attributed to the primary (and the "
        "direct probes it answered)",
        f"mock {answered}, watcher {count(run.requests, 'primary')} + {run.direct_answered()} direct",
    )
    c.check(
        refused >= 1,
        "the failover followed 500s that really reached the primary",
        f"the primary mock answered {refused} requests with 500",
    )
    c.check(
        delta(run, "fallback", "before", "after", "completions") == count(run.requests, "fallback"),
        "the fallback mock answered exactly the requests attributed to the fallback",
        f"mock {delta(run, 'fallback', 'before', 'after', 'completions')}, "
        f"watcher {count(run.requests, 'fallback')}",
    )


def scenario_hang(run, c, args):
    """The primary holds every request for a few seconds, at the seed's router timeout and the
    watcher's defaults (but the interval). The requests it held come back from the fallback a
    router timeout later, after later requests the primary served again: they are counted as
    fallback answers, `late`, and move nothing. Their failures, an interval apart, then put the
    primary in cooldown (`allowed_fails: 1`): the requests sent during it go straight to the
    fallback (a failover), then back to the primary (a recovery)."""
    attribution_evidence(run, c, args)
    fallback_model = args.expect.fallback_model
    hang, ok = run.marker("primary-hang"), run.marker("primary-ok")
    limit_ms = args.router_timeout * 1000
    held = run.sent_between(hang, ok)
    expected = (ok - hang) / args.interval
    c.check(
        abs(len(held) - expected) <= 1 and len(held) >= 2,
        "the number of requests sent during the hang matches its length",
        f"{len(held)} requests in {ok - hang:.2f} s at {args.interval:g} s",
    )
    bad = [
        f"#{r['seq']} {r['result']} {r['latency_ms']:.0f} ms late={r.get('late')}"
        for r in held
        if r["result"] != "fallback"
        or not limit_ms - 50 <= r["latency_ms"] <= limit_ms + 2500
        or r.get("late") is not True
    ]
    c.check(
        held and not bad,
        f"every request sent during the hang was served by the fallback after the router timeout "
        f"({args.router_timeout:g} s), not failed nor timed out, and reported late (after later "
        "answers)",
        "; ".join(bad),
    )
    # Far below the router timeout, well above a loaded machine's slowest answer.
    quick_ms = 5000
    slow_others = [
        f"#{r['seq']} {r['latency_ms']:.0f} ms"
        for r in run.requests
        if r not in held and r["latency_ms"] >= quick_ms
    ]
    c.check(
        not slow_others,
        f"every other request answered within {quick_ms / 1000:g} s (none waited for the router timeout)",
        "; ".join(slow_others),
    )
    overlapping = [
        b["seq"]
        for a, b in zip(run.requests, run.requests[1:])
        if b["t_sent"] < a["t_sent"] + a["latency_ms"] / 1000.0
    ]
    c.check(
        len(overlapping) >= 2,
        "probes kept leaving while earlier ones were still unanswered",
        f"requests sent before the previous one answered: {overlapping}",
    )
    pattern = run.pattern()
    if not c.check(
        re.fullmatch(r"P+F+P+F+P+", pattern) is not None,
        "results by seq: primary, the held requests from the fallback, primary, fallback during "
        "the cooldown, primary again (P+F+P+F+P+)",
        pattern,
    ):
        return
    first_block = re.match(r"P+(F+)", pattern)
    held_seqs = seqs(held)
    c.check(
        [r["seq"] for r in run.requests[first_block.start(1) : first_block.end(1)]] == held_seqs,
        "the first fallback answers are exactly the requests sent during the hang",
        f"first fallback block {pattern[: first_block.end(1)]}, held {held_seqs}",
    )
    if len(held) < 2:
        return
    # The requests the router gave up on: the held ones and the direct probes sent during the
    # hang (answered 408, the router's timeout). The second of these failures starts the
    # cooldown.
    held_direct = [d for d in run.direct if hang <= d["t_sent"] < ok]
    given_up = sorted(
        x["t_sent"] + x["latency_ms"] / 1000.0
        for x in held + [d for d in held_direct if d.get("status") == 408]
    )
    cool = given_up[1]
    after = [r for r in run.requests if r["seq"] > held[-1]["seq"]]
    served_again = [r for r in after if r["t_sent"] < cool - EPS]
    c.check(
        served_again and all(r["result"] == "primary" for r in served_again),
        "after the hang the primary served every request until the router gave up on a second "
        "held one",
        run.pattern(served_again),
    )
    cooled = next(r for r in after if r["result"] == "fallback")
    c.check(
        cool - EPS <= cooled["t_sent"] <= cool + args.interval + EPS,
        "the first request sent after that second failure went to the fallback (the primary in "
        "cooldown)",
        f"#{cooled['seq']} sent {cooled['t_sent'] - cool:+.2f} s from it",
    )
    during = run.sent_between(cool + EPS, cool + args.cooldown - EPS)
    c.check(
        len(during) >= 5 and all(r["result"] == "fallback" for r in during),
        f"every request sent during the cooldown ({args.cooldown:g} s) was served by the fallback",
        run.pattern(during),
    )
    back = next(r for r in run.requests if r["seq"] > cooled["seq"] and r["result"] == "primary")
    wait = back["t_sent"] - cool
    c.check(
        args.cooldown - EPS <= wait <= args.cooldown + 2 * args.interval + 1.0,
        f"traffic returned to the primary when the cooldown ended ({args.cooldown:g} s, plus two "
        "intervals at most)",
        f"#{back['seq']} sent {wait:+.2f} s after the second failure",
    )
    kinds = [(t["kind"], t["from"], t["to"], t.get("to_model"), t["seq"]) for t in run.transitions]
    c.check(
        kinds
        == [
            ("failover", "primary", "fallback", fallback_model, cooled["seq"]),
            ("recovery", "fallback", "primary", PRIMARY, back["seq"]),
        ],
        f"transitions: a failover to {fallback_model} at the cooldown's first answer, a recovery "
        f"to {PRIMARY} at the first primary answer after it; none for the late answers",
        f"{kinds}",
    )
    s = run.summary
    c.check(
        (s["failovers"], s["recoveries"], s["outages"], s["failed"], s["primary_never_served"])
        == (1, 1, 0, 0, False),
        "summary: 1 failover, 1 recovery, no outage, no failure, primary served",
        json.dumps({k: s[k] for k in ("failovers", "recoveries", "outages", "failed", "primary_never_served")}),
    )
    answered = delta(run, "primary", "before", "after", "completions")
    held_by_mock = delta(run, "primary", "before", "after", "requests") - answered
    c.check(
        held_by_mock == len(held) + len(held_direct),
        "the primary mock held exactly the requests (and the direct probes) sent during the hang",
        f"the primary mock held {held_by_mock}, requests sent during the hang: {held_seqs}, "
        f"direct probes: {[d['seq'] for d in held_direct]}",
    )
    c.check(
        all(
            d.get("status") == 408 and limit_ms - 50 <= d["latency_ms"] <= limit_ms + 2500
            for d in held_direct
        ),
        "every direct probe sent during the hang ended at the router timeout (408)",
        "; ".join(f"d{d['seq']} {d.get('status')} {d['latency_ms']:.0f} ms" for d in held_direct),
    )
    c.check(
        answered == count(run.requests, "primary") + run.direct_answered(),
        "the primary mock answered exactly the requests attributed to the primary (and the "
        "direct probes it answered)",
        f"mock {answered}, watcher {count(run.requests, 'primary')} + {run.direct_answered()} direct",
    )
    c.check(
        delta(run, "fallback", "before", "after", "completions") == count(run.requests, "fallback"),
        "the fallback mock answered exactly the requests attributed to the fallback",
        f"mock {delta(run, 'fallback', 'before', 'after', 'completions')}, "
        f"watcher {count(run.requests, 'fallback')}",
    )


def scenario_both_down(run, c, args):
    down, up = run.marker("both-down"), run.marker("both-up")
    pattern = run.pattern()
    c.check(
        re.fullmatch(r"P+E{2,}F*P+", pattern) is not None,
        "results by seq: primary, failures, (fallback,) primary again (P+E{2,}F*P+)",
        pattern,
    )
    errors = [r for r in run.requests if r["result"] == "error"]
    if not errors:
        return
    before = [r for r in run.requests if r["t_sent"] < down - EPS]
    c.check(
        before and all(r["result"] == "primary" for r in before),
        "every request sent before both upstreams went down was served by the primary",
        run.pattern(before),
    )
    first = errors[0]
    c.check(
        down - EPS <= first["t_sent"] <= down + args.interval + EPS,
        "the first request sent after both went down failed",
        f"#{first['seq']} sent {first['t_sent'] - down:+.2f} s from it",
    )
    # Each version's own wording (docs/litellm.md, "Errors").
    refused, cooling = args.expect.both_down_500(), args.expect.cooldown_429(args.cooldown)

    def is_500(r):
        return r.get("status") == 500 and refused.match(r.get("error") or "") is not None

    def is_429(r):
        return r.get("status") == 429 and cooling.fullmatch(r.get("error") or "") is not None

    c.check(
        is_500(first),
        f"the first failure is LiteLLM {args.litellm_version}'s 500 naming the model group and "
        "the failed fallback",
        f"status={first.get('status')} error={(first.get('error') or '')[:300]!r}",
    )
    odd = [
        (r["seq"], r.get("status"), (r.get("error") or "")[:300])
        for r in errors
        if r.get("error_kind") != "http" or not (is_500(r) or is_429(r))
    ]
    c.check(
        not odd,
        f"every failure is LiteLLM {args.litellm_version}'s 500 (upstreams refused) or 429 "
        "(primary in cooldown), in that version's words",
        f"{odd}",
    )
    kinds_seen = "".join("5" if is_500(r) else "4" for r in errors)
    c.check(
        re.fullmatch(r"5+4*", kinds_seen) is not None,
        "the 500s come first, then 429s once the primary is in cooldown",
        f"statuses {[r.get('status') for r in errors]}",
    )
    last = errors[-1]
    c.check(
        last["t_sent"] <= up + args.cooldown + 2 * args.interval + 1.0,
        "failures stop within the cooldown after both came back",
        f"last failure #{last['seq']} sent {last['t_sent'] - up:+.2f} s after both came back",
    )
    kinds = [(t["kind"], t["from"], t["to"]) for t in run.transitions]
    ok_kinds = kinds in (
        [("outage", "primary", "down"), ("restored", "down", "primary")],
        [("outage", "primary", "down"), ("restored", "down", "fallback"), ("recovery", "fallback", "primary")],
    )
    c.check(ok_kinds, "transitions: an outage, then restored (then a recovery to the primary)", f"{kinds}")
    if ok_kinds:
        outage, restored = run.transitions[0], run.transitions[1]
        c.check(
            outage["seq"] == errors[1]["seq"],
            "the outage is reported at the second consecutive failure",
            f"outage at #{outage['seq']}, failures {seqs(errors)}",
        )
        first_ok = next(r for r in run.requests if r["seq"] > last["seq"])
        c.check(
            restored["seq"] == first_ok["seq"] and restored.get("failed_during") == len(errors),
            "restored is reported at the first answer after the failures and counts them",
            f"restored at #{restored['seq']} failed_during={restored.get('failed_during')}; "
            f"first answer #{first_ok['seq']}, {len(errors)} failures",
        )
    s = run.summary
    c.check(
        (s["outages"], s["restorations"], s["failed"], s["failovers"]) == (1, 1, len(errors), 0),
        "summary: 1 outage, 1 restoration, the failures counted, no failover",
        json.dumps({k: s[k] for k in ("outages", "restorations", "failed", "failovers")}),
    )
    after_up = [r for r in run.requests if r["t_sent"] >= up]
    p = run.stats[("primary", "after")]
    f = run.stats[("fallback", "after")]
    after_p = count(after_up, "primary") + run.direct_answered(start=up)
    c.check(
        p["completions"] == after_p and f["completions"] == count(after_up, "fallback"),
        "the restarted mocks answered exactly the requests attributed to each (and the primary "
        "the direct probes it answered)",
        f"primary mock {p}, fallback mock {f}; watcher after restart: "
        f"{count(after_up, 'primary')} primary + {run.direct_answered(start=up)} direct, "
        f"{count(after_up, 'fallback')} fallback",
    )
    attribution_evidence(run, c, args)


def scenario_seed_verbatim(run, c, args):
    pattern = run.pattern()
    c.check(re.fullmatch(r"F+", pattern) is not None, "every request was served by the fallback", pattern)
    s = run.summary
    c.check(
        s["primary_never_served"] is True and s["primary"] == 0,
        "summary: primary_never_served is true",
        json.dumps({k: s[k] for k in ("primary", "fallback", "primary_never_served")}),
    )
    c.check(
        not any(t["kind"] in ("recovery", "outage") for t in run.transitions),
        "no recovery and no outage reported",
        f"{[t['kind'] for t in run.transitions]}",
    )
    p = run.stats[("primary", "after")]
    startup = args.expect.startup_requests
    # The mock is in mode ok: a chat request it received would have been a completion; the
    # only other request it counts is the model list (GET /v1/models).
    c.check(
        p["completions"] == 0 and p["requests"] == startup,
        "the primary mock received no completion request at all"
        + (
            f", only the model-list request {args.litellm_version} sends at its start"
            if startup
            else ", nor any other request"
        ),
        f"primary mock {p}",
    )
    c.check(
        delta(run, "fallback", "before", "after", "completions") == count(run.requests, "fallback"),
        "the fallback mock answered exactly the requests attributed to the fallback",
        f"mock {delta(run, 'fallback', 'before', 'after', 'completions')}, "
        f"watcher {count(run.requests, 'fallback')}",
    )
    attribution_evidence(run, c, args)


SCENARIOS = {
    "primary-killed": (scenario_killed, False),
    "primary-500": (scenario_500, False),
    "primary-hang": (scenario_hang, False),
    "both-down": (scenario_both_down, True),
    "stream-primary-killed": (scenario_killed, False),
    "seed-verbatim": (scenario_seed_verbatim, False),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("directory")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--router-timeout", type=float, default=3.0)
    parser.add_argument("--cooldown", type=float, default=10.0)
    parser.add_argument("--litellm-version", required=True, choices=VERSIONS)
    args = parser.parse_args()
    args.expect = Expect(args.litellm_version, stream=args.scenario.startswith("stream-"))
    check, allow_errors = SCENARIOS[args.scenario]
    c = Checks(args.scenario)
    try:
        run = Run(args.directory)
    except (OSError, KeyError, ValueError) as error:
        print(f"  FAIL cannot read the run in {args.directory}: {error}")
        return 1
    try:
        if common(run, c, args, allow_errors=allow_errors):
            check(run, c, args)
    except (KeyError, StopIteration, TypeError) as error:
        c.check(False, "the output has the fields and records the checks need", repr(error))
    if c.failed:
        print(f"  evidence for {args.scenario} (times from the first request):")
        print(run.timeline())
        print(f"  {args.scenario}: {c.passed} checks passed, {c.failed} failed")
        return 1
    print(f"  {args.scenario}: {c.passed} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
