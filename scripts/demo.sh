#!/usr/bin/env bash
# The main job on the embedded default: install what is missing, build, then run `hwnas demo`
# (a simulation of a built-in network on a preset accelerator, then a short hardware-aware
# search on synthetic SAR-like data). Extra arguments go to `hwnas demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh default
exec ./build/app/hwnas demo "$@"
