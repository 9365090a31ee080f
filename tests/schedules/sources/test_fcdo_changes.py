"""Classification measured on real FCDO change descriptions (fcdo_changes.toml)."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import pytest

from schedules.sources.base import AlertKind, SourceKind
from schedules.sources.classify import classify

CORPUS = tomllib.loads((Path(__file__).parent / "fcdo_changes.toml").read_text("utf-8"))["change"]


def test_the_corpus_is_classified_at_least_95_percent_right(
    capsys: pytest.CaptureFixture[str],
) -> None:
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    wrong = []
    for change in CORPUS:
        kind, _ = classify(change["text"], level=None, source_kind=SourceKind.FCDO_GLOBAL)
        total[change["expected"]] += 1
        if kind.value == change["expected"]:
            right[change["expected"]] += 1
        else:
            wrong.append(f"{change['expected']} read as {kind.value}: {change['text'][:80]}")
    with capsys.disabled():
        shares = ", ".join(f"{k} {right[k]}/{total[k]}" for k in sorted(total))
        print(f"\nFCDO corpus: {sum(right.values())}/{len(CORPUS)} right ({shares})")
    assert len(CORPUS) >= 50
    assert set(total) == {kind.value for kind in AlertKind}
    assert sum(right.values()) >= 0.95 * len(CORPUS), "\n".join(wrong)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Rockets were fired towards the north of the country on 3 May.", AlertKind.SECURITY),
        ("Shots were fired on the main square of the capital.", AlertKind.SECURITY),
        ("Attacks on the coastal region have killed several people.", AlertKind.SECURITY),
        ("There is a threat to the British Embassy; avoid the area.", AlertKind.SECURITY),
        ("There have been no reports of protests in tourist areas.", AlertKind.ADVISORY),
        ("The protests have ended and the roads are open.", AlertKind.ADVISORY),
        ("Removal of information on demonstrations in the capital.", AlertKind.ADVISORY),
        ("Information on heart attacks and travel insurance.", AlertKind.ADVISORY),
        ("Strikes on public transport are planned for 2 May.", AlertKind.ADVISORY),
        ("Updated information on entry requirements and passport validity.", AlertKind.ADVISORY),
        ("Editorial changes to the Money and Health sections.", AlertKind.ADVISORY),
        ("Leave now by any practical means.", AlertKind.DEPARTURE),
        ("British nationals should leave by commercial means.", AlertKind.DEPARTURE),
        ("The FCDO now advises against all travel to the country.", AlertKind.DEPARTURE),
        ("The FCDO no longer advises against all travel to the north.", AlertKind.ADVISORY),
        ("Follow the advice of local authorities, including any evacuation orders.",
         AlertKind.ADVISORY),
        ("A curfew is in place from 10pm to 6am in the capital.", AlertKind.CURFEW),
        ("The curfew has been lifted.", AlertKind.ADVISORY),
    ],
)  # fmt: skip
def test_rules_read_words_not_lines(text: str, kind: AlertKind) -> None:
    assert classify(text, level=None, source_kind=SourceKind.FCDO_GLOBAL)[0] is kind


@pytest.mark.parametrize(
    "title",
    [
        "Security Alert – U.S. Mission Kazakhstan (January 5, 2022)",
        "Demonstration Alert: U.S. Embassy Almaty",
        "Health Alert – U.S. Embassy Astana",
        "Message for U.S. Citizens: Routine services",
    ],
)
def test_embassy_alerts_stay_security_alerts(title: str) -> None:
    assert classify(title, level=None, source_kind=SourceKind.US_EMBASSY) == (
        AlertKind.SECURITY,
        False,
    )


def test_state_department_advisories_still_ignore_their_standing_words() -> None:
    text = "Exercise increased caution due to crime, terrorism, and civil unrest."
    assert classify(text, level=2, source_kind=SourceKind.US_STATE)[0] is AlertKind.ADVISORY
