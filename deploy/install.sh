#!/usr/bin/env bash
# Installs or upgrades Vigil on a Debian-based ward box (arm64 or x86-64) as a systemd service.
# Safe to run again: an existing config and data directory are kept, the user is reused, and
# the previous build stays in /opt/vigil.prev for a rollback.
set -euo pipefail

PREFIX=/opt/vigil
DATA_DIR=/var/lib/vigil
CONFIG_DIR=/etc/vigil
CONFIG_FILE=$CONFIG_DIR/vigil.yaml
USERS_FILE=$CONFIG_DIR/users.yaml
UNIT_FILE=/etc/systemd/system/vigil.service
COMMAND=/usr/local/bin/vigil
SERVICE_USER=vigil
NODE_MIN=20.19.0

usage() {
  cat <<USAGE
Usage: sudo deploy/install.sh [options]

Installs Vigil from this source tree into $PREFIX, creates the system user '$SERVICE_USER',
the data directory $DATA_DIR, a first config $CONFIG_FILE (from vigil.example.yaml, only
when none exists, with nurse-station accounts in $USERS_FILE), the command $COMMAND,
and enables the systemd unit 'vigil'. Run it again to upgrade.

Options:
  --mqtt-host ADDR   Address the MQTT broker listens on in a new config (default 0.0.0.0,
                     so wearables on the ward network can connect).
  --mqtt-port N      Its port (default 1883).
  --http-host ADDR   Address of the nurse station, /healthz, /metrics and the API in a new
                     config (default 127.0.0.1: this box only). 0.0.0.0 serves the ward
                     network; anything but loopback gets a generated http.apiToken, printed once.
  --http-port N      Its port (default 8080).
  --no-start         Install and enable, but do not (re)start the service.
  -h, --help         Show this help.

Needs: root, Node.js >= $NODE_MIN with npm, systemd (without a running systemd, as in an
image build or a chroot, the unit is installed but not enabled or started). Nothing is
downloaded except the npm packages in package-lock.json.
USAGE
}

MQTT_HOST=0.0.0.0
MQTT_PORT=1883
HTTP_HOST=127.0.0.1
HTTP_PORT=8080
START=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --mqtt-host) MQTT_HOST=${2:?--mqtt-host needs an address}; shift 2 ;;
    --mqtt-port) MQTT_PORT=${2:?--mqtt-port needs a port}; shift 2 ;;
    --http-host) HTTP_HOST=${2:?--http-host needs an address}; shift 2 ;;
    --http-port) HTTP_PORT=${2:?--http-port needs a port}; shift 2 ;;
    --no-start) START=no; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "vigil install: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (sudo deploy/install.sh)"
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ -f "$SRC/package.json" ] && [ -f "$SRC/vigil.example.yaml" ] || die "run from a Vigil source tree ($SRC has no package.json)"
# systemd runs the service; without it running (an image build, a chroot) the unit is only installed.
SYSTEMD=yes
if ! command -v systemctl >/dev/null || [ ! -d /run/systemd/system ]; then
  SYSTEMD=no
  say "systemd is not running here: the unit will be installed, not enabled or started"
fi

case "$(uname -m)" in
  x86_64|aarch64|arm64) ;;
  *) say "warning: $(uname -m) is untested (arm64 and x86-64 are)";;
esac

NODE=$(command -v node || true)
[ -n "$NODE" ] || die "Node.js >= $NODE_MIN is required (Debian 13: apt-get install nodejs npm; Debian 12: use the NodeSource packages)"
NODE_OK=$("$NODE" -p "const [a, b] = process.versions.node.split('.').map(Number); const [x, y] = '$NODE_MIN'.split('.').map(Number); a > x || (a === x && b >= y)")
[ "$NODE_OK" = true ] || die "Node.js $("$NODE" --version) found at $NODE; $NODE_MIN or later is required"
command -v npm >/dev/null || die "npm is required"

# 1. User and directories.
if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
  say "creating system user $SERVICE_USER"
  useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
fi
getent group dialout >/dev/null || groupadd --system dialout
install -d -o "$SERVICE_USER" -g "$SERVICE_USER" -m 0750 "$DATA_DIR"
install -d -o root -g "$SERVICE_USER" -m 0750 "$CONFIG_DIR"

# 2. Build into a fresh directory, then swap it in, so a failed build leaves the running one alone.
STAGE=$PREFIX.new
rm -rf "$STAGE"
install -d -m 0755 "$STAGE"
say "building in $STAGE"
for item in package.json package-lock.json tsconfig.json vigil.example.yaml README.md src devices firmware-sim deploy; do
  if [ -e "$SRC/$item" ]; then cp -a "$SRC/$item" "$STAGE/"; fi
done
(
  cd "$STAGE"
  npm ci --no-audit --no-fund --loglevel=error
  npm run build --silent
  npm prune --omit=dev --no-audit --no-fund --loglevel=error
)
[ -f "$STAGE/dist/src/cli/main.js" ] || die "build did not produce dist/src/cli/main.js"
chown -R root:root "$STAGE"
if [ -d "$PREFIX" ]; then
  rm -rf "$PREFIX.prev"
  mv "$PREFIX" "$PREFIX.prev"
fi
mv "$STAGE" "$PREFIX"

# 3. First config (never overwritten).
if [ -f "$CONFIG_FILE" ]; then
  say "keeping existing $CONFIG_FILE"
else
  TOKEN=$(cd "$PREFIX" && "$NODE" deploy/configure.mjs --example vigil.example.yaml --out "$CONFIG_FILE" \
    --data-dir "$DATA_DIR" --users-file "$USERS_FILE" --mqtt-host "$MQTT_HOST" --mqtt-port "$MQTT_PORT" \
    --http-host "$HTTP_HOST" --http-port "$HTTP_PORT")
  chown root:"$SERVICE_USER" "$CONFIG_FILE"
  chmod 0640 "$CONFIG_FILE"
  say "wrote $CONFIG_FILE: add devices (vigil device add), wards and beds, and nurse accounts (vigil user add), then restart"
  [ -z "$TOKEN" ] || say "HTTP API token (also in $CONFIG_FILE): $TOKEN"
fi

# 4. The command: root's tools (vigil user add, vigil device add, vigil check) use the installed
#    config unless told otherwise. Files they write in $CONFIG_DIR get its group, so the service reads them.
cat >"$COMMAND.new" <<COMMAND_SH
#!/bin/sh
# Installed by deploy/install.sh: the Vigil command, with the installed config by default.
VIGIL_CONFIG=\${VIGIL_CONFIG:-$CONFIG_FILE}
export VIGIL_CONFIG
exec "$NODE" "$PREFIX/dist/src/cli/main.js" "\$@"
COMMAND_SH
chmod 0755 "$COMMAND.new"
mv "$COMMAND.new" "$COMMAND"

# 5. Check the config as the service will run: its user, its working directory.
(cd "$DATA_DIR" && setpriv --reuid="$SERVICE_USER" --regid="$SERVICE_USER" --init-groups \
  "$NODE" "$PREFIX/dist/src/cli/main.js" check -c "$CONFIG_FILE") >&2 \
  || die "$CONFIG_FILE: the service would refuse it (above); fix it and run again"

# 6. The unit. It runs /usr/bin/node; a node elsewhere gets a drop-in with its path.
install -d -m 0755 "$(dirname "$UNIT_FILE")"
install -m 0644 "$PREFIX/deploy/vigil.service" "$UNIT_FILE"
DROPIN=/etc/systemd/system/vigil.service.d/node-path.conf
if [ "$NODE" != /usr/bin/node ]; then
  install -d -m 0755 "$(dirname "$DROPIN")"
  printf '[Service]\nExecStart=\nExecStart=%s %s/dist/src/cli/main.js start\n' "$NODE" "$PREFIX" >"$DROPIN"
else
  rm -f "$DROPIN"
fi
if [ "$SYSTEMD" = no ]; then
  say "installed; systemd is not running here, so enable and start it once it is: systemctl enable --now vigil"
  exit 0
fi
systemctl daemon-reload
systemctl enable vigil.service >/dev/null
if [ "$START" = yes ]; then
  systemctl restart vigil.service
  say "vigil is $(systemctl is-active vigil.service || true); logs: journalctl -u vigil -f -o cat"
else
  say "installed and enabled; start with: systemctl start vigil"
fi
