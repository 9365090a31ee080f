"""`make mutate`: mutation testing of the modules that keep people safe, with a score per module.

Runs mutmut (configured under `[tool.mutmut]` in pyproject.toml: which modules, which
tests), then reads its results and prints, per module, how many mutants the tests
killed, which survived, and the score: killed / (all - equivalent). A mutant that makes
the tests hang past mutmut's timeout counts as killed, and so does one that mypy --strict
rejects (mutmut's type-check filter): `make test` would not let that code in either.
Surviving mutants that no behaviour can tell apart from the original are listed, with
the reason, in `tests/mutation_equivalents.toml`; they are shown but not counted.

    python -m tests.mutate                       # everything (over an hour on 2 cores)
    python -m tests.mutate 'bot.dispatcher*'     # some mutants again, after new tests
    python -m tests.mutate --report              # only the table, from the last run

Exits non-zero when a module scores under MINIMUM_SCORE or a listed equivalent mutant
no longer exists (its code changed: look at it again).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"
EQUIVALENTS = ROOT / "tests" / "mutation_equivalents.toml"
# Every verdict of the last run, with the hash of each function it was reached on and of
# the tests it ran: a run in a fresh clone starts from these (see `seed_results`).
RESULTS = ROOT / "tests" / "mutation_results.json"
# Which tests the verdicts in mutants/ were reached with (see `forget_stale_survivors`).
TESTS_SEEN = MUTANTS / "tests_seen.json"
MINIMUM_SCORE = 0.90
# How long a test waits for something the bot should do, in a mutation run: no test of the
# unmutated code waits half that on this machine with both cores busy, and a mutant that
# stops a reply fails after this instead of the suite's 30 s.
MUTANT_WAIT_SECONDS = 8.0

# mutmut's exit codes for a mutant's test run (mutmut.stats.status_by_exit_code).
KILLED = {1, 3}
TIMEOUT = {36, -24, 24, 152, 255}
# Rejected by mypy --strict before any test ran: `make test` would refuse that code too.
TYPE_CHECK = {37}
SURVIVED = {0}
NO_TESTS = {5, 33}


@dataclass
class Module:
    name: str
    killed: int = 0
    timeout: int = 0
    type_check: int = 0
    survived: list[str] = field(default_factory=list)
    no_tests: list[str] = field(default_factory=list)
    equivalent: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)  # not checked, suspicious, ...

    @property
    def counted(self) -> int:
        return self.caught + len(self.survived) + len(self.no_tests)

    @property
    def caught(self) -> int:
        return self.killed + self.timeout + self.type_check

    @property
    def score(self) -> float:
        return self.caught / self.counted if self.counted else 1.0


def module_of(mutant: str) -> str:
    """`bot.ratelimit.xǁPacerǁacquire__mutmut_3` -> `bot.ratelimit`."""
    return mutant.split(".x", 1)[0]


_ROLL_CALLS = (
    "tests/bot/test_checkins.py",
    "tests/bot/test_fallback.py",  # answers and calls for help by SMS
    "tests/bot/test_rollcall_chunks.py",
    "tests/bot/test_reminder_rules.py",
    "tests/bot/test_leads.py",
    "tests/bot/test_privacy.py",
)
_CURFEWS = ("tests/schedules/", "tests/bot/test_curfews.py")
_FEEDS = (
    "tests/schedules/sources/",
    "tests/schedules/test_curfew_text_edges.py",  # security news in FCDO change notes
    "tests/bot/test_feeds.py",
)
_BROADCASTS = (
    "tests/bot/test_broadcasts.py",
    "tests/db/test_broadcasts.py",
    "tests/db/test_fan_out_rules.py",
    "tests/bot/test_feeds.py",
)
# The tests that are about each module: a mutant runs those of them that reach the function
# it changed (mutmut's own selection), not every test of the bot that happens to pass
# through it. Without this a surviving mutant of the dispatcher runs 150 bot tests.
_AUDIENCE = (
    "tests/db/test_audience_rules.py",
    "tests/db/test_trip_listing_rules.py",
    "tests/db/test_subscriptions.py",
    "tests/db/test_subscriber_chats_rules.py",  # the pages a fan-out walks
    "tests/db/test_whereabouts.py",
    "tests/db/test_whereabouts_rules.py",
    "tests/bot/test_whereabouts.py",
    "tests/bot/test_subscriptions.py",
)
TESTS_OF: dict[str, tuple[str, ...]] = {
    "bot.dispatcher": (
        "tests/bot/test_dispatcher.py",
        "tests/bot/test_outages.py",
        "tests/bot/test_paid_broadcast.py",
        "tests/bot/test_fallback.py",
        "tests/bot/test_cards.py",  # a country card's send, edit and pin steps
        "tests/bot/test_card_step_rules.py",  # ... and each step's edge cases
        "tests/bot/test_retry_after_rules.py",
        "tests/bot/test_replicas.py",  # its share of the work when others send too
        "tests/bot/test_paid_refusal_rules.py",
    ),
    "bot.ratelimit": (
        "tests/bot/test_ratelimit.py",
        "tests/bot/test_budget.py",
        "tests/bot/test_dispatcher.py",
        "tests/bot/test_paid_broadcast.py",
    ),
    "db.deliveries": (
        "tests/db/test_deliveries.py",
        "tests/db/test_outbox_rules.py",  # fallbacks in an alert's counts; unreachable
        "tests/db/test_senders.py",  # claims split between senders
        "tests/bot/test_dispatcher.py",
        "tests/bot/test_outages.py",
        "tests/bot/test_broadcasts.py",
        "tests/bot/test_paid_broadcast.py",
    ),
    "bot.access": (
        "tests/bot/test_access.py",
        "tests/bot/test_commands.py",
        "tests/bot/test_fuzz_commands.py",
        "tests/bot/test_leads.py",
        "tests/bot/test_enrolment.py",
        "tests/bot/test_budget.py",
        "tests/bot/test_access_rules.py",
    ),
    "bot.rollcall.rules": _ROLL_CALLS,
    "bot.rollcall.views": _ROLL_CALLS,
    "bot.rollcall.notices": _ROLL_CALLS,
    "db.checkins": (
        "tests/db/test_checkins.py",
        "tests/db/test_roll_entry_rules.py",
        "tests/db/test_reminder_target_rules.py",
        "tests/db/test_audience_rules.py",
        "tests/db/test_privacy.py",
        *_ROLL_CALLS,
    ),
    "schedules.rollcall": ("tests/schedules/test_rollcall.py", "tests/bot/test_checkins.py"),
    "schedules.curfew_times": _CURFEWS,
    "schedules.curfew_text.clock": _CURFEWS,
    "schedules.curfew_text.dates": _CURFEWS,
    "schedules.curfew_text.places": _CURFEWS,
    "schedules.curfew_text.reading": _CURFEWS,
    "schedules.curfew_text.report": _CURFEWS,
    "schedules.sources.changes": _FEEDS,
    "schedules.sources.classify": _FEEDS,
    "schedules.sources.us_state": _FEEDS,
    "schedules.countries": (
        "tests/schedules/",
        "tests/bot/test_subscriptions.py",
        "tests/bot/test_broadcasts.py",
        "tests/bot/test_leads.py",
    ),
    "bot.broadcasts": _BROADCASTS,
    "db.broadcasts": _BROADCASTS,
    "db.privacy": (
        "tests/db/test_privacy.py",
        "tests/db/test_privacy_rules.py",
        "tests/db/test_trip_listing_rules.py",  # a trip's days in the export
        "tests/bot/test_reminder_rules.py",  # what a call for help leaves in the export
        "tests/bot/test_privacy.py",
    ),
    "db.subscriptions": _AUDIENCE,
    "db.whereabouts": _AUDIENCE,
}


# Every test file some mutant may run: all that mutmut's stats and clean runs need to run.
ANY_MUTANT = tuple(sorted({path for paths in TESTS_OF.values() for path in paths}))


def tests_of(mutant: str) -> tuple[str, ...] | None:
    """The test files a run under mutmut may run: a mutant's, or for mutmut's own runs
    (stats, clean, forced failure) those of any mutant; None for a mutant of a module not
    listed, which runs what mutmut chose."""
    if "__mutmut_" not in mutant:
        return ANY_MUTANT
    return TESTS_OF.get(module_of(mutant))


def load_equivalents() -> dict[str, str]:
    if not EQUIVALENTS.exists():
        return {}
    data = tomllib.loads(EQUIVALENTS.read_text("utf-8"))
    return {str(name): str(reason) for name, reason in data.get("equivalent", {}).items()}


def collect(equivalents: dict[str, str]) -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for source in _mutated_sources():
        modules[_module_of_source(source)] = Module(_module_of_source(source))
    for mutant, code in all_codes().items():
        module = modules.setdefault(module_of(mutant), Module(module_of(mutant)))
        if code in KILLED:
            module.killed += 1
        elif code in TIMEOUT:
            module.timeout += 1
        elif code in TYPE_CHECK:
            module.type_check += 1
        elif mutant in equivalents and code in SURVIVED | NO_TESTS:
            module.equivalent.append(mutant)
        elif code in SURVIVED:
            module.survived.append(mutant)
        elif code in NO_TESTS:
            module.no_tests.append(mutant)
        else:
            module.other.append(mutant)
    return modules


def report(modules: dict[str, Module], equivalents: dict[str, str]) -> bool:
    """Print the table and the survivors; True when every module meets the minimum."""
    header = (
        f"{'module':<30} {'mutants':>7} {'killed':>6} {'timeout':>7} {'mypy':>5} {'survived':>8} "
        f"{'no test':>7} {'equiv.':>6} {'score':>6}"
    )
    print(header)
    print("-" * len(header))
    ok = True
    for module in sorted(modules.values(), key=lambda m: m.name):
        total = module.counted + len(module.equivalent) + len(module.other)
        flag = "" if module.score >= MINIMUM_SCORE else f"  < {MINIMUM_SCORE:.0%}"
        if module.other:
            flag = f"  {len(module.other)} not run"
        ok = ok and not flag and not module.other
        print(
            f"{module.name:<30} {total:>7} {module.killed:>6} {module.timeout:>7} "
            f"{module.type_check:>5} "
            f"{len(module.survived):>8} {len(module.no_tests):>7} {len(module.equivalent):>6} "
            f"{module.score:>6.1%}{flag}"
        )
    everything = list(modules.values())
    killed = sum(m.caught for m in everything)
    counted = sum(m.counted for m in everything)
    print("-" * len(header))
    print(f"{'all':<30} {'':>7} {killed:>6} of {counted} counted: {killed / max(counted, 1):.1%}")

    for module in sorted(modules.values(), key=lambda m: m.name):
        lost = module.survived + module.no_tests
        if lost:
            print(f"\nsurvived in {module.name} (`mutmut show NAME` for the change):")
            for name in lost:
                print(f"  {name}{'  (no test reaches it)' if name in module.no_tests else ''}")
        if module.other:
            print(f"\n{len(module.other)} not checked (or suspicious) in {module.name}")
    codes = all_codes()
    # Gone, killed or caught since it was listed; a mutant not run yet says nothing.
    stale = sorted(
        n for n in equivalents if n not in codes or codes[n] not in SURVIVED | NO_TESTS | {None}
    )
    if stale:
        ok = False
        print("\nlisted as equivalent, but now killed or changed (look again):")
        for name in stale:
            print(f"  {name}")
    return ok


def all_codes() -> dict[str, int | None]:
    codes: dict[str, int | None] = {}
    for meta in MUTANTS.rglob("*.py.meta"):
        codes.update(json.loads(meta.read_text("utf-8"))["exit_code_by_key"])
    return codes


# -- verdicts kept from one run to the next, in any clone ----------------------------------
def tests_digest(module: str) -> str:
    """A hash of the tests a module's mutants run and of everything they share (the
    harness, the fixtures, the simulator's test side): when it changes, a mutant that
    survived may be killed now."""
    paths: set[Path] = set()
    for listed in TESTS_OF.get(module, ("tests/",)):
        path = ROOT / listed
        paths.update(path.rglob("*.py") if path.is_dir() else [path])
    paths.update(p for p in (ROOT / "tests").rglob("*.py") if not p.name.startswith("test_"))
    paths.discard(Path(__file__).resolve())  # this runner: only its list of tests counts
    digest = hashlib.sha256(repr(TESTS_OF.get(module)).encode())
    for path in sorted(paths):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _meta_path(source: str) -> Path:
    return MUTANTS / f"{source}.meta"


def _mutated_sources() -> list[str]:
    configured = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    return [str(path) for path in configured["tool"]["mutmut"]["only_mutate"]]


def _module_of_source(source: str) -> str:
    return source.removesuffix(".py").replace("/", ".")


def seed_results() -> int:
    """Start a run with no mutants/ (a fresh clone) from `RESULTS`: each file's verdicts
    and the hash of each function they were reached on. mutmut keeps a verdict only while
    its function's hash is unchanged, as between its own runs, and runs the rest; the
    verdicts of mutants that survived are dropped when their module's tests changed since
    (`forget_stale_survivors`). Returns how many verdicts were seeded."""
    if not RESULTS.exists():
        return 0
    saved = json.loads(RESULTS.read_text("utf-8"))
    mutated = set(_mutated_sources())
    seeded = 0
    for source, kept in saved["files"].items():
        meta = _meta_path(source)
        if meta.exists() or source not in mutated:
            continue
        module = _module_of_source(source)
        codes = {
            f"{module}.{function}__mutmut_{number}": code
            for function, verdicts in kept["verdicts"].items()
            for number, code in enumerate(verdicts, start=1)
        }
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.write_text(
            json.dumps(
                {
                    "exit_code_by_key": codes,
                    "hash_by_function_name": kept["functions"],
                    "type_check_error_by_key": {},
                    "durations_by_key": {},
                    "estimated_durations_by_key": {},
                }
            ),
            "utf-8",
        )
        seeded += sum(code is not None for code in codes.values())
    if seeded and not TESTS_SEEN.exists():
        TESTS_SEEN.write_text(json.dumps(saved["tests"]), "utf-8")
    return seeded


def forget_stale_survivors() -> list[str]:
    """Drop the verdicts of surviving mutants whose module's tests changed since they were
    reached (a new test may kill them), so that the run tries them again; killed ones
    stay killed, and so do the survivors listed as equivalent, which no test can tell
    apart. Returns the modules whose tests changed."""
    seen = json.loads(TESTS_SEEN.read_text("utf-8")) if TESTS_SEEN.exists() else {}
    equivalents = load_equivalents()
    sources = {_module_of_source(source): source for source in _mutated_sources()}
    now = {module: tests_digest(module) for module in sources}
    changed = sorted(m for m in now if seen.get(m) != now[m])
    for module in changed:
        meta_path = _meta_path(sources[module])
        if not meta_path.exists():
            continue
        meta = json.loads(meta_path.read_text("utf-8"))
        codes = meta["exit_code_by_key"]
        for name, code in codes.items():
            if code in SURVIVED | NO_TESTS and name not in equivalents:
                codes[name] = None
        meta_path.write_text(json.dumps(meta, indent=4), "utf-8")
    MUTANTS.mkdir(exist_ok=True)
    TESTS_SEEN.write_text(json.dumps(now, indent=1, sort_keys=True), "utf-8")
    return changed


def save_results() -> None:
    """Write `RESULTS` from mutants/: what the next run, in any clone, starts from."""
    files: dict[str, Any] = {}
    for source in _mutated_sources():
        meta_path = _meta_path(source)
        if not meta_path.exists():
            continue
        meta = json.loads(meta_path.read_text("utf-8"))
        verdicts: dict[str, list[int | None]] = {}
        for name, code in meta["exit_code_by_key"].items():
            function, _, number = name.rpartition(".")[2].rpartition("__mutmut_")
            found = verdicts.setdefault(function, [])
            found.extend([None] * (int(number) - len(found)))
            found[int(number) - 1] = code
        files[source] = {"functions": meta["hash_by_function_name"], "verdicts": verdicts}
    seen = json.loads(TESTS_SEEN.read_text("utf-8")) if TESTS_SEEN.exists() else {}
    text = json.dumps({"tests": seen, "files": files}, indent=1, sort_keys=True)
    RESULTS.write_text(text + "\n", "utf-8")


# -- mutmut, made cheaper in two steps of its preparation ---------------------------------
def _mutated_functions(path: Path) -> list[Any]:
    """The mutant functions of a mutated file with their lines, read with `ast`.

    mutmut finds them with libcst and its position metadata, which on a file of 60,000
    lines (the curfew reader's, mutated) takes minutes and gigabytes: memory every forked
    mutant run then inherits. The lines are the same: a function's first decorator to
    its last line; functions nested in a mutant are part of it.
    """
    from mutmut.mutation.file_mutation import MutatedMethodLocation
    from mutmut.utils.format_utils import is_mutated_method_name

    found = []
    nodes: list[ast.AST] = [ast.parse(path.read_text("utf-8"))]
    while nodes:
        node = nodes.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if is_mutated_method_name(node.name):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                last = node.end_lineno or node.lineno
                found.append(MutatedMethodLocation(path, node.name, first, last))
            continue
        nodes.extend(ast.iter_child_nodes(node))
    return found


def _mutants_mypy_rejects() -> dict[str, Any]:
    """mutmut's `filter_mutants_with_type_checker`, with the mutant functions found by
    `_mutated_functions`: which mutants mypy --strict rejects, and why."""
    from mutmut.configuration import config
    from mutmut.mutation.file_mutation import FailedTypeCheckMutant
    from mutmut.type_checking import run_type_checker
    from mutmut.utils.file_utils import change_cwd
    from mutmut.utils.format_utils import get_mutant_name

    rejected: dict[str, Any] = {}
    with change_cwd(Path("mutants")):
        errors = run_type_checker(config().type_check_command)
        by_path: dict[Path, list[Any]] = {}
        for error in errors:
            by_path.setdefault(error.file_path, []).append(error)
        for path, errors_of_file in by_path.items():
            functions = _mutated_functions(path)
            if not functions:
                continue  # an error in a file with no mutants: not a mutant's doing
            module = path.relative_to(Path(".").absolute())
            for error in errors_of_file:
                line = error.line_number
                found = [f for f in functions if f.line_number_start <= line <= f.line_number_end]
                if not found:
                    raise RuntimeError(f"a type error outside any mutant: {error}")
                name = get_mutant_name(module, found[0].function_name)
                rejected[name] = FailedTypeCheckMutant(found[0], name, error)
    return rejected


def run_mutmut(args: list[str]) -> int:
    """`mutmut ARGS`, with two of `run`'s preparation steps made cheaper, results unchanged:

    - which mutants mypy rejects is worked out with `ast`, not libcst (`_mutated_functions`);
    - after a full stats run, the "clean" run of every test is skipped: the stats run has
      just run the same tests on the same unmutated code (each mutant's trampoline calls
      the original), and mutmut stops when one of them fails. When the stats come from an
      earlier run, the clean run goes as usual.
    """
    import mutmut.__main__ as mutmut_main
    from mutmut.workers.isolation import MutantRunner, get_mutant_runner

    collect_stats = mutmut_main.run_stats_collection
    full_stats = False

    def run_stats_collection(runner: MutantRunner, tests: Iterable[str] | None = None) -> None:
        nonlocal full_stats
        collect_stats(runner, tests)
        full_stats = tests is None

    def runner_without_a_second_clean_run(max_workers: int = 1) -> MutantRunner:
        runner = get_mutant_runner(max_workers)
        clean = runner.run_clean_tests

        def run_clean_tests(tests: Iterable[str]) -> int:
            return 0 if full_stats else clean(tests)

        runner.run_clean_tests = run_clean_tests  # type: ignore[method-assign]
        return runner

    # This module was imported as part of the project's `tests` package; mutmut's pytest
    # runs must import the copy of the tests it made in mutants/, so forget the original.
    for name in [n for n in sys.modules if n == "tests" or n.startswith("tests.")]:
        del sys.modules[name]
    # `run` looks these up in its module's namespace.
    vars(mutmut_main).update(
        filter_mutants_with_type_checker=_mutants_mypy_rejects,
        run_stats_collection=run_stats_collection,
        get_mutant_runner=runner_without_a_second_clean_run,
    )
    try:
        mutmut_main.cli.main(args, prog_name="mutmut", standalone_mode=False)
    except SystemExit as stopped:
        return stopped.code if isinstance(stopped.code, int) else 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mutants", nargs="*", help="mutant names or patterns (default: all)")
    parser.add_argument("--report", action="store_true", help="only print the last results")
    parser.add_argument(
        "--max-children",
        type=int,
        help="parallel mutant runs (default: CPUs; more makes timeouts and waits unreliable)",
    )
    args = parser.parse_args(argv)
    if not args.report:
        seeded = seed_results()
        if seeded:
            print(f"{seeded} verdicts kept from {RESULTS.name} (their functions are unchanged)")
        changed = forget_stale_survivors()
        if changed:
            print(f"tests changed for {len(changed)} modules: their survivors run again")
        command = [sys.executable, "-m", "tests.mutate", "--mutmut", "run", *args.mutants]
        if args.max_children:
            command += ["--max-children", str(args.max_children)]
        # mutmut's type-check filter calls `mypy`: the one next to this Python.
        bin_dir = str(Path(sys.executable).parent)
        env = {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}
        completed = subprocess.run(command, cwd=ROOT, env=env, check=False)
        if completed.returncode not in (0, 1):
            print(f"mutmut run failed ({completed.returncode})", file=sys.stderr)
            return completed.returncode
        save_results()
    if not MUTANTS.exists():
        print("no results yet: run without --report first", file=sys.stderr)
        return 2
    equivalents = load_equivalents()
    return 0 if report(collect(equivalents), equivalents) else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--mutmut"]:
        sys.exit(run_mutmut(sys.argv[2:]))
    sys.exit(main())
