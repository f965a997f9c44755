#!/bin/bash
# tests/pc/cli_learn_cat.sh: `latens pc learn --categories` on a general CSV with a header and
# integer-coded categories (NA missing): HCLT, Chow-Liu tree, RAT-SPN and LVD models, their
# files read back by `pc loglik|marginal|conditional|map|sample`, and bad codes refused with
# one line naming file:line:column, exit 2.
. "${LATENS_SRCDIR:-.}/tests/cli/lib.sh"

# Four columns with 3, 3, 4 and 2 categories; b follows a, c follows b; some NA.
awk 'BEGIN { srand(5); print "a,b,c,d"; for (i = 0; i < 500; i++) { a = int(rand() * 3);
      b = rand() < 0.8 ? a : int(rand() * 3); c = (b + (rand() < 0.7 ? 0 : 1)) % 4; d = rand() < 0.5;
      if (i % 37 == 0) c = "NA"; print a "," b "," c "," d } }' >"$tmp/tr.csv"
head -101 "$tmp/tr.csv" >"$tmp/va.csv"

expect 0 "learn categorical" -- "$LATENS" pc learn --train "$tmp/tr.csv" --valid "$tmp/va.csv" \
  --categories 3,3,4,2 --latents 4 --epochs 3 --seed 2 -o "$tmp/cat.pc" --json
contains "$tmp/out" "\"vars\":4" "four variables"
contains "$tmp/cat.pc" "# latens-pc 1" "model file in the latens-pc format"
v=$(sed -n 's/.*"valid_loglik":\([^,}]*\).*/\1/p' "$tmp/out")
expect 0 "loglik of the categorical model" -- "$LATENS" pc loglik --model "$tmp/cat.pc" --data "$tmp/va.csv" --json
contains "$tmp/out" "\"mean_loglik\":$v," "the model file gives back the reported validation LL"
# auto: the largest code + 1 per column is 3,3,4,2 here, so the same model.
expect 0 "learn auto" -- "$LATENS" pc learn --train "$tmp/tr.csv" --valid "$tmp/va.csv" \
  --categories auto --latents 4 --epochs 3 --seed 2 -o "$tmp/auto.pc"
if cmp -s "$tmp/cat.pc" "$tmp/auto.pc"; then ok; else bad "--categories auto differs from 3,3,4,2"; fi
# One count for every column.
expect 0 "learn C=4" -- "$LATENS" pc learn --train "$tmp/tr.csv" --categories 4 --latents 2 --epochs 1 -o "$tmp/c4.pc"

# Bad codes: at or above the declared count, negative, not an integer (train and valid).
printf 'a,b\n0,1\n2,3\n' >"$tmp/big.csv"
expect 2 "code >= categories" -- "$LATENS" pc learn --train "$tmp/big.csv" --categories 3 -o "$tmp/x.pc"
contains "$tmp/err" "big.csv:3:2:" "code 3 located at line 3, column 2"
printf 'a,b\n0,1\n-1,1\n' >"$tmp/neg.csv"
expect 2 "negative code" -- "$LATENS" pc learn --train "$tmp/neg.csv" --categories 3 -o "$tmp/x.pc"
contains "$tmp/err" "neg.csv:3:1:" "negative code located"
printf 'a,b\n0,1\n1.5,1\n' >"$tmp/frac.csv"
expect 2 "non-integer code" -- "$LATENS" pc learn --train "$tmp/frac.csv" --categories auto -o "$tmp/x.pc"
contains "$tmp/err" "frac.csv:3:1:" "non-integer code located"
printf 'a,b,c,d\n0,1,2,1\n0,1,3,2\n' >"$tmp/vbad.csv"
expect 2 "valid code >= categories" -- "$LATENS" pc learn --train "$tmp/tr.csv" --valid "$tmp/vbad.csv" \
  --categories 3,3,4,2 -o "$tmp/x.pc"
contains "$tmp/err" "vbad.csv:3:4:" "valid: code 2 of a 2-category column located"
expect 2 "count list length" -- "$LATENS" pc learn --train "$tmp/tr.csv" --categories 3,3 -o "$tmp/x.pc"
expect 2 "count below 2" -- "$LATENS" pc learn --train "$tmp/tr.csv" --categories 1 -o "$tmp/x.pc"
expect 2 "categorical pic" -- "$LATENS" pc learn --train "$tmp/tr.csv" --categories 4 --structure pic -o "$tmp/x.pc"
expect 2 "cltree: code >= categories" -- "$LATENS" pc learn --train "$tmp/big.csv" --categories 3 --structure cltree -o "$tmp/x.pc"
contains "$tmp/err" "big.csv:3:2:" "cltree: code 3 located at line 3, column 2"
expect 2 "rat: negative code" -- "$LATENS" pc learn --train "$tmp/neg.csv" --categories 3 --structure rat -o "$tmp/x.pc"
contains "$tmp/err" "neg.csv:3:1:" "rat: negative code located"
if [ -e "$tmp/x.pc" ]; then bad "a failed run left a model file"; else ok; fi

# Queries on the categorical HCLT: an all-missing row has log p = 0 (marginal), MAP fills the
# NA cells with codes of their columns and keeps the evidence, samples are codes in range.
printf 'a,b,c,d\nNA,NA,NA,NA\n0,NA,NA,1\n2,2,NA,NA\n' >"$tmp/q.csv"
expect 0 "marginal" -- "$LATENS" pc marginal --model "$tmp/cat.pc" --data "$tmp/q.csv"
if awk 'NR == 1 { exit !($1 < 1e-12 && $1 > -1e-12) }' "$tmp/out"; then ok; else bad "all-missing marginal is $(head -1 "$tmp/out"), not 0"; fi
in_range() { # FILE [FIRST]: every row from line FIRST (default 2) has codes below 3,3,4,2
  awk -F, -v first="${2:-2}" 'NR >= first && !($1 ~ /^[0-2]$/ && $2 ~ /^[0-2]$/ && $3 ~ /^[0-3]$/ && $4 ~ /^[01]$/) { bad = 1 }
           END { exit bad }' "$1"
}
expect 0 "map" -- "$LATENS" pc map --model "$tmp/cat.pc" --data "$tmp/q.csv"
if in_range "$tmp/out" && [ "$(sed -n 3p "$tmp/out" | cut -d, -f1,4)" = "0,1" ] &&
   [ "$(sed -n 4p "$tmp/out" | cut -d, -f1,2)" = "2,2" ]; then ok; else bad "map output: $(cat "$tmp/out")"; fi
expect 0 "sample" -- "$LATENS" pc sample --model "$tmp/cat.pc" -n 200 --seed 3 -o "$tmp/s.csv"
if in_range "$tmp/s.csv" 1 && [ "$(wc -l <"$tmp/s.csv")" -eq 200 ]; then ok; else bad "samples out of range"; fi
expect 0 "conditional" -- "$LATENS" pc conditional --model "$tmp/cat.pc" --data "$tmp/va.csv" --query a,b --json
contains "$tmp/out" "\"mean_logcond\":" "conditional summary"
printf 'a,b,c,d\n0,1,2,1\n0,1,4,1\n' >"$tmp/qbad.csv"
expect 2 "query: code >= categories" -- "$LATENS" pc loglik --model "$tmp/cat.pc" --data "$tmp/qbad.csv"
contains "$tmp/err" "qbad.csv:3:3:" "query: code 4 of a 4-category column located"

# Chow-Liu tree on categorical data: deterministic, so MAP is exact; the file gives back the
# reported validation LL.
expect 0 "learn cltree" -- "$LATENS" pc learn --train "$tmp/tr.csv" --valid "$tmp/va.csv" \
  --categories 3,3,4,2 --structure cltree -o "$tmp/clt.pc" --json
v=$(sed -n 's/.*"valid_loglik":\([^,}]*\).*/\1/p' "$tmp/out")
expect 0 "loglik of the cltree" -- "$LATENS" pc loglik --model "$tmp/clt.pc" --data "$tmp/va.csv" --json
contains "$tmp/out" "\"mean_loglik\":$v," "the cltree file gives back the reported validation LL"
expect 0 "cltree map" -- "$LATENS" pc map --model "$tmp/clt.pc" --data "$tmp/q.csv" --json
contains "$tmp/out" "\"exact\":true" "categorical Chow-Liu MAP is exact"

# RAT-SPN and LVD (built-in teacher, and an external teacher's file) on categorical data.
expect 0 "learn rat" -- "$LATENS" pc learn --train "$tmp/tr.csv" --categories 3,3,4,2 --structure rat \
  --latents 3 --components 2 --epochs 2 -o "$tmp/rat.pc"
expect 0 "rat marginal" -- "$LATENS" pc marginal --model "$tmp/rat.pc" --data "$tmp/q.csv"
expect 0 "learn lvd kmeans" -- "$LATENS" pc learn --train "$tmp/tr.csv" --categories 3,3,4,2 --lvd kmeans \
  --latents 3 --epochs 2 -o "$tmp/lvd.pc"
awk -F, 'NR > 1 { print ($1 == "NA" ? 0 : $1 % 3) "," $2 % 3 "," ($3 == "NA" ? 1 : $3 % 3) "," $4 }' \
  "$tmp/tr.csv" >"$tmp/z.csv"
expect 0 "learn lvd file" -- "$LATENS" pc learn --train "$tmp/tr.csv" --categories 3,3,4,2 --lvd "$tmp/z.csv" \
  --latents 3 --epochs 2 -o "$tmp/lvdf.pc"
finish
