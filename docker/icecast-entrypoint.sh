#!/bin/sh
# Renders the repository's icecast.xml from the environment and runs Icecast.
# The same script runs in the icecast container and in the tests, so the
# configuration cannot drift between them. No password has a default.
set -eu
: "${ICECAST_SOURCE_PASSWORD:?set ICECAST_SOURCE_PASSWORD (see .env.example)}"
: "${ICECAST_ADMIN_PASSWORD:?set ICECAST_ADMIN_PASSWORD (see .env.example)}"
: "${ICECAST_RELAY_PASSWORD:?set ICECAST_RELAY_PASSWORD (see .env.example)}"
export ICECAST_PORT="${ICECAST_PORT:-8000}"
export ICECAST_HOSTNAME="${ICECAST_HOSTNAME:-localhost}"
export ICECAST_ADMIN_USER="${ICECAST_ADMIN_USER:-admin}"
export ICECAST_ADMIN_EMAIL="${ICECAST_ADMIN_EMAIL:-admin@localhost}"
export ICECAST_MAX_CLIENTS="${ICECAST_MAX_CLIENTS:-500}"
export ICECAST_MAX_SOURCES="${ICECAST_MAX_SOURCES:-32}"
export ICECAST_ACCESS_LOG="${ICECAST_ACCESS_LOG:--}"
export ICECAST_ERROR_LOG="${ICECAST_ERROR_LOG:--}"
export ICECAST_LOG_DIR="${ICECAST_LOG_DIR:-$(mktemp -d /tmp/icecast.XXXXXX)}"
template="${ICECAST_TEMPLATE:-/etc/scast/icecast.xml}"
config="$ICECAST_LOG_DIR/icecast.xml"

# Icecast refuses to run as root unless told which user to become.
if [ "$(id -u)" = 0 ]; then
  chown icecast2:icecast "$ICECAST_LOG_DIR"
  export ICECAST_CHANGEOWNER='<changeowner><user>icecast2</user><group>icecast</group></changeowner>'
else
  export ICECAST_CHANGEOWNER=''
fi

# A relay pulls every mount from a master server (compose profile "relay").
if [ -n "${ICECAST_MASTER_HOST:-}" ]; then
  export ICECAST_RELAY_CONFIG="<master-server>${ICECAST_MASTER_HOST}</master-server><master-server-port>${ICECAST_MASTER_PORT:-8000}</master-server-port><master-update-interval>${ICECAST_MASTER_UPDATE_INTERVAL:-5}</master-update-interval><master-username>relay</master-username><master-password>${ICECAST_RELAY_PASSWORD}</master-password><relays-on-demand>0</relays-on-demand>"
else
  export ICECAST_RELAY_CONFIG=''
fi

vars='$ICECAST_ADMIN_EMAIL $ICECAST_HOSTNAME $ICECAST_MAX_CLIENTS $ICECAST_MAX_SOURCES $ICECAST_SOURCE_PASSWORD $ICECAST_RELAY_PASSWORD $ICECAST_ADMIN_USER $ICECAST_ADMIN_PASSWORD $ICECAST_PORT $ICECAST_LOG_DIR $ICECAST_ACCESS_LOG $ICECAST_ERROR_LOG $ICECAST_CHANGEOWNER $ICECAST_RELAY_CONFIG'
envsubst "$vars" < "$template" > "$config"
exec icecast2 -c "$config"
