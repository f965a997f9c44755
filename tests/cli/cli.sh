#!/bin/bash
# tests/cli/cli.sh: the latens command as scripts use it — exit codes, one-line errors,
# JSON on stdout, atomic -o.  Prints "N passed, N failed" last.
. "${LATENS_SRCDIR:-.}/tests/cli/lib.sh"

expect 0 "--version" -- "$LATENS" --version
contains "$tmp/out" "latens " "--version names the program"
contains "$tmp/out" "BLAS: " "--version names the BLAS"
contains "$tmp/out" "OpenMP: " "--version says OpenMP"
contains "$tmp/out" "MPI: " "--version says MPI"
expect 0 "--help" -- "$LATENS" --help
contains "$tmp/out" "demo" "--help lists demo"
expect 2 "no arguments" -- "$LATENS"
expect 2 "unknown subcommand" -- "$LATENS" nosuch
contains "$tmp/err" "unknown subcommand 'nosuch'" "unknown subcommand is named"
expect 2 "unknown option" -- "$LATENS" --nosuch
expect 2 "demo unknown flag" -- "$LATENS" demo --nosuchflag
contains "$tmp/err" "--nosuchflag" "bad flag is named"
expect 2 "demo bad --threads" -- "$LATENS" demo --threads zero
expect 2 "demo bad --seed" -- "$LATENS" demo --seed -3
expect 2 "demo missing value" -- "$LATENS" demo --seed
expect 0 "demo --help" -- "$LATENS" demo --help
contains "$tmp/out" "usage: latens demo" "demo --help prints usage"

# data describe: the reader's first user.
printf 'a,b,name\n1,2.5,x\n3,NA,y\n-4,7,\n' >"$tmp/ok.csv"
expect 0 "describe" -- "$LATENS" data describe "$tmp/ok.csv"
contains "$tmp/out" "integer" "describe reports an integer column"
contains "$tmp/out" "text" "describe reports a text column"
expect 0 "describe --json, options after FILE" -- "$LATENS" data describe "$tmp/ok.csv" --json
contains "$tmp/out" '"rows":3' "describe --json rows"
contains "$tmp/out" '"columns":3' "describe --json columns"
contains "$tmp/out" '{"name":"b","type":"real","missing":1,"min":2.5,"max":7}' "describe --json column b"
expect 2 "describe a file that is not a table" -- "$LATENS" data describe "$SRC/data/README.md"
printf 'a,b\n1,2\n3\n' >"$tmp/ragged.csv"
expect 2 "describe ragged rows" -- "$LATENS" data describe "$tmp/ragged.csv"
contains "$tmp/err" "ragged.csv:3" "ragged row error names file and line"
printf 'a,b\n1,2\nnan,3\n' >"$tmp/nan.csv"
expect 2 "describe NaN literal" -- "$LATENS" data describe "$tmp/nan.csv"
contains "$tmp/err" "nan.csv:3:1" "NaN literal error names file, line and column"
expect 2 "describe a missing file" -- "$LATENS" data describe "$tmp/none.csv"
contains "$tmp/err" "none.csv" "missing file is named"
: >"$tmp/empty.csv"
expect 2 "describe an empty file" -- "$LATENS" data describe "$tmp/empty.csv"
expect 2 "data without a verb" -- "$LATENS" data
expect 2 "data with an unknown verb" -- "$LATENS" data frobnicate
expect 2 "describe without FILE" -- "$LATENS" data describe
expect 0 "describe -o" -- "$LATENS" data describe --json -o "$tmp/d.json" "$SRC/data/sachs.csv"
contains "$tmp/d.json" '"rows":7466' "describe -o writes the Sachs summary"

# The demo's core section against Durbin & Koopman (2012, sec. 2.10): the maximum-likelihood
# variances of the Nile local-level model are 15099 and 1469.1 (published to that precision).
expect 0 "demo --json" -- "$LATENS" demo --json --quiet
if awk -v s="$(cat "$tmp/out")" 'BEGIN {
     if (!match(s, /"sigma2_eps":[-0-9.e+]+/)) exit 1; e = substr(s, RSTART + 13, RLENGTH - 13)
     if (!match(s, /"sigma2_eta":[-0-9.e+]+/)) exit 1; h = substr(s, RSTART + 13, RLENGTH - 13)
     exit !(e > 15098 && e < 15100 && h > 1468.6 && h < 1469.6) }'; then ok
else bad "demo: Nile variances differ from Durbin & Koopman: $(cat "$tmp/out")"; fi
# -o writes atomically and leaves nothing behind on failure.
expect 0 "demo -o" -- "$LATENS" demo --quiet -o "$tmp/demo.txt"
contains "$tmp/demo.txt" "Durbin & Koopman" "demo -o writes the report"
echo keep >"$tmp/keep.txt"
expect 2 "demo with a missing data dir" -- "$LATENS" demo --data "$tmp/nothing" -o "$tmp/keep.txt"
contains "$tmp/keep.txt" "keep" "failed run leaves the old output intact"
if [ "$(ls "$tmp" | grep -c '\.tmp\.')" -eq 0 ]; then ok; else bad "temporary files left in $tmp"; fi

# Review findings: option words, not bytes; no sign or blank sneaking into --seed; JSON
# stays valid for file names that are not UTF-8; a failed demo prints no half JSON.
expect 2 "common flag given a value" -- "$LATENS" demo --json=1
contains "$tmp/err" "option '--json' takes no value" "flag with a value is named"
expect 2 "seed with a leading blank" -- "$LATENS" demo --seed " 5"
printf 'a\n1\n' >"$tmp/caf$(printf '\351').csv"
expect 0 "describe a Latin-1 file name" -- "$LATENS" data describe --json "$tmp/caf$(printf '\351').csv"
contains "$tmp/out" 'caf\ufffd.csv' "invalid UTF-8 becomes U+FFFD in JSON"
printf 'a\033[31mred,b\n1,2\n' >"$tmp/ctrl.csv"
expect 0 "describe a name with an escape sequence" -- "$LATENS" data describe "$tmp/ctrl.csv"
if ! grep -q "$(printf '\033')" "$tmp/out"; then ok; else bad "escape byte reached the terminal"; fi
mkdir -p "$tmp/baddata" && printf 'time,value\n1,2\n2,x\n' >"$tmp/baddata/nile.csv"
expect 2 "demo on a broken nile.csv" -- "$LATENS" demo --json --data "$tmp/baddata"
if [ ! -s "$tmp/out" ]; then ok; else bad "failed demo printed: $(cat "$tmp/out")"; fi
contains "$tmp/err" "nile.csv:3:2" "broken bundled data is named with line and column"

finish
