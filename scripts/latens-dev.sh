#!/bin/bash
# latens-dev.sh demo|test — from a fresh Debian 12 machine to a running latens.
#   demo: install missing Debian packages, build, run `latens demo`.
#   test: the same set-up, then every test: make check, valgrind on the Check runners, the whole suite
#         again under ASan+UBSan, and make distcheck.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
case "$mode" in demo|test) ;; *) echo "usage: $0 demo|test" >&2; exit 2 ;; esac

packages=(build-essential autoconf automake libtool pkg-config libgsl-dev libsundials-dev
          check libopenblas-dev valgrind gfortran r-base-core)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "== installing: ${missing[*]}"
  sudo=; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

jobs=$(nproc)
echo "== configure and build (build/)"
[ -x configure ] || ./autogen.sh >/dev/null 2>&1
mkdir -p build
(cd build && { [ -f Makefile ] || ../configure --quiet; } && make -j"$jobs" >/dev/null)

if [ "$mode" = demo ]; then
  exec ./build/latens demo
fi

# On failure show the logs of the failed tests, not just automake's summary.
run_check() {
  local dir=$1
  if ! make -C "$dir" -j"$jobs" check; then
    for log in $(find "$dir/tests" -name '*.log'); do
      grep -qE '^(FAIL|ERROR)' "${log%.log}.trs" 2>/dev/null && { echo "---- $log"; tail -n 60 "$log"; }
    done
    exit 1
  fi
}

echo "== make check"
run_check build
echo "== valgrind on the Check runners"
make -C build check-valgrind >build/valgrind.out 2>&1 || { tail -n 80 build/valgrind.out; exit 1; }
grep -h "ERROR SUMMARY" build/valgrind.out
echo "== ASan + UBSan: the whole suite"
mkdir -p build-asan
(cd build-asan && { [ -f Makefile ] || ../configure --quiet --enable-sanitizers; } && make -j"$jobs" >/dev/null)
run_check build-asan
echo "== make distcheck"
make -C build -j"$jobs" distcheck >build/distcheck.out 2>&1 || { tail -n 80 build/distcheck.out; exit 1; }
grep -E "archives ready|^latens-.*tar.gz" build/distcheck.out || true

# One closing line over every Check runner and script of the plain and sanitizer runs.
cat build/tests/*/*.log build-asan/tests/*/*.log | awk '
  /Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
    gsub(/[,%:]/, " "); for (i = 1; i <= NF; i++) {
      if ($i == "Checks") n += $(i+1); if ($i == "Failures" || $i == "Errors") f += $(i+1) } ; next }
  /^[0-9]+ passed, [0-9]+ failed$/ { n += $1 + $3; f += $3 }
  END { printf "tests: %d passed, %d failed\n", n - f, f }'
