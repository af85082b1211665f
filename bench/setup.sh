#!/usr/bin/env bash
# Installs what the comparison benchmark needs beyond `make test`'s
# dependencies: etcd 3.4 (server and etcdctl), ZooKeeper 3.8 (server jar and
# scripts; we start members ourselves, never through systemd) and the
# ZooKeeper C client for sider-loadgen. Idempotent and non-interactive.
set -euo pipefail
PACKAGES=(etcd-server etcd-client zookeeper libzookeeper-mt-dev default-jre-headless)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "bench/setup: all benchmark dependencies present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# --no-install-recommends keeps zookeeperd (the systemd unit) out: the
# harness runs each member as its own process on loopback.
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
