#!/usr/bin/env bash
# Creates .venv and installs roadwatch; `bootstrap.sh dev` adds the development tools.
# Re-installs only when pyproject.toml changed since the last install of that kind.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-}"
if [[ -z "$PYTHON" ]]; then
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            PYTHON="$candidate"
            break
        fi
    done
fi
if [[ -z "$PYTHON" ]]; then
    echo "roadwatch needs Python 3.11 or newer (none found on PATH)" >&2
    exit 1
fi

if [[ ! -x .venv/bin/python ]]; then
    "$PYTHON" -m venv .venv
fi
UV_VERSION=0.13.9
target="."
if [[ "${1:-}" == "dev" ]]; then
    target=".[dev]"
fi
stamp=".venv/.roadwatch-installed-${1:-run}"
wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
    # uv resolves and installs several times faster than pip, which keeps the first
    # `./run.sh` on a fresh machine well inside a minute
    .venv/bin/python -m pip install -qq --disable-pip-version-check "uv==$UV_VERSION"
    .venv/bin/uv pip install --quiet --python .venv/bin/python -e "$target"
    if [[ "$target" == ".[dev]" ]]; then
        # tb-mqtt-client brings a fork of paho that installs the same `paho` package as
        # paho-mqtt; whichever lands last wins. Make it always paho-mqtt, which the MQTT
        # tests are written against (the SDK runs on it too).
        .venv/bin/uv pip install --quiet --python .venv/bin/python \
            --reinstall-package paho-mqtt "paho-mqtt>=2.1"
    fi
    echo "$wanted" >"$stamp"
fi
