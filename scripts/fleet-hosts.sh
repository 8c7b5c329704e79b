#!/usr/bin/env bash
# Servers for the `hosts` deploy target's tests: real systemd, OpenSSH and nginx. A Debian bookworm
# rootfs made with mmdebstrap (from the machine's own apt sources) is imported into Docker, and each
# "host" is a container that boots systemd in a network of its own, as a server has: its own
# loopback (where the app's colours listen) and one link to this machine (a veth pair), where its
# sshd (key authentication only, its own host key) and its nginx answer. The last host's sshd
# listens only on a second link, to a bastion (one more container, for its sshd), so it is
# reachable over SSH only through the bastion (ProxyJump), while its nginx still answers here.
#
#   host N      10.231.N.2 (this machine's end 10.231.N.1)     sshd :22 (not the last host), nginx
#   bastion     10.231.0.2 (this machine's end 10.231.0.1)     sshd :22
#   last host   sshd on 10.231.100.2, the bastion's link (the bastion's end 10.231.100.1): no route from here
#
# Nothing else is set up on the hosts: the tests write their nginx site and the deploy writes its
# units, as on a real server.
#
# GO_SHIP_HOSTS (3), GO_SHIP_HOSTS_NET (10.231), GO_SHIP_HOSTS_PREFIX (go-ship, the containers' names)
# and GO_SHIP_HOSTS_DIR (the state) let a second fleet run beside this one (npm run bench -- deploy-hosts).
#
#   build    the image (about 4 minutes the first time; the rootfs tar is kept in ~/.cache/go-ship)
#   start    GO_SHIP_HOSTS hosts (default 3) and the bastion, with a client key and a known_hosts
#   stop     remove them
#   status   one line
#
# What a test needs is in $state: client_ed25519 (the key), known_hosts, hosts (the deploy's `hosts`
# input: one line per host, the last one `via` the bastion) and web (each host's HTTP address).
set -euo pipefail
image=local/go-ship-host:bookworm
state="${GO_SHIP_HOSTS_DIR:-/tmp/go-ship-components/hosts}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/go-ship"
count="${GO_SHIP_HOSTS:-3}"
net="${GO_SHIP_HOSTS_NET:-10.231}"
# Container names and this machine's link names, so a second fleet (the benchmark's) can run beside.
prefix="${GO_SHIP_HOSTS_PREFIX:-go-ship}"
tag="gs${net##*.}"

built() { docker image inspect "$image" >/dev/null 2>&1; }
running() { [ "$(docker inspect -f '{{.State.Running}}' "$prefix-$1" 2>/dev/null)" = true ]; }
pid_of() { docker inspect -f '{{.State.Pid}}' "$prefix-$1"; }
in_ns() { nsenter -t "$1" -n "${@:2}"; }

build() {
  if built; then
    echo "hosts: image $image present"
    return
  fi
  mkdir -p "$cache"
  local tar="$cache/host-rootfs-bookworm.tar"
  if [ ! -s "$tar" ]; then
    # No default site (the tests write their own), no host keys (each host gets its own), and no
    # consoles or logind, which a container has no use for.
    mmdebstrap --quiet --variant=apt \
      --include=systemd,systemd-sysv,openssh-server,nginx-light,dbus,procps,coreutils \
      --customize-hook='rm -f "$1"/etc/nginx/sites-enabled/default "$1"/etc/ssh/ssh_host_*' \
      --customize-hook='chroot "$1" systemctl mask getty.target console-getty.service systemd-logind.service' \
      bookworm "$cache/host-rootfs-partial.tar"
    mv "$cache/host-rootfs-partial.tar" "$tar"
  fi
  docker import --change 'CMD ["/sbin/init"]' "$tar" "$image" >/dev/null
  echo "hosts: image $image built"
}

# A veth pair: $1 with address $2 here (or in the network of pid $5 when given), its peer $3 with
# address $4 in the network of pid $6.
link() {
  local a=$1 a_ip=$2 b=$3 b_ip=$4 a_pid=${5:-} b_pid=$6
  ip link del "$a" 2>/dev/null || true
  # The peer is made here under a name of its own (this machine may have a "$b"), renamed there.
  ip link add "$a" type veth peer name "$a-p"
  ip link set "$a-p" netns "$b_pid"
  in_ns "$b_pid" ip link set "$a-p" name "$b"
  in_ns "$b_pid" ip addr add "$b_ip/24" dev "$b"
  in_ns "$b_pid" ip link set "$b" up
  if [ -n "$a_pid" ]; then
    ip link set "$a" netns "$a_pid"
    in_ns "$a_pid" ip addr add "$a_ip/24" dev "$a"
    in_ns "$a_pid" ip link set "$a" up
  else
    ip addr add "$a_ip/24" dev "$a"
    ip link set "$a" up
  fi
}

# Boots $prefix-$1 (systemd, a network with only its loopback until linked) with the sshd settings
# of folder $2.
boot() {
  docker rm -f "$prefix-$1" >/dev/null 2>&1 || true
  # ip_nonlocal_bind: sshd and nginx may start before their link exists.
  docker run -d --name "$prefix-$1" --hostname "$1" --network none --sysctl net.ipv4.ip_nonlocal_bind=1 \
    --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock -e container=docker \
    -v "$2:/etc/go-ship:ro" -v "$2/sshd.conf:/etc/ssh/sshd_config.d/go-ship.conf:ro" \
    "$image" /sbin/init >/dev/null
}

# The sshd settings of a machine listening on $2, in folder $1: its own host key, the client's key.
sshd_dir() {
  mkdir -p "$1"
  chmod 755 "$1"
  [ -f "$1/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C "$(basename "$1")" -f "$1/ssh_host_ed25519_key"
  cp "$state/client_ed25519.pub" "$1/authorized_keys"
  chmod 600 "$1/authorized_keys"
  cat >"$1/sshd.conf" <<EOF
ListenAddress $2
HostKey /etc/go-ship/ssh_host_ed25519_key
AuthorizedKeysFile /etc/go-ship/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
EOF
}

# ssh with the test key and known_hosts only: `ssh_to 'root@addr via root@bastion' command...`
ssh_to() {
  local line=$1 target=${1%% via *}
  shift
  # -F none: the user's own config plays no part; the bastion hop gets the same key and known_hosts.
  local opts=(-q -F none -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=3
    -o "UserKnownHostsFile=$state/known_hosts" -i "$state/client_ed25519")
  if [ "$target" != "$line" ]; then
    ssh "${opts[@]}" -o "ProxyCommand=ssh ${opts[*]} -W %h:%p ${line#* via }" "$target" "$@"
  else
    ssh "${opts[@]}" "$target" "$@"
  fi
}

start() {
  built || build
  mkdir -p "$state"
  [ -f "$state/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C go-ship-test -f "$state/client_ed25519"
  local n ssh_addr bastion="$net.0.2" fresh=0
  sshd_dir "$state/bastion" "$bastion"
  if ! running bastion || ! ip link show "$tag-b" >/dev/null 2>&1; then
    boot bastion "$state/bastion"
    link "$tag-b" "$net.0.1" eth0 "$bastion" "" "$(pid_of bastion)"
    fresh=1
  fi
  printf '%s %s\n' "$bastion" "$(cut -d' ' -f1,2 "$state/bastion/ssh_host_ed25519_key.pub")" >"$state/known_hosts.tmp"
  : >"$state/hosts.tmp"
  : >"$state/web.tmp"
  for n in $(seq 1 "$count"); do
    if [ "$n" = "$count" ]; then ssh_addr="$net.100.2"; else ssh_addr="$net.$n.2"; fi
    sshd_dir "$state/host-$n" "$ssh_addr"
    if [ "$fresh" = 1 ] || ! running "host-$n" || ! ip link show "$tag-$n" >/dev/null 2>&1; then
      boot "host-$n" "$state/host-$n"
      link "$tag-$n" "$net.$n.1" eth0 "$net.$n.2" "" "$(pid_of "host-$n")"
      if [ "$n" = "$count" ]; then
        link "$tag-l" "$net.100.1" bastion0 "$net.100.2" "$(pid_of bastion)" "$(pid_of "host-$n")"
      fi
    fi
    printf '%s %s\n' "$ssh_addr" "$(cut -d' ' -f1,2 "$state/host-$n/ssh_host_ed25519_key.pub")" >>"$state/known_hosts.tmp"
    if [ "$n" = "$count" ]; then echo "root@$ssh_addr via root@$bastion"; else echo "root@$ssh_addr"; fi >>"$state/hosts.tmp"
    echo "$net.$n.2" >>"$state/web.tmp"
  done
  mv "$state/known_hosts.tmp" "$state/known_hosts"
  mv "$state/hosts.tmp" "$state/hosts"
  mv "$state/web.tmp" "$state/web"
  # Ready when systemd has started everything and sshd answers with the key.
  local line ready
  while read -r line; do
    ready=0
    for _ in $(seq 1 120); do
      if ssh_to "$line" 'systemctl is-system-running --wait >/dev/null 2>&1; systemctl is-active --quiet ssh nginx' </dev/null; then
        ready=1
        break
      fi
      sleep 0.5
    done
    if [ "$ready" = 1 ]; then
      echo "hosts: $line (sshd, systemd, nginx)"
    else
      echo "hosts: $line did not come up (docker logs of its container; scripts/fleet-hosts.sh status)" >&2
      return 1
    fi
  done <"$state/hosts"
}

stop() {
  local n
  for n in $(seq 1 "$count"); do docker rm -f "$prefix-host-$n" >/dev/null 2>&1 || true; done
  docker rm -f "$prefix-bastion" >/dev/null 2>&1 || true
  echo "hosts: stopped"
}

status() {
  if ! built; then
    echo "not built (bash scripts/fleet-hosts.sh build)"
  elif running host-1; then
    echo "running, $count hosts and a bastion ($state)"
  else
    echo "built, not running (bash scripts/fleet-hosts.sh start)"
  fi
}

case "${1:-}" in
  build) build ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: scripts/fleet-hosts.sh build|start|stop|status" >&2
    exit 2
    ;;
esac
