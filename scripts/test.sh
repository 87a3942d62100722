#!/usr/bin/env bash
# The whole test suite: install what is missing, build, run every test (ctest, 2 jobs).
# `scripts/test.sh asan` does the same on the ASan + UBSan build.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-default}"
bash scripts/build.sh "$preset"
ctest --preset "$preset"
