#!/usr/bin/env bash
# Known vulnerabilities in the project's installed environment (.venv), from PyPI's advisory data
# (pip-audit, called by `make lint`). Fails when an installed package has a known vulnerability:
# upgrade it in pyproject.toml to a fixed version.
#
# pip-audit asks PyPI's JSON API for each package's version. A package it gets no answer for is
# listed as not audited; when none at all could be audited (a machine whose PyPI access serves no
# per-version JSON) it says so loudly and passes, unless PLATEGRID_AUDIT_STRICT=1, which fails
# then and on any package not audited.
set -euo pipefail
cd "$(dirname "$0")/.."

out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
status=0
.venv/bin/pip-audit --local --skip-editable --progress-spinner off --format json --output "$out" \
  2> "$err" || status=$?

.venv/bin/python - "$out" "$err" "$status" "${PLATEGRID_AUDIT_STRICT:-0}" <<'PY'
import json
import sys

out, err, status, strict = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
try:
    with open(out) as f:
        deps = json.load(f)["dependencies"]
except (OSError, ValueError, KeyError):
    with open(err) as f:
        tail = f.read().strip().splitlines()[-3:]
    print("pip-audit: could not run (exit %d): %s" % (status, " | ".join(tail)))
    sys.exit(1 if strict else 0)

audited = [d for d in deps if "skip_reason" not in d]
skipped = [d for d in deps if "skip_reason" in d]
vulnerable = [d for d in audited if d.get("vulns")]
for dep in vulnerable:
    for vuln in dep["vulns"]:
        fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
        print(f"pip-audit: {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
print(
    f"pip-audit: {len(audited)} packages audited, {len(vulnerable)} with known vulnerabilities, "
    f"{len(skipped)} not audited"
)
if skipped and not audited:
    print(
        "pip-audit: WARNING: no package could be audited (PyPI's advisory data is not reachable "
        "from this machine); set PLATEGRID_AUDIT_STRICT=1 to make this an error"
    )
elif skipped:
    print("pip-audit: not audited: " + ", ".join(d["name"] for d in skipped))
if vulnerable or (strict and skipped):
    sys.exit(1)
PY
