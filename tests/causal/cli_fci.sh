#!/bin/bash
# tests/causal/cli_fci.sh: `latens causal fci` flags — --rules, --pds-depth, --knowledge.
# Oracles: causal-learn's stored FCI answer on the shipped asia sample (tests/causal/data),
# and PAGs derived by hand for knowledge on a simulated chain.  Prints "N passed, N failed".
. "${LATENS_SRCDIR:-.}/tests/cli/lib.sh"
D="$SRC/tests/causal/data"

# asia: causal-learn's answer (asia.fci_chisq_0.05.txt) has X4 --> X6, a tail that its R9
# puts through a path back through X4 (X3 o-o X4 o-> X6); Zhang's rules keep X4 o-> X6.
expect 0 "fci causallearn rules" -- "$LATENS" causal fci --data "$D/asia.data.txt" --discrete --rules causallearn --quiet
for e in X1,X7,o-o X2,X6,o-\> X3,X4,o-o X3,X5,o-o X4,X6,--\> X5,X8,o-o; do
  contains "$tmp/out" "$e" "causallearn rules: $e"
done
n=$(grep -c ',o\|,-\|,<' "$tmp/out"); [ "$n" = 6 ] && ok || bad "causallearn rules: $n edges, expected 6"
expect 0 "fci default (zhang) rules" -- "$LATENS" causal fci --data "$D/asia.data.txt" --discrete --quiet
contains "$tmp/out" "X4,X6,o->" "zhang rules keep X4 o-> X6"
cp "$tmp/out" "$tmp/zhang.csv"
expect 0 "fci --rules zhang is the default" -- "$LATENS" causal fci --data "$D/asia.data.txt" --discrete --rules=zhang --quiet
if cmp -s "$tmp/out" "$tmp/zhang.csv"; then ok; else bad "--rules zhang differs from the default"; fi
expect 0 "fci --pds-depth -1 (unlimited)" -- "$LATENS" causal fci --data "$D/asia.data.txt" --discrete --pds-depth -1 --quiet
if cmp -s "$tmp/out" "$tmp/zhang.csv"; then ok; else bad "asia: unlimited Possible-D-SEP changed the graph"; fi
expect 0 "fci --pds-depth 0 --json" -- "$LATENS" causal fci --data "$D/asia.data.txt" --discrete --pds-depth 0 --json --quiet
contains "$tmp/out" '{"from": "X4", "to": "X6", "type": "o->"}' "pds-depth 0 json edge"

# Knowledge on a chain a -> b -> c (continuous, 400 samples): the PAG without knowledge is
# a o-o b o-o c; tiers {a} < {b, c} put an arrowhead at b (a o-> b), then R1 gives b --> c.
printf 'a,b,c\n' >"$tmp/lin.csv"
awk 'BEGIN { srand(3); for (i = 0; i < 400; i++) { a = rand() - 0.5; b = a + 0.3 * (rand() - 0.5); c = b + 0.3 * (rand() - 0.5); printf "%.6f,%.6f,%.6f\n", a, b, c } }' >>"$tmp/lin.csv"
expect 0 "fci without knowledge" -- "$LATENS" causal fci --data "$tmp/lin.csv" --alpha 0.01 --quiet
contains "$tmp/out" "a,b,o-o" "no knowledge: a o-o b"
contains "$tmp/out" "b,c,o-o" "no knowledge: b o-o c"
printf 'tier 0 a\ntier 1 b c\n' >"$tmp/tiers.txt"
expect 0 "fci with tiers" -- "$LATENS" causal fci --data "$tmp/lin.csv" --alpha 0.01 --knowledge "$tmp/tiers.txt" --quiet
contains "$tmp/out" "a,b,o->" "tiers: arrowhead at b only"
contains "$tmp/out" "b,c,-->" "tiers then R1: b --> c"
printf 'require a b\n' >"$tmp/req.txt"
expect 0 "fci with a required edge" -- "$LATENS" causal fci --data "$tmp/lin.csv" --alpha 0.01 --knowledge "$tmp/req.txt" --quiet
contains "$tmp/out" "a,b,-->" "required a --> b"
contains "$tmp/out" "b,c,-->" "required edge then R1: b --> c"

# Usage errors: one line, exit 2; pc does not take the FCI flags.
expect 2 "bad --rules" -- "$LATENS" causal fci --data "$D/asia.data.txt" --discrete --rules tetrad
contains "$tmp/err" "--rules tetrad: expected zhang or causallearn" "bad --rules named"
expect 2 "bad --pds-depth" -- "$LATENS" causal fci --data "$D/asia.data.txt" --discrete --pds-depth -2
contains "$tmp/err" "--pds-depth -2" "bad --pds-depth named"
expect 2 "--pds-depth without a value" -- "$LATENS" causal fci --data "$D/asia.data.txt" --discrete --pds-depth
expect 2 "pc refuses --rules" -- "$LATENS" causal pc --data "$D/asia.data.txt" --discrete --rules zhang
expect 2 "causallearn rules refuse --bootstrap" -- "$LATENS" causal fci --data "$D/asia.data.txt" --discrete --rules causallearn --bootstrap 2
finish
