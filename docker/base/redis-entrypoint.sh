#!/bin/sh
# As the official redis image does: protected mode off (the container's
# network is the boundary; the image is reached from other containers).
set -e
if [ "${1:-}" = "redis-server" ]; then
  shift
  exec redis-server "$@" --protected-mode no
fi
exec "$@"
