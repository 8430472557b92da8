#!/usr/bin/env bash
# Install the Debian packages plategrid needs, only those that are missing.
# Needs root (or sudo); says so clearly when neither is available.
set -euo pipefail

PACKAGES=(
  postgresql-15 postgresql-15-postgis-3 postgresql-contrib
  gdal-bin libgdal-dev fonts-noto-cjk
  nodejs npm
  chromium chromium-driver poppler-utils gettext
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  # npm/nodejs may come from elsewhere (a NodeSource build): accept the commands too.
  case "$pkg" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

echo "system packages: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo)
else
  echo "error: these Debian packages are missing: ${missing[*]}" >&2
  echo "       install them as root (apt-get install ${missing[*]}), or run this as root or with sudo." >&2
  exit 1
fi
"${SUDO[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages: installed"
