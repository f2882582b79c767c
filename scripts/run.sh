#!/usr/bin/env bash
# Installs dependencies, builds, and runs brookd in the foreground on 127.0.0.1:27017
# with its data in ./data. Extra arguments are passed to brookd.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
mkdir -p data
exec build/bin/brookd --dbpath ./data "$@"
