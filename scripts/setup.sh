#!/usr/bin/env bash
# Installs every build, test and run dependency of Sider from Debian packages.
# Idempotent and non-interactive; runs as root, or through sudo otherwise.
#
# libraft must be 0.22.x from bookworm-backports (0.15 in bookworm main has
# known safety bugs). We enable backports by reusing the mirror URI that the
# machine's apt sources already name, so no mirror host lives in this repo.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config clang
  libboost-dev libboost-system-dev libboost-program-options-dev
  libuv1-dev libprotobuf-dev protobuf-compiler zlib1g-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libldns-dev libssl-dev openssl ca-certificates libgtest-dev libgmock-dev libbenchmark-dev
  libjemalloc-dev
  python3 python3-pytest python3-consul python3-requests
  curl wrk dnsutils procps
)

# Marker file: skip the slow path when everything is already in place.
have_all() {
  dpkg-query -W -f='${Status}\n' "${PACKAGES[@]}" libraft-dev 2>/dev/null |
    grep -vc 'install ok installed' | grep -qx 0 || return 1
  dpkg-query -W -f='${Version}' libraft-dev 2>/dev/null | grep -q '^0\.2[2-9]'
}
if have_all; then
  echo "setup: all dependencies present"
  exit 0
fi

# Find the Debian mirror URI used for the bookworm suite in this machine's
# sources (deb822 *.sources first, then the one-line format).
mirror_uri() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '
      BEGIN { RS=""; FS="\n" }
      {
        uri=""; suites=""; types=""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/)   { sub(/^URIs:[ \t]*/, "", $i); uri=$i }
          if ($i ~ /^Suites:/) { sub(/^Suites:[ \t]*/, "", $i); suites=$i }
          if ($i ~ /^Types:/)  { types=$i }
        }
        if (types ~ /deb( |$)/ && (" " suites " ") ~ / bookworm /) { split(uri, u, " "); print u[1]; exit }
      }' "$f"
  done | head -n1
  if [ -f /etc/apt/sources.list ]; then
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { if ($(i+1) == "bookworm") print $i; break } }' \
      /etc/apt/sources.list | head -n1
  fi
}

BACKPORTS=/etc/apt/sources.list.d/sider-bookworm-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  uri="$(mirror_uri | head -n1)"
  if [ -z "$uri" ]; then
    echo "setup: no bookworm mirror found in the apt sources; cannot enable backports" >&2
    exit 1
  fi
  $SUDO tee "$BACKPORTS" >/dev/null <<SRC
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
$SUDO apt-get install -y -q --no-install-recommends -t bookworm-backports libraft-dev

ver="$(dpkg-query -W -f='${Version}' libraft-dev)"
case "$ver" in
  0.2[2-9]*) echo "setup: libraft $ver" ;;
  *) echo "setup: libraft $ver installed, need 0.22.x from bookworm-backports" >&2; exit 1 ;;
esac
