#!/usr/bin/env bash
# Installs the system packages the project builds and runs on, where missing (Debian).
set -euo pipefail
packages=(libopenblas-dev libyaml-dev libffi-dev zlib1g-dev pkg-config gcc g++ make dataset-fashion-mnist)
if [ "${MIA_WITH_CHROMIUM:-0}" = 1 ]; then packages+=(chromium); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
