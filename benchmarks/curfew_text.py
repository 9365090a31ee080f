"""Curfew extraction against the corpus of real alert texts: how many are read fully
right, per pattern, and how long one alert takes.

    .venv/bin/python -m benchmarks.curfew_text

The corpus is tests/schedules/curfew_corpus/cases.toml (sources and licences in its
README). A case is fully right when `parse_report`, given only the text, the country
and the date, gives exactly the expected windows in the expected order. The time per
alert is the mean over several passes of the whole corpus, after the gazetteer is
loaded (its one-off load is printed on its own).
"""

from __future__ import annotations

import contextlib
import platform
import time
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from schedules.curfew_text import parse_report
from schedules.curfew_text.places import warm

CORPUS = (
    Path(__file__).resolve().parents[1] / "tests" / "schedules" / "curfew_corpus" / "cases.toml"
)
FIELDS = ("start", "end", "zone", "start_utc", "end_utc", "from", "until", "days", "place")


def load_cases() -> list[dict[str, Any]]:
    with CORPUS.open("rb") as handle:
        cases: list[dict[str, Any]] = tomllib.load(handle)["case"]
    return cases


def _run(case: dict[str, Any]) -> list[dict[str, object]]:
    day = case["date"]
    assert isinstance(day, date)
    return parse_report(case["text"], country=case["country"], day=day)


def _row_right(got: dict[str, object], want: dict[str, Any]) -> list[str]:
    wrong: list[str] = []
    for name in FIELDS:
        expected = want.get(name)
        value = got.get(name)
        if name == "place" and isinstance(expected, list):
            ok = value in expected
        elif name in ("from", "until"):
            ok = value == (str(expected) if expected is not None else None)
        else:
            ok = value == expected
        if not ok:
            wrong.append(f"{name}: got {value!r}, want {expected!r}")
    stated = got.get("stated_utc")
    got_stated = (
        (stated.get("start"), stated.get("end")) if isinstance(stated, dict) else (None, None)
    )
    if got_stated != (want.get("stated_start"), want.get("stated_end")):
        wrong.append(f"stated_utc: got {got_stated}")
    if got.get("utc_matches") != want.get("utc_matches"):
        wrong.append(f"utc_matches: got {got.get('utc_matches')!r}")
    return wrong


def check(case: dict[str, Any]) -> list[str]:
    """What the extractor got wrong in a case; [] when it is fully right."""
    try:
        rows = _run(case)
    except ValueError as error:
        return [f"refused: {error}"]
    wanted: list[dict[str, Any]] = case.get("window", [])
    if case["result"] != "windows":
        return [] if not rows else [f"expected no window ({case['result']}), got {len(rows)}"]
    if len(rows) != len(wanted):
        got = [f"{r['start']}-{r['end']} {r['zone']}" for r in rows]
        return [f"expected {len(wanted)} windows, got {len(rows)}: {got}"]
    problems: list[str] = []
    for index, (got_row, want_row) in enumerate(zip(rows, wanted, strict=True)):
        problems.extend(f"window {index + 1} {p}" for p in _row_right(got_row, want_row))
    return problems


@dataclass(frozen=True)
class Score:
    right: int
    total: int
    by_tag: dict[str, tuple[int, int]]
    failures: dict[str, list[str]]

    @property
    def share(self) -> float:
        return self.right / self.total if self.total else 0.0

    def lines(self) -> list[str]:
        out = [f"curfew corpus: {self.right}/{self.total} fully right ({self.share:.1%})"]
        for tag, (right, total) in sorted(self.by_tag.items()):
            out.append(f"  {tag:<18} {right:>3}/{total:<3} {right / total:6.1%}")
        for case_id, problems in self.failures.items():
            out.append(f"  wrong: {case_id}: {'; '.join(problems)}")
        return out


def score(cases: list[dict[str, Any]] | None = None) -> Score:
    cases = load_cases() if cases is None else cases
    tags: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    failures: dict[str, list[str]] = {}
    right = 0
    for case in cases:
        problems = check(case)
        ok = not problems
        right += ok
        for tag in [*case.get("tags", []), "holdout" if case.get("holdout") else "development"]:
            tags[tag][0] += ok
            tags[tag][1] += 1
        if not ok:
            failures[case["id"]] = problems
    return Score(right, len(cases), {t: (r, n) for t, (r, n) in tags.items()}, failures)


def time_per_alert(cases: list[dict[str, Any]], passes: int = 5) -> float:
    """Mean milliseconds to read one alert, over `passes` runs of the whole corpus."""
    started = time.perf_counter()
    for _ in range(passes):
        for case in cases:
            with contextlib.suppress(ValueError):
                _run(case)
    return (time.perf_counter() - started) * 1000 / (passes * len(cases))


def main() -> None:
    cases = load_cases()
    started = time.perf_counter()
    warm()
    load_ms = (time.perf_counter() - started) * 1000
    for line in score(cases).lines():
        print(line)
    per_alert = time_per_alert(cases)
    print(f"gazetteer load, once per process: {load_ms:.0f} ms")
    print(
        f"reading one alert: {per_alert:.2f} ms on average over {len(cases)} alerts "
        f"({platform.processor() or platform.machine()}, Python {platform.python_version()})"
    )


if __name__ == "__main__":
    main()
