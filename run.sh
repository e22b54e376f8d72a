#!/usr/bin/env bash
# Installs roadwatch (first time only) and runs the all-in-one platform on
# http://127.0.0.1:8000 with its data under ./var, and the demo city streaming into it
# (`./run.sh --no-demo` without it; other arguments go to `roadwatch serve`).
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh
exec .venv/bin/roadwatch serve --demo "$@"
