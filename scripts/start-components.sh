#!/usr/bin/env bash
# Starts the real components the tests talk to, on loopback, if they are not running yet:
# a Docker engine (Debian's dockerd, vfs storage, no bridge) and a Distribution registry.
# Installing them is .ci/run's job (apt); this script only starts them. Idempotent.
set -euo pipefail
state="${GO_SHIP_COMPONENTS_DIR:-/tmp/go-ship-components}"
mkdir -p "$state"
registry_addr="${GO_SHIP_TEST_REGISTRY:-127.0.0.1:5055}"

if command -v docker-registry >/dev/null; then
  if ! curl -fsS "http://$registry_addr/v2/" >/dev/null 2>&1; then
    mkdir -p "$state/registry-data"
    printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n' \
      "$state/registry-data" "$registry_addr" >"$state/registry.yml"
    nohup docker-registry serve "$state/registry.yml" >"$state/registry.log" 2>&1 &
    for _ in $(seq 1 50); do curl -fsS "http://$registry_addr/v2/" >/dev/null 2>&1 && break; sleep 0.2; done
  fi
  curl -fsS "http://$registry_addr/v2/" >/dev/null && echo "registry: http://$registry_addr"
else
  echo "registry: not installed, not started (bash .ci/run installs it: apt-get install docker-registry)"
fi

if [ -x /usr/sbin/dockerd ]; then
  if ! /usr/bin/docker version >/dev/null 2>&1; then
    nohup /usr/sbin/dockerd --storage-driver=vfs --iptables=false --bridge=none >"$state/dockerd.log" 2>&1 &
    for _ in $(seq 1 100); do /usr/bin/docker version >/dev/null 2>&1 && break; sleep 0.3; done
  fi
  /usr/bin/docker version --format 'docker engine: {{.Server.Version}}'
elif /usr/bin/docker version >/dev/null 2>&1; then
  /usr/bin/docker version --format 'docker engine: {{.Server.Version}} (already running)'
else
  echo "docker engine: not installed, not started (bash .ci/run installs it: apt-get install docker.io)"
fi
