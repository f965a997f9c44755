#!/bin/bash
# tests/pc/cli_query.sh: `latens pc loglik|marginal|conditional|map|sample` as scripts use
# them: JSON fields, per-row output to -o, exit codes, one-line errors naming file:line:col.
. "${LATENS_SRCDIR:-.}/tests/cli/lib.sh"

# Three fair coins: every complete row has log p = 3 log(1/2), so 1 bit per dimension
# (closed form).
cat >"$tmp/fair.pc" <<'PC'
# latens-pc 1
vars 3
ncat 2 2 2
units 4
B 0 0.5 0.5
B 1 0.5 0.5
B 2 0.5 0.5
P 3 0 1 2
root 3
end
PC
# A deterministic circuit on x0 (indicators), Bernoulli leaves below.
cat >"$tmp/det.pc" <<'PC'
# latens-pc 1
vars 3
ncat 2 2 2
units 11
I 0 0
B 1 0.9 0.1
B 2 0.2 0.8
P 3 0 1 2
I 0 1
B 1 0.3 0.7
B 2 0.6 0.4
P 3 4 5 6
S 2 3 0.25 7 0.75
B 0 0.5 0.5
B 0 0.5 0.5
root 8
end
PC
printf '0,1,0\n1,1,1\n0,0,0\n1,0,1\n' >"$tmp/debd.data"
printf 'a,b,c\n0,NA,1\n1,1,\n' >"$tmp/hdr.csv"

expect 0 "loglik --json" -- "$LATENS" pc loglik --model "$tmp/fair.pc" --data "$tmp/debd.data" --json
contains "$tmp/out" '"mean_loglik":-2.0794415416798357' "loglik mean = 3 log 1/2"
contains "$tmp/out" '"n":4' "loglik n"
contains "$tmp/out" '"bits_per_dim":1' "loglik bits per dim = 1"
expect 0 "loglik -o" -- "$LATENS" pc loglik --model "$tmp/fair.pc" --data "$tmp/debd.data" -o "$tmp/ll.txt"
if [ "$(wc -l <"$tmp/ll.txt")" -eq 4 ] && [ "$(sort -u "$tmp/ll.txt")" = "-2.0794415416798357" ]; then ok; else bad "per-row loglik file: $(cat "$tmp/ll.txt")"; fi
expect 0 "marginal with a header and NA" -- "$LATENS" pc marginal --model "$tmp/fair.pc" --data "$tmp/hdr.csv"
if [ "$(head -1 "$tmp/out")" = "-1.3862943611198906" ]; then ok; else bad "marginal of two observed coins: $(cat "$tmp/out")"; fi

# conditional on det.pc: p(x1=1 | x0=1) = 0.7 (row 2 of debd.data: 1,1,1 gives log p(x1=1,x2=1|x0=1)... use a query file)
printf 'x0,x1,x2\n1,1,NA\n0,0,NA\n' >"$tmp/cond.csv"
expect 0 "conditional" -- "$LATENS" pc conditional --model "$tmp/det.pc" --data "$tmp/cond.csv" --query x1
if awk 'NR==1{ok = ($1 - log(0.7))^2 < 1e-28} NR==2{ok = ok && ($1 - log(0.9))^2 < 1e-28} END{exit !ok}' "$tmp/out"; then ok; else bad "conditional values: $(cat "$tmp/out")"; fi
expect 2 "conditional without --query" -- "$LATENS" pc conditional --model "$tmp/det.pc" --data "$tmp/cond.csv"
expect 2 "conditional with an unknown column" -- "$LATENS" pc conditional --model "$tmp/det.pc" --data "$tmp/cond.csv" --query zz
contains "$tmp/err" '"zz"' "unknown query column named"

# MAP on the deterministic circuit: x0 = 1 (0.75), then x1 = 1 (0.7), x2 = 0 (0.6).
printf 'NA,NA,NA\n0,NA,NA\n' >"$tmp/map.data"
expect 0 "map --json" -- "$LATENS" pc map --model "$tmp/det.pc" --data "$tmp/map.data" --json -o "$tmp/map.csv"
contains "$tmp/map.csv" "1,1,0" "MAP completion of an empty row"
contains "$tmp/map.csv" "0,0,1" "MAP completion with x0 = 0 (0.9, 0.8)"
contains "$tmp/out" '"exact":true' "MAP exact on a deterministic circuit"

expect 0 "sample -n" -- "$LATENS" pc sample --model "$tmp/det.pc" -n 50 --seed 3 -o "$tmp/s1.csv"
expect 0 "sample -n again" -- "$LATENS" pc sample --model "$tmp/det.pc" -n 50 --seed 3 -o "$tmp/s2.csv"
if [ "$(wc -l <"$tmp/s1.csv")" -eq 50 ] && cmp -s "$tmp/s1.csv" "$tmp/s2.csv"; then ok; else bad "seeded samples differ or wrong count"; fi
if grep -qvE '^[01],[01],[01]$' "$tmp/s1.csv"; then bad "samples not 0/1"; else ok; fi
expect 0 "conditional sample" -- "$LATENS" pc sample --model "$tmp/det.pc" --data "$tmp/map.data" --seed 3
if [ "$(sed -n 2p "$tmp/out" | cut -c1)" = 0 ]; then ok; else bad "evidence kept in conditional sample"; fi
expect 2 "sample needs -n or --data" -- "$LATENS" pc sample --model "$tmp/det.pc"

# Bad data and models: one line naming file:line:column, exit 2.
printf '0,1,0\n1,2,1\n' >"$tmp/two.data"
expect 2 "a 2 in binary data" -- "$LATENS" pc loglik --model "$tmp/fair.pc" --data "$tmp/two.data"
contains "$tmp/err" "two.data:2:2:" "bad value names file:line:col"
printf '0,1\n1,0\n' >"$tmp/narrow.data"
expect 2 "wrong column count" -- "$LATENS" pc loglik --model "$tmp/fair.pc" --data "$tmp/narrow.data"
contains "$tmp/err" "narrow.data:1: 2 columns, the model has 3" "column count named"
printf '0,1,0\n1,nan,1\n' >"$tmp/nan.data"
expect 2 "NaN in data" -- "$LATENS" pc loglik --model "$tmp/fair.pc" --data "$tmp/nan.data"
contains "$tmp/err" "nan.data:2:2" "NaN literal names file:line:col"
printf '0,1,0\n1,0\n' >"$tmp/ragged.data"
expect 2 "ragged rows" -- "$LATENS" pc loglik --model "$tmp/fair.pc" --data "$tmp/ragged.data"
contains "$tmp/err" "ragged.data:2" "ragged row named"
printf '# latens-pc 1\nvars 3\nncat 2 2 2\nunits 1\nQ 0\n' >"$tmp/bad.pc"
expect 2 "malformed model" -- "$LATENS" pc loglik --model "$tmp/bad.pc" --data "$tmp/debd.data"
contains "$tmp/err" "bad.pc:5:" "malformed model names file:line"
expect 2 "missing model" -- "$LATENS" pc loglik --model "$tmp/none.pc" --data "$tmp/debd.data"
expect 2 "no --model" -- "$LATENS" pc loglik --data "$tmp/debd.data"
expect 0 "loglik --help" -- "$LATENS" pc loglik --help
contains "$tmp/out" "mean_loglik" "help documents the JSON"
# Results do not depend on the thread count (an HCLT-shaped chain, 12 variables, K = 16:
# dense blocks through DGEMM, levels wide enough for the OpenMP loops).
awk 'BEGIN { n = 12; K = 16; id = 0; srand(5)
  print "# latens-pc 1"; print "vars " n; s = "ncat"; for (j = 0; j < n; j++) s = s " 2"; print s
  print "units " (n * 2 * K + (n - 1) * K + 1)
  for (j = n - 1; j >= 0; j--) {
    for (k = 0; k < K; k++) {
      p = 0.05 + 0.9 * rand(); print "B " j " " 1 - p " " p; leaf = id++
      if (j < n - 1) { print "P 2 " leaf " " msg[k] } else { print "P 1 " leaf }
      prod[k] = id++
    }
    m = (j > 0) ? K : 1
    for (i = 0; i < m; i++) { s = "S " K; for (k = 0; k < K; k++) s = s " " prod[k] " " 1 / K; print s; nmsg[i] = id++ }
    for (i = 0; i < m; i++) msg[i] = nmsg[i]
  }
  print "root " (id - 1); print "end" }' >"$tmp/chain.pc"
awk 'BEGIN { srand(9); for (i = 0; i < 3000; i++) { s = ""; for (j = 0; j < 12; j++) s = s (j ? "," : "") (rand() < 0.4 ? 1 : 0); print s } }' >"$tmp/chain.data"
expect 0 "loglik, 1 thread" -- "$LATENS" pc loglik --model "$tmp/chain.pc" --data "$tmp/chain.data" --threads 1 -o "$tmp/t1.txt"
expect 0 "loglik, 2 threads" -- "$LATENS" pc loglik --model "$tmp/chain.pc" --data "$tmp/chain.data" --threads 2 -o "$tmp/t2.txt"
if cmp -s "$tmp/t1.txt" "$tmp/t2.txt" && [ "$(wc -l <"$tmp/t1.txt")" -eq 3000 ]; then ok; else bad "loglik differs between 1 and 2 threads"; fi
expect 0 "sample, 2 threads" -- "$LATENS" pc sample --model "$tmp/chain.pc" -n 200 --threads 2 -o "$tmp/s2.csv"
expect 0 "sample, 1 thread" -- "$LATENS" pc sample --model "$tmp/chain.pc" -n 200 --threads 1 -o "$tmp/s1.csv"
if cmp -s "$tmp/s1.csv" "$tmp/s2.csv"; then ok; else bad "samples differ between 1 and 2 threads"; fi
finish
