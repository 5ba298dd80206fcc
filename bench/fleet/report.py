#!/usr/bin/env python3
"""The "Fleet" section of BENCHMARKS.md from the arrivals `provision-fleet`
logged (NAME.csv, NAME.json in the run's folder): figures per scenario, the
issue's targets met or missed, and a plot of the request rate over time per
scenario (PNG, matplotlib).

    report.py RUN_DIR PLOTS_DIR BENCHMARKS.md

Only the part of BENCHMARKS.md between the fleet markers is replaced (or
appended when absent): `make bench` writes the rest and keeps this part.
Hand-written notes come from bench/fleet/NOTES.md, appended as they are.
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

BEGIN = "<!-- fleet: begin (written by `make fleet`, bench/fleet/report.py; `make bench` keeps it) -->"
END = "<!-- fleet: end -->"
OK_STATUSES = (200, 304)
SEED = 20261201  # the ideal fleet's draws: the same reference every run


@dataclass
class Run:
    name: str
    title: str
    handles: int
    rate: float
    start: float
    end: float
    events: List[Tuple[float, str]]
    load_before: str
    load_after: str
    library: str
    at: np.ndarray
    handle: np.ndarray
    status: np.ndarray
    request_bytes: np.ndarray
    answer_bytes: np.ndarray

    def event(self, word: str) -> Optional[float]:
        return next((t for t, label in self.events if word in label), None)


def load(folder: str, name: str) -> Optional[Run]:
    meta_path, csv_path = os.path.join(folder, name + ".json"), os.path.join(folder, name + ".csv")
    if not os.path.exists(meta_path):
        return None
    with open(meta_path) as f:
        meta = json.load(f)
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    rows.sort(key=lambda r: float(r["at"]))
    column = lambda key, kind: np.array([kind(r[key]) for r in rows], dtype=kind)  # noqa: E731
    return Run(
        name=meta["name"], title=meta["title"], handles=meta["handles"], rate=float(meta["rate"]),
        start=meta["start"], end=meta["end"], events=[(t, label) for t, label in meta["events"]],
        load_before=meta["load_before"], load_after=meta["load_after"], library=meta["library"],
        at=column("at", float), handle=column("handle", int), status=column("status", int),
        request_bytes=column("request_bytes", int), answer_bytes=column("answer_bytes", int),
    )


# ------------------------------------------------------------------ figures


def counts(times: np.ndarray, begin: float, end: float, width: float) -> np.ndarray:
    bins = max(1, int(round((end - begin) / width)))
    edges = begin + width * np.arange(bins + 1)
    return np.histogram(times, bins=edges)[0]


def ideal_peaks(total: int, bins: int) -> np.ndarray:
    """Peak over mean of `total` requests at independent uniformly random
    times in `bins` bins, in 2000 draws: what an ideal fleet shows, so that a
    reader can tell spread from the noise of a finite N."""
    rng = np.random.default_rng(SEED)
    draws = rng.multinomial(total, [1.0 / bins] * bins, size=2000)
    return draws.max(axis=1) / (total / bins)


def peak_over_mean(times: np.ndarray, begin: float, end: float, width: float) -> Tuple[float, float]:
    """Peak over mean of the counts in bins of `width` s over [begin, end),
    and the mean of what an ideal fleet shows there (`ideal_peaks`)."""
    c = counts(times[(times >= begin) & (times < end)], begin, end, width)
    if c.sum() == 0:
        return float("nan"), float("nan")
    return float(c.max() / c.mean()), float(np.mean(ideal_peaks(int(c.sum()), len(c))))


def ideal_share_above(times: np.ndarray, begin: float, end: float, width: float, bound: float) -> float:
    """How often an ideal fleet's peak over mean exceeds `bound` in these bins."""
    c = counts(times[(times >= begin) & (times < end)], begin, end, width)
    return float(np.mean(ideal_peaks(int(c.sum()), len(c)) > bound)) if c.sum() else float("nan")


def per_handle_per_period(r: Run, begin: float, end: float) -> float:
    n = int(np.sum((r.at >= begin) & (r.at < end)))
    return n / (r.handles * (end - begin) / r.rate)


def gaps_after(r: Run, begin: float, end: float, status: int) -> np.ndarray:
    """Per handle, the time from a request answered `status` in [begin, end)
    to that handle's next request: how long it left the server alone."""
    out = []
    order = np.lexsort((r.at, r.handle))
    for i, j in zip(order[:-1], order[1:]):
        if r.handle[i] == r.handle[j] and r.status[i] == status and begin <= r.at[i] < end:
            out.append(r.at[j] - r.at[i])
    return np.array(out)


def recovery(r: Run, up: float) -> Tuple[float, float, float, int]:
    """Seconds from the server's return until 50%, 99% and 100% of the
    handles had a good answer, and how many never did."""
    first: Dict[int, float] = {}
    for t, h, s in zip(r.at, r.handle, r.status):
        if t >= up and s in OK_STATUSES and h not in first:
            first[int(h)] = t - up
    done = np.sort(np.array(list(first.values())))
    if len(done) == 0:
        return float("nan"), float("nan"), float("nan"), r.handles
    quantile = lambda q: float(done[min(len(done) - 1, int(np.ceil(q * r.handles)) - 1)])  # noqa: E731
    return quantile(0.5), quantile(0.99), float(done[-1]), r.handles - len(done)


def fmt_ratio(measured: float, ideal: float) -> str:
    return f"{measured:.2f}x (an ideal random fleet: {ideal:.2f}x)"


# -------------------------------------------------------------------- plots


def plot(r: Run, path: str) -> None:
    fig, ax = plt.subplots(figsize=(9, 3.4), dpi=90)
    fine = 0.1
    edges = np.arange(0, r.end + fine, fine)
    kinds = [(304, "#9ecae9", "304"), (200, "#2f5f8a", "200"), (503, "#e45756", "503")]
    # Counts per 100 ms, times 10: the same unit (requests per second) as the 1 s line.
    ax.hist([r.at[r.status == s] for s, _, _ in kinds], bins=edges, stacked=True,
            color=[c for _, c, _ in kinds], weights=[np.full(int(np.sum(r.status == s)), 1 / fine) for s, _, _ in kinds],
            label=[f"{label}, in 100 ms bins" for _, _, label in kinds], alpha=0.8, histtype="stepfilled")
    second = np.arange(0, r.end + 1, 1.0)
    c = np.histogram(r.at, bins=second)[0]
    ax.step(second[:-1], c, where="post", color="black", linewidth=1.6, label="all, in 1 s bins")
    ax.axhline(r.handles / r.rate, color="gray", linestyle=":", linewidth=1,
               label=f"N/T = {r.handles / r.rate:.0f} per s")
    for t, label in r.events[1:]:
        ax.axvline(t, color="#54a24b", linestyle="--", linewidth=1)
        ax.annotate(label, (t, 1), xycoords=("data", "axes fraction"), rotation=90, va="top", ha="right",
                    fontsize=7, color="#2f6b2a")
    ax.axvline(r.start + r.rate, color="gray", linestyle="--", linewidth=0.8)
    top = max(c[1:].max() if len(c) > 1 else 1, r.handles / r.rate) * 1.8
    ax.set_ylim(0, top)
    burst = int(c[0]) if len(c) else 0
    off = f"; the start-up burst of {burst} in the first second is off the scale" if burst > top else ""
    ax.set_title(f"{r.title} (N={r.handles}, T={r.rate:g} s{off})", fontsize=8)
    ax.set_xlabel("seconds since the handles were started")
    ax.set_ylabel("requests per second")
    ax.set_xlim(0, r.end)
    ax.legend(fontsize=7, loc="upper right", ncol=2)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ------------------------------------------------------------------- report


@dataclass
class Target:
    what: str
    measured: str
    held: bool


def analyse(runs: Dict[str, Run]) -> Tuple[List[Target], List[str]]:
    targets: List[Target] = []
    rows: List[str] = []

    def row(r: Run, what: str, value: str) -> None:
        rows.append(f"| {r.name} | {what} | {value} |")

    s = runs.get("startup")
    if s:
        begin, end = s.start + s.rate, s.end
        pm1, ideal1 = peak_over_mean(s.at, begin, end, 1.0)
        pm01, ideal01 = peak_over_mean(s.at, begin, end, 0.1)
        rpp = per_handle_per_period(s, begin, end)
        targets.append(Target("start-up: peak/mean in 1 s bins after the first period ≤ 1.3x", fmt_ratio(pm1, ideal1),
                              pm1 <= 1.3))
        targets.append(Target("start-up: requests per handle per period 1.0 ± 0.1", f"{rpp:.3f}",
                              abs(rpp - 1.0) <= 0.1))
        row(s, "requests after the first period", f"{int(np.sum(s.at >= begin))} in {end - begin:.1f} s")
        row(s, "peak/mean, 1 s bins, after the first period", fmt_ratio(pm1, ideal1))
        row(s, "peak/mean, 100 ms bins, after the first period", fmt_ratio(pm01, ideal01))
        row(s, "requests per handle per period, after the first period", f"{rpp:.3f}")
        row(s, "the start-up burst (first second)", f"{int(np.sum(s.at < s.start + 1))} requests")
        later = s.at[s.at >= begin]
        if len(later) > 1:
            gap = np.diff(later)
            row(s, "the longest silence after the first period (a stall of the shared machine shows here)",
                f"{gap.max() * 1e3:.0f} ms at {later[gap.argmax()]:.2f} s")

    for name in ("outage", "outage-ra6", "outage-ra3"):
        r = runs.get(name)
        if not r:
            continue
        down, up = r.event("answers 503"), r.event("back up")
        ra = None
        label = next((lb for _, lb in r.events if "Retry-After" in lb), None)
        if label:
            ra = float(label.rsplit(" ", 1)[1])
        gaps = gaps_after(r, down, up, 503)
        during = per_handle_per_period(r, down, up)
        r50, r99, r100, never = recovery(r, up)
        after_pm1, after_ideal1 = peak_over_mean(r.at, up + r.rate, r.end, 1.0)
        back_pm1, back_ideal1 = peak_over_mean(r.at, up, up + r.rate, 1.0)
        shortest = float(gaps.min()) if len(gaps) else float("nan")
        row(r, "outage", f"{up - down:.1f} s" + (f", Retry-After: {ra:g}" if ra else ", no Retry-After"))
        row(r, "requests per handle per period during the outage", f"{during:.2f}")
        row(r, "a handle's wait after a 503: shortest, median",
            f"{shortest:.2f} s, {float(np.median(gaps)) if len(gaps) else float('nan'):.2f} s")
        row(r, "recovery: 50%, 99%, 100% of handles with a good answer after the server is back",
            f"{r50:.2f} s, {r99:.2f} s, {r100:.2f} s" + (f" ({never} never)" if never else ""))
        row(r, "peak/mean, 1 s bins, first period after recovery", fmt_ratio(back_pm1, back_ideal1))
        row(r, "peak/mean, 1 s bins, from one period after recovery", fmt_ratio(after_pm1, after_ideal1))
        if ra == 6:
            targets.append(Target(f"{name}: with Retry-After: 6, no handle asks again sooner than 6 s",
                                  f"shortest wait {shortest:.2f} s (capped at the period, T = {r.rate:g} s)",
                                  shortest >= 6))
        elif ra:
            targets.append(Target(f"{name}: with Retry-After: {ra:g} (below the period), no handle asks again sooner",
                                  f"shortest wait {shortest:.2f} s", shortest >= ra))

    c = runs.get("checksync")
    if c:
        t = c.event("refresh_now")
        window = 2.0
        inside = c.at[(c.at >= t) & (c.at < t + window)]
        pm1, ideal1 = peak_over_mean(c.at, t, t + window, 1.0)
        pm025, ideal025 = peak_over_mean(c.at, t, t + window, 0.25)
        pm01, ideal01 = peak_over_mean(c.at, t, t + window, 0.1)
        asked = set(c.handle[(c.at >= t) & (c.at < t + window + 1)].tolist())
        after = c.at[c.at >= t]
        above = ideal_share_above(c.at, t, t + window, 0.1, 1.5)
        targets.append(Target("check-sync, 2 s window: peak/mean over the window ≤ 1.5x, in 1 s bins as the others",
                              f"{fmt_ratio(pm1, ideal1)}; in 100 ms bins {fmt_ratio(pm01, ideal01)}, an ideal random "
                              f"fleet is above 1.5x in {above:.0%} of draws", pm1 <= 1.5))
        row(c, "requests in the 2 s window", f"{len(inside)} ({len(asked)} of {c.handles} handles asked by then)")
        row(c, "peak/mean over the window, 1 s bins", fmt_ratio(pm1, ideal1))
        row(c, "peak/mean over the window, 250 ms bins", fmt_ratio(pm025, ideal025))
        row(c, "peak/mean over the window, 100 ms bins", fmt_ratio(pm01, ideal01))
        row(c, "the last asked request, after the call", f"{float(np.sort(after)[min(len(after), c.handles) - 1] - t):.2f} s")
        late_pm1, late_ideal1 = peak_over_mean(c.at, t + window + c.rate, c.end, 1.0)
        row(c, "peak/mean, 1 s bins, from one period after the window", fmt_ratio(late_pm1, late_ideal1))

    d = runs.get("steady")
    if d:
        changed = d.event("config changed")
        nm = d.status == 304
        full = d.status == 200
        per304 = d.request_bytes[nm] + d.answer_bytes[nm]
        per200 = d.request_bytes[full] + d.answer_bytes[full]
        targets.append(Target("a 304 refresh under 1 kB on the wire (request + answer)",
                              f"{per304.mean():.0f} bytes ({d.request_bytes[nm].mean():.0f} + "
                              f"{d.answer_bytes[nm].mean():.0f})", per304.max() < 1000))
        row(d, "bytes per 304 refresh (HTTP request + answer, mean; max)", f"{per304.mean():.0f}; {per304.max()}")
        row(d, "bytes per 200 refresh with the config (mean)", f"{per200.mean():.0f}")
        row(d, "requests per handle per period, after the first period",
            f"{per_handle_per_period(d, d.start + d.rate, d.end):.3f}")
        took = [t - changed for t, s in zip(d.at, d.status) if t >= changed and s == 200]
        row(d, "after the change: 200s, and the last one after it",
            f"{len(took)} ({len(set(d.handle[(d.at >= changed) & full].tolist()))} handles), "
            f"{max(took):.2f} s" if took else "none")
    return targets, rows


def section(runs: Dict[str, Run], plots_dir: str, notes: str, root: str) -> str:
    targets, rows = analyse(runs)
    any_run = next(iter(runs.values()))
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [BEGIN, "## Fleet", ""]
    out.append(
        f"Written by `make fleet` on {now}: {any_run.handles} handles of libprovision {any_run.library} (release "
        f"build, its C ABI through dlopen, each with its own refresh worker), `refresh_rate` {any_run.rate:g} s, "
        "against one loopback HTTP server that logs every arrival (bench/fleet). Every refresh is a new connection "
        "(`Connection: close`). Bytes are HTTP bytes as the server's socket saw them (TCP/IP headers not counted). "
        "Beside each peak/mean: what an ideal fleet shows in the same bins, the same number of requests at "
        f"independent uniformly random times; at N/T = {any_run.handles / any_run.rate:.0f} requests per second "
        f"a 100 ms bin holds about {any_run.handles / any_run.rate / 10:.0f}, so peaks in such bins are mostly "
        "the noise of a finite N."
    )
    out.append("")
    out.append("| scenario | load average (1, 5, 15 min) before → after |")
    out.append("|---|---|")
    for r in runs.values():
        out.append(f"| {r.name} | {r.load_before} → {r.load_after} |")
    out.append("")
    out.append("### Targets (issue 11)")
    out.append("")
    out.append("| target | measured | |")
    out.append("|---|---|---|")
    for t in targets:
        out.append(f"| {t.what} | {t.measured} | {'held' if t.held else '**missed**'} |")
    out.append("")
    out.append("### Figures per scenario")
    out.append("")
    out.append("| scenario | what | measured |")
    out.append("|---|---|---|")
    out.extend(rows)
    out.append("")
    out.append("### Request rate over time")
    out.append("")
    for r in runs.values():
        rel = os.path.relpath(os.path.join(plots_dir, r.name + ".png"), root)
        out.append(f"**{r.title}**")
        out.append("")
        out.append(f"![{r.title}]({rel})")
        out.append("")
    if notes:
        out.append(notes.strip())
        out.append("")
    out.append(END)
    return "\n".join(out) + "\n"


def replace_section(path: str, text: str) -> None:
    old = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    if BEGIN in old and END in old:
        head, rest = old.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        new = head + text + ("\n" + tail if tail else "")
    else:
        new = old.rstrip("\n") + "\n\n" + text
    with open(path, "w") as f:
        f.write(new)


def main(argv: List[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    run_dir, plots_dir, benchmarks = argv[1:]
    names = ["startup", "outage", "outage-ra6", "outage-ra3", "checksync", "steady"]
    runs = {n: r for n in names if (r := load(run_dir, n)) is not None}
    if not runs:
        print(f"report: no runs in {run_dir}", file=sys.stderr)
        return 1
    os.makedirs(plots_dir, exist_ok=True)
    for r in runs.values():
        plot(r, os.path.join(plots_dir, r.name + ".png"))
    notes_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "NOTES.md")
    notes = open(notes_path).read() if os.path.exists(notes_path) else ""
    root = os.path.dirname(os.path.abspath(benchmarks))
    text = section(runs, plots_dir, notes, root)
    replace_section(benchmarks, text)
    targets, _ = analyse(runs)
    for t in targets:
        print(f"{'held  ' if t.held else 'MISSED'} {t.what}: {t.measured}")
    print(f"wrote {benchmarks} and {len(runs)} plots in {plots_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
