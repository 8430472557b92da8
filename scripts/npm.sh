#!/usr/bin/env bash
# Install the browser assets (OpenLayers for the admin map widget, …) from npm into node_modules/,
# which Django serves locally: no page fetches from an outside host.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.plategrid-installed
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "npm: installing browser assets"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
else
  echo "npm: up to date"
fi
