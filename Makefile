# Two commands on a fresh machine with only Python: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run demo test lint install clean drill bench mutate

# The virtual environment is (re)built whenever pyproject.toml changes: what the bot
# needs for `run` and `demo`, and the development tools on top for everything else.
$(VENV)/.runtime: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed: $(VENV)/.runtime
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: $(VENV)/.runtime
	$(BIN)/dutybot run

# A replay of Kazakhstan, January 2022, on simulated Telegram and feeds: no token, no network.
demo: $(VENV)/.runtime
	$(BIN)/dutybot demo

# Fault drills on the real bot process (about ten minutes); prints what it measured.
drill: $(VENV)/.installed
	$(BIN)/python -m benchmarks.drills

# Broadcasts through the real bot process under Telegram's limits, beside PTB's own way:
# 50 minutes on two cores with PostgreSQL's rows (TEST_DATABASE_URL); BENCH_SCALE=0.1 or
# BENCH_ONLY=broadcast-1k for a quick look.
# Prints a table at the end.
bench: $(VENV)/.installed
	$(BIN)/python -m benchmarks.sim_capacity
	$(BIN)/python -m benchmarks.broadcast

# Mutation testing of the modules that keep people safe (over an hour on two cores in all):
# a score per module and the mutants that survived. MUTANTS='bot.dispatcher*' for some.
mutate: $(VENV)/.installed
	$(BIN)/python -m tests.mutate $(MUTANTS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
