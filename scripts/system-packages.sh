#!/usr/bin/env bash
# Install the Debian/Ubuntu packages Storefront needs, only those missing.
#   scripts/system-packages.sh run    build tools, MySQL client headers, Node.js and npm (make run)
#   scripts/system-packages.sh test   plus MariaDB server, Redis, Chromium and nginx (make test)
set -euo pipefail

packages=(python3-venv python3-dev build-essential pkg-config default-libmysqlclient-dev libpcre2-dev)
# WeasyPrint's text layout and fonts (invoices as PDF)
packages+=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
# Node.js and npm build the React storefront (frontend/) and load axe-core into the browser
# tests; a Node.js from elsewhere (NodeSource, nvm) brings its own npm and is used instead.
command -v npm >/dev/null || packages+=(nodejs npm)
if [[ ${1:-run} == test ]]; then
  # nginx (and openssl for its test certificate) for `make cluster` and its tests
  packages+=(mariadb-server redis-server chromium nginx openssl)
fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "Storefront needs these packages and this is not a Debian/Ubuntu system: ${missing[*]}" >&2
  echo "Install their equivalents with your package manager, then run make again." >&2
  exit 1
fi
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "Run as root or install sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "Installing system packages: ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
