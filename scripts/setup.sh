#!/usr/bin/env bash
# Sets up a fresh machine for Shadowdisk: Debian packages, npm packages (Node 24 comes from the npm registry), then the build.
# Needs root: it installs packages, and Shadowdisk itself works on loop devices, mounts and FUSE.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: run as root (apt-get, loop devices, mounts)" >&2
  exit 1
fi

packages=$(grep -v '^\s*#' scripts/debian-packages.txt | grep -v '^\s*$' | tr '\n' ' ')
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup.sh: installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $packages >/dev/null
fi

# Loop devices and FUSE must work here; say so early rather than fail deep in a test.
[ -e /dev/loop-control ] || modprobe loop 2>/dev/null || { echo "setup.sh: no /dev/loop-control: loop devices are unavailable" >&2; exit 1; }
[ -e /dev/fuse ] || modprobe fuse 2>/dev/null || { echo "setup.sh: no /dev/fuse: FUSE is unavailable" >&2; exit 1; }

# npm ci installs Node 24 (the `node` package) into node_modules/.bin; npm scripts run on it.
CI=true npm ci --strict-allow-scripts --no-audit --no-fund
npm run build
node_modules/.bin/node --version
