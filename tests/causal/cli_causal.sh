#!/bin/bash
# tests/causal/cli_causal.sh: `latens causal ...` as scripts use it — the JSON fields the
# issue names, edge-list CSV and DOT output, compare, exit codes and one-line errors naming
# file:line:column.  Prints "N passed, N failed" last.
. "${LATENS_SRCDIR:-.}/tests/cli/lib.sh"
D="$SRC/tests/causal/data"

# PC on the shipped earthquake sample (discrete, chi-square): causal-learn's answer is
# X1 --> X3 <-- X2, X3 --> X4, X3 --> X5.
expect 0 "pc discrete json" -- "$LATENS" causal pc --data "$D/earthquake.data.txt" --discrete --json
contains "$tmp/out" '"nodes": ["X1", "X2", "X3", "X4", "X5"]' "pc json nodes"
contains "$tmp/out" '{"from": "X1", "to": "X3", "type": "-->"}' "pc json edge X1 --> X3"
contains "$tmp/out" '{"from": "X3", "to": "X5", "type": "-->"}' "pc json edge X3 --> X5"
contains "$tmp/out" '"latent_nodes": []' "pc json latent_nodes"
expect 0 "pc csv to a file" -- "$LATENS" causal pc --data "$D/earthquake.data.txt" --discrete --test gsq -o "$tmp/eq.csv"
contains "$tmp/eq.csv" "from,to,type" "csv header"
contains "$tmp/eq.csv" "X2,X3,-->" "csv edge"
expect 0 "pc dot" -- "$LATENS" causal pc --data "$D/earthquake.data.txt" --discrete --dot
contains "$tmp/out" '"X3" -> "X4" [dir=both, arrowtail=none, arrowhead=normal];' "dot edge"
expect 0 "fci json" -- "$LATENS" causal fci --data "$D/earthquake.data.txt" --discrete --json
contains "$tmp/out" '{"from": "X1", "to": "X3", "type": "o->"}' "fci json o-> edge"
expect 0 "compare with the truth's CPDAG" -- "$LATENS" causal compare --truth "$D/earthquake.graph.txt" --estimate "$tmp/eq.csv" --truth-as cpdag --json
contains "$tmp/out" '"shd":0' "compare shd"
contains "$tmp/out" '"adj_f1":1' "compare adjacency F1"
contains "$tmp/out" '"arrow_precision":1' "compare arrowhead precision"
expect 0 "compare text" -- "$LATENS" causal compare --truth "$D/asia.graph.txt" --estimate "$D/asia.graph.txt"
contains "$tmp/out" "SHD                 0" "compare text shd"

# Continuous data with background knowledge.
printf 'a,b,c\n' >"$tmp/lin.csv"
awk 'BEGIN { srand(3); for (i = 0; i < 400; i++) { a = rand() - 0.5; b = a + 0.3 * (rand() - 0.5); c = b + 0.3 * (rand() - 0.5); printf "%.6f,%.6f,%.6f\n", a, b, c } }' >>"$tmp/lin.csv"
printf '# a is exogenous\nrequire a b\ntier 0 a\ntier 1 b c\n' >"$tmp/know.txt"
expect 0 "pc fisherz with knowledge" -- "$LATENS" causal pc --data "$tmp/lin.csv" --knowledge "$tmp/know.txt" --alpha 0.01
contains "$tmp/out" "a,b,-->" "required edge oriented"
contains "$tmp/out" "b,c,-->" "tiers orient b --> c"
printf 'require a nosuch\n' >"$tmp/badknow.txt"
expect 2 "unknown variable in knowledge" -- "$LATENS" causal pc --data "$tmp/lin.csv" --knowledge "$tmp/badknow.txt"
contains "$tmp/err" "badknow.txt:1:11:" "knowledge error names file:line:column"

# Bad data: one line naming file:line:column, exit 2.
printf 'x,y\n1,2\n3,NA\n4,5\n' >"$tmp/na.csv"
expect 2 "missing value" -- "$LATENS" causal pc --data "$tmp/na.csv"
contains "$tmp/err" "na.csv:3:2" "missing value names file:line:column"
printf 'x,y\n1,2\n3,nan\n4,5\n' >"$tmp/nan.csv"
expect 2 "NaN literal" -- "$LATENS" causal pc --data "$tmp/nan.csv"
contains "$tmp/err" "nan.csv:3:2" "NaN names file:line:column"
printf 'x y\n1 2\n2 1.5\n1 1\n' >"$tmp/frac.txt"
expect 2 "non-integer discrete state" -- "$LATENS" causal pc --data "$tmp/frac.txt" --discrete
contains "$tmp/err" "frac.txt:3:2" "non-integer names file:line:column"
printf 'x,y,z\n1,2,7\n2,1,7\n3,5,7\n4,4,7\n5,3,7\n' >"$tmp/const.csv"
expect 2 "constant column" -- "$LATENS" causal pc --data "$tmp/const.csv"
contains "$tmp/err" "column 3 (z) is constant" "constant column named"
printf 'x,y,z\n1,2,3\n2,1,3\n3,5,8\n4,4,8\n5,3,8\n6,0,6\n' >"$tmp/coll.csv"
expect 0 "collinear columns give a graph" -- "$LATENS" causal pc --data "$tmp/coll.csv" --json
printf 'a,b,c,d,e,f\n1,2,3,4,5,7\n2,1,3,5,4,6\n3,5,8,1,2,1\n4,4,8,2,2,9\n' >"$tmp/wide.csv"
expect 0 "n < p gives a graph" -- "$LATENS" causal pc --data "$tmp/wide.csv"

# Usage errors.
expect 2 "no --data" -- "$LATENS" causal pc
expect 2 "bad --alpha" -- "$LATENS" causal pc --data "$tmp/lin.csv" --alpha 1.5
expect 2 "bad --test" -- "$LATENS" causal pc --data "$tmp/lin.csv" --test kci
expect 2 "chisq on continuous data" -- "$LATENS" causal pc --data "$tmp/lin.csv" --test chisq
expect 2 "missing data file" -- "$LATENS" causal fci --data "$tmp/nosuch.csv"
expect 2 "compare without --estimate" -- "$LATENS" causal compare --truth "$D/asia.graph.txt"
printf 'from,to,type\na,b,=>\n' >"$tmp/badg.csv"
expect 2 "bad edge type" -- "$LATENS" causal compare --truth "$D/asia.graph.txt" --estimate "$tmp/badg.csv"
contains "$tmp/err" "badg.csv:2" "bad edge type names file:line"
expect 0 "help" -- "$LATENS" causal pc --help
contains "$tmp/out" "--knowledge" "help lists --knowledge"

# Bootstrap frequencies do not depend on the thread count.
expect 0 "pc bootstrap, 1 thread" -- "$LATENS" causal pc --data "$D/earthquake.data.txt" --discrete --bootstrap 8 --threads 1 --seed 5
cp "$tmp/out" "$tmp/b1"
expect 0 "pc bootstrap, 2 threads" -- "$LATENS" causal pc --data "$D/earthquake.data.txt" --discrete --bootstrap 8 --threads 2 --seed 5
if cmp -s "$tmp/out" "$tmp/b1"; then ok; else bad "bootstrap output depends on --threads"; fi
contains "$tmp/out" "X3,X4,-->,1" "bootstrap frequency of a stable edge"
finish
