#!/usr/bin/env bash
# The whole check: install, start the real services, lint, type-check, boundaries, tests.
# Extra arguments go to pytest (e.g. ./test.sh tests/devices -x).
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh dev
scripts/services.sh

echo "== ruff"
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
echo "== mypy"
.venv/bin/mypy
echo "== import-linter"
.venv/bin/lint-imports --no-cache
echo "== pytest"
.venv/bin/pytest "$@"
