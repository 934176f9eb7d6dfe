#!/usr/bin/env bash
# Install the Debian packages named as arguments when they are missing. As
# root it installs them; otherwise it stops with the exact command to run.
set -euo pipefail
declare -A binary=( [icecast2]=icecast2 [ffmpeg]=ffmpeg [redis-server]=redis-server [liquidsoap]=liquidsoap [ezstream]=ezstream [docker-compose]=docker-compose [chromium]=chromium [gettext-base]=envsubst [lame]=lame [podman]=podman [mmdebstrap]=mmdebstrap )
missing=()
for pkg in "$@"; do
  if [ -n "${binary[$pkg]:-}" ]; then
    command -v "${binary[$pkg]}" >/dev/null 2>&1 || missing+=("$pkg")
  else
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  fi
done
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "sCast needs these Debian packages: ${missing[*]}" >&2
  echo "Run:  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
