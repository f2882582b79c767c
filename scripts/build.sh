#!/usr/bin/env bash
# Configures and builds a Release brookd (and the unit tests) into build/ with Ninja.
# Extra arguments go to the configure step, e.g. scripts/build.sh -DBROOK_BENCH=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
# BROOK_WATCH_E2E: brook watch's end-to-end tests against brookd run in ctest (explicit,
# so a build/ configured before it defaulted ON picks it up).
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBROOK_BENCH=OFF -DBROOK_WATCH_E2E=ON "$@"
cmake --build build
