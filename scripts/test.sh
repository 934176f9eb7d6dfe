#!/usr/bin/env bash
# The whole test suite, from a fresh machine: system packages the tests run
# for real (Icecast, ffmpeg, Redis), npm dependencies, type check, then tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# chromium and a CJK font: the listening page is tested in a real browser, with Chinese titles;
# ezstream and liquidsoap: live shows are tested with real source clients; mpv and VLC (with ffplay
# and chromium): every rendition is played in the players listeners use; nginx with its RTMP module:
# the RTMP push is checked on a real server;
# podman (with runc, netavark, aardvark-dns, and iptables for netavark's port publishing) and mmdebstrap:
# the compose file is run in real containers.
bash scripts/ensure-system-deps.sh icecast2 ffmpeg lame redis-server gettext-base docker-compose chromium fonts-wqy-microhei ezstream liquidsoap curl mpv vlc-bin vlc-plugin-base nginx-core libnginx-mod-rtmp \
  podman runc netavark aardvark-dns iptables mmdebstrap
[ -d node_modules ] || npm ci
npx tsc -p tsconfig.json --noEmit
# Lint (ESLint, type-aware: no floating promises) and formatting (Prettier).
npm run -s lint
# The reference pages generated from the schemas must be what the schemas say.
node --import tsx scripts/gen-docs.ts --check
bash scripts/audit.sh
files=(test/unit/*.test.ts test/integration/*.test.ts test/adversarial/*.test.ts test/containers/*.test.ts)
if [ "$#" -gt 0 ]; then files=("$@"); fi
# Bounded everywhere, so a hang is a failure with a name rather than a silent
# CI timeout: each test has 5 minutes, a test file's process exits once its
# tests are done even if a handle leaked, and the whole run has 60 minutes
# (the compose test builds its images on a machine that has none: ~15 minutes).
exec timeout --kill-after=30s 60m node --import tsx --test --test-concurrency=1 --test-timeout=300000 --test-force-exit --test-reporter=spec "${files[@]}"
