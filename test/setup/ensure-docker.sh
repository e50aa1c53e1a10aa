#!/usr/bin/env bash
# Docker for the deployment tests (test/integration/deploy-docker.test.ts), on a Debian machine:
#   1. Debian's docker.io engine, installed when dockerd is missing;
#   2. a running engine: when no engine answers, dockerd is started here without touching the
#      host's network (no bridge, no iptables rules: the tests use host or no networking);
#   3. the base image of deploy/Dockerfile, node:20-bookworm-slim: pulled when a registry
#      answers, otherwise a local stand-in (debootstrap minbase of bookworm + this machine's
#      Node 20 + user `node` uid 1000 + this machine's CA bundle, which npm needs behind an
#      intercepting proxy).
# Prints one line on stdout: "started PID" when it started dockerd (the caller stops it with
# SIGTERM), or "running" when an engine was already up. Everything else goes to stderr.
# Needs root. Safe to run concurrently (one run at a time holds /tmp/vigil-docker-setup.lock).
set -euo pipefail

BASE=node:20-bookworm-slim
STATE=${VIGIL_DOCKER_STATE:-/tmp/vigil-docker}
say() { echo "docker setup: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (it installs and starts the Docker engine)"
mkdir -p "$STATE"
exec 9>/tmp/vigil-docker-setup.lock
flock 9

apt_install() {
  say "installing Debian packages: $*"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# 1. The engine. docker.io brings dockerd, containerd and runc (and a CLI, if none is on PATH).
command -v dockerd >/dev/null 2>&1 || apt_install docker.io
command -v docker >/dev/null 2>&1 || die "docker.io is installed but no docker CLI is on PATH"

# 2. A running engine. There is no systemd on a CI container, so dockerd runs as a child of
#    this machine's init, in its own session so that it outlives this script, and without the
#    setup lock's descriptor (9), which it would otherwise hold for as long as it runs.
status=running
if ! docker info >/dev/null 2>&1; then
  say "starting dockerd (log: $STATE/dockerd.log)"
  setsid dockerd --iptables=false --ip6tables=false --bridge=none \
    --pidfile "$STATE/dockerd.pid" >"$STATE/dockerd.log" 2>&1 </dev/null 9>&- &
  pid=$!
  for _ in $(seq 120); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { tail -20 "$STATE/dockerd.log" >&2; die "dockerd exited while starting"; }
    sleep 0.5
  done
  docker info >/dev/null 2>&1 || { kill "$pid"; tail -20 "$STATE/dockerd.log" >&2; die "dockerd did not answer within 60 s"; }
  status="started $pid"
fi

# 3. The base image.
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  say "pulling $BASE"
  if ! timeout 180 docker pull -q "$BASE" >&2; then
    say "no registry answered: building a local stand-in for $BASE"
    node_major=$(node -p 'process.versions.node.split(".")[0]')
    [ "$node_major" = 20 ] || die "the stand-in takes this machine's Node, which is $(node --version), not 20: pull $BASE instead"
    command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
    mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
    [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
    rootfs=$(mktemp -d "$STATE/rootfs.XXXXXX")
    trap 'rm -rf "$rootfs"' EXIT
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$STATE/debootstrap.log" 2>&1 \
      || { tail -20 "$STATE/debootstrap.log" >&2; die "debootstrap failed"; }
    node_bin=$(readlink -f "$(command -v node)")
    npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
    install -D -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
    mkdir -p "$rootfs/usr/local/lib/node_modules"
    cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
    chroot "$rootfs" groupadd --gid 1000 node
    chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
    install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
    tar -C "$rootfs" -c . | docker import \
      -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      -c "ENV NODE_VERSION=$(node -p process.versions.node)" \
      -c 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
      -c 'CMD ["node"]' - "$BASE" >&2
  fi
fi
echo "$status"
