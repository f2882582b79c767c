#!/usr/bin/env bash
# Configures and builds a Release brookd (and the unit tests) into build/ with Ninja.
# Extra arguments go to the configure step, e.g. scripts/build.sh -DBROOK_BENCH=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBROOK_BENCH=OFF "$@"
cmake --build build
