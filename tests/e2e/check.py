#!/usr/bin/env python3
"""Checks what `failover-watch --output jsonl` printed during one end-to-end scenario.

Usage: check.py SCENARIO DIR --litellm-version V [--interval S] [--router-timeout S]
                [--cooldown S] [--prometheus URL]

DIR holds:
  watch.jsonl    the watcher's standard output, one JSON object per line (its `direct` lines,
                 one per probe while direct probes are on, as by default, are requests to the
                 primary mock too: the mocks' counters are compared with both);
  markers.jsonl  what tests/e2e/run.sh did and when (`{"event": "primary-down", "at": EPOCH}`),
                 and the mocks' own counters (`{"event": "stats", "mock": "primary",
                 "label": "before", "at": EPOCH, "stats": {"requests": N, "completions": N}}`;
                 `requests` counts every model request a mock received, `completions` those it
                 answered normally); the mocks' addresses (`mocks`); how `failover-watch
                 check` (`preflight`: its attempt, output, file and status), `failover-watch
                 mark` (`mark`: its label, status, the watcher's pid, when it ran) and
                 `failover-watch replay` (`replay`: its output and status) ended;
  record.jsonl   the watcher's record (`--record`; absent when the watcher ran at its
                 defaults: its standard output is the record then);
  replay.jsonl, replay.text
                 `failover-watch replay RECORD --instant` as JSON lines and as the text story;
  preflight*.json, preflight*.txt
                 what `failover-watch check` printed (JSON on the healthy proxy before the
                 faults, the text on the seed-verbatim proxy);
  mark.out       what `failover-watch mark` printed;
  (drill-*)      the drill's record (`drill-llama-fp8-TIME.jsonl`, its default name, in DIR), its
                 report on stdout (`drill.out`; `report.json` too in drill-pass), its story on
                 stderr (`drill.err`), the down command's environment (`down.env`, drill-pass);
                 in markers.jsonl the steps the lane was asked for and answered (`lever-down`,
                 `lever-down-done`, `lever-up`, …), the SIGINT it sent (`sigint`), the drill's
                 status (`drill`), and whether the primary served again after it
                 (`primary-back`);
  metrics/       (primary-killed) the second watcher's, run as a service (`--output none
                 --metrics-listen ADDR --log-file -`, and `--record`): `watch.out` (empty),
                 `watch.err` (its logs), `record.jsonl`; one raw scrape of its `/metrics`
                 (`scrape.txt`, `scrape.openmetrics`, their `.headers`), `promtool.out`,
                 `healthz.body`, `listening.txt` (`ss -ltn` of the processes started); the
                 Prometheus that scraped it every second (`prometheus.yml`, `prometheus.log`,
                 `data/`) and its answers to the checks' queries (`prometheus.json`): with
                 `--prometheus URL` they are asked of that Prometheus and kept there; without,
                 read from there.

The LiteLLM version under test (1.83.14 or 1.106.12) chooses what the checks expect where the
versions differ (docs/litellm.md): what attributes a stream answer, error messages, what the
example's primary receives.

Prints one line per check (`ok` or `FAIL`) and, when a check failed, the evidence: the timeline
of requests, of the direct probes not answered 200, of transitions and markers. Exits 1 when a
check failed, 2 on bad usage. Standard library only.
"""

import argparse
import json
import math
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path

PRIMARY = "llama-fp8"
FALLBACK_GROUP = "llama3"
VERSIONS = ("1.83.14", "1.106.12")
# How far from a marker a request may have been sent and still be counted on either side of it.
# The runner acts half an interval after a probe leaves, so real requests are ~0.5 s away.
EPS = 0.25
# The scenarios whose watcher runs the primary's lane quiet (the default): LiteLLM's health check
# while the primary is away, one direct probe into its cooldown. The others send a direct probe
# beside every request (`--direct probe`), whose answers their checks count.
QUIET_SCENARIOS = ("primary-killed", "primary-hang", "many-targets")
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

    def missing_api_key(self):
        """LiteLLM's error for an openai/ deployment without an api_key (and no OPENAI_API_KEY in
        the proxy's environment): its stable beginning."""
        if self.version == "1.83.14":
            return re.compile(
                r"litellm\.AuthenticationError: AuthenticationError: OpenAIException - The api_key "
                r"client option must be set either by passing api_key to the client or by setting "
                r"the OPENAI_API_KEY environment variable"
            )
        return re.compile(
            r"litellm\.InternalServerError: InternalServerError: OpenAIException - Missing "
            r"credentials\. Please pass an `api_key`"
        )

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


def read_jsonl(path):
    """The JSON objects of a file of JSON lines, and the lines that are not JSON."""
    objects, bad = [], []
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        if not raw.strip():
            continue
        try:
            objects.append(json.loads(raw))
        except json.JSONDecodeError as error:
            bad.append(f"line {number}: {error}: {raw[:120]!r}")
    return objects, bad


def first_difference(a, b):
    """Where two lists of JSON objects first differ, told briefly; None when they are equal."""
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            keys = sorted(k for k in set(x) | set(y) if x.get(k, "<absent>") != y.get(k, "<absent>"))
            said = "; ".join(
                f"{k}: {json.dumps(x.get(k, '<absent>'))[:150]} vs {json.dumps(y.get(k, '<absent>'))[:150]}"
                for k in keys[:5]
            )
            return f"line {i + 1} ({x.get('type')}) differs: {said}"
    if len(a) != len(b):
        return f"{len(a)} lines vs {len(b)}"
    return None


class Run:
    """The watcher's output and the runner's markers, parsed."""

    def __init__(self, directory, output="watch.jsonl"):
        self.directory = Path(directory)
        self.lines, self.bad_lines = read_jsonl(Path(directory, output))
        self.requests = sorted(self.typed("request", "sent_at"), key=lambda r: r["seq"])
        self.transitions = self.typed("transition", "at")
        # The direct probes (`disable_fallbacks`): the primary on its own, through the router.
        self.direct = self.typed("direct", "sent_at")
        # LiteLLM's health checks of the primary (the quiet lane): its deployments called
        # directly, past the router.
        self.health = self.typed("health", "sent_at")
        # Both, in the order they left: every probe of the primary's own lane.
        self.lane = sorted(self.direct + self.health, key=lambda d: d["t_sent"])
        # The primary's own state, each change of it.
        self.primaries = self.typed("primary", "at")
        self.marks = self.typed("marker", "at")
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
        # primary-killed: the metrics watcher (metrics/record.jsonl), its own Run.
        self.second, self.second_error = None, None

    def typed(self, kind, time_field):
        """The lines of `kind`, each with its `time_field` in epoch seconds as `t_sent` (for
        `sent_at`) or `t_at` (for `at`)."""
        lines = [x for x in self.lines if x.get("type") == kind]
        for x in lines:
            x["t_sent" if time_field == "sent_at" else "t_at"] = epoch(x[time_field])
        return lines

    def marker(self, name):
        for m in self.markers:
            if m["event"] == name:
                return m["at"]
        raise KeyError(f"the runner recorded no marker {name!r}")

    def events(self, name):
        """The runner's records of that kind (`mark`, `preflight`, `replay`, `mocks`)."""
        return [m for m in self.markers if m["event"] == name]

    def text(self, name):
        path = self.directory / name
        return path.read_text(errors="replace") if path.exists() else None

    def pattern(self, requests=None):
        return "".join(LETTER.get(r["result"], "?") for r in (requests or self.requests))

    def sent_between(self, start, end):
        return [r for r in self.requests if start <= r["t_sent"] < end]

    def direct_answered(self, start=float("-inf"), end=float("inf")):
        """Lane probes answered in [start, end) that the primary answered (a direct probe it
        served, a health check that found it healthy): each is a completion of the primary
        mock, like a request attributed to the primary. By the answer's time: LiteLLM's health
        check retries a refused connection for a second or two, so one sent before a restart
        can be answered by the restarted primary."""
        return sum(1 for d in self.lane if start <= done_at(d) < end and d.get("state") == "up")

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
        for d in self.lane:
            if d.get("state") != "up" or d["type"] == "health":
                rows.append(
                    (
                        d["t_sent"],
                        f"  {d['type'][0]}{d['seq']:<3} sent {self.rel(d['t_sent']):6.2f}s {d['type']:<8} "
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
        for p in self.primaries:
            detail = (
                f"next_try={self.rel(epoch(p['next_try'])):.2f}s cooldown_secs={p.get('cooldown_secs')}"
                if p.get("next_try")
                else f"message={(p.get('message') or '')[:90]!r}"
            )
            rows.append(
                (
                    p["t_at"],
                    f"  ~~~~ {self.rel(p['t_at']):6.2f}s PRIMARY {p.get('from')} -> {p.get('to')} "
                    f"(d{p.get('seq')}) {detail}",
                )
            )
        for m in self.marks:
            rows.append(
                (m["t_at"], f"  ++++ {self.rel(m['t_at']):6.2f}s MARKER M{m.get('id')} {m.get('label')!r}")
            )
        for m in self.markers:
            if m["event"] in ("stats",):
                what = f"stats {m['mock']} {m['label']} {m['stats']}"
            elif "at" not in m:
                continue
            else:
                what = m["event"] + "".join(
                    f" {k}={m[k]}" for k in ("label", "rc", "output", "attempt") if k in m
                )
            rows.append((m["at"], f"  ==== {self.rel(m['at']):6.2f}s RUNNER {what}"))
        rows.sort(key=lambda row: row[0])
        lines = [row for _, row in rows]
        lines += [f"  skip: {json.dumps(s)}" for s in self.skips]
        lines += [f"  abandoned: {json.dumps(a)}" for a in self.abandoned]
        lines += [f"  unparsable: {b}" for b in self.bad_lines]
        lines += [
            f"  transition: {json.dumps({k: v for k, v in t.items() if k != 't_at'})}"
            for t in self.transitions
        ]
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


def one_failover_one_recovery(run, c):
    """The summary of a run that failed over once and came back, with every request served."""
    s = run.summary
    c.check(
        (s["failovers"], s["recoveries"], s["outages"], s["failed"], s["primary_never_served"])
        == (1, 1, 0, 0, False),
        "summary: 1 failover, 1 recovery, no outage, no failure, primary served",
        json.dumps({k: s[k] for k in ("failovers", "recoveries", "outages", "failed", "primary_never_served")}),
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
    one_failover_one_recovery(run, c)
    return first_f, back


def count(requests, result):
    return sum(1 for r in requests if r["result"] == result)


def primary_answered_its_own(run, c, answered):
    """The primary mock's completions (`answered`) are the requests attributed to the primary
    and the direct probes it answered: none more, none less."""
    c.check(
        answered == count(run.requests, "primary") + run.direct_answered(),
        "the primary mock answered exactly the requests attributed to the primary (and the "
        "direct probes it answered)",
        f"mock {answered}, watcher {count(run.requests, 'primary')} + {run.direct_answered()} direct",
    )


def fallback_answered_its_own(run, c):
    """The fallback mock's completions are the requests attributed to the fallback."""
    c.check(
        delta(run, "fallback", "before", "after", "completions") == count(run.requests, "fallback"),
        "the fallback mock answered exactly the requests attributed to the fallback",
        f"mock {delta(run, 'fallback', 'before', 'after', 'completions')}, "
        f"watcher {count(run.requests, 'fallback')}",
    )


def scenario_killed(run, c, args):
    story = failover_story(run, c, args, "primary-down", "primary-up")
    if len(run.transitions) == 2:
        marker_from_script(run, c, *run.transitions)
    primary_lane_killed(run, c, args)
    if args.scenario == "primary-killed":
        proxy_view_killed(run, c, args)
    story_killed(run, c, args)
    if story is None:
        return
    down, up = run.marker("primary-down"), run.marker("primary-up")
    # The mocks' own counters: who really answered (the direct probes the primary answered
    # too), for the watcher and, in primary-killed, the metrics watcher beside it.
    watchers = [run] + ([run.second] if run.second is not None else [])
    both = " (both watchers')" if len(watchers) > 1 else ""

    def said(part):
        return " + ".join(f"{p} {d} direct" for p, d in map(part, watchers))

    def before_kill(w):
        return count([r for r in w.requests if r["t_sent"] < down], "primary"), w.direct_answered(end=down)

    def after_restart(w):
        # Whatever the primary answered after the kill was the restarted one (the runner marks
        # the restart once the mock answers: an answer may come just before the mark).
        return count([r for r in w.requests if r["t_sent"] >= down], "primary"), w.direct_answered(start=down)

    before_p = sum(map(sum, map(before_kill, watchers)))
    c.check(
        delta(run, "primary", "before", "before-kill", "completions") == before_p,
        f"the primary mock answered exactly the requests attributed to it (and the direct probes "
        f"it answered){both} before the kill",
        f"mock {delta(run, 'primary', 'before', 'before-kill', 'completions')}, watcher(s) "
        f"{said(before_kill)}",
    )
    restarted = run.stats[("primary", "after")]
    after_p = sum(map(sum, map(after_restart, watchers)))
    c.check(
        restarted["completions"] == after_p and restarted["requests"] == restarted["completions"],
        f"the restarted primary mock answered exactly the requests attributed to it (and the "
        f"direct probes it answered){both} after the restart, and nothing else",
        f"mock {restarted}, watcher(s) {said(after_restart)}",
    )
    fallbacks = [count(w.requests, "fallback") for w in watchers]
    c.check(
        delta(run, "fallback", "before", "after", "completions") == sum(fallbacks),
        f"the fallback mock answered exactly the requests attributed to the fallback{both}",
        f"mock {delta(run, 'fallback', 'before', 'after', 'completions')}, watcher(s) {fallbacks}",
    )


def scenario_500(run, c, args):
    if failover_story(run, c, args, "primary-500", "primary-ok") is None:
        return
    answered = delta(run, "primary", "before", "after", "completions")
    refused = delta(run, "primary", "before", "after", "requests") - answered
    primary_answered_its_own(run, c, answered)
    c.check(
        refused >= 1,
        "the failover followed 500s that really reached the primary",
        f"the primary mock answered {refused} requests with 500",
    )
    fallback_answered_its_own(run, c)


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
    held_direct = [d for d in run.lane if hang <= d["t_sent"] < ok]
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
    one_failover_one_recovery(run, c)
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
    primary_answered_its_own(run, c, answered)
    fallback_answered_its_own(run, c)


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
    fallback_answered_its_own(run, c)
    attribution_evidence(run, c, args)
    primary_lane_missing_key(run, c, args)
    # This proxy runs without LiteLLM's Prometheus callback: said once, never asked again.
    views = [x for x in run.lines if x.get("type") == "proxy_view"]
    notices = [x for x in run.lines if x.get("type") == "notice" and x.get("kind") == "proxy_metrics_unavailable"]
    c.check(
        len(views) == 1 and views[0].get("error") and len(notices) == 1 and run.summary.get("proxy_view") is None,
        "a proxy without LiteLLM's metrics: one proxy_view line with the error, one notice, none in the summary",
        json.dumps(views + notices)[:500],
    )
    preflight_missing_key(run, c, args)


# ---------------------------------------------------------------------------------------------
# The record and its replay, the preflight (`failover-watch check`), markers from a script, the
# primary's own lane (the direct probes).


def lane_mode(args):
    return "quiet" if args.scenario in QUIET_SCENARIOS else "probe"


def record_and_replay(run, c, args):
    """The run's record (`--record`, or the standard output itself) starts with its run line;
    `failover-watch replay RECORD --instant` plays it back through the same core: as JSON lines,
    every line again, every field the same (transitions, the primary's changes and notices are
    derived again, not copied); as the text story, without error."""
    printed, _ = read_jsonl(run.directory / "watch.jsonl")  # as printed, without our t_ fields
    first = printed[0] if printed else {}
    c.check(
        first.get("type") == "run"
        and first.get("record_version") == 2
        and first.get("primary") == (PRIMARY if args.scenario != "fallback-of-two" else "llama-b")
        and first.get("direct") == lane_mode(args)
        and first.get("stream") is args.expect.stream,
        f"the first line is the run's: record_version 2, the primary, direct {lane_mode(args)}, "
        f"stream {str(args.expect.stream).lower()}",
        json.dumps(first)[:300],
    )
    record_path = run.directory / "record.jsonl"
    if record_path.exists():
        record, bad = read_jsonl(record_path)
        c.check(
            not bad and record == printed,
            "the record (--record FILE) holds exactly the lines printed on standard output",
            "; ".join(bad[:3]) or first_difference(printed, record),
        )
    else:
        record = printed
    for output in ("jsonl", "text"):
        events = [e for e in run.events("replay") if e["output"] == output]
        rc = events[-1]["rc"] if events else None
        name = f"replay {events[-1]['record'] if events else '?'} --output {output} --instant"
        if not c.check(
            rc == 0,
            f"{name} exited 0",
            f"status {rc}; stderr: {(run.text(f'replay-{output}.err') or '')[:300]!r}",
        ):
            continue
        if output == "jsonl":
            replayed, bad = read_jsonl(run.directory / "replay.jsonl")
            c.check(
                not bad and replayed == record,
                f"{name} reproduces the record line for line, every field ({len(record)} lines)",
                "; ".join(bad[:3]) or first_difference(record, replayed),
            )
        else:
            story = run.text("replay.text") or ""
            c.check(
                f"Replay of: {events[-1]['record']}" in story and "Failover Watch Summary" in story,
                f"{name} tells the story, from its header (naming the record) to its summary",
                repr(story[:300]),
            )


def preflight_healthy(run, c, args):
    """`failover-watch check` on the healthy proxy, before the faults: exit 0, every check ok
    (the router's timeout skipped: only an error answer tells it)."""
    events = run.events("preflight")
    if not c.check(len(events) == 1, "the runner ran failover-watch check once", f"{events}"):
        return
    rc = events[0]["rc"]
    c.check(
        rc == 0,
        "failover-watch check exited 0 on the healthy proxy",
        f"status {rc}; stderr {(run.text('preflight.err') or '')[:300]!r}",
    )
    try:
        report = json.loads(run.text(events[0]["file"]) or "")
    except json.JSONDecodeError as error:
        c.check(False, "failover-watch check --output json printed one JSON object", repr(error))
        return
    findings = report.get("checks") or []
    status = {f.get("check"): f.get("status") for f in findings}
    messages = {f.get("check"): f.get("message") or "" for f in findings}
    c.check(
        report.get("ok") is True
        and report.get("checked") is True
        and report.get("litellm_version") == args.litellm_version,
        f"check: ok, checked, litellm_version {args.litellm_version}",
        json.dumps({k: report.get(k) for k in ("ok", "checked", "litellm_version")}),
    )
    router = messages.get("router", "")
    c.check(
        router.startswith(f"fallbacks {PRIMARY} → llama3; allowed_fails 1")
        and f"timeout {args.router_timeout:g}s" in router
        and router.endswith("(as the proxy states them)"),
        "check states the router's settings as the proxy states them (GET /router/settings)",
        repr(router),
    )
    want = ("proxy", "key", "router", "primary", "request", "alone", "fallback")
    c.check(
        all(status.get(k) == "ok" for k in want)
        and all(v in ("ok", "skipped") for v in status.values()),
        "check: " + ", ".join(want) + " ok, no problem",
        json.dumps(findings)[:800],
    )
    mocks = run.events("mocks")
    base = mocks[0]["primary_base"] + "/v1" if mocks else "?"
    c.check(
        f"openai/{PRIMARY} at {base}" in messages.get("primary", "")
        and "served by the primary" in messages.get("request", ""),
        f"check names the primary's deployment (openai/{PRIMARY} at {base}) and says the "
        "primary served its request",
        f"primary: {messages.get('primary')!r}; request: {messages.get('request')!r}",
    )


def preflight_missing_key(run, c, args):
    """`failover-watch check` on the seed-verbatim proxy, after the watcher's run (asked again
    while the primary is in the cooldown the watcher's failures started: the check can only say
    so then): it exits 1 and names the missing api_key, with its fix."""
    events = sorted(run.events("preflight"), key=lambda e: e["attempt"])
    if not c.check(events, "the runner ran failover-watch check"):
        return
    stories = [run.text(e["file"]) or "" for e in events]

    def line(story, check):
        return next((x for x in story.splitlines() if re.match(rf"^. {check}\s", x)), "")

    early = [(e["rc"], line(t, "alone")) for e, t in zip(events[:-1], stories[:-1])]
    c.check(
        all(rc == 1 and re.match(r"^✗ alone\s+.*cooldown", alone) for rc, alone in early),
        f"every check made while the primary was in LiteLLM's cooldown ({len(early)}) exited 1 "
        "and said so",
        f"{early}",
    )
    last, story = events[-1], stories[-1]
    lines = story.splitlines()
    alone = line(story, "alone")
    after = lines.index(alone) + 1 if alone in lines else len(lines)
    fix = lines[after] if after < len(lines) else ""
    c.check(
        last["rc"] == 1,
        "failover-watch check exited 1 on the seed-verbatim proxy",
        f"status {last['rc']}; stderr {(run.text('preflight.err') or '')[:300]!r}",
    )
    c.check(
        re.match(r"^✗ alone\s+.*\bapi_key\b", alone) is not None
        and re.match(r"^\s+fix: .*api_key", fix) is not None,
        "check names the missing api_key (`✗ alone ... api_key`) and its fix",
        f"{alone!r} / {fix!r}; the whole output: {story[:900]!r}",
    )
    c.check(
        re.match(r"^✗ request\s+served by the fallback", line(story, "request")) is not None
        and line(story, "fallback").startswith("✓ fallback")
        and line(story, "key").startswith("✓ key"),
        "check: the request served by the fallback, the fallback answers on its own, the key "
        "accepted",
        f"{line(story, 'request')!r}; {line(story, 'fallback')!r}; {line(story, 'key')!r}",
    )


def marker_from_script(run, c, failover, recovery):
    """`failover-watch mark "kill primary"` just before the kill reached the watcher: its lines
    have the marker, and the failover says how long after it it came."""
    events = run.events("mark")
    if not c.check(len(events) == 1, "the runner ran failover-watch mark once", f"{events}"):
        return
    ev = events[0]
    out = (run.text("mark.out") or "").strip()
    c.check(
        ev["rc"] == 0,
        "failover-watch mark exited 0",
        f"status {ev['rc']}; stderr {(run.text('mark.err') or '')[:300]!r}",
    )
    want = f'marker M1 "{ev["label"]}" dropped in failover-watch {ev["watcher_pid"]}'
    c.check(out == want, f"mark printed '{want}' (the watcher's pid)", f"it printed {out!r}")
    marks = [{k: v for k, v in m.items() if k != "t_at"} for m in run.marks]
    if not c.check(
        len(marks) == 1 and marks[0].get("id") == 1 and marks[0].get("label") == ev["label"],
        f'one marker line: id 1, label "{ev["label"]}"',
        json.dumps(marks),
    ):
        return
    m = run.marks[0]
    c.check(
        ev["at"] - 0.05 <= m["t_at"] <= ev["done"] + 0.05,
        "the marker is timed while mark ran",
        f"marker at {run.rel(m['t_at']):.3f}s, mark ran {run.rel(ev['at']):.3f}s to "
        f"{run.rel(ev['done']):.3f}s",
    )
    sent_before = [r["seq"] for r in run.requests if r["t_sent"] < m["t_at"]]
    c.check(
        sent_before and m.get("after_seq") == max(sent_before),
        "the marker comes after the last request sent before it",
        f"after_seq {m.get('after_seq')}, last request sent before it #{max(sent_before, default=None)}",
    )
    lag = failover.get("after_marker_secs")
    c.check(
        failover.get("after_marker") == 1
        and failover.get("after_marker_label") == ev["label"]
        and isinstance(lag, (int, float))
        and 0 < lag < 5
        and abs(lag - (failover["t_at"] - m["t_at"])) <= 0.002,
        f'the failover came after marker 1 "{ev["label"]}": after_marker_secs positive, below 5 s, '
        "the time from the marker to the failover",
        json.dumps({k: failover.get(k) for k in ("after_marker", "after_marker_label", "after_marker_secs")})
        + f"; the failover came {failover['t_at'] - m['t_at']:.3f} s after the marker",
    )
    c.check(
        recovery.get("after_marker") is None and recovery.get("after_marker_secs") is None,
        "the recovery claims no marker (the failover took it)",
        json.dumps({k: recovery.get(k) for k in ("after_marker", "after_marker_label", "after_marker_secs")}),
    )


def primary_lane_killed(run, c, args):
    """The primary's own lane (its direct probes) through the kill: up, failing (LiteLLM's
    connection error), in LiteLLM's cooldown, up again; the failover's cause, the recovery's
    cooldown, the estimated next try against what the direct probes saw, the summary."""
    if lane_mode(args) == "quiet":
        primary_lane_quiet(run, c, args)
        return
    down, up = run.marker("primary-down"), run.marker("primary-up")
    changes = [(p.get("from"), p.get("to")) for p in run.primaries]
    if not c.check(
        changes == [(None, "up"), ("up", "failing"), ("failing", "cooling_down"), ("cooling_down", "up")],
        "the primary's own state: up, failing, cooling_down, up, in that order, nothing else",
        f"{changes}",
    ):
        return
    first, failing, cooling, back = run.primaries
    after_down = [d for d in run.direct if d["t_sent"] >= down]
    c.check(
        after_down
        and failing.get("seq") == after_down[0]["seq"]
        and after_down[0].get("status") == 500
        and "Connection error" in (failing.get("message") or ""),
        "the first direct probe after the kill found the primary failing, with LiteLLM's "
        "connection error (500)",
        f"failing at d{failing.get('seq')}: {failing.get('message')!r}; first direct probe after "
        f"the kill: {json.dumps(after_down[0]) if after_down else None}",
    )
    mocks = run.events("mocks")
    base = mocks[0]["primary_base"] + "/v1" if mocks else "?"
    c.check(
        cooling.get("seq") == failing.get("seq", 0) + 1
        and cooling.get("cooldown_secs") == args.cooldown
        and cooling.get("api_bases") == [base]
        and cooling.get("next_try") is not None,
        f"the next direct probe found it in LiteLLM's cooldown ({args.cooldown:g} s, api_base "
        f"{base}), with an estimated next try",
        json.dumps({k: cooling.get(k) for k in ("seq", "cooldown_secs", "api_bases", "next_try")}),
    )
    first_up = next((d for d in run.direct if d["seq"] == back.get("seq")), None)
    c.check(
        first_up is not None and first_up["t_sent"] >= up and first_up.get("status") == 200,
        "it was up again at a direct probe sent after its restart",
        f"up at d{back.get('seq')}",
    )
    if first_up is None or cooling.get("next_try") is None:
        return
    # LiteLLM tries the primary again when its cooldown ends: after the last direct probe that
    # still found it cooling down left, at the latest when the first that found it up arrived.
    # The estimate counts from the failure the watcher saw: within the answers' latency of that.
    next_try = epoch(cooling["next_try"])
    held_back = [d for d in run.direct if d["seq"] < first_up["seq"] and d.get("state") == "cooling_down"]
    last_cool = held_back[-1]
    margin = 0.5
    c.check(
        last_cool["t_sent"] - margin <= next_try <= first_up["t_sent"] + margin,
        "the cooldown's estimated next try lies between the last direct probe that found the "
        f"primary cooling down and the first that found it up (±{margin:g} s)",
        f"next_try {run.rel(next_try):.3f}s; last cooling d{last_cool['seq']} sent "
        f"{run.rel(last_cool['t_sent']):.3f}s; first up d{first_up['seq']} sent "
        f"{run.rel(first_up['t_sent']):.3f}s",
    )
    wrong = []
    for d in held_back:
        expected = max(0.0, (next_try - d["t_sent"]) * 1000.0 - d["latency_ms"])
        got = d.get("retry_in_ms")
        if not isinstance(got, (int, float)) or abs(got - expected) > 2.0:
            wrong.append(f"d{d['seq']} retry_in_ms={got} expected {expected:.1f}")
    c.check(
        not wrong,
        "every direct probe in the cooldown says how long, from its answer, to the next try",
        "; ".join(wrong[:5]),
    )
    if len(run.transitions) != 2:
        return
    failover, recovery = run.transitions
    cause = failover.get("cause") or ""
    c.check(
        cause.startswith("primary: ") and "Connection error" in cause,
        "the failover's cause names the primary's connection error",
        f"cause={failover.get('cause')!r}",
    )
    held = recovery.get("primary_cooldown_secs")
    c.check(
        isinstance(held, (int, float))
        and args.cooldown - 2 <= held <= args.cooldown + 2
        and abs(held - (back["t_at"] - cooling["t_at"])) <= 0.002,
        "the recovery says how long the primary was in LiteLLM's cooldown: within "
        f"[{args.cooldown - 2:g}, {args.cooldown + 2:g}] s (cooldown_time {args.cooldown:g}), "
        "from its cooling_down line to its up line",
        f"primary_cooldown_secs={held!r}; cooling_down to up: {back['t_at'] - cooling['t_at']:.3f} s",
    )
    c.check(
        recovery.get("cause") is None and failover.get("primary_cooldown_secs") is None,
        "no cause on the recovery, no cooldown on the failover",
        json.dumps(
            {
                "recovery.cause": recovery.get("cause"),
                "failover.primary_cooldown_secs": failover.get("primary_cooldown_secs"),
            }
        ),
    )
    lane = run.summary.get("primary_lane") or {}
    end = epoch(run.lines[0]["started_at"]) + run.summary["duration_secs"]
    expected = {
        "direct_probes": len(run.direct),
        "abandoned": 0,
        "refused": None,
        "first_failure": failing.get("message"),
    }
    times = {
        "up_secs": (failing["t_at"] - first["t_at"]) + (end - back["t_at"]),
        "failing_secs": cooling["t_at"] - failing["t_at"],
        "cooling_down_secs": back["t_at"] - cooling["t_at"],
    }
    c.check(
        all(lane.get(k) == v for k, v in expected.items())
        and all(
            isinstance(lane.get(k), (int, float)) and abs(lane[k] - v) <= 0.01 for k, v in times.items()
        ),
        "summary: primary_lane counts every direct probe, keeps the first failure, and the time "
        "up, failing and cooling down the primary lines tell",
        f"primary_lane {json.dumps(lane)}; expected {json.dumps(expected)} and "
        f"{json.dumps({k: round(v, 3) for k, v in times.items()})}",
    )


def primary_lane_quiet(run, c, args):
    """The quiet lane through the kill: LiteLLM's health check names the primary's failure (and
    is not counted by LiteLLM), one direct probe meets the cooldown the requests started, a
    request the primary serves again shows it up; nothing of the lane added a failure to
    LiteLLM's tally."""
    down = run.marker("primary-down")
    changes = [(p.get("lane"), p.get("from"), p.get("to")) for p in run.primaries]
    # Up again: shown by a request the primary served, or by a health check that found it
    # answering once LiteLLM's cooldown had run out (by the estimate).
    if not c.check(
        changes[:2] == [("health", None, "failing"), ("direct", "failing", "cooling_down")]
        and changes[2:] in ([("normal", "cooling_down", "up")], [("health", "cooling_down", "up")]),
        "the primary's own state: failing (its health check), cooling_down (the one direct probe), "
        "up (a request it served, or its health check after the cooldown), nothing else",
        f"{changes}",
    ):
        return
    failing, cooling, back = run.primaries
    first_health = next((h for h in run.health if h["t_sent"] >= down), {})
    c.check(
        failing.get("seq") == first_health.get("seq")
        and first_health.get("state") == "failing"
        and failing.get("message"),
        "the first health check after the kill found the primary failing, in LiteLLM's words",
        json.dumps({k: first_health.get(k) for k in ("seq", "state", "status", "message")})[:400],
    )
    mocks = run.events("mocks")
    base = mocks[0]["primary_base"] + "/v1" if mocks else "?"
    c.check(
        len(run.direct) == 1
        and run.direct[0].get("state") == "cooling_down"
        and run.direct[0].get("status") == 429
        and cooling.get("seq") == run.direct[0]["seq"]
        and cooling.get("cooldown_secs") == args.cooldown
        and cooling.get("api_bases") == [base]
        and cooling.get("next_try") is not None,
        "one direct probe in the run, and it met LiteLLM's cooldown (429, "
        f"{args.cooldown:g} s, api_base {base}): none counted as a failure",
        json.dumps(run.direct)[:600],
    )
    if len(run.transitions) != 2:
        return
    failover, recovery = run.transitions
    by_request = back.get("lane") == "normal"
    c.check(
        (failover.get("cause") or "").startswith("primary: ")
        and (back.get("seq") == recovery.get("seq") if by_request else back["t_at"] <= recovery["t_at"])
        and (by_request or epoch(cooling["next_try"]) <= back["t_at"]),
        "the failover's cause is the primary's failure its health check named; the primary up at "
        "the recovery's request, or by its health check after the estimated next try, before it",
        json.dumps({"cause": failover.get("cause"), "up": back, "recovery": recovery.get("seq")})[:500],
    )
    # LiteLLM tried the primary again between the last request the fallback served and the
    # recovery's: the estimate (from the requests' failures, seen by this watcher) within an
    # interval of that.
    next_try = epoch(cooling["next_try"]) if cooling.get("next_try") else None
    before_back = [r for r in run.requests if r["seq"] < recovery["seq"] and r["result"] == "fallback"]
    recovered = run.by_seq(recovery["seq"])
    c.check(
        next_try is not None
        and before_back
        and before_back[-1]["t_sent"] - args.interval <= next_try <= recovered["t_sent"] + args.interval,
        "the cooldown's estimated next try lies within an interval of when LiteLLM tried the "
        "primary again (between the last request the fallback served and the recovery's)",
        f"next_try {run.rel(next_try or 0):.3f}s; last fallback sent "
        f"{run.rel(before_back[-1]['t_sent']) if before_back else None}; recovery sent "
        f"{run.rel(recovered['t_sent']) if recovered else None}",
    )
    held = recovery.get("primary_cooldown_secs")
    c.check(
        isinstance(held, (int, float))
        and args.cooldown - 2 <= held <= args.cooldown + 2
        and abs(held - (back["t_at"] - cooling["t_at"])) <= 0.002,
        f"the recovery says how long LiteLLM held the primary back: within [{args.cooldown - 2:g}, "
        f"{args.cooldown + 2:g}] s, from its cooling_down line to its up line",
        f"primary_cooldown_secs={held!r}; cooling_down to up: {back['t_at'] - cooling['t_at']:.3f} s",
    )
    lane = run.summary.get("primary_lane") or {}
    end = epoch(run.lines[0]["started_at"]) + run.summary["duration_secs"]
    times = {
        "up_secs": end - back["t_at"],
        "failing_secs": cooling["t_at"] - failing["t_at"],
        "cooling_down_secs": back["t_at"] - cooling["t_at"],
    }
    c.check(
        lane.get("direct_probes") == 1
        and lane.get("health_checks") == len(run.health)
        and lane.get("first_failure") == failing.get("message")
        and all(isinstance(lane.get(k), (int, float)) and abs(lane[k] - v) <= 0.01 for k, v in times.items()),
        "summary: primary_lane counts the one direct probe and every health check, keeps the first "
        "failure, and the time failing, cooling down and up the primary lines tell",
        f"primary_lane {json.dumps(lane)}; health lines {len(run.health)}; "
        f"{json.dumps({k: round(v, 3) for k, v in times.items()})}",
    )


def proxy_view_killed(run, c, args):
    """LiteLLM's own metrics (its Prometheus callback), read beside the probes every 5 s: healthy
    before the kill, a complete outage with a cooldown during it, and fallbacks counted as the
    watchers were served them."""
    views = [x for x in run.lines if x.get("type") == "proxy_view"]
    for v in views:
        v["t_at"] = epoch(v["at"])
    errors = [v for v in views if v.get("error")]
    if not c.check(
        views and not errors,
        "LiteLLM's metrics were read (proxy_view lines, none with an error)",
        json.dumps(errors)[:400],
    ):
        return
    down, up = run.marker("primary-down"), run.marker("primary-up")
    before = [v for v in views if v["t_at"] < down]
    c.check(
        before and before[0].get("state") == "healthy" and before[0].get("cooldowns") == 0,
        "before the kill LiteLLM said the primary healthy, no cooldown counted",
        json.dumps(before[:1])[:400],
    )
    failover, recovery = transition_at(run, "failover"), transition_at(run, "recovery")
    during = [v for v in views if failover and recovery and failover <= v["t_at"] < recovery]
    c.check(
        any(v.get("state") == "complete_outage" and (v.get("cooldowns") or 0) >= 1 for v in during),
        "a reading while traffic was on the fallback said: complete outage, a cooldown counted",
        json.dumps([{k: v.get(k) for k in ("at", "state", "cooldowns", "fallbacks")} for v in during]),
    )
    s = run.summary.get("proxy_view") or {}
    # Both watchers' fallback answers reached LiteLLM's counter; the last reading may miss an
    # answer on its way (one per watcher).
    second = run.second.requests if run.second is not None else []
    last = views[-1]["t_at"]
    first = views[0]["t_at"]
    both = sum(
        1 for r in run.requests + second if r["result"] == "fallback" and first <= done_at(r) <= last
    )
    c.check(
        isinstance(s.get("fallbacks"), int)
        and abs(s["fallbacks"] - both) <= 2
        and abs(s.get("client_fallbacks", -9) - count(
            [r for r in run.requests if first <= done_at(r) <= last], "fallback"
        )) <= 1
        and (s.get("cooldowns") or 0) >= 1
        and s.get("missing") == []
        and s.get("state") == "healthy",
        "summary: LiteLLM counted the fallbacks both watchers were served between its first and "
        "last reading (±2), at least one cooldown; nothing missing; healthy again at the end",
        f"proxy_view {json.dumps(s)}; both watchers' fallback answers in that span {both}",
    )


def story_killed(run, c, args):
    """The text story of the kill (the record replayed as text): the failover after the marker
    with its cause, the recovery with the cooldown, the primary's own states."""
    story = run.text("replay.text")
    if story is None:
        c.check(False, "the text story (replay --output text) was written")
        return
    fallback_model = args.expect.fallback_model
    lines = story.splitlines()
    wanted = (
        f"[!] FAILOVER DETECTED: {PRIMARY} → {fallback_model}",
        f"[!] RECOVERY DETECTED: {fallback_model} → {PRIMARY}",
        'MARKER M1 "kill primary"',
        'after M1 "kill primary"',
        "the primary was in LiteLLM's cooldown for ",
    )
    missing = [text for text in wanted if text not in story]
    c.check(
        not missing,
        "the text story has the failover and recovery banners, the marker, the failover after "
        'M1 "kill primary", the cooldown the recovery ended',
        f"missing: {missing}",
    )
    c.check(
        any(re.match(r"^\s+cause: primary: .*Connection error", x) for x in lines),
        "the text story gives the failover's cause (primary: ... Connection error)",
        f"{[x for x in lines if 'cause' in x]}",
    )
    states = [x.split("Primary's own state: ", 1)[1] for x in lines if "Primary's own state: " in x]
    prefixes = (("up", "UP"), ("failing", "FAILING"), ("cooling_down", "IN LITELLM'S COOLDOWN"))
    kinds = [next((k for k, p in prefixes if s.startswith(p)), s[:40]) for s in states]
    # The quiet lane says nothing while the primary serves: its story starts at the failure.
    told = ["failing", "cooling_down", "up"]
    if lane_mode(args) == "probe":
        told = ["up"] + told
    at = len(told) - 3
    c.check(
        kinds == told
        and "Connection error" in states[at]
        and f"({args.cooldown:g}s)" in states[at + 1]
        and "next try ~" in states[at + 1],
        f"the text story tells the primary's own state: {', '.join(told)} (FAILING: Connection "
        f"error, IN LITELLM'S COOLDOWN ({args.cooldown:g}s, next try ~...))",
        f"{states}",
    )


def primary_lane_missing_key(run, c, args):
    """Seed-verbatim: the primary never serves; its own lane says why, in LiteLLM's words."""
    words = args.expect.missing_api_key()
    changes = [(p.get("from"), p.get("to")) for p in run.primaries]
    first = run.primaries[0] if run.primaries else {}
    message = first.get("message") or ""
    c.check(
        changes[:1] == [(None, "failing")] and words.match(message) is not None and "api_key" in message,
        "the primary's own state: failing from the first direct probe, with LiteLLM "
        f"{args.litellm_version}'s words for the missing api_key",
        f"{changes}; message {first.get('message')!r}",
    )
    d1 = run.direct[0] if run.direct else {}
    c.check(
        d1.get("state") == "failing" and d1.get("status") == 500 and d1.get("message") == first.get("message"),
        "the first direct probe: failing, 500, that message",
        json.dumps({k: d1.get(k) for k in ("seq", "state", "status", "message")})[:400],
    )
    mocks = run.events("mocks")
    base = mocks[0]["primary_base"] + "/v1" if mocks else "?"
    cooling = run.primaries[1] if len(run.primaries) > 1 else {}
    c.check(
        changes == [(None, "failing"), ("failing", "cooling_down")]
        and cooling.get("cooldown_secs") == args.cooldown
        and cooling.get("api_bases") == [base],
        f"then LiteLLM holds it in its cooldown ({args.cooldown:g} s, api_base {base}) to the end "
        "(allowed_fails 1: the first probe and direct probe both failed)",
        f"{changes}; {json.dumps({k: cooling.get(k) for k in ('cooldown_secs', 'api_bases')})}",
    )
    lane = run.summary.get("primary_lane") or {}
    c.check(
        lane.get("first_failure") == first.get("message")
        and lane.get("direct_probes") == len(run.direct)
        and lane.get("up_secs") == 0
        and lane.get("refused") is None,
        "summary: primary_lane's first_failure is that message, every direct probe counted, never up",
        json.dumps(lane)[:600],
    )
    story = run.text("replay.text") or ""
    failing = next((x for x in story.splitlines() if "Primary's own state: FAILING: " in x), "")
    c.check(
        "api_key" in failing and "first failure: " in story,
        "the text story tells the primary failing for want of an api_key, and its first failure",
        f"{failing!r}",
    )


# ---------------------------------------------------------------------------------------------
# The metrics (primary-killed): a second watcher beside the first, `--output none
# --metrics-listen` (and `--record`), scraped every second by a real Prometheus, which is asked
# through its HTTP API once the watchers are done.

METRICS = "metrics"  # the folder of the metrics watcher and its Prometheus, in DIR
METRIC_TYPES = {
    "failover_watch_requests_total": "counter",
    "failover_watch_request_duration_seconds": "histogram",
    "failover_watch_serving": "gauge",
    "failover_watch_transitions_total": "counter",
    "failover_watch_state_seconds_total": "counter",
    "failover_watch_in_flight": "gauge",
    "failover_watch_skipped_ticks_total": "counter",
    "failover_watch_primary_state": "gauge",
    "failover_watch_info": "gauge",
}
PRIMARY_STATES = ("up", "failing", "cooling_down", "refused")
SERVING_STATES = ("primary", "fallback", "down")
TRANSITION_KINDS = ("failover", "recovery", "outage", "restored")
# How long after a change Prometheus shows it: one scrape interval (1 s), and some slack.
SCRAPE_LAG = 1.5


class PromError(Exception):
    pass


class Prometheus:
    """Asks the scenario's Prometheus (`GET /api/v1/query`, `/api/v1/query_range`) and keeps
    every answer in metrics/prometheus.json; without a URL, reads the answers kept there (a
    re-check of a finished run, its Prometheus gone)."""

    def __init__(self, directory, url):
        self.path = Path(directory, METRICS, "prometheus.json")
        self.url = url
        self.answers = {} if url else json.loads(self.path.read_text())

    def ask(self, name, path, **params):
        params = {k: (f"{v:.3f}" if isinstance(v, float) else str(v)) for k, v in params.items()}
        if self.url:
            address = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
            try:
                with urllib.request.urlopen(address, timeout=10) as response:
                    answer = json.load(response)
            except urllib.error.HTTPError as error:
                answer = {"status": "error", "http": error.code,
                          "body": error.read().decode(errors="replace")[:500]}
            except (OSError, ValueError) as error:
                answer = {"status": "error", "error": repr(error)}
            self.answers[name] = {"path": path, "params": params, "answer": answer}
            self.path.write_text(json.dumps(self.answers, indent=1) + "\n")
        else:
            kept = self.answers.get(name)
            if kept is None or (kept["path"], kept["params"]) != (path, params):
                raise PromError(f"{self.path} keeps no answer to {name} {path} {params}")
            answer = kept["answer"]
        if answer.get("status") != "success":
            raise PromError(f"{name}: {path} {params} answered {json.dumps(answer)[:400]}")
        return answer["data"]["result"]

    def query(self, name, expr, at):
        """An instant query at `at` (epoch seconds): [(labels, value)] for a vector,
        [(labels, [(t, value)...])] for a range selector (its raw samples)."""
        result = self.ask(name, "/api/v1/query", query=expr, time=at)
        return [
            (s["metric"], float(s["value"][1]) if "value" in s
             else [(t, float(v)) for t, v in s["values"]])
            for s in result
        ]

    def query_range(self, name, expr, start, end, step):
        result = self.ask(name, "/api/v1/query_range", query=expr, start=start, end=end, step=step)
        return [(s["metric"], [(t, float(v)) for t, v in s["values"]]) for s in result]


SAMPLE_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$")
LABEL_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text):
    """The families' types and the samples (name, labels, value) of a scrape (the Prometheus
    text format or OpenMetrics), and the lines neither comment nor sample."""
    types, samples, bad = {}, [], []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            parts = line.split()
            if len(parts) >= 4 and parts[1] == "TYPE":
                types[parts[2]] = parts[3]
            continue
        m = SAMPLE_LINE.match(line)
        if not m:
            bad.append(line)
            continue
        labels = dict(LABEL_PAIR.findall(m.group(2) or ""))
        try:
            samples.append((m.group(1), labels, float(m.group(3))))
        except ValueError:
            bad.append(line)
    return types, samples, bad


def values_of(samples, name, **labels):
    return [v for n, l, v in samples if n == name and all(l.get(k) == w for k, w in labels.items())]


def done_at(x):
    """When a request or direct probe was answered (epoch seconds)."""
    return x["t_sent"] + (x.get("latency_ms") or 0) / 1000


def answered_by(watcher, result, until):
    """How many answers of that result (primary, fallback, error) the watcher had by then."""
    return sum(1 for r in watcher.requests if r["result"] == result and done_at(r) <= until)


def transition_at(watcher, kind):
    return next((t["t_at"] for t in watcher.transitions if t["kind"] == kind), None)


def metrics_watcher(run, c, args, second):
    """The second watcher ran as a service: nothing on stdout, logs on stderr, its metrics
    served; its record tells the same story as the first watcher's output; its probes left
    between the first watcher's."""
    done = run.events("metrics-watcher-done")
    c.check(
        len(done) == 1 and done[0]["rc"] == 0,
        "the metrics watcher (--output none --metrics-listen) exited 0",
        f"{done}; stderr: {(run.text(METRICS + '/watch.err') or '')[-300:]!r}",
    )
    out = run.text(METRICS + "/watch.out")
    c.check(out == "", "--output none: the metrics watcher printed nothing on stdout", repr((out or "")[:200]))
    err = run.text(METRICS + "/watch.err") or ""
    scrape = (run.events("scrape") or [{}])[-1]
    port = scrape.get("metrics_port")
    c.check(
        re.search(rf"INFO .*serving metrics.*addr=127\.0\.0\.1:{port}\b", err) is not None
        and "panicked" not in err,
        f"--log-file -: its logs on stderr, with 'serving metrics addr=127.0.0.1:{port}', no panic",
        repr(err[:400]),
    )
    pattern = second.pattern()
    kinds = [t["kind"] for t in second.transitions]
    s = second.summary or {}
    c.check(
        re.fullmatch(r"P+F+P+", pattern) is not None
        and kinds == ["failover", "recovery"]
        and (s.get("failed"), s.get("skipped"), s.get("litellm_version")) == (0, 0, args.litellm_version),
        "its record tells the same story: P+F+P+, one failover then one recovery, no failure, no "
        "skip, the version under test",
        f"{pattern} {kinds} {json.dumps({k: s.get(k) for k in ('failed', 'skipped', 'litellm_version')})}",
    )
    phase = (second.origin - run.origin) % args.interval if second.requests else None
    c.check(
        phase is not None and 0.05 <= phase <= 0.45,
        "its probes left 0.05-0.45 s after the first watcher's (so that none leaves between the "
        "kill and the first watcher's next request: the first failure LiteLLM counts is the first "
        "watcher's)",
        f"{phase if phase is None else round(phase, 3)} s after",
    )


def metrics_scrape(run, c, args, second):
    """One raw scrape of the metrics watcher, at 24.5 s (after the recovery): promtool passes
    it; every family is there with its type, its values are the watcher's record at that
    moment; OpenMetrics when asked for; /healthz 200; every listening socket on 127.0.0.1."""
    events = run.events("scrape")
    if not c.check(len(events) == 1, "the runner scraped the metrics watcher once", f"{events}"):
        return
    ev = events[0]
    headers = (run.text(METRICS + "/scrape.headers") or "").lower()
    text = run.text(METRICS + "/scrape.txt") or ""
    c.check(
        ev["curl_text"] == 0 and headers.startswith("http/1.1 200")
        and "content-type: text/plain; version=0.0.4" in headers,
        "GET /metrics: 200, the Prometheus text format (text/plain; version=0.0.4)",
        f"curl status {ev['curl_text']}; headers {headers[:300]!r}",
    )
    promtool = (run.text(METRICS + "/promtool.out") or "").strip()
    c.check(
        ev["promtool"] == 0 and promtool == "",
        "promtool check metrics passes the raw scrape (status 0, no problem named)",
        f"status {ev['promtool']}: {promtool[:500]!r}",
    )
    types, samples, bad = parse_exposition(text)
    c.check(not bad, "every line of the scrape is a comment or a sample", repr(bad[:3]))
    wrong = {n: types.get(n) for n, t in METRIC_TYPES.items() if types.get(n) != t}
    c.check(
        not wrong,
        "the scrape has every family, each of its type: " + ", ".join(METRIC_TYPES),
        f"missing or of another type: {wrong}",
    )
    c.check(
        not [v for v in values_of(samples, "failover_watch_errors_total") if v != 0],
        "no failover_watch_errors_total above 0 (no probe failed)",
        repr([x for x in samples if x[0] == "failover_watch_errors_total"]),
    )
    # Its values against what the record says the watcher had seen when it was scraped.
    lo, hi = ev["at"] - 0.1, ev["done"] + 0.1
    got, want = {}, {}
    for result, model in (("primary", PRIMARY), ("fallback", args.expect.fallback_model)):
        got[result] = values_of(samples, "failover_watch_requests_total", result=result, model=model)
        got[result + " count"] = values_of(
            samples, "failover_watch_request_duration_seconds_count", result=result, model=model
        )
        want[result] = (answered_by(second, result, lo), answered_by(second, result, hi))
    fine = all(
        len(got[k]) == 1 and want[r][0] <= got[k][0] <= want[r][1]
        for r in ("primary", "fallback") for k in (r, r + " count")
    )
    c.check(
        fine and not values_of(samples, "failover_watch_requests_total", result="error"),
        "requests_total and the duration histogram's count, by result and model, are the record's "
        "answers at the scrape",
        f"scrape {got}; record (by the scrape's start, by its end) {want}",
    )
    expected = {
        ("failover_watch_serving", "state"): {"primary": 1, "fallback": 0, "down": 0},
        ("failover_watch_primary_state", "state"): {"up": 1, "failing": 0, "cooling_down": 0, "refused": 0},
        ("failover_watch_transitions_total", "kind"): {"failover": 1, "recovery": 1},
        ("failover_watch_skipped_ticks_total", None): {None: 0},
    }
    for (name, label), values in expected.items():
        seen = {l.get(label) if label else None: v for n, l, v in samples if n == name}
        c.check(
            {k: v for k, v in seen.items() if v or k in values} == values,
            f"{name}: {values} after the recovery",
            f"{seen}",
        )
    seconds = {l.get("state"): v for n, l, v in samples if n == "failover_watch_state_seconds_total"}
    fo, rec = transition_at(second, "failover"), transition_at(second, "recovery")
    c.check(
        set(seconds) == set(SERVING_STATES) and fo and rec
        and abs(seconds["fallback"] - (rec - fo)) <= 0.05 and seconds["down"] == 0,
        "failover_watch_state_seconds_total: the fallback's is the time from the failover to the "
        "recovery (±0.05 s), down's 0",
        f"{seconds}; record: failover to recovery {(rec or 0) - (fo or 0):.3f} s",
    )
    info = [l for n, l, v in samples if n == "failover_watch_info" and v == 1]
    first = second.lines[0] if second.lines else {}
    want_info = {
        "target": PRIMARY, "proxy": urllib.parse.urlsplit(first.get("url") or "").netloc,
        "url": first.get("url"), "primary": PRIMARY, "fallback": "",
        "litellm_version": args.litellm_version, "version": first.get("tool_version"),
    }
    c.check(
        info == [want_info],
        "failover_watch_info: one series, the target (its primary), the proxy's host and url, the "
        "primary, no fallback given, "
        f"litellm_version {args.litellm_version}, the watcher's version",
        f"{info} (expected {want_info})",
    )
    om_headers = (run.text(METRICS + "/scrape-openmetrics.headers") or "").lower()
    om = run.text(METRICS + "/scrape.openmetrics") or ""
    om_types, om_samples, om_bad = parse_exposition(om)
    c.check(
        ev["curl_openmetrics"] == 0
        and "content-type: application/openmetrics-text; version=1.0.0" in om_headers
        and om.endswith("# EOF\n") and not om_bad
        and {n for n, _, _ in om_samples} >= {n for n, _, _ in samples},
        "GET /metrics asking for OpenMetrics: application/openmetrics-text; version=1.0.0, ends "
        "with # EOF, the same samples' names",
        f"curl {ev['curl_openmetrics']}; headers {om_headers[:200]!r}; tail {om[-60:]!r}; bad {om_bad[:2]}",
    )
    c.check(
        ev["healthz"] == "200",
        "GET /healthz answered 200 while the schedule ticked",
        f"{ev['healthz']} {(run.text(METRICS + '/healthz.body') or '')[:100]!r}",
    )
    listening = [x.split() for x in (run.text(METRICS + "/listening.txt") or "").splitlines() if x.strip()]
    local = [x[3] for x in listening if len(x) > 3]
    c.check(
        local and all(a.startswith("127.0.0.1:") for a in local)
        and f"127.0.0.1:{ev['metrics_port']}" in local and f"127.0.0.1:{ev['prometheus_port']}" in local,
        "the metrics watcher and Prometheus listen on 127.0.0.1 (and so does every other "
        "process started)",
        f"{local}",
    )


def metrics_prometheus(run, c, args, second, prometheus):
    """What Prometheus scraped: its HTTP API, asked at chosen times, shows the failover; every
    sample is the watcher's record at its moment; against the JSON-lines watcher, the counts
    two watchers can differ by."""
    fo, rec = transition_at(second, "failover"), transition_at(second, "recovery")
    if not c.check(fo is not None and rec is not None, "the metrics watcher saw a failover and a recovery"):
        return
    kill = run.marker("primary-down")
    first_sent = second.origin
    answers = second.requests + second.direct
    first_done = min(done_at(x) for x in answers)
    last_done = max(done_at(x) for x in answers)
    ended = run.events("metrics-watcher-done")[-1]["at"]
    F = count(second.requests, "fallback")

    # up: every scrape succeeded from the watcher's start to its end.
    window = int(ended + 2 - first_sent) + 5
    raw = prometheus.query("up_raw", f'up{{job="failover-watch"}}[{window}s]', ended + 2)
    scrape = (run.events("scrape") or [{}])[-1]
    instance = f"127.0.0.1:{scrape.get('metrics_port')}"
    if not c.check(
        len(raw) == 1 and raw[0][0].get("instance") == instance,
        f'one up{{job="failover-watch"}} series, instance {instance}',
        f"{[m for m, _ in raw]}",
    ):
        return
    samples = raw[0][1]
    ups = [t for t, v in samples if v == 1]
    if not c.check(ups, "Prometheus scraped the metrics watcher (up == 1)", f"{samples}"):
        return
    first_up, t_end = ups[0], ups[-1]
    during = [(t, v) for t, v in samples if first_up <= t <= t_end]
    gaps = [round(b - a, 3) for (a, _), (b, _) in zip(during, during[1:]) if b - a > 1.5]
    c.check(
        all(v == 1 for _, v in during) and not gaps
        and first_up <= first_sent + SCRAPE_LAG and t_end >= last_done - SCRAPE_LAG,
        f"up == 1 at every scrape (every second) from the watcher's start to its end ({len(during)} "
        "scrapes)",
        f"first up {first_up - first_sent:+.2f} s from its first probe, last up "
        f"{t_end - last_done:+.2f} s from its last answer; failed: "
        f"{[round(t - first_sent, 2) for t, v in during if v != 1]}; gaps {gaps}",
    )
    up_end = prometheus.query("up_end", 'up{job="failover-watch"}', t_end)
    c.check([v for _, v in up_end] == [1], 'up{job="failover-watch"} == 1 at the end', f"{up_end}")
    window = int(t_end - first_sent) + 5

    # The requests' counters: every sample is what the record says the watcher had answered.
    raw = prometheus.query("requests_raw", f"failover_watch_requests_total[{window}s]", t_end)
    keys = sorted((m.get("result"), m.get("model")) for m, _ in raw)
    c.check(
        keys == sorted([("fallback", args.expect.fallback_model), ("primary", PRIMARY)]),
        "failover_watch_requests_total: a series for the primary and one for the fallback, by model",
        f"{keys}",
    )
    wrong, checked = [], 0
    for m, values in raw:
        for t, v in values:
            checked += 1
            low = answered_by(second, m.get("result"), t - 0.1)
            high = answered_by(second, m.get("result"), t + 0.5)
            if not low <= v <= high:
                wrong.append((m.get("result"), round(t - first_sent, 2), v, (low, high)))
    c.check(
        checked and not wrong,
        f"every sample of failover_watch_requests_total ({checked}) is the count of the record's "
        "answers at its scrape",
        f"(result, at, value, record) {wrong[:6]}",
    )
    fallback_series = [vals for m, vals in raw if m.get("result") == "fallback"]
    born = fallback_series[0][0][0] if fallback_series and fallback_series[0] else None
    c.check(
        born is not None and fo - 0.1 <= born <= fo + SCRAPE_LAG,
        "the fallback's series appears at the failover's scrape",
        f"first sample {None if born is None else round(born - fo, 2)} s from the failover",
    )

    # increase() before the kill, over the outage, after the recovery.
    fallback = 'failover_watch_requests_total{result="fallback"}'
    before = int(kill - first_sent)
    got = prometheus.query("fallback_before", f"increase({fallback}[{before}s])", kill)
    primary_before = prometheus.query(
        "primary_before", f'increase(failover_watch_requests_total{{result="primary"}}[{before}s])', kill
    )
    c.check(
        all(v == 0 for _, v in got) and [v > 0 for _, v in primary_before] == [True],
        f"before the kill: increase({fallback}[{before}s]) is 0 (no series yet), the primary's > 0",
        f"fallback {got}; primary {primary_before}",
    )
    outage = math.ceil(rec - kill)
    got = prometheus.query("fallback_outage", f"increase({fallback}[{outage}s])", rec)
    c.check(
        len(got) == 1 and 0 < got[0][1] <= F + 1,
        f"over the outage (the kill to the recovery, {outage} s): increase({fallback}) > 0, at "
        f"most the {F} fallback answers (+1)",
        f"{got}",
    )
    after = int(t_end - rec - SCRAPE_LAG)
    got = prometheus.query("fallback_after", f"increase({fallback}[{after}s])", t_end)
    c.check(
        len(got) == 1 and got[0][1] == 0,
        f"after the recovery ({after} s to the end): increase({fallback}) == 0",
        f"{got}",
    )

    # Who serves, second by second.
    serving = prometheus.query_range(
        "serving_range", "failover_watch_serving", first_sent - 2, t_end, 0.5
    )
    by_state = {m.get("state"): values for m, values in serving}
    c.check(
        sorted(by_state) == sorted(SERVING_STATES),
        "failover_watch_serving: a series for primary, fallback and down",
        f"{sorted(by_state)}",
    )
    for state, during_fo in (("fallback", 1), ("primary", 0), ("down", 0)):
        values = by_state.get(state, [])
        wrong = []
        for t, v in values:
            if fo + SCRAPE_LAG <= t < rec:
                want = during_fo
            elif t < fo or t >= rec + SCRAPE_LAG:
                want = 1 if state == "primary" else 0
            else:
                continue
            if v != want:
                wrong.append((round(t - first_sent, 1), v))
        changes = [v for i, (_, v) in enumerate(values) if i == 0 or v != values[i - 1][1]]
        shape = {"fallback": [0, 1, 0], "primary": [1, 0, 1], "down": [0]}[state]
        c.check(
            values and not wrong and changes == shape,
            f'failover_watch_serving{{state="{state}"}}: '
            + {"fallback": "0, 1 from the failover to the recovery, then 0",
               "primary": "1, 0 from the failover to the recovery, then 1",
               "down": "0 throughout"}[state]
            + f" (every 0.5 s, ±{SCRAPE_LAG} s at the changes)",
            f"changes {changes}; wrong (at, value) {wrong[:6]}",
        )
    starts = [values[0][0] for values in by_state.values() if values]
    c.check(
        starts and min(starts) >= first_done - 0.05,
        "failover_watch_serving has no value before the watcher's first answer",
        f"first value {min(starts, default=0) - first_done:+.2f} s from the first answer",
    )

    # The transitions: one failover, one recovery, each seen at its scrape.
    got = prometheus.query("transitions_end", "failover_watch_transitions_total", t_end)
    kinds = {m.get("kind"): v for m, v in got if v}
    c.check(
        kinds == {"failover": 1, "recovery": 1},
        'at the end: failover_watch_transitions_total{kind="failover"} == 1 and '
        '{kind="recovery"} == 1, no other kind above 0',
        f"{got}",
    )
    raw = prometheus.query("transitions_raw", f"failover_watch_transitions_total[{window}s]", t_end)
    # Every kind is there from the first scrape, at 0, so increase() counts its first rise.
    c.check(
        {m.get("kind") for m, _ in raw} == set(TRANSITION_KINDS)
        and all(values and values[0][1] == 0 for _, values in raw),
        "failover_watch_transitions_total: every kind's first sample is 0",
        f"{ {m.get('kind'): values[:1] for m, values in raw} }",
    )
    seen = {m.get("kind"): next(t for t, v in values if v >= 1)
            for m, values in raw if any(v >= 1 for _, v in values)}
    c.check(
        set(seen) == {"failover", "recovery"}
        and fo - 0.1 <= seen["failover"] <= fo + SCRAPE_LAG
        and rec - 0.1 <= seen["recovery"] <= rec + SCRAPE_LAG,
        f"Prometheus saw each transition within {SCRAPE_LAG} s of it",
        f"{ {k: round(v - first_sent, 2) for k, v in seen.items()} } vs failover "
        f"{fo - first_sent:.2f} s, recovery {rec - first_sent:.2f} s",
    )

    # The time in each state; the primary's own state; the rest.
    got = {m.get("state"): v for m, v in
           prometheus.query("state_seconds_end", "failover_watch_state_seconds_total", t_end)}
    c.check(
        set(got) == set(SERVING_STATES) and abs(got["fallback"] - (rec - fo)) <= 0.05
        and got["down"] == 0 and abs(got["primary"] + got["fallback"] - (t_end - first_done)) <= SCRAPE_LAG,
        "at the end: failover_watch_state_seconds_total: the fallback's the failover to the "
        "recovery, the primary's the rest, down's 0",
        f"{got}; record: fallback {rec - fo:.3f} s, first answer to the end {t_end - first_done:.2f} s",
    )
    cooling = next((p["t_at"] for p in second.primaries if p.get("to") == "cooling_down"), None)
    back = next((p["t_at"] for p in second.primaries if p.get("to") == "up" and cooling and p["t_at"] > cooling), None)
    if c.check(cooling and back and back - cooling > 2 * SCRAPE_LAG,
               "the metrics watcher saw the primary cooling down, then up",
               f"{[(p.get('to'), round(p['t_at'] - first_sent, 2)) for p in second.primaries]}"):
        for name, at, want in (("primary_state_cooling", (cooling + back) / 2, "cooling_down"),
                               ("primary_state_end", t_end, "up")):
            got = {m.get("state"): v for m, v in prometheus.query(name, "failover_watch_primary_state", at)}
            c.check(
                got == {s: int(s == want) for s in PRIMARY_STATES},
                f'failover_watch_primary_state{{state="{want}"}} == 1 and the others 0 '
                + ("in LiteLLM's cooldown" if want == "cooling_down" else "at the end"),
                f"{got}",
            )
    got = prometheus.query(
        "others_end", '{__name__=~"failover_watch_(skipped_ticks_total|errors_total|in_flight)"}', t_end
    )
    values = {(m["__name__"], m.get("kind")): v for m, v in got}
    c.check(
        values.get(("failover_watch_skipped_ticks_total", None)) == 0
        and values.get(("failover_watch_in_flight", None)) in (0, 1)
        and not [v for (n, _), v in values.items() if n == "failover_watch_errors_total" and v],
        "at the end: no skipped tick, in flight 0 or 1, no error counted",
        f"{values}",
    )
    got = prometheus.query("info_end", "failover_watch_info", t_end)
    c.check(
        len(got) == 1 and got[0][1] == 1 and got[0][0].get("litellm_version") == args.litellm_version,
        f"failover_watch_info: one series at the end, litellm_version {args.litellm_version}",
        f"{got}",
    )

    # Against the JSON-lines watcher: the same story, counts within what two watchers differ by.
    final = {m.get("result"): v for m, v in
             prometheus.query("requests_end", "failover_watch_requests_total", t_end)}
    s = run.summary
    # The fallback's count can differ by one probe at each end of the outage (which watcher's
    # probe first met the kill, the end of the cooldown); the primary's, besides, by the
    # later start of the metrics watcher and its last answer after the last scrape.
    c.check(
        abs(final.get("fallback", -9) - s["fallback"]) <= 2 and abs(final.get("primary", -9) - s["primary"]) <= 3,
        "Prometheus's counts at the end against the JSON-lines watcher's summary: the fallback's "
        "within 2, the primary's within 3",
        f"Prometheus {final}, JSON lines primary {s['primary']} fallback {s['fallback']}",
    )
    w1 = {t["kind"]: t["t_at"] for t in run.transitions}
    c.check(
        set(w1) == {"failover", "recovery"} and abs(seen.get("failover", 0) - w1["failover"]) <= 2.5
        and abs(seen.get("recovery", 0) - w1["recovery"]) <= 2.5,
        "Prometheus saw the failover and the recovery within 2.5 s of the JSON-lines watcher's",
        f"Prometheus {seen}, JSON lines {w1}",
    )


def metrics(run, c, args):
    """primary-killed's metrics watcher, its raw scrape, and what Prometheus made of it."""
    second = run.second
    if not c.check(
        second is not None and second.summary is not None,
        "the metrics watcher's record (metrics/record.jsonl) ends with its summary",
        f"{run.second_error}",
    ):
        return
    for part in (metrics_watcher, metrics_scrape):
        try:
            part(run, c, args, second)
        except (KeyError, StopIteration, TypeError, IndexError, ValueError, OSError) as error:
            c.check(False, f"{part.__name__}: the files have what the checks need", repr(error))
    try:
        prometheus = Prometheus(run.directory, args.prometheus)
        metrics_prometheus(run, c, args, second, prometheus)
    except (PromError, KeyError, StopIteration, TypeError, IndexError, ValueError, OSError) as error:
        c.check(False, "Prometheus answered every query the checks asked", repr(error))


def prometheus_part(part, run, c, args):
    try:
        part(run, c, args)
    except PromError as error:
        c.check(False, "Prometheus answered every query the checks asked", repr(error))


def scenario_fallback_of_two(run, c, args):
    """A primary (llama-b) whose fallback group (spare) has two deployments: killed and
    restarted, it fails over once and comes back once, while the fallback's answers come from
    both deployments; who serves is the group, the deployment a detail."""
    c.check(not run.bad_lines, "every output line is JSON", "; ".join(run.bad_lines[:3]))
    c.check(run.summary is not None and run.summary_is_last, "the last line is the summary")
    down, up = run.marker("primary-down"), run.marker("primary-up")
    kinds = [(t["kind"], t["from"], t["to"]) for t in run.transitions]
    c.check(
        kinds == [("failover", "primary", "fallback"), ("recovery", "fallback", "primary")],
        "one failover to the fallback group and one recovery, nothing more, however its two "
        "deployments take turns",
        json.dumps(kinds),
    )
    s = run.summary or {}
    c.check(
        (s.get("failovers"), s.get("recoveries"), s.get("outages")) == (1, 1, 0),
        "summary: 1 failover, 1 recovery, no outage",
        json.dumps({k: s.get(k) for k in ("failovers", "recoveries", "outages")}),
    )
    fallback = [r for r in run.requests if r["result"] == "fallback"]
    c.check(
        fallback and all(down <= r["t_sent"] <= up + args.cooldown + 2 for r in fallback),
        "the fallback served only while the primary was down (and its cooldown)",
        f"{[(r['seq'], round(run.rel(r['t_sent']), 2)) for r in fallback]}",
    )
    served = {
        mock: delta(run, mock, "before", "after", "completions") for mock in ("1", "2")
    }
    c.check(
        all(n > 0 for n in served.values()),
        "both deployments of the fallback group answered (the Ollama one and the OpenAI one)",
        f"completions: {served}",
    )
    c.check(
        sum(served.values()) == len(fallback),
        "the two fallback mocks answered exactly the requests attributed to the fallback",
        f"mocks {served}, watcher {len(fallback)}",
    )
    groups = {r.get("model_group") for r in fallback}
    c.check(
        groups == {"spare"},
        "every fallback answer names the group spare",
        f"{groups}",
    )


# The targets of many-targets (tests/e2e/run.sh writes their file): name -> (proxy, primary,
# expected fallback). Only fp8's primary mock is killed.
MANY_TARGETS = {
    "fp8": ("main", "llama-fp8", "llama3"),
    "b": ("main", "llama-b", "spare"),
    "llama3": ("main", "llama3", None),
    "second": ("second", "llama3", None),
}
KILLED_TARGET = "fp8"


def scenario_many_targets(run, c, args):
    """One watcher, four targets on two proxies (a targets file): the primary of one killed and
    restarted. Only its target fails over and comes back; the others never leave their
    primary; every line names its target; a summary per target and the totals are right; the
    replay gives the same transitions by target. Then --all-groups finds the proxy's groups
    with a fallback."""
    c.check(not run.bad_lines, "every output line is JSON", "; ".join(run.bad_lines[:3]))
    names = list(MANY_TARGETS)
    proxies = run.events("proxies")[-1]
    head = run.lines[0] if run.lines else {}
    declared = [
        (t.get("name"), t.get("url"), t.get("primary"), t.get("fallback"))
        for t in head.get("targets", [])
    ]
    c.check(
        head.get("type") == "run"
        and declared
        == [(n, proxies[proxy], primary, fallback) for n, (proxy, primary, fallback) in MANY_TARGETS.items()],
        "the run line lists the four targets of the file, in its order, on their two proxies",
        json.dumps(declared),
    )
    body = run.lines[1:]
    nameless = [x.get("type") for x in body if x.get("type") != "totals" and x.get("target") not in names]
    c.check(not nameless, "every line but the run's and the totals names one of the targets",
            f"types without a known target: {nameless[:10]}")
    c.check(bool(run.lines) and run.lines[-1].get("type") == "totals", "the last line is the totals")
    c.check(not run.skips and not run.abandoned, "no probe was skipped or abandoned",
            f"{len(run.skips)} skips, {len(run.abandoned)} abandoned")
    down, up = run.marker("primary-down"), run.marker("primary-up")
    summaries = [x for x in body if x.get("type") == "summary"]
    c.check([x.get("target") for x in summaries] == names,
            "a summary per target, in the run's order", json.dumps([x.get("target") for x in summaries]))
    by_name = {x.get("target"): x for x in summaries}
    sums = {k: 0 for k in ("sent", "total", "succeeded", "failed", "failovers", "recoveries", "outages")}
    for name, (proxy, primary, fallback) in MANY_TARGETS.items():
        requests = sorted((r for r in run.requests if r.get("target") == name), key=lambda r: r["seq"])
        numbers = seqs(requests)
        c.check(len(requests) >= 20 and numbers == list(range(1, len(numbers) + 1)),
                f"{name}: at least 20 requests, numbered 1..N", f"seqs {numbers}")
        gaps = [b["t_sent"] - a["t_sent"] for a, b in zip(requests, requests[1:])]
        odd = [(requests[i + 1]["seq"], round(g, 3)) for i, g in enumerate(gaps) if abs(g - args.interval) > EPS]
        c.check(not odd, f"{name}: its probes left every {args.interval:g} s (±{EPS} s)", f"(seq, gap) {odd}")
        errors = [r["seq"] for r in requests if r["result"] == "error"]
        c.check(not errors, f"{name}: no request failed", f"seqs {errors}")
        kinds = [(t["kind"], t["from"], t["to"]) for t in run.transitions if t.get("target") == name]
        served_by = [r.get("model_group") for r in requests if r["result"] == "primary"]
        if name == KILLED_TARGET:
            c.check(kinds == [("failover", "primary", "fallback"), ("recovery", "fallback", "primary")],
                    f"{name}: one failover to its fallback and one recovery, nothing more", json.dumps(kinds))
            fell = [r for r in requests if r["result"] == "fallback"]
            c.check(
                fell and all(down <= r["t_sent"] <= up + args.cooldown + 2 for r in fell)
                and {r.get("model_group") for r in fell} == {fallback},
                f"{name}: served by {fallback} only from the kill to the end of LiteLLM's cooldown",
                f"{[(r['seq'], round(run.rel(r['t_sent']), 2), r.get('model_group')) for r in fell]}",
            )
            before = [r for r in requests if r["t_sent"] < down - EPS]
            c.check(before and all(r["result"] == "primary" for r in before),
                    f"{name}: served by its primary before the kill", run.pattern(before))
            c.check(requests[-1]["result"] == "primary", f"{name}: served by its primary at the end",
                    run.pattern(requests))
        else:
            c.check(not kinds, f"{name}: no transition (its primary never moved)", json.dumps(kinds))
            c.check(
                all(r["result"] == "primary" for r in requests) and set(served_by) == {primary},
                f"{name}: every request served by its primary group {primary}",
                f"{run.pattern(requests)} groups {sorted(set(map(str, served_by)))}",
            )
        s = by_name.get(name, {})
        count = {k: sum(1 for r in requests if r["result"] == k) for k in LETTER}
        want = {
            "total": len(requests), "sent": len(requests), "primary": count["primary"],
            "fallback": count["fallback"], "failed": count["error"],
            "succeeded": count["primary"] + count["fallback"],
            "failovers": sum(1 for k in kinds if k[0] == "failover"),
            "recoveries": sum(1 for k in kinds if k[0] == "recovery"), "outages": 0,
            "litellm_version": args.litellm_version,
        }
        got = {k: s.get(k) for k in want}
        c.check(got == want, f"{name}: its summary counts its own lines", f"summary {got}, lines {want}")
        for k in sums:
            sums[k] += want[k]
    # Each target's requests reached its own proxy and upstream: llama-b's mock answered b's
    # requests, the second proxy's llama3 mock the second target's.
    for name, (mock, before, after) in {"b": ("b", "before", "after"),
                                        "second": ("fallback", "second-before", "second-after")}.items():
        answered = sum(1 for r in run.requests if r.get("target") == name and r["result"] == "primary")
        completions = delta(run, mock, before, after, "completions")
        c.check(completions == answered, f"{name}: its upstream mock answered exactly its requests",
                f"mock {completions}, watcher {answered}")
    totals = run.lines[-1] if run.lines else {}
    want = dict(sums, targets=4, on_primary=4, on_fallback=0, down=0)
    got = {k: totals.get(k) for k in want}
    c.check(got == want, "the totals: 4 targets, all on their primary at the end, the sums of the summaries",
            f"totals {got}, expected {want}")
    # The replay derives the transitions again: the same, target by target.
    replayed, _ = read_jsonl(run.directory / "replay.jsonl")
    def transitions(lines):
        return [(t.get("target"), t.get("kind"), t.get("seq")) for t in lines if t.get("type") == "transition"]
    c.check(
        transitions(replayed) == transitions(run.lines) and transitions(run.lines),
        "replay --output jsonl gives the same transitions, by target",
        f"{transitions(run.lines)} vs {transitions(replayed)}",
    )
    # --all-groups on the main proxy: its groups with a fallback (/router/settings), each a target.
    discover = [e for e in run.events("discover")]
    found, bad = read_jsonl(run.directory / "discover.jsonl")
    c.check(discover and discover[-1]["rc"] == 0 and not bad, "--all-groups --count 2 exited 0, JSON lines",
            f"{discover} {bad[:2]} stderr {(run.text('discover.err') or '')[:300]!r}")
    first = found[0] if found else {}
    groups = [(t.get("name"), t.get("primary"), t.get("fallback")) for t in first.get("targets", [])]
    c.check(groups == [("llama-b", "llama-b", "spare"), ("llama-fp8", "llama-fp8", "llama3")],
            "--all-groups: the groups with a fallback in the proxy's router settings, each a target "
            "named by its group (in the order of their names), with its first fallback", json.dumps(groups))
    answered = {}
    for x in found:
        if x.get("type") == "request":
            answered.setdefault(x.get("target"), []).append(x.get("result"))
    c.check(answered == {"llama-fp8": ["primary"] * 2, "llama-b": ["primary"] * 2},
            "--all-groups: two requests a target, each served by its primary", json.dumps(answered))
    last = found[-1] if found else {}
    c.check(last.get("type") == "totals" and last.get("targets") == 2 and last.get("total") == 4,
            "--all-groups: the totals of its two targets", json.dumps(last)[:300])


SUMMARY_TITLE = "Failover Watch Summary"


def text_block(lines, title):
    """The lines of the text story's block under `title` (between its rules), or None."""
    if title not in lines:
        return None
    i = lines.index(title)
    rule = lines[i + 1] if i + 1 < len(lines) else None
    block = []
    for line in lines[i + 2:]:
        if line == rule:
            return block
        block.append(line)
    return None


def many_targets_text(run, c, args):
    """The record replayed as the text story (`replay RECORD --instant --output text`): the
    banners name fp8 alone; a summary block per target, then the totals of the four."""
    story = run.text("replay.text") or ""
    lines = story.splitlines()
    banners = [line for line in lines
               if "[!]" in line and any(w in line for w in ("DETECTED", "OUTAGE", "RESTORED"))]
    said = [(kind, name) for line in banners for kind in ("FAILOVER", "RECOVERY", "OUTAGE", "RESTORED")
            for name in MANY_TARGETS if f"[!] {kind} DETECTED on {name}:" in line
            or f"[!] {kind} on {name}:" in line]
    c.check(
        said == [("FAILOVER", KILLED_TARGET), ("RECOVERY", KILLED_TARGET)] and len(banners) == 2,
        f"text: the banners `[!] FAILOVER DETECTED on {KILLED_TARGET}:` then `[!] RECOVERY DETECTED "
        f"on {KILLED_TARGET}:`, none for the other targets",
        json.dumps(banners),
    )
    jsonl = {x.get("target"): x for x in run.lines if x.get("type") == "summary"}
    sums = {"sent": 0, "succeeded": 0, "failed": 0, "failovers": 0, "recoveries": 0, "outages": 0}
    for name in MANY_TARGETS:
        block = text_block(lines, f"{SUMMARY_TITLE}: {name}")
        s = jsonl.get(name, {})
        for k in sums:
            sums[k] += s.get(k) or 0
        want = [
            f"  • Total requests: {s.get('sent')}",
            f"  • Successful: {s.get('succeeded')}",
            f"  • Failed: {s.get('failed')}",
            f"  • Served by primary: {s.get('primary')}, by fallback: {s.get('fallback')}",
            f"  • Failovers: {s.get('failovers')}, recoveries: {s.get('recoveries')}, outages: "
            f"{s.get('outages')}, restored: {s.get('restorations', 0)}",
        ]
        c.check(
            block is not None and all(w in block for w in want),
            f"text: a block `{SUMMARY_TITLE}: {name}` with its counts (those of its JSON-lines summary)",
            f"want {want}; block {block}",
        )
    titles = [line for line in lines if line.startswith(SUMMARY_TITLE)]
    c.check(
        titles == [f"{SUMMARY_TITLE}: {n}" for n in MANY_TARGETS] + [f"{SUMMARY_TITLE}: all 4 targets"],
        "text: the summary blocks in the run's order, then the totals' `all 4 targets`",
        json.dumps(titles),
    )
    block = text_block(lines, f"{SUMMARY_TITLE}: all 4 targets")
    want = [
        "  • At the end: 4 on their primary, 0 on a fallback, 0 down or not answered",
        f"  • Total requests: {sums['sent']}",
        f"  • Successful: {sums['succeeded']}",
        f"  • Failed: {sums['failed']}",
        f"  • Failovers: {sums['failovers']}, recoveries: {sums['recoveries']}, outages: {sums['outages']}",
    ]
    c.check(
        block is not None and all(w in block for w in want) and sums["failovers"] == 1,
        "text: the totals block: 4 on their primary at the end, the sums of the summaries (1 failover)",
        f"want {want}; block {block}",
    )


def many_targets_overview(run, c, args):
    """The same targets on the dashboard in tmux (120×40), after the run: the overview lists the
    four, all on their primary; Enter opens the first row's dashboard; Esc comes back; q quits
    (exit 0) with a summary per target and the totals."""
    steps = {e["step"]: e for e in run.events("overview")}
    screens = {n: run.text(f"overview-{n}.txt") or "" for n in (1, 2, 3, 4)}
    overview = screens[1]
    c.check(steps.get("overview", {}).get("ok") is True
            and "4 targets: 4 on their primary · 0 on a fallback · 0 down" in overview,
            "overview (tmux): the summary line `4 targets: 4 on their primary · 0 on a fallback · 0 down`",
            overview)
    rows = {name: [line for line in overview.splitlines() if f" {name} " in line and "PRIMARY" in line]
            for name in MANY_TARGETS}
    c.check(all(len(v) == 1 for v in rows.values()) and "● PRIMARY" in rows[KILLED_TARGET][0],
            "overview (tmux): a row per target, each on its primary (fp8's `● PRIMARY`)", overview)
    selected = [name for name, v in rows.items() if v and "▶" in v[0]]
    c.check(len(selected) == 1, "overview (tmux): one row selected", overview)
    dashboard = screens[2]
    name = selected[0] if selected else "?"
    primary = MANY_TARGETS.get(name, ("", "?", None))[1]
    c.check(steps.get("dashboard", {}).get("ok") is True and "NOW SERVING" in dashboard
            and f"{name}: {primary}" in dashboard,
            f"overview (tmux): Enter opens the selected row's dashboard (NOW SERVING, `{name}: {primary}`)",
            dashboard)
    c.check(steps.get("overview-again", {}).get("ok") is True and "NOW SERVING" not in screens[3],
            "overview (tmux): Esc comes back to the overview", screens[3])
    status = run.text("overview.exit")
    c.check(steps.get("summaries", {}).get("ok") is True and (status or "").strip() == "0"
            and "At the end: 4 on their primary, 0 on a fallback" in screens[4],
            "overview (tmux): q quits, exit status 0, the summaries and the totals (4 on their primary)",
            f"status {status!r}; screen {screens[4]}")


def many_targets_prometheus(run, c, args):
    """The watcher's metrics (`--metrics-listen`), scraped every second by a real Prometheus,
    asked by target at the watcher's last request (the watcher still serving them)."""
    prometheus = Prometheus(run.directory, args.prometheus)
    proxies = run.events("proxies")[-1]
    at = max(r["t_sent"] for r in run.requests)
    recovered = [t["t_at"] for t in run.transitions if t.get("target") == KILLED_TARGET]
    c.check(
        len(recovered) == 2 and recovered[-1] + SCRAPE_LAG <= at,
        f"the recovery of {KILLED_TARGET} came at least {SCRAPE_LAG} s before the watcher's last "
        "request, when Prometheus is asked",
        f"transitions at {[round(run.rel(t), 2) for t in recovered]}, asked at {run.rel(at):.2f}",
    )
    up = prometheus.query("up", 'up{job="failover-watch"}', at)
    c.check([v for _, v in up] == [1], "Prometheus scraped the watcher (up == 1 at its last request)",
            f"{up}")
    got = prometheus.query("fp8_failover", f'failover_watch_transitions_total{{target="{KILLED_TARGET}",'
                           'kind="failover"}', at)
    c.check([v for _, v in got] == [1],
            f'failover_watch_transitions_total{{target="{KILLED_TARGET}",kind="failover"}} is 1', f"{got}")
    got = prometheus.query("transitions", "failover_watch_transitions_total", at)
    seen = {(m.get("target"), m.get("kind")): v for m, v in got}
    want = {(name, kind): 0 for name in MANY_TARGETS for kind in TRANSITION_KINDS}
    for t in run.transitions:
        want[(t.get("target"), t.get("kind"))] += 1
    c.check(
        seen == want and len(got) == len(want),
        "failover_watch_transitions_total by target and kind: fp8's failover and recovery 1, every "
        "other target's (and fp8's outage and restored) 0, from the start",
        f"Prometheus {sorted(seen.items())}; JSON lines {sorted((k, v) for k, v in want.items() if v)}",
    )
    got = prometheus.query("info", "failover_watch_info", at)
    seen = sorted(
        (m.get("target"), m.get("proxy"), m.get("url"), m.get("primary"), m.get("fallback", ""),
         m.get("litellm_version"), v)
        for m, v in got
    )
    want = sorted(
        (name, proxies[proxy].removeprefix("http://"), proxies[proxy], primary, fallback or "",
         args.litellm_version, 1)
        for name, (proxy, primary, fallback) in MANY_TARGETS.items()
    )
    c.check(seen == want, "failover_watch_info: one series per target (4), its target, proxy, url, "
            "primary, fallback and the version under test", f"Prometheus {seen}; expected {want}")
    got = prometheus.query("requests", "sum by (target, result) (failover_watch_requests_total)", at)
    seen = {(m.get("target"), m.get("result")): v for m, v in got}
    bad = []
    for (name, result), v in sorted(seen.items()):
        mine = [r for r in run.requests if r.get("target") == name and r["result"] == result]
        low = sum(1 for r in mine if done_at(r) <= at - SCRAPE_LAG)
        high = sum(1 for r in mine if done_at(r) <= at)
        if not low <= v <= high:
            bad.append((name, result, v, low, high))
    c.check(
        not bad and {k for k in seen} == {(n, "primary") for n in MANY_TARGETS} | {(KILLED_TARGET, "fallback")},
        "failover_watch_requests_total by target: each target's answers (the fallback's for fp8 "
        f"alone), as many as the JSON lines had by the scrape (within {SCRAPE_LAG} s)",
        f"Prometheus {sorted(seen.items())}; out of range (target, result, value, low, high) {bad}",
    )


# ---------------------------------------------------------------------------------------------
# Drills: `failover-watch drill` against the proxy, its steps carried out by the lane.
DRILL_LAST_LINES = {
    "drill-pass": "failover-watch: drill passed: 4 budgets held (exit 0)",
    "drill-only-target": "failover-watch: drill passed: 5 budgets held (exit 0)",
    "drill-interrupted": "failover-watch: drill interrupted (Ctrl-C, a signal or q); the up "
    "command ran (exit 0) (exit 130)",
    "drill-down-fails": "failover-watch: drill: the down command failed (exit 7): the drill "
    "could not run; the up command ran (exit 0) (exit 2)",
}
DRILL_STATUS = {
    "drill-pass": 0,
    "drill-budget": 1,
    "drill-interrupted": 130,
    "drill-down-fails": 2,
    "drill-only-target": 0,
}
RECORD_NAME = re.compile(r"^drill-llama-fp8-[0-9]{8}-[0-9]{6}\.jsonl$")


def drill_record(directory):
    """The drill's record: the one file of DIR named as a drill names it."""
    found = [p.name for p in Path(directory).iterdir() if RECORD_NAME.match(p.name)]
    if len(found) != 1:
        raise ValueError(f"expected one drill-llama-fp8-TIME.jsonl in {directory}, found {found}")
    return found[0]


def drill_report(run, name="drill.out"):
    """The drill's JSON report."""
    return json.loads(run.text(name) or "")


def drill_command(report, step):
    commands = report["setup"]["drill"]["commands"]
    return next(c for c in commands if c["step"] == step)


def drill_common(run, c, args):
    """What every drill shows: its status and its last line, check before the fault, the steps
    asked of the lane in order, nothing left down after it, the key nowhere, and its record."""
    rc = run.events("drill")[0]["rc"]
    want = DRILL_STATUS[args.scenario]
    c.check(rc == want, f"the drill exited {want}", f"status {rc}")
    stderr = run.text("drill.err") or ""
    last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    if args.scenario in DRILL_LAST_LINES:
        want_line = DRILL_LAST_LINES[args.scenario]
        c.check(last == want_line, "the drill's last line says how it ended", repr(last))
    c.check(
        "✓ proxy     reachable at http://127.0.0.1:" in stderr
        and f"LiteLLM {args.litellm_version}" in stderr
        and "✓ request   served by the primary" in stderr
        and "\n✗ " not in stderr,
        "the drill ran check first, every check ok, on the release under test",
        repr(stderr[:600]),
    )
    steps = [m["event"] for m in run.markers if m["event"].startswith("lever-")]
    c.check(
        steps == ["lever-down", "lever-down-done", "lever-up", "lever-up-done"],
        "the drill asked the lane to take the primary down, then to bring it back, once each",
        f"{steps}",
    )
    c.check(
        not run.events("lane-restarted-primary") and run.events("primary-back"),
        "nothing was left down: the primary served through the proxy again after the drill",
        f"{[m['event'] for m in run.markers]}",
    )
    for name in ("drill.out", "drill.err", run.output_name):
        c.check("sk-test" not in (run.text(name) or ""), f"the key is not in {name}")
    c.check(not run.bad_lines, "every line of the drill's record is JSON", "; ".join(run.bad_lines[:3]))
    first = run.lines[0] if run.lines else {}
    last = run.lines[-1].get("type") if run.lines else None
    c.check(
        first.get("type") == "run" and last == ("totals" if len(first.get("targets", [])) > 1 else "summary"),
        "the record starts with its run line and ends with its summary (its totals, with several targets)",
        f"{json.dumps(first)[:200]} … {last}",
    )
    labels = [m.get("label") for m in run.marks]
    return labels


def drill_pass(run, c, args):
    """A drill that holds its budgets: the primary killed by the down command, served by the
    fallback through the hold, back after the up command and LiteLLM's cooldown."""
    labels = drill_common(run, c, args)
    report = drill_report(run)
    c.check(
        report == json.loads(run.text("report.json") or "null"),
        "--report report.json holds the report printed on stdout",
    )
    c.check(labels == ["drill: down", "drill: up"], "the record has the drill's two markers", f"{labels}")
    c.check(
        report["verdict"] == "pass"
        and [b["status"] for b in report["budgets"]] == ["pass"] * 4,
        "verdict pass: max_failed, max_failover, max_recovery, min_availability held",
        json.dumps(report["budgets"]),
    )
    drill = report["setup"]["drill"]
    c.check(
        drill["ended"] == "completed"
        and drill["router"].startswith(f"fallbacks {PRIMARY} → llama3; allowed_fails 1")
        and f"cooldown_time {args.cooldown:g}s" in drill["router"],
        "the report says the drill completed, and the router's settings as the proxy stated them",
        json.dumps(drill)[:400],
    )
    down, up = drill_command(report, "down"), drill_command(report, "up")
    c.check(
        (down["exit_status"], down["output"], up["exit_status"], up["output"])
        == (0, "lane: done", 0, "lane: done"),
        "both commands exited 0, their output kept",
        json.dumps([down, up]),
    )
    env = run.text("down.env") or ""
    c.check(
        "PATH=" in env and "sk-test" not in env and "LITELLM_API_KEY" not in env
        and "FAILOVER_WATCH_" not in env,
        "the down command ran without the key nor FAILOVER_WATCH_* in its environment",
        repr(env[:300]),
    )
    c.check(
        report["setup"]["litellm_version"] == args.litellm_version,
        f"the report names LiteLLM {args.litellm_version}",
    )
    fault = epoch(report["fault_at"])
    c.check(
        run.marker("lever-down-done") <= fault <= run.marker("lever-up"),
        "the fault is the down command's end: after the lane stopped the primary, before the up",
        f"fault {fault}, markers {run.marker('lever-down-done')} / {run.marker('lever-up')}",
    )
    timeline = {f["event"]: f for f in report["timeline"]}
    failover, recovery, up_fact = timeline.get("failover"), timeline.get("recovery"), timeline.get("up")
    c.check(
        failover is not None and failover["model"] == "ollama/llama3"
        and timeline["fault"]["found"] == "marker",
        "the failover is the fallback's first answer after the drill's down marker",
        json.dumps(failover),
    )
    c.check(
        up_fact is not None and up_fact["found"] == "marker"
        and epoch(up_fact["at"]) >= run.marker("lever-up-done")
        and recovery is not None and recovery["model"] == PRIMARY
        and epoch(recovery["at"]) > epoch(up_fact["at"]),
        "the up is the up command's end, the recovery the primary's first answer after it",
        json.dumps([up_fact, recovery]),
    )
    durations = report["durations"]
    c.check(
        0 < durations["failover_secs"] <= args.interval + 1.0
        and 0 < durations["recovery_secs"] <= args.cooldown + 2 * args.interval + 1.0,
        f"failed over within an interval, recovered within the cooldown ({args.cooldown:g} s) "
        "and two intervals",
        json.dumps(durations),
    )
    whole = report["whole"]
    c.check(
        whole["failed"] == 0 and whole["fallback"] > 0 and whole["primary"] > 0,
        "no request failed; both the primary and the fallback served",
        json.dumps(whole)[:300],
    )


def drill_budget(run, c, args):
    """A budget broken: the recovery cannot come within 1 s of the up while LiteLLM's cooldown
    lasts; with --abort-on-breach the drill stops there, its JUnit says which budget broke."""
    import xml.etree.ElementTree as ElementTree

    labels = drill_common(run, c, args)
    c.check(labels == ["drill: down", "drill: up"], "the record has the drill's two markers", f"{labels}")
    try:
        suites = ElementTree.fromstring(run.text("drill.out") or "")
    except ElementTree.ParseError as error:
        c.check(False, "the drill printed JUnit XML", repr(error))
        return
    suite = suites.find("testsuite")
    cases = {case.get("name").split(":")[0]: case for case in suite.findall("testcase")}
    c.check(
        suite.get("tests") == "2" and suite.get("failures") == "1",
        "one test case per budget, one failure",
        json.dumps(suite.attrib),
    )
    failure = cases["max_recovery"].find("failure")
    c.check(
        failure is not None and "none yet after" not in failure.get("message", "")
        and failure.get("message", "").startswith("up → first primary answer ≤ 1.00 s: never")
        and cases["max_failed"].find("failure") is None,
        "max_recovery failed (no primary answer after the up), max_failed held",
        repr(failure.attrib if failure is not None else None),
    )
    properties = {p.get("name"): p.get("value") for p in suite.find("properties")}
    ended = properties.get("drill ended", "")
    c.check(
        ended.startswith(
            "aborted on a broken budget (--abort-on-breach: up → first primary answer ≤ 1.00 s: "
            "none yet after 1."
        )
        and ended.endswith("); the up command ran (exit 0)"),
        "the drill was aborted on the breach, after its up command",
        repr(ended),
    )
    stderr = run.text("drill.err") or ""
    last = stderr.strip().splitlines()[-1]
    c.check(
        last.startswith("failover-watch: drill failed: budget broken: up → first primary answer")
        and last.endswith("; aborted (exit 1)"),
        "the drill's last line says which budget broke",
        repr(last),
    )
    took = run.marker("drill-start")
    ended_at = run.events("drill")[0]["at"]
    c.check(
        ended_at - run.marker("lever-up-done") < 10,
        "the drill ended soon after the breach, long before its 20 s of settle",
        f"{ended_at - run.marker('lever-up-done'):.1f} s after the up (started {took})",
    )


def drill_interrupted(run, c, args):
    """SIGINT in the hold: the drill brings the primary back at once, ends 130, its report says
    it was interrupted."""
    labels = drill_common(run, c, args)
    c.check(labels == ["drill: down", "drill: up"], "the record has the drill's two markers", f"{labels}")
    sigint = run.marker("sigint")
    c.check(
        run.marker("lever-down-done") < sigint < run.marker("lever-up"),
        "SIGINT came in the hold; the drill asked for the primary back after it",
    )
    c.check(
        run.marker("lever-up") - sigint < 3,
        "the up command ran at once, not after the 30 s hold",
        f"{run.marker('lever-up') - sigint:.1f} s after SIGINT",
    )
    report = drill_report(run)
    c.check(
        report["setup"]["drill"]["ended"]
        == "interrupted (Ctrl-C, a signal or q); the up command ran (exit 0)",
        "the report says the drill was interrupted, and that the up command ran",
        repr(report["setup"]["drill"]["ended"]),
    )
    up = drill_command(report, "up")
    c.check((up["exit_status"], up["output"]) == (0, "lane: done"), "the up command exited 0", json.dumps(up))
    stderr = run.text("drill.err") or ""
    c.check("drill: interrupted: restoring" in stderr, "the drill said it was restoring", repr(stderr[-400:]))


def drill_down_fails(run, c, args):
    """The down command takes the primary down, then fails: exit 2, and the up command brings
    the primary back all the same."""
    labels = drill_common(run, c, args)
    c.check(
        labels == ["drill: up"],
        "no down marker (the down step failed), the up marker after the up command",
        f"{labels}",
    )
    report = drill_report(run)
    down, up = drill_command(report, "down"), drill_command(report, "up")
    c.check(
        (down["exit_status"], down["output"], up["exit_status"]) == (7, "lane: done", 0),
        "the down command exited 7 after its step, the up command 0",
        json.dumps([down, up]),
    )
    c.check(
        report["setup"]["drill"]["ended"]
        == "the down command failed (exit 7): the drill could not run; the up command ran (exit 0)",
        "the report says the drill could not run, and that the up command ran",
        repr(report["setup"]["drill"]["ended"]),
    )
    c.check(
        run.marker("lever-up") - run.marker("lever-down-done") < 3,
        "the up command came at once, not after the 30 s hold",
    )


def drill_only_target(run, c, args):
    """A drill of llama-fp8 among two targets (`--primary llama-fp8,llama-b --only-target
    llama-fp8`): llama-fp8's upstream killed and restarted by the lane; the report is about
    llama-fp8 alone, and llama-b, beside it on its own upstream, never moved."""
    labels = drill_common(run, c, args)
    report = drill_report(run)
    c.check(labels == ["drill: down", "drill: up"], "the record has the drill's two markers", f"{labels}")
    declared = [(t.get("name"), t.get("primary")) for t in run.lines[0].get("targets", [])]
    c.check(
        declared == [(PRIMARY, PRIMARY), ("llama-b", "llama-b")],
        "the record's run line lists both targets",
        json.dumps(declared),
    )
    budgets = {b["budget"]: b for b in report["budgets"]}
    steady = budgets.get("others_steady", {})
    c.check(
        report["verdict"] == "pass"
        and [b["status"] for b in report["budgets"]] == ["pass"] * 5
        and steady.get("figure_text") == "0 transitions",
        "verdict pass: the four budgets given and others_steady (0 transitions) held",
        json.dumps(report["budgets"]),
    )
    c.check(
        report["setup"]["primary"] == PRIMARY and report["setup"]["drill"]["ended"] == "completed",
        "the report is about the drilled target, and the drill completed",
        json.dumps(report["setup"])[:400],
    )
    timeline = {f["event"]: f for f in report["timeline"]}
    failover, recovery = timeline.get("failover"), timeline.get("recovery")
    c.check(
        failover is not None and failover["model"] == "ollama/llama3"
        and recovery is not None and recovery["model"] == PRIMARY
        and epoch(recovery["at"]) > run.marker("lever-up-done"),
        "llama-fp8 failed over to llama3 after the down and recovered after the up",
        json.dumps([failover, recovery]),
    )
    for target, results in ((PRIMARY, {"primary", "fallback"}), ("llama-b", {"primary"})):
        requests = [r for r in run.requests if r.get("target") == target]
        seen = {r["result"] for r in requests}
        c.check(
            len(requests) >= 10 and seen == results,
            f"{target}: {len(requests)} requests, served by {' and '.join(sorted(results))} only",
            f"{sorted(seen)}: {run.pattern(requests)}",
        )
    moved = [(t.get("target"), t["kind"]) for t in run.transitions if t.get("target") != PRIMARY]
    c.check(not moved, "llama-b has no transition in the record", f"{moved}")
    b_served = [r for r in run.requests if r.get("target") == "llama-b" and r["result"] == "primary"]
    before, after = run.stats.get(("b", "before")), run.stats.get(("b", "after"))
    gained = after["completions"] - before["completions"] if before and after else None
    c.check(
        gained is not None and gained == len(b_served),
        "llama-b's own upstream answered its requests (its mock's completions grew by exactly as many)",
        f"{gained} completions for {len(b_served)} requests served",
    )


DRILLS = {
    "drill-pass": drill_pass,
    "drill-budget": drill_budget,
    "drill-interrupted": drill_interrupted,
    "drill-down-fails": drill_down_fails,
    "drill-only-target": drill_only_target,
}


def drill_main(args):
    """A drill scenario's checks, over its record and report."""
    c = Checks(args.scenario)
    try:
        name = drill_record(args.directory)
        run = Run(args.directory, name)
        run.output_name = name
    except (OSError, KeyError, ValueError) as error:
        print(f"  FAIL cannot read the drill in {args.directory}: {error}")
        return 1
    try:
        DRILLS[args.scenario](run, c, args)
    except (KeyError, StopIteration, TypeError, IndexError, ValueError, OSError, AttributeError) as error:
        c.check(False, "the drill's outputs have the fields and records the checks need", repr(error))
    if c.failed:
        print(f"  evidence for {args.scenario} (times from the first request):")
        print(run.timeline())
        print(f"  {args.scenario}: {c.passed} checks passed, {c.failed} failed")
        return 1
    print(f"  {args.scenario}: {c.passed} checks passed")
    return 0


SCENARIOS = {
    "fallback-of-two": (scenario_fallback_of_two, False),
    "primary-killed": (scenario_killed, False),
    "primary-500": (scenario_500, False),
    "primary-hang": (scenario_hang, False),
    "both-down": (scenario_both_down, True),
    "stream-primary-killed": (scenario_killed, False),
    "seed-verbatim": (scenario_seed_verbatim, False),
    "many-targets": (scenario_many_targets, False),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=sorted(SCENARIOS) + sorted(DRILLS))
    parser.add_argument("directory")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--router-timeout", type=float, default=3.0)
    parser.add_argument("--cooldown", type=float, default=10.0)
    parser.add_argument("--litellm-version", required=True, choices=VERSIONS)
    parser.add_argument(
        "--prometheus",
        metavar="URL",
        help="primary-killed, many-targets: ask this Prometheus (and keep its answers in "
        "DIR/metrics/prometheus.json); without it, the answers kept there are read",
    )
    args = parser.parse_args()
    if args.scenario in DRILLS:
        return drill_main(args)
    args.expect = Expect(args.litellm_version, stream=args.scenario.startswith("stream-"))
    check, allow_errors = SCENARIOS[args.scenario]
    c = Checks(args.scenario)
    try:
        run = Run(args.directory)
    except (OSError, KeyError, ValueError) as error:
        print(f"  FAIL cannot read the run in {args.directory}: {error}")
        return 1
    with_metrics = args.scenario == "primary-killed"
    if with_metrics:
        try:
            run.second = Run(args.directory, f"{METRICS}/record.jsonl")
        except (OSError, KeyError, ValueError) as error:
            run.second_error = error

    def scenario():
        # Its own story, on its own primary (or on its targets): no common part.
        if args.scenario in ("fallback-of-two", "many-targets"):
            check(run, c, args)
        elif common(run, c, args, allow_errors=allow_errors):
            check(run, c, args)

    parts = [scenario, lambda: record_and_replay(run, c, args)]
    if args.scenario != "seed-verbatim":  # its check comes after the run, with its story
        parts.append(lambda: preflight_healthy(run, c, args))
    if with_metrics:
        parts.append(lambda: metrics(run, c, args))
    if args.scenario == "many-targets":
        parts.append(lambda: many_targets_text(run, c, args))
        parts.append(lambda: many_targets_overview(run, c, args))
        parts.append(lambda: prometheus_part(many_targets_prometheus, run, c, args))
    for part in parts:
        try:
            part()
        except (KeyError, StopIteration, TypeError, IndexError, ValueError, OSError) as error:
            c.check(False, "the output has the fields and records the checks need", repr(error))
    if c.failed:
        print(f"  evidence for {args.scenario} (times from the first request):")
        print(run.timeline())
        if run.second is not None:
            w = run.second
            print(f"  the metrics watcher (times from the first watcher's first request): results "
                  f"{w.pattern()}, first sent {run.rel(w.origin):.2f}s, transitions "
                  f"{[(t['kind'], round(run.rel(t['t_at']), 2)) for t in w.transitions]}, primary "
                  f"{[(x.get('to'), round(run.rel(x['t_at']), 2)) for x in w.primaries]}")
        print(f"  {args.scenario}: {c.passed} checks passed, {c.failed} failed")
        return 1
    print(f"  {args.scenario}: {c.passed} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
