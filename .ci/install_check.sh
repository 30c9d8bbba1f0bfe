#!/usr/bin/env bash
# CI: install the engine into a temporary prefix, then build and run the README's "Embedding"
# example against it — the CMakeLists.txt and main.cpp blocks are extracted from README.md (the
# fenced block after each `<!-- embed:NAME -->` line), so the README cannot drift from what
# works. Done for static and shared libraries, through find_package(lra) and through lra.pc.
#
#   .ci/install_check.sh [static|shared|both]        (default both)
#
# static reuses ./build when it is a static build (CI's test build; LRA_REUSE_BUILD=DIR names
# another, empty names none), else configures ./build-install-static; shared builds
# ./build-install-shared (library and app, no tests).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
kinds=${1:-both}
[ "$kinds" = both ] && kinds="static shared"
jobs=$(nproc)
work=$(mktemp -d "${TMPDIR:-/tmp}/lra-install-check.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ---- the example, from the README -------------------------------------------------------
extract() {  # extract NAME: the fenced block that follows `<!-- embed:NAME -->`
  awk -v name="$1" '
    $0 == "<!-- embed:" name " -->" { armed = 1; next }
    armed && !inside && /^```/      { inside = 1; next }
    inside && /^```[ \t]*$/         { found = 1; exit }
    inside                          { print }
    END { if (!found) exit 1 }' README.md
}
mkdir -p "$work/example"
for f in CMakeLists.txt main.cpp; do
  extract "$f" >"$work/example/$f" || { echo "README.md: no complete block after <!-- embed:$f -->"; exit 1; }
  echo "extracted $f from README.md ($(wc -l <"$work/example/$f") lines)"
done

elapsed() { echo $(( $(date +%s) - $1 ))s; }

for kind in $kinds; do
  echo "=== $kind libraries"
  shared=OFF
  [ "$kind" = shared ] && shared=ON
  build=build-install-$kind
  reuse=${LRA_REUSE_BUILD-build}
  if [ "$kind" = static ] && [ -n "$reuse" ] && [ -f "$reuse/CMakeCache.txt" ] &&
     grep -q '^BUILD_SHARED_LIBS:BOOL=OFF' "$reuse/CMakeCache.txt"; then
    build=$reuse
  fi
  t0=$(date +%s)
  if [ "$build" = "$reuse" ]; then
    cmake -S . -B "$build" >/dev/null
  else
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=$shared \
      -DLRA_BUILD_TESTS=OFF >/dev/null
  fi
  cmake --build "$build" -j"$jobs"
  prefix="$work/prefix-$kind"
  cmake --install "$build" --prefix "$prefix" >/dev/null
  echo "built and installed $build into $prefix in $(elapsed "$t0")"

  # What the package must hold, wherever GNUInstallDirs put the library folder.
  config=$(find "$prefix" -name lraConfig.cmake)
  pc=$(find "$prefix" -name lra.pc)
  libdir=$(dirname "$(dirname "$pc")")
  for f in "$config" "$(dirname "$config")/lraConfigVersion.cmake" \
           "$(dirname "$config")/lraTargets.cmake" "$pc" "$prefix/include/lra/lra.hpp" \
           "$prefix/include/lra/version.hpp" "$prefix/bin/lra_cpu" \
           "$prefix/share/man/man1/lra_cpu.1"; do
    [ -f "$f" ] || { echo "missing from the install: $f"; exit 1; }
  done
  if [ "$kind" = shared ]; then ls "$libdir"/liblra_core.so* >/dev/null; else ls "$libdir"/liblra_core.a >/dev/null; fi
  "$prefix/bin/lra_cpu" info | head -3

  # The umbrella headers include every installed header (lra::measure's in lra/measure.hpp,
  # the rest in lra/lra.hpp), and each header compiles on its own against the install alone
  # (no source-tree header leaks into the public ones).
  (cd "$prefix/include" && find lra -name '*.hpp' ! -path lra/lra.hpp ! -path lra/measure.hpp |
    sort) >"$work/headers"
  missing=$(while read -r h; do
    umbrella=lra/lra.hpp
    case $h in lra/lra/measure/*) umbrella=lra/measure.hpp ;; esac
    grep -q "^#include \"$h\"" "$prefix/include/$umbrella" || echo "$h (in $umbrella)"
  done <"$work/headers")
  [ -z "$missing" ] || { echo "an umbrella header does not include: $missing"; exit 1; }
  while read -r h; do
    echo "#include <$h>" | g++ -std=c++20 -fsyntax-only -I"$prefix/include" -x c++ - ||
      { echo "installed header $h does not compile on its own"; exit 1; }
  done < <(cat "$work/headers"; echo lra/lra.hpp; echo lra/measure.hpp)
  echo "$(($(wc -l <"$work/headers") + 2)) installed headers compile on their own"
  for private in png.hpp svg.hpp; do
    ! find "$prefix/include" -name "$private" | grep -q . ||
      { echo "private header $private was installed"; exit 1; }
  done

  # The README example through find_package(lra), run from a scratch folder.
  t0=$(date +%s)
  cmake -S "$work/example" -B "$work/example-$kind" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
  cmake --build "$work/example-$kind" -j"$jobs"
  echo "example built against the $kind package in $(elapsed "$t0")"
  (cd "$work/example-$kind" && ./embed_example)

  # The same program through pkg-config.
  static_flag=
  [ "$kind" = static ] && static_flag=--static
  flags=$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config $static_flag --cflags --libs lra)
  g++ -std=c++20 -O1 "$work/example/main.cpp" -o "$work/example-pc-$kind" $flags \
    -Wl,-rpath,"$libdir"
  (cd "$work" && "./example-pc-$kind" | tail -1)
  echo "=== $kind: ok"
done
