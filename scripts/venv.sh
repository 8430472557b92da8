#!/usr/bin/env bash
# Create .venv and install the project with its dev tools; reinstall only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "venv: creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.plategrid-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "venv: installing Python packages"
  .venv/bin/pip install -q --upgrade pip
  if ! .venv/bin/pip install -q -e '.[dev]' > .venv/pip.log 2>&1; then
    cat .venv/pip.log >&2
    echo "error: pip could not install the Python packages (log above, also in .venv/pip.log)" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
else
  echo "venv: up to date"
fi
