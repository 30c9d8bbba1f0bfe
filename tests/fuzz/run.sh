#!/usr/bin/env bash
# Runs every libFuzzer target of a LRA_FUZZ=ON build for SECONDS each (default 20), starting
# from the committed seeds in tests/fuzz/corpus/<target>/ (new inputs go to a scratch copy,
# never into the repository). Stops at the first finding, printing the reproducing file.
#   tests/fuzz/run.sh BUILD_DIR [SECONDS] [TARGET ...]
set -euo pipefail
build=${1:?usage: tests/fuzz/run.sh BUILD_DIR [SECONDS] [TARGET ...]}
seconds=${2:-20}
shift $(( $# >= 2 ? 2 : 1 ))
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$here"/fuzz_*.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in "${targets[@]}"; do
  exe="$build/tests/fuzz/$t"
  [ -x "$exe" ] || { echo "no $exe: configure with -DLRA_FUZZ=ON and build target $t" >&2; exit 2; }
  mkdir -p "$work/$t" "$work/$t.artifacts"
  echo "== $t: ${seconds}s"
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 TMPDIR="$work" \
      "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$work/$t.artifacts/" "$work/$t" "$here/corpus/$t" \
      > "$work/$t.log" 2>&1; then
    tail -n 60 "$work/$t.log"
    for a in "$work/$t.artifacts"/*; do
      [ -e "$a" ] || continue
      mkdir -p findings && cp "$a" "findings/$t-$(basename "$a")"
      echo "FINDING: $t on findings/$t-$(basename "$a") (rerun: $exe findings/$t-$(basename "$a"))"
    done
    exit 1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/$t.log" | tr '\n' ' '
  echo
done
