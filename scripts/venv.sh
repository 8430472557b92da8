#!/usr/bin/env bash
# Create .venv and install the project with its dev tools; reinstall only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
LOG=.venv/pip.log

pip_quiet() {
  if ! .venv/bin/pip "$@" > "$LOG" 2>&1; then
    cat "$LOG" >&2
    echo "error: pip $* failed (log above, also in $LOG)" >&2
    exit 1
  fi
}

if [ ! -x .venv/bin/python ]; then
  echo "venv: creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.plategrid-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "venv: installing Python packages"
  pip_quiet install -q --upgrade pip
  pip_quiet install -q -e '.[dev]'
  echo "$want" > "$stamp"
else
  echo "venv: up to date"
fi
