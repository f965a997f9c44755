#!/bin/bash
# tests/pc/cli_learn_cat.sh: `latens pc learn --categories` on a general CSV with a header and
# integer-coded categories (NA missing): the model, its file read back by `pc loglik`, and
# bad codes refused with one line naming file:line:column, exit 2.
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
expect 2 "categorical rat" -- "$LATENS" pc learn --train "$tmp/tr.csv" --categories 4 --structure rat -o "$tmp/x.pc"
if [ -e "$tmp/x.pc" ]; then bad "a failed run left a model file"; else ok; fi
finish
