"""The curfew extractor against the corpus of real alert texts (tests/schedules/curfew_corpus).

Run with -s to see the share fully right per pattern; `python -m benchmarks.curfew_text`
prints the same and the time per alert.
"""

from __future__ import annotations

from benchmarks.curfew_text import check, load_cases, score

REQUIRED_SHARE = 0.95


def test_the_corpus_is_big_and_varied_enough() -> None:
    cases = load_cases()
    assert len(cases) >= 60
    assert len({case["id"] for case in cases}) == len(cases)
    tags = {tag for case in cases for tag in case["tags"]}
    for pattern in (
        "cross-sentence",
        "words-between",
        "utc-stated",
        "utc-mismatch",
        "lifted",
        "mention-only",
        "relaxation",
        "superseded",
        "weekdays",
        "other-country",
        "until",
        "place-gazetteer",
        "multi-zone",
        "french",
        "spanish",
        "continuous",
    ):
        assert pattern in tags, pattern
    assert any(case.get("holdout") for case in cases)


def test_at_least_95_percent_of_real_alerts_are_read_fully_right() -> None:
    result = score()
    print()
    print("\n".join(result.lines()))
    assert result.share >= REQUIRED_SHARE, "\n".join(result.lines())


def test_the_seed_alert_is_read_right_in_2022_and_flagged_in_2025() -> None:
    [case] = [c for c in load_cases() if c["id"] == "kz-2022-seed"]
    assert check(case) == []
    [stale] = [c for c in load_cases() if c["id"] == "kz-2025-stale-utc"]
    assert check(stale) == []
