#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang, ASan+UBSan) into build-fuzz/ and runs each
# for a bounded time, two at a time (one per core). Ends with "fuzz: N passed, M failed",
# one count per target: a target fails when a committed crasher (fuzz/crashers/<target>/)
# crashes it again, or when the run finds a new crash (kept in build-fuzz/artifacts/).
#
#   scripts/fuzz.sh                     every target, FUZZ_SECONDS (default 60) each
#   FUZZ_SECONDS=1800 scripts/fuzz.sh wire_frame_fuzz scram_fuzz
#
# FUZZ_JOBS (default 2) targets run in parallel. Seeds are generated fresh into
# build-fuzz/seeds by fuzz/seeds.py (from ../shared/spec's bson-corpus and driver-shaped
# commands) and fuzz/record_traffic.js (the Node driver's frames through a proxy, when
# build/bin/brookd or $BROOKD exists); what each run learns is kept in
# build-fuzz/corpus/<target> for the next run.
# BROOK_SKIP_BUILD=1 reuses the current build-fuzz.
set -uo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
JOBS=${FUZZ_JOBS:-2}
ALL_TARGETS=(wire_frame_fuzz bson_validate_fuzz command_parse_fuzz resume_token_fuzz scram_fuzz)
if (($#)); then targets=("$@"); else targets=("${ALL_TARGETS[@]}"); fi
OUT=build-fuzz

fail_setup() {
  echo "fuzz.sh: $1"
  echo "fuzz: 0 passed, 1 failed"
  exit 1
}

if [[ ${BROOK_SKIP_BUILD:-0} != 1 ]]; then
  if [[ ! -f $OUT/build.ninja ]]; then
    mkdir -p "$OUT"
    CC=clang CXX=clang++ cmake -S . -B "$OUT" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DBROOK_FUZZ=ON >"$OUT/configure.log" 2>&1 || { cat "$OUT/configure.log"; fail_setup "configure failed"; }
  fi
  cmake --build "$OUT" -j2 --target "${targets[@]}" || fail_setup "build failed"
fi
rm -rf "$OUT/seeds"
/usr/bin/python3 fuzz/seeds.py "$OUT/seeds" || fail_setup "seed generation failed"
# Real driver traffic on top, when a brookd is built (scripts/test.sh builds one first).
brookd_bin=${BROOKD:-build/bin/brookd}
if [[ -x $brookd_bin ]]; then
  BROOKD=$brookd_bin node fuzz/record_traffic.js "$OUT/seeds" ||
    echo "fuzz.sh: recording driver traffic failed; fuzzing from the generated seeds only"
else
  echo "fuzz.sh: no $brookd_bin, so no recorded driver traffic among the seeds"
fi

# run_target T: replay T's crashers, then fuzz it; writes $OUT/logs/T.log and T.rc.
run_target() {
  local t=$1 bin=$OUT/fuzz/$1 log=$OUT/logs/$1.log
  local corpus=$OUT/corpus/$t artifacts=$OUT/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  : >"$log"
  local crashers=(fuzz/crashers/"$t"/*)
  if [[ -e ${crashers[0]} ]]; then
    echo "--- replaying ${#crashers[@]} committed crasher(s)" >>"$log"
    if ! "$bin" "${crashers[@]}" >>"$log" 2>&1; then
      echo 1 >"$OUT/logs/$t.rc"
      return
    fi
  fi
  echo "--- fuzzing for ${SECONDS_PER_TARGET}s" >>"$log"
  # -timeout: one input taking 25 s is a hang worth reporting; -rss_limit_mb likewise.
  nice -n 10 "$bin" -max_total_time="$SECONDS_PER_TARGET" -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" "$OUT/seeds/$t" >>"$log" 2>&1
  echo $? >"$OUT/logs/$t.rc"
}

mkdir -p "$OUT/logs"
running=0
for t in "${targets[@]}"; do
  [[ -x $OUT/fuzz/$t ]] || fail_setup "no target $OUT/fuzz/$t"
  run_target "$t" &
  running=$((running + 1))
  if ((running >= JOBS)); then
    wait -n
    running=$((running - 1))
  fi
done
wait

passed=0 failed=0
for t in "${targets[@]}"; do
  rc=$(cat "$OUT/logs/$t.rc" 2>/dev/null || echo 1)
  execs=$(grep -Eo 'stat::number_of_executed_units: [0-9]+' "$OUT/logs/$t.log" | grep -Eo '[0-9]+$')
  if [[ $rc == 0 ]]; then
    passed=$((passed + 1))
    echo "fuzz: $t ok, ${execs:-0} executions in ${SECONDS_PER_TARGET}s"
  else
    failed=$((failed + 1))
    echo "fuzz: $t FAILED (exit $rc); log follows"
    grep -E 'ERROR|SUMMARY|Test unit written|#[0-9]+ 0x' "$OUT/logs/$t.log" | head -40
  fi
done
echo "fuzz: $passed passed, $failed failed"
((failed == 0))
