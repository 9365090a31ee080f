"""`make mutate` keeps its verdicts from one run to the next, in any clone (tests/mutate.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests import mutate

KILLED, SURVIVED, MYPY = 1, 0, 37


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    mutants = tmp_path / "mutants"
    monkeypatch.setattr(mutate, "MUTANTS", mutants)
    monkeypatch.setattr(mutate, "RESULTS", tmp_path / "mutation_results.json")
    monkeypatch.setattr(mutate, "TESTS_SEEN", mutants / "tests_seen.json")
    return tmp_path


def _write_meta(codes: dict[str, int | None], hashes: dict[str, str]) -> Path:
    meta = mutate.MUTANTS / "bot" / "access.py.meta"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(
        json.dumps(
            {
                "exit_code_by_key": codes,
                "hash_by_function_name": hashes,
                "type_check_error_by_key": {},
                "durations_by_key": {},
                "estimated_durations_by_key": {},
            }
        )
    )
    return meta


def _codes(meta: Path) -> dict[str, int | None]:
    loaded: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    return loaded


CODES: dict[str, int | None] = {
    "bot.access.x_identify__mutmut_1": KILLED,
    "bot.access.x_identify__mutmut_2": SURVIVED,
    "bot.access.x_identify__mutmut_3": None,  # not run yet
    "bot.access.xǁGateǁcheck__mutmut_1": MYPY,
}
HASHES = {"x_identify": "4e94810f6951", "xǁGateǁcheck": "fbd2225a0752"}


def test_a_fresh_clone_starts_from_the_verdicts_of_the_last_run(workdir: Path) -> None:
    # A first look at the tests finds every module's new, then the run's verdicts.
    assert len(mutate.forget_stale_survivors()) == len(mutate._mutated_sources())
    meta = _write_meta(CODES, HASHES)
    mutate.save_results()
    shutil.rmtree(mutate.MUTANTS)

    assert mutate.seed_results() == 3  # the verdicts reached; the mutant not run has none
    assert _codes(meta) == CODES
    assert json.loads(meta.read_text())["hash_by_function_name"] == HASHES
    # The tests are those the verdicts were reached with: nothing is dropped.
    assert mutate.forget_stale_survivors() == []
    assert _codes(meta) == CODES
    # A seeded file is left alone by a second seeding: mutmut's own verdicts come first.
    _write_meta({**CODES, "bot.access.x_identify__mutmut_3": KILLED}, HASHES)
    assert mutate.seed_results() == 0
    assert _codes(meta)["bot.access.x_identify__mutmut_3"] == KILLED


def test_survivors_run_again_when_their_modules_tests_change(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A survivor listed as equivalent is not run again: no test can tell it apart.
    equivalents = workdir / "equivalents.toml"
    equivalents.write_text('[equivalent]\n"bot.access.x_identify__mutmut_4" = "a reason"\n')
    monkeypatch.setattr(mutate, "EQUIVALENTS", equivalents)
    codes = {**CODES, "bot.access.x_identify__mutmut_4": SURVIVED}
    mutate.forget_stale_survivors()
    meta = _write_meta(codes, HASHES)
    seen = json.loads(mutate.TESTS_SEEN.read_text())
    assert seen["bot.access"] == mutate.tests_digest("bot.access")
    mutate.TESTS_SEEN.write_text(json.dumps({**seen, "bot.access": "older tests"}))

    assert mutate.forget_stale_survivors() == ["bot.access"]
    assert _codes(meta) == {**codes, "bot.access.x_identify__mutmut_2": None}
    assert json.loads(mutate.TESTS_SEEN.read_text()) == seen


def test_a_modules_tests_digest_follows_its_tests_and_their_shared_helpers() -> None:
    dispatcher, privacy = mutate.tests_digest("bot.dispatcher"), mutate.tests_digest("db.privacy")
    assert dispatcher != privacy
    assert mutate.tests_digest("bot.dispatcher") == dispatcher
