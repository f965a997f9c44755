# tests/cli/lib.sh: sourced by every CLI test script (tests/*/cli*.sh).
#   expect CODE DESCRIPTION -- COMMAND...   exit status CODE; for CODE != 0 one stderr line
#   contains FILE TEXT DESCRIPTION          FILE holds TEXT
#   ok / bad MESSAGE                        count a check by hand
#   finish                                  prints "N passed, N failed" and sets the status
# Output of the last command is in $tmp/out and $tmp/err; $tmp is removed on exit.
set -u
LATENS=${LATENS:-./latens}
SRC=${LATENS_SRCDIR:-.}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/latens-cli-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

expect() {
  local code=$1 what=$2; shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" -ne "$code" ]; then bad "$what: exit $rc, expected $code ($(head -c 300 "$tmp/err"))"; return; fi
  if [ "$code" -ne 0 ] && [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
    bad "$what: expected one line on stderr, got: $(cat "$tmp/err")"; return
  fi
  ok
}
contains() { if grep -qF -- "$2" "$1"; then ok; else bad "$3: '$2' not in $(head -c 300 "$1")"; fi; }

finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
