#!/usr/bin/env bash
# Installs the Debian packages hwnas builds and tests with. Idempotent: installs only what is
# missing, and runs apt-get update only when something is.
set -euo pipefail
packages=(g++ cmake ninja-build pkg-config libsystemc-dev libeigen3-dev nlohmann-json3-dev
          libgtest-dev libgmock-dev libbenchmark-dev libstb-dev zlib1g-dev dataset-fashion-mnist)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
