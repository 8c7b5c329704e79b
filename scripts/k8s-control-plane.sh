#!/usr/bin/env bash
# A real Kubernetes control plane on loopback for deploy-bluegreen's Kubernetes tests, built once into
# a cache and started if it is not running (idempotent):
#   - kube-apiserver, kube-controller-manager, kube-scheduler built from k8s.io/kubernetes through the
#     Go module proxy, from a small go.mod of our own that maps each k8s.io/<staging> module to its
#     v0.X release (k8s.io/kubernetes' own go.mod points them at ./staging, so `go install` refuses it);
#   - etcd 3.5 built from go.etcd.io/etcd/server/v3 the same way (Debian's 3.4 lacks the watch progress
#     notifications current clients rely on: every informer watch would fail and fall back to relists);
#   - KWOK (sigs.k8s.io/kwok/cmd/kwok) for fake nodes, so pods become Ready without kubelets.
# Authentication is a static token file: `admin` (system:masters) and `limited` (no RBAC grants, for the
# forbidden test). Prints the kubeconfig paths; tests read them from $state.
# Usage: k8s-control-plane.sh [start|build|stop|status]   (default start: builds first when needed)
set -euo pipefail
mode="${1:-start}"
k8s_version="${GO_SHIP_K8S_VERSION:-1.34.4}"
kwok_version="${GO_SHIP_KWOK_VERSION:-v0.7.0}"
etcd_version="${GO_SHIP_ETCD_VERSION:-v3.5.35}"
cache="${GO_SHIP_K8S_CACHE:-$HOME/.cache/go-ship/k8s-$k8s_version}"
state="${GO_SHIP_COMPONENTS_DIR:-/tmp/go-ship-components}/k8s"
api_port="${GO_SHIP_K8S_PORT:-16443}"
etcd_port="${GO_SHIP_ETCD_PORT:-12379}"
bin="$cache/bin"
mkdir -p "$bin" "$state"
log() { printf 'k8s: %s\n' "$*"; }
# A line every 30 s while a long build runs, so a log piped to a file shows it is alive.
heartbeat() {
  local started=$SECONDS
  while sleep 30; do log "still building $1 ($((SECONDS - started)) s)"; done
}

built() { [ -x "$bin/kube-apiserver" ] && [ -x "$bin/kube-controller-manager" ] && [ -x "$bin/kube-scheduler" ] &&
  [ -x "$bin/kwok" ] && [ -x "$bin/etcd" ]; }
if [ "$mode" = status ]; then
  pid="$(cat "$state/kube-apiserver.pid" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    echo "running (https://127.0.0.1:$api_port, kubeconfig $state/admin.kubeconfig)"
  elif built; then
    echo "built in $cache, not running"
  else
    echo "not built"
  fi
  exit 0
fi

if [ "$mode" = stop ]; then
  for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
    pid="$(cat "$state/$name.pid" 2>/dev/null || true)"
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    rm -f "$state/$name.pid"
  done
  log "stopped"
  exit 0
fi

# --- build (once) ---------------------------------------------------------------------------------
if [ ! -x "$bin/kube-apiserver" ] || [ ! -x "$bin/kube-controller-manager" ] || [ ! -x "$bin/kube-scheduler" ]; then
  src="$cache/src"
  mkdir -p "$src"
  minor="v0.${k8s_version#1.}"
  log "building kube-apiserver, kube-controller-manager, kube-scheduler $k8s_version (staging modules $minor); this takes a while once"
  heartbeat kube-apiserver &
  hb=$!
  # || true: the heartbeat is already gone when the build ends, and under set -e a failing EXIT trap
  # turns the script's exit 0 into 1 (every first run on a new machine failed here).
  trap 'kill $hb 2>/dev/null || true' EXIT
  gomod="$(cd "$src" && go mod download -json "k8s.io/kubernetes@v$k8s_version" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')"
  {
    printf 'module go-ship.local/k8s-control-plane\n\ngo 1.24.0\n\nrequire k8s.io/kubernetes v%s\n\nreplace (\n' "$k8s_version"
    sed -n 's|^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/.*|\t\1 => \1 '"$minor"'|p' "$gomod"
    printf ')\n'
  } >"$src/go.mod"
  (
    cd "$src"
    export GOFLAGS=-mod=mod
    go get "k8s.io/kubernetes/cmd/kube-apiserver@v$k8s_version" "k8s.io/kubernetes/cmd/kube-controller-manager@v$k8s_version" \
      "k8s.io/kubernetes/cmd/kube-scheduler@v$k8s_version"
    # The version the binaries report (/version, emulation version), as release builds stamp it.
    v="k8s.io/component-base/version"
    minor_n="${k8s_version#1.}"
    go build -trimpath -ldflags="-s -X $v.gitVersion=v$k8s_version -X $v.gitMajor=1 -X $v.gitMinor=${minor_n%%.*}" -o "$bin/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler
  )
  kill $hb 2>/dev/null || true
fi
if [ ! -x "$bin/kwok" ]; then
  log "building kwok $kwok_version"
  GOBIN="$bin" go install -trimpath -ldflags=-s "sigs.k8s.io/kwok/cmd/kwok@$kwok_version"
fi
if [ ! -x "$bin/etcd" ]; then
  log "building etcd $etcd_version"
  mkdir -p "$cache/etcd-src"
  (
    cd "$cache/etcd-src"
    [ -f go.mod ] || go mod init go-ship.local/etcd >/dev/null 2>&1
    export GOFLAGS=-mod=mod
    go get "go.etcd.io/etcd/server/v3@$etcd_version"
    go build -trimpath -ldflags=-s -o "$bin/etcd" go.etcd.io/etcd/server/v3
  )
fi
etcd_bin="$bin/etcd"
[ "$mode" = build ] && { log "built in $bin"; exit 0; }

# --- certificates, tokens, kubeconfigs (once per state dir) -----------------------------------------
pki="$state/pki"
if [ ! -f "$pki/apiserver.crt" ]; then
  mkdir -p "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.crt" -days 3650 -subj "/CN=go-ship-test-ca" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" -subj "/CN=kube-apiserver" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc\n' >"$pki/san.ext"
  openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -out "$pki/apiserver.crt" \
    -days 3650 -extfile "$pki/san.ext" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  admin_token="$(openssl rand -hex 16)"
  limited_token="$(openssl rand -hex 16)"
  printf '%s,admin,admin,"system:masters"\n%s,limited,limited\n' "$admin_token" "$limited_token" >"$pki/tokens.csv"
  ca_data="$(base64 -w0 <"$pki/ca.crt")"
  for user in admin limited; do
    token="$admin_token"
    [ "$user" = limited ] && token="$limited_token"
    cat >"$state/$user.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: go-ship-test
    cluster:
      server: https://127.0.0.1:$api_port
      certificate-authority-data: $ca_data
users:
  - name: $user
    user:
      token: $token
contexts:
  - name: $user@go-ship-test
    context: { cluster: go-ship-test, user: $user, namespace: default }
current-context: $user@go-ship-test
EOF
    chmod 600 "$state/$user.kubeconfig"
  done
fi
admin_token="$(sed -n 's/^\([^,]*\),admin,.*/\1/p' "$pki/tokens.csv")"
api="https://127.0.0.1:$api_port"
ready() { curl -fsS --cacert "$pki/ca.crt" -H "Authorization: Bearer $admin_token" "$api/readyz" >/dev/null 2>&1; }
running() { [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }
start() { # name, then the command
  local name="$1"
  shift
  running "$name" && return 0
  nohup "$@" >"$state/$name.log" 2>&1 &
  echo $! >"$state/$name.pid"
}

# --- start ----------------------------------------------------------------------------------------
start etcd "$etcd_bin" --data-dir "$state/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
  --initial-advertise-peer-urls "http://127.0.0.1:$((etcd_port + 1))" --initial-cluster "default=http://127.0.0.1:$((etcd_port + 1))"
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$etcd_port/health" >/dev/null 2>&1 && break; sleep 0.2; done

start kube-apiserver "$bin/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" --bind-address 127.0.0.1 \
  --secure-port "$api_port" --advertise-address 127.0.0.1 --tls-cert-file "$pki/apiserver.crt" \
  --tls-private-key-file "$pki/apiserver.key" --client-ca-file "$pki/ca.crt" --token-auth-file "$pki/tokens.csv" \
  --authorization-mode RBAC --service-cluster-ip-range 10.96.0.0/16 --service-account-key-file "$pki/sa.pub" \
  --service-account-signing-key-file "$pki/sa.key" --service-account-issuer https://kubernetes.default.svc \
  --enable-priority-and-fairness=false --cert-dir "$state/apiserver-certs"
for _ in $(seq 1 150); do ready && break; sleep 0.4; done
ready || { tail -30 "$state/kube-apiserver.log" >&2; echo "k8s: kube-apiserver did not become ready" >&2; exit 1; }

start kube-controller-manager "$bin/kube-controller-manager" --kubeconfig "$state/admin.kubeconfig" --leader-elect=false \
  --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" --bind-address 127.0.0.1 --secure-port 0 \
  --use-service-account-credentials=false --node-monitor-grace-period=2m
start kube-scheduler "$bin/kube-scheduler" --kubeconfig "$state/admin.kubeconfig" --leader-elect=false \
  --bind-address 127.0.0.1 --secure-port 0
start kwok "$bin/kwok" --kubeconfig "$state/admin.kubeconfig" --manage-all-nodes=false \
  --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake --manage-nodes-with-label-selector= \
  --manage-single-node= --cidr=10.244.0.0/24 --node-ip=10.244.0.1 --server-address=127.0.0.1:0 \
  --node-lease-duration-seconds=40

# One fake node for the pods.
curl -fsS --cacert "$pki/ca.crt" -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
  -X POST "$api/api/v1/nodes" -o /dev/null -d '{"apiVersion":"v1","kind":"Node","metadata":{"name":"kwok-node-0",
  "annotations":{"node.alpha.kubernetes.io/ttl":"0","kwok.x-k8s.io/node":"fake"},"labels":{"kubernetes.io/hostname":"kwok-node-0",
  "kubernetes.io/os":"linux","kubernetes.io/arch":"amd64","type":"kwok"}},"status":{"allocatable":{"cpu":"32","memory":"256Gi",
  "pods":"1000"},"capacity":{"cpu":"32","memory":"256Gi","pods":"1000"}}}' 2>/dev/null || true
# A node made by an older script had room for 110 pods only: the same room on every start.
curl -fsS --cacert "$pki/ca.crt" -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/merge-patch+json' \
  -X PATCH "$api/api/v1/nodes/kwok-node-0/status" -o /dev/null \
  -d '{"status":{"allocatable":{"pods":"1000"},"capacity":{"pods":"1000"}}}' 2>/dev/null || true

log "kube-apiserver $api ($("$bin/kube-apiserver" --version 2>/dev/null)); kubeconfigs: $state/admin.kubeconfig, $state/limited.kubeconfig"
