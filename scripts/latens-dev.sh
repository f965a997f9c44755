#!/bin/bash
# latens-dev.sh demo|test — from a fresh Debian 12 machine to a running latens.
#   demo: install missing Debian packages, build, run `latens demo`.
#   test: the same set-up, then every test: make check, valgrind on core, the whole suite
#         again under ASan+UBSan, and make distcheck.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
case "$mode" in demo|test) ;; *) echo "usage: $0 demo|test" >&2; exit 2 ;; esac

packages=(build-essential autoconf automake libtool pkg-config libgsl-dev libsundials-dev
          check libopenblas-dev valgrind)
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

echo "== make check"
make -C build -j"$jobs" check
echo "== valgrind on the core tests"
make -C build check-valgrind
echo "== ASan + UBSan: the whole suite"
mkdir -p build-asan
(cd build-asan && { [ -f Makefile ] || ../configure --quiet --enable-sanitizers; } &&
   ASAN_OPTIONS=detect_leaks=1 make -j"$jobs" check)
echo "== make distcheck"
make -C build -j"$jobs" distcheck >/dev/null
echo "== all tests passed"
