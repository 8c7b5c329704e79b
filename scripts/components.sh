#!/usr/bin/env bash
# The real components go-ship's tests, demo and benchmarks talk to, in one place:
#   install  Debian packages (needs root or sudo) and the Kubernetes control plane, built once from
#            the Go module proxy into ~/.cache/go-ship (7 minutes on 2 idle cores, the first time)
#   install-packages  the Debian packages only (.ci/run builds the control plane beside other work)
#   install-tools  golangci-lint at quality-gate's default version, built from the Go module proxy
#            into the tool cache where the action looks for it (3 minutes cold), so the first test
#            that lints does not build it inside its own timeout
#   start    the registry, the Docker engine, the control plane, the SMTP server (scripts/smtp-server.py)
#            and the servers of the hosts target (scripts/fleet-hosts.sh: systemd, sshd and nginx in
#            containers, one behind a bastion)
#   stop     what start started
#   status   one line per component: running, installed, or missing with the command that provides it
# Programs the tests start themselves (nginx, Prometheus, squid, azurite, wrk) only need installing.
# Idempotent; says what it did. .ci/run calls install and start; `npm test` calls start.
set -euo pipefail
cd "$(dirname "$0")/.."
state="${GO_SHIP_COMPONENTS_DIR:-/tmp/go-ship-components}"
registry_addr="${GO_SHIP_TEST_REGISTRY:-127.0.0.1:5055}"
mkdir -p "$state"

# program:Debian package. semver-tag's signing test uses ssh-keygen; build-matrix checks sha256sum -c;
# the OCI tests push to a real registry, one behind an htpasswd login, and read back with skopeo and
# Docker; deploy-bluegreen switches nginx under wrk's load and gates on a real Prometheus; hand-made
# test images copy the static /bin/busybox; cache restores are tested with libarchive's bsdtar as
# `tar`, as macOS runners have it; every kind of request is tested through squid, a real forward proxy;
# the hosts target's servers are a Debian rootfs made by mmdebstrap; e-mail notifications go to
# aiosmtpd (scripts/smtp-server.py), a real SMTP server with STARTTLS and AUTH.
PACKAGES="git:git unzip:unzip zip:zip python3:python3 tar:tar curl:curl ssh-keygen:openssh-client
sha256sum:coreutils docker-registry:docker-registry skopeo:skopeo /usr/sbin/dockerd:docker.io
htpasswd:apache2-utils nginx:nginx-light wrk:wrk prometheus:prometheus openssl:openssl
/bin/busybox:busybox-static bsdtar:libarchive-tools zstd:zstd /usr/sbin/squid:squid mmdebstrap:mmdebstrap
aiosmtpd:python3-aiosmtpd"

has() { command -v "$1" >/dev/null 2>&1; }
registry_up() { curl -fsS "http://$registry_addr/v2/" >/dev/null 2>&1; }
smtp_addr="${GO_SHIP_TEST_SMTP:-127.0.0.1:2525}"
# (bash's /dev/tcp: a connect test without another tool)
smtp_up() { (exec 3<>"/dev/tcp/${smtp_addr%:*}/${smtp_addr##*:}") 2>/dev/null; }
docker_up() { /usr/bin/docker version >/dev/null 2>&1; }
hint="bash scripts/components.sh install && bash scripts/components.sh start"

missing_packages() {
  local pair
  for pair in $PACKAGES; do has "${pair%%:*}" || printf '%s\n' "${pair#*:}"; done
}

install() {
  mapfile -t missing < <(missing_packages)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "components: installing ${missing[*]}"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
      has sudo || { echo "components: need root or sudo to apt-get install ${missing[*]}" >&2; exit 1; }
      sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  else
    echo "components: every Debian package is installed"
  fi
  [ "${1:-}" = packages ] && return 0
  has go || { echo "components: Go is not on PATH; install it (go.dev/doc/install or setup-go-cross) first" >&2; exit 1; }
  # (--line-buffered: piped to a file, the build's progress lines still appear as they happen)
  scripts/k8s-control-plane.sh build 2>&1 | grep --line-buffered -v '^go: '
}

install_tools() {
  has go || { echo "components: Go is not on PATH" >&2; exit 1; }
  local version dir
  version="$(sed -n '/^  golangci-lint-version:/,/default:/s/^    default: *//p' quality-gate/action.yml)"
  dir="${RUNNER_TOOL_CACHE:-$HOME/.cache/go-ship/tool-cache}/go-ship-tools/golangci-lint/$version"
  if [ -x "$dir/golangci-lint" ]; then echo "components: golangci-lint $version is built"; return 0; fi
  mkdir -p "$dir"
  echo "components: building golangci-lint $version into $dir"
  GOBIN="$dir" GOFLAGS= go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$version" 2>&1 | grep -v '^go: downloading' || true
  [ -x "$dir/golangci-lint" ] || { echo "components: building golangci-lint $version failed" >&2; exit 1; }
}

start() {
  if has docker-registry; then
    if ! registry_up; then
      mkdir -p "$state/registry-data"
      printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n' \
        "$state/registry-data" "$registry_addr" >"$state/registry.yml"
      nohup docker-registry serve "$state/registry.yml" >"$state/registry.log" 2>&1 &
      echo $! >"$state/registry.pid"
      for _ in $(seq 1 50); do registry_up && break; sleep 0.2; done
    fi
    registry_up && echo "registry: http://$registry_addr"
  else
    echo "registry: not installed, not started ($hint)"
  fi
  if [ -x /usr/sbin/dockerd ] && ! docker_up; then
    nohup /usr/sbin/dockerd --storage-driver=vfs --iptables=false --bridge=none >"$state/dockerd.log" 2>&1 &
    echo $! >"$state/dockerd.pid"
    for _ in $(seq 1 100); do docker_up && break; sleep 0.3; done
  fi
  if docker_up; then
    /usr/bin/docker version --format 'docker engine: {{.Server.Version}}'
  else
    echo "docker engine: not installed, not started ($hint)"
  fi
  case "$(scripts/k8s-control-plane.sh status)" in
    "not built") echo "kubernetes control plane: not built, not started ($hint)" ;;
    *) scripts/k8s-control-plane.sh start ;;
  esac
  start_smtp
  # Servers for the hosts target: systemd + sshd + nginx containers from a Debian rootfs.
  if docker_up && has mmdebstrap; then
    bash scripts/fleet-hosts.sh start
  else
    echo "hosts: not started (needs the Docker engine and mmdebstrap: $hint)"
  fi
}

# The SMTP server for e-mail notifications: its own CA and certificate for 127.0.0.1 and localhost, a
# user with a random password; the test reads them from $state/smtp/.
start_smtp() {
  if ! has aiosmtpd; then echo "smtp: not installed, not started ($hint)"; return 0; fi
  local dir="$state/smtp"
  if ! smtp_up; then
    mkdir -p "$dir/mail"
    if [ ! -f "$dir/server.pem" ]; then
      openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=go-ship test SMTP CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.pem" >/dev/null 2>&1
      openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$dir/san.ext"
      openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
        -days 3650 -extfile "$dir/san.ext" -out "$dir/server.pem" >/dev/null 2>&1
      printf 'go-ship\n%s\n' "$(openssl rand -hex 12)" >"$dir/credentials"
    fi
    local user password
    { read -r user; read -r password; } <"$dir/credentials"
    printf '%s\n' "$smtp_addr" >"$dir/address"
    nohup /usr/bin/python3 scripts/smtp-server.py "${smtp_addr%:*}" "${smtp_addr##*:}" "$dir/server.pem" \
      "$dir/server.key" "$user" "$password" "$dir/mail" >"$dir/server.log" 2>&1 &
    echo $! >"$state/smtp.pid"
    for _ in $(seq 1 50); do smtp_up && break; sleep 0.2; done
  fi
  if smtp_up; then echo "smtp: $smtp_addr (STARTTLS, AUTH; CA $dir/ca.pem)"; else echo "smtp: did not start (see $dir/server.log)"; fi
}

stop() {
  local name pid
  for name in registry dockerd smtp; do
    pid="$(cat "$state/$name.pid" 2>/dev/null || true)"
    if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then echo "$name: stopped"; fi
    rm -f "$state/$name.pid"
  done
  if docker_up; then bash scripts/fleet-hosts.sh stop; fi
  scripts/k8s-control-plane.sh stop
}

status() {
  local missing
  missing="$(missing_packages | tr '\n' ' ')"
  if [ -n "$missing" ]; then echo "packages: missing ${missing% } ($hint)"; else echo "packages: all installed"; fi
  if registry_up; then echo "registry: running on $registry_addr"; elif has docker-registry; then
    echo "registry: installed, not running (bash scripts/components.sh start)"
  else echo "registry: missing ($hint)"; fi
  if docker_up; then echo "docker engine: running"; elif [ -x /usr/sbin/dockerd ]; then
    echo "docker engine: installed, not running (bash scripts/components.sh start)"
  else echo "docker engine: missing ($hint)"; fi
  if smtp_up; then echo "smtp: running on $smtp_addr"; elif has aiosmtpd; then
    echo "smtp: installed, not running (bash scripts/components.sh start)"
  else echo "smtp: missing ($hint)"; fi
  echo "kubernetes control plane: $(scripts/k8s-control-plane.sh status)"
  if docker_up; then echo "hosts: $(bash scripts/fleet-hosts.sh status)"; else echo "hosts: needs the Docker engine"; fi
}

case "${1:-}" in
  install) install ;;
  install-packages) install packages ;;
  install-tools) install_tools ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: scripts/components.sh install|install-packages|install-tools|start|stop|status" >&2
    exit 2
    ;;
esac
