#!/usr/bin/env bash
# Installs the real consumers the detection-export tests check against: Debian's BIND (named, named-checkzone, dig)
# and nftables (nft -c checks a ruleset without applying it). Skipped when they are present.
set -euo pipefail
if command -v named >/dev/null && command -v named-checkzone >/dev/null && command -v dig >/dev/null \
  && command -v nft >/dev/null; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "Installing Debian's bind9, bind9-utils, dnsutils and nftables for the export tests..." >&2
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
  bind9 bind9-utils dnsutils nftables >/dev/null
