#!/bin/bash
# tests/pc/cli_learn.sh: `latens pc learn` and the pc section of `latens demo` as scripts use
# them: the model file, JSON fields, exit codes, one-line errors with file:line:column.
. "${LATENS_SRCDIR:-.}/tests/cli/lib.sh"
D="$SRC/data"

# A small tree-structured binary data set (x1 copies x0 mostly, ...), headerless like DEBD.
awk 'BEGIN { srand(7); for (i = 0; i < 400; i++) { a = rand() < 0.4; b = rand() < 0.85 ? a : 1 - a;
      c = rand() < 0.8 ? b : 1 - b; d = rand() < 0.5; print a "," b "," c "," d } }' >"$tmp/tr.csv"
head -100 "$tmp/tr.csv" >"$tmp/va.csv"

for s in hclt cltree rat pic; do
  expect 0 "learn --structure $s" -- "$LATENS" pc learn --train "$tmp/tr.csv" --valid "$tmp/va.csv" \
    --structure "$s" --latents 4 --epochs 2 --batch 64 --seed 3 -o "$tmp/$s.pc" --json
  contains "$tmp/out" "\"structure\":\"$s\"" "$s: JSON names the structure"
  contains "$tmp/out" "\"valid_loglik\":" "$s: JSON has valid_loglik"
  contains "$tmp/$s.pc" "# latens-pc 1" "$s: model file in the latens-pc format"
done
# The same seed gives the same model, byte for byte.
expect 0 "learn again" -- "$LATENS" pc learn --train "$tmp/tr.csv" --valid "$tmp/va.csv" \
  --latents 4 --epochs 2 --batch 64 --seed 3 -o "$tmp/again.pc"
if cmp -s "$tmp/hclt.pc" "$tmp/again.pc"; then ok; else bad "same seed, different model"; fi
contains "$tmp/out" "valid mean log-likelihood" "text summary"
# A Chow-Liu tree learned on nltcs lands near its published -6.76 on the test split: the
# model file is read back by the query side.
expect 0 "cltree nltcs" -- "$LATENS" pc learn --train "$D/nltcs.train.data" --valid "$D/nltcs.valid.data" \
  --structure cltree -o "$tmp/nltcs.pc" --json
contains "$tmp/out" "\"vars\":16" "nltcs has 16 variables"
v=$(sed -n 's/.*"valid_loglik":\([^,}]*\).*/\1/p' "$tmp/out")
expect 0 "loglik of the learned model" -- "$LATENS" pc loglik --model "$tmp/nltcs.pc" --data "$D/nltcs.valid.data" --json
contains "$tmp/out" "\"mean_loglik\":$v," "the model file gives back the reported validation LL"

# Data softening (--soften B): trains, and refuses B outside (0.5, 1] or with categorical data.
expect 0 "learn --soften" -- "$LATENS" pc learn --train "$tmp/tr.csv" --valid "$tmp/va.csv" --latents 3 \
  --epochs 2 --soften 0.95 --seed 3 -o "$tmp/soft.pc" --json
contains "$tmp/out" "\"valid_loglik\":" "soften: JSON has valid_loglik"
# --pseudocount: 0 is plain maximum likelihood, a negative count is refused.
expect 0 "learn --pseudocount 0" -- "$LATENS" pc learn --train "$tmp/tr.csv" --latents 3 --epochs 2 \
  --pseudocount 0 -o "$tmp/pc0.pc"
expect 2 "pseudocount -1" -- "$LATENS" pc learn --train "$tmp/tr.csv" --pseudocount -1 -o "$tmp/x.pc"
expect 2 "soften 0.4" -- "$LATENS" pc learn --train "$tmp/tr.csv" --soften 0.4 -o "$tmp/x.pc"
expect 2 "soften categorical" -- "$LATENS" pc learn --train "$tmp/tr.csv" --categories 2,2,2,3 \
  --soften 0.9 -o "$tmp/x.pc"
contains "$tmp/err" "soften" "the softening error names the option"

# Latent variable distillation: the built-in teacher, and an external teacher's file
# (4 columns = M n states for M = 1, n = 4; an out-of-range state is refused).
expect 0 "lvd kmeans" -- "$LATENS" pc learn --train "$tmp/tr.csv" --latents 3 --epochs 2 --lvd kmeans -o "$tmp/lvd.pc"
awk -F, '{ print $1 "," $2 "," ($2 + $3) "," $4 }' "$tmp/tr.csv" >"$tmp/z.csv"
expect 0 "lvd file" -- "$LATENS" pc learn --train "$tmp/tr.csv" --latents 3 --epochs 2 --lvd "$tmp/z.csv" -o "$tmp/lvd2.pc"
awk -F, '{ print $1 "," $2 "," ($2 + $3 + 5) "," $4 }' "$tmp/tr.csv" >"$tmp/zbad.csv"
expect 2 "lvd bad state" -- "$LATENS" pc learn --train "$tmp/tr.csv" --latents 3 --lvd "$tmp/zbad.csv" -o "$tmp/x.pc"
contains "$tmp/err" "not a state" "bad teacher state named"
expect 2 "lvd with rat" -- "$LATENS" pc learn --train "$tmp/tr.csv" --structure rat --lvd kmeans -o "$tmp/x.pc"

# Errors: one line, exit 2, file:line:column for bad values.
printf '0,1,0,1\n1,2,0,1\n' >"$tmp/bad.csv"
expect 2 "value 2" -- "$LATENS" pc learn --train "$tmp/bad.csv" -o "$tmp/x.pc"
contains "$tmp/err" "bad.csv:2:2:" "bad value located at line 2, column 2"
printf '0,1,0\n' >"$tmp/short.csv"
expect 2 "valid column count" -- "$LATENS" pc learn --train "$tmp/tr.csv" --valid "$tmp/short.csv" -o "$tmp/x.pc"
contains "$tmp/err" "short.csv:1:" "column count mismatch names the file"
printf '0,1,0,1\nnan,1,0,1\n' >"$tmp/nan.csv"
expect 2 "nan" -- "$LATENS" pc learn --train "$tmp/nan.csv" -o "$tmp/x.pc"
contains "$tmp/err" "nan.csv:2:1" "NaN literal located"
expect 2 "no -o" -- "$LATENS" pc learn --train "$tmp/tr.csv"
expect 2 "no --train" -- "$LATENS" pc learn -o "$tmp/x.pc"
expect 2 "bad structure" -- "$LATENS" pc learn --train "$tmp/tr.csv" --structure tree -o "$tmp/x.pc"
expect 2 "bad latents" -- "$LATENS" pc learn --train "$tmp/tr.csv" --latents 1 -o "$tmp/x.pc"
expect 2 "missing file" -- "$LATENS" pc learn --train "$tmp/nosuch.csv" -o "$tmp/x.pc"
if [ -e "$tmp/x.pc" ]; then bad "a failed run left a model file"; else ok; fi
# Missing values (NA) are marginalised in training.
printf '0,1,NA,1\n' >>"$tmp/tr.csv"
expect 0 "NA in training data" -- "$LATENS" pc learn --train "$tmp/tr.csv" --latents 3 --epochs 1 -o "$tmp/na.pc"
expect 0 "learn --help" -- "$LATENS" pc learn --help
contains "$tmp/out" "--structure" "help lists --structure"

# The demo section.
expect 0 "demo pc" -- "$LATENS" demo pc --data "$D"
contains "$tmp/out" "test mean log-likelihood" "demo prints the test LL"
contains "$tmp/out" "MAP completion" "demo prints a MAP completion"
expect 0 "demo pc --json" -- "$LATENS" demo pc --data "$D" --json
contains "$tmp/out" "\"test_loglik\":" "demo JSON test_loglik"
contains "$tmp/out" "\"map_completion\":" "demo JSON map_completion"
contains "$tmp/out" "\"samples\":" "demo JSON samples"
finish
