#!/usr/bin/env bash
# The sanitizer lane: an ASan + UBSan build (build-asan, BROOK_SANITIZE=ON) and what runs
# against it. scripts/test.sh calls both steps; each can be run alone.
#
#   scripts/sanitize.sh unit      configure + build build-asan (unless BROOK_SKIP_BUILD=1),
#                                 then ctest over what it built: the unit tests of the
#                                 layers that take untrusted input or hold the data
#                                 (util, bson, wire, auth, storage, catalog, query,
#                                 changestream, commands) and the C driver suites, which
#                                 drive the ASan brookd with a real client
#   scripts/sanitize.sh e2e DIR   tests/e2e/hostile.test.js (malformed input) and auth.test.js
#                                 (logins, roles, sessions, cursors, change streams; ~20 s)
#                                 against build-asan/bin/brookd;
#                                 brookd writes any sanitizer report under DIR, and a
#                                 report fails the step even when every test passed
#
# UB aborts (-fno-sanitize-recover=undefined at compile time, halt_on_error here), leaks
# are reported at exit (detect_leaks=1), so a finding always changes an exit status.
set -uo pipefail
cd "$(dirname "$0")/.."

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

ASAN_TESTS=(util_test bson_test wire_test auth_test storage_test catalog_test query_test
  changestream_test commands_test c_driver_e2e_test c_driver_change_streams_test)

case ${1:-} in
  unit)
    if [[ ${BROOK_SKIP_BUILD:-0} != 1 ]]; then
      # -O1 -g1 under a build type of its own (so no -O2 -g is appended): reports keep
      # function names and line numbers, and this build, the lane's biggest cost on CI's
      # 2 cores, compiles much faster than at -O2 -g.
      cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_FLAGS="-O1 -g1 -DNDEBUG" \
        -DBROOK_BENCH=OFF -DBROOK_WATCH_E2E=OFF -DBROOK_SANITIZE=ON >/dev/null || exit 1
      # Not built here, to keep CI well under its 40 minutes on 2 cores: server_test
      # (Asio plumbing; the e2e step runs the ASan brookd instead) and the brook CLI with
      # its watch suites (a client, not a parser of untrusted input). About 20% of a full
      # ASan build; both passed under ASan when this lane was set up.
      t0=$SECONDS
      cmake --build build-asan -j2 --target brookd "${ASAN_TESTS[@]}" || exit 1
      echo "sanitize.sh: build-asan built in $((SECONDS - t0))s"
    fi
    # Tests of targets not built here register as <target>_NOT_BUILT; so do brook's.
    exec ctest --test-dir build-asan -j2 --output-on-failure -E '_NOT_BUILT$|^brook_'
    ;;
  e2e)
    reports=${2:?usage: scripts/sanitize.sh e2e REPORT_DIR}
    mkdir -p "$reports"
    [[ -x build-asan/bin/brookd ]] || { echo "sanitize.sh: no build-asan/bin/brookd"; exit 1; }
    ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$reports/brookd" UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$reports/brookd" \
      BROOKD=build-asan/bin/brookd node --test --test-reporter=spec tests/e2e/hostile.test.js tests/e2e/auth.test.js
    rc=$?
    if compgen -G "$reports/brookd*" >/dev/null; then
      echo "sanitizer reports from brookd:"
      cat "$reports"/brookd*
      echo "ℹ fail 1"  # counted by scripts/test.sh like a failed test
      exit 1
    fi
    exit $rc
    ;;
  *)
    echo "usage: scripts/sanitize.sh unit | e2e REPORT_DIR" >&2
    exit 2
    ;;
esac
