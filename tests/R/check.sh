#!/bin/sh
# make check for the R package (bindings/R): copy it into the build tree (distcheck's source
# tree is read-only), build it with R CMD build, run R CMD check against the just-built
# liblatens (found by pkg-config through latens-uninstalled.pc), fail on any ERROR or
# WARNING, and put the package R CMD check installed into $LATENS_BUILDDIR/Rlib, the private
# library the R examples use through R_LIBS.
# Environment (set by bindings/R/local.am): LATENS_R, LATENS_SRCDIR, LATENS_BUILDDIR.
set -u
: "${LATENS_R:?LATENS_R (the R interpreter) is not set}"
: "${LATENS_SRCDIR:?LATENS_SRCDIR is not set}"
: "${LATENS_BUILDDIR:?LATENS_BUILDDIR is not set}"

work=$LATENS_BUILDDIR/Rcheck
lib=$LATENS_BUILDDIR/Rlib
fail() {
  echo "FAIL: $1" >&2
  [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 40 "$2" >&2
  exit 1
}

rm -rf "$work" "$lib" && mkdir -p "$work" "$lib" || exit 99
cp -R "$LATENS_SRCDIR/bindings/R" "$work/latens" && chmod -R u+w "$work/latens" || exit 99
rm -f "$work/latens/src/Makevars" "$work/latens/src/"*.o "$work/latens/src/"*.so
cd "$work" || exit 99

PKG_CONFIG_PATH=$LATENS_BUILDDIR${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
# Threads: the check runs beside other tests on a shared machine.
OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
export PKG_CONFIG_PATH OMP_NUM_THREADS

"$LATENS_R" CMD build --no-build-vignettes --no-manual latens > build.log 2>&1 ||
  fail "R CMD build" build.log
tarball=$(ls latens_*.tar.gz 2>/dev/null | head -n 1)
[ -n "$tarball" ] || fail "R CMD build made no tarball" build.log
_R_CHECK_FORCE_SUGGESTS_=false "$LATENS_R" CMD check --no-manual "$tarball" > check.log 2>&1
rc=$?
log=latens.Rcheck/00check.log
[ -f "$log" ] || fail "R CMD check wrote no 00check.log (exit $rc)" check.log
for t in latens.Rcheck/tests/*.Rout.fail; do
  [ -f "$t" ] && { echo "--- $t" >&2; tail -n 30 "$t" >&2; }
done
if [ "$rc" -ne 0 ] || grep -Eq '(ERROR|WARNING)$|^Status:.*(ERROR|WARNING)' "$log"; then
  fail "R CMD check (exit $rc): see $work/$log" "$log"
fi
# R CMD check installed the package into latens.Rcheck: the private library gets that
# installation rather than a second compilation (R packages are relocatable).
cp -R latens.Rcheck/latens "$lib/" || fail "copying the installed package into $lib"
grep '^Status:' "$log"
grep -B1 -A6 'NOTE$' "$log" || true
exit 0
