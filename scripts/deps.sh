#!/usr/bin/env bash
# Installs everything Brook needs to build and test, idempotently: Debian packages via
# apt (skipped entirely when dpkg says they are all present, so a warm machine is fast)
# and the JavaScript test dependencies via `npm ci` (only when node_modules is missing or
# older than the lockfile). CI runs this as root on a fresh Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PKGS=(g++ cmake ninja-build pkg-config libbson-dev libmongoc-dev librocksdb-dev libasio-dev
  libssl-dev libpcre2-dev libspdlog-dev libfmt-dev libcli11-dev libyaml-cpp-dev libgtest-dev
  libgmock-dev libbenchmark-dev libzstd-dev libsnappy-dev zlib1g-dev
  tzdata)  # Olson time zones of the date expressions, read at run time
TEST_PKGS=(python3-pymongo)
# --- fuzzing (scripts/fuzz.sh): clang and its runtime, which holds libFuzzer and the
# sanitizers' clang runtimes (libclang-rt-14-dev is Debian 12's package for clang 14).
FUZZ_PKGS=(clang libclang-rt-14-dev)
# --- end fuzzing

missing=()
for p in "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" "${FUZZ_PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# Node.js: some images ship a newer nodejs (e.g. NodeSource) whose package bundles npm and
# conflicts with Debian's npm package, so judge by the commands, not by package names.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The mongodb driver's latest major needs Node >= 20.19; say so plainly instead of
# failing later inside npm.
node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 20)); then
  echo "deps: warning: node $(node --version) is older than the test suites need (>= 20.19)" >&2
fi

# npm ci wipes and reinstalls node_modules, so run it only when node_modules is missing
# or was installed from a different lockfile (its hash is recorded after each install).
E2E=tests/e2e
lock_hash=$(sha256sum "$E2E/package-lock.json" | cut -d' ' -f1)
stamp=$E2E/node_modules/.brook-lock-sha256
if [[ ! -d $E2E/node_modules || ! -f $stamp || $(cat "$stamp") != "$lock_hash" ]]; then
  echo "deps: npm ci in $E2E"
  (cd "$E2E" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_hash" > "$stamp"
fi
