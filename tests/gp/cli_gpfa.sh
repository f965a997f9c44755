#!/bin/bash
# tests/gp/cli_gpfa.sh: `latens gp gpfa` — CSV and JSON outputs, exit codes, one-line errors
# naming file:line:column.
. "${LATENS_SRCDIR:-.}/tests/cli/lib.sh"
D="$SRC/tests/gp/data_cvi/spikes_vdp.csv"

expect 0 "gpfa --help" -- "$LATENS" gp gpfa --help
contains "$tmp/out" "usage: latens gp gpfa" "gpfa --help prints usage"

expect 0 "gpfa csv" -- "$LATENS" gp gpfa --data "$D" --latents 2 --time-col t --trial-col trial --lengthscale 1 --iterations 5
contains "$tmp/out" "trial,time,x1,x2" "gpfa csv header"
if [ "$(wc -l <"$tmp/out")" -eq 301 ]; then ok; else bad "gpfa csv: expected 301 lines, got $(wc -l <"$tmp/out")"; fi
contains "$tmp/out" "2,2.98," "gpfa csv last row of trial 2"

expect 0 "gpfa --json" -- "$LATENS" gp gpfa --data "$D" --latents 2 --time-col t --trial-col trial --lengthscale 1 --iterations 5 --json
for k in '"latents":2' '"units":10' '"trials":2' '"rows":300' '"likelihood":"poisson"' \
         '"kernel":"matern32"' '"lengthscale":1' '"objective":' '"objective_kind":"elbo"' \
         '"iterations":5' '"converged":' '"offsets":[' '"loadings":[['; do
  contains "$tmp/out" "$k" "gpfa --json field $k"
done

expect 0 "gpfa -o atomic" -- "$LATENS" gp gpfa --data "$D" --latents 1 --time-col t --trial-col trial --iterations 3 -o "$tmp/lat.csv"
contains "$tmp/lat.csv" "trial,time,x1" "gpfa -o writes the csv"

expect 0 "gpfa gaussian, no time column" -- "$LATENS" gp gpfa --data "$D" --latents 2 --trial-col trial --likelihood gaussian --iterations 5 --json
contains "$tmp/out" '"objective_kind":"loglik"' "gaussian objective is the log-likelihood"
contains "$tmp/out" '"noise":[' "gaussian reports noise variances"

expect 2 "gpfa without --latents" -- "$LATENS" gp gpfa --data "$D"
contains "$tmp/err" "--latents" "missing --latents is named"
expect 2 "gpfa bad --latents" -- "$LATENS" gp gpfa --data "$D" --latents 0
expect 2 "gpfa too many latents" -- "$LATENS" gp gpfa --data "$D" --latents 11 --time-col t --trial-col trial
expect 2 "gpfa unknown column" -- "$LATENS" gp gpfa --data "$D" --latents 2 --time-col nosuch
contains "$tmp/err" "no column 'nosuch'" "unknown column is named"
expect 2 "gpfa bad likelihood" -- "$LATENS" gp gpfa --data "$D" --latents 2 --likelihood gamma

printf 't,a,b\n0,1,2\n1,2,1.5\n2,0,1\n' >"$tmp/frac.csv"
expect 2 "gpfa non-integer count" -- "$LATENS" gp gpfa --data "$tmp/frac.csv" --latents 1 --time-col t
contains "$tmp/err" "frac.csv:3:3:" "non-integer count names file:line:column"
printf 't,a,b\n0,1,2\n2,2,1\n1,0,1\n' >"$tmp/unsorted.csv"
expect 2 "gpfa unsorted times" -- "$LATENS" gp gpfa --data "$tmp/unsorted.csv" --latents 1 --time-col t
contains "$tmp/err" "unsorted.csv:4:1:" "unsorted time names file:line:column"
printf 't,a,b\n0,1,2\n1,x,1\n' >"$tmp/text.csv"
expect 2 "gpfa text cell" -- "$LATENS" gp gpfa --data "$tmp/text.csv" --latents 1 --time-col t
contains "$tmp/err" "text.csv:3:2" "text cell names file:line:column"
printf 't,a,b\n0,1,2\n1,2,1\n2,1,inf\n' >"$tmp/inf.csv"
expect 2 "gpfa infinite cell" -- "$LATENS" gp gpfa --data "$tmp/inf.csv" --latents 1 --time-col t --likelihood gaussian
contains "$tmp/err" "inf.csv:4:3:" "infinite cell names file:line:column"
printf 't,a,b\n0,1,NA\n1,2,NA\n2,1,NA\n' >"$tmp/empty.csv"
expect 2 "gpfa unit without data" -- "$LATENS" gp gpfa --data "$tmp/empty.csv" --latents 1 --time-col t
contains "$tmp/err" "column 3 ('b') has no value" "a unit without data names its column"
printf 't,a,b\n0,1,2\n1,NA,1\n2,3,NA\n3,1,1\n' >"$tmp/na.csv"
expect 0 "gpfa missing cells" -- "$LATENS" gp gpfa --data "$tmp/na.csv" --latents 1 --time-col t --iterations 3
awk -F, 'NR==1{print $0",silent,flat"} NR>1{print $0",0,0"}' "$D" >"$tmp/silent.csv"
expect 0 "gpfa silent unit (all zero counts)" -- "$LATENS" gp gpfa --data "$tmp/silent.csv" --latents 2 --time-col t --trial-col trial --iterations 10 --json
if grep -q 'null\|nan\|inf' "$tmp/out"; then bad "silent unit gives a non-finite value: $(head -c 300 "$tmp/out")"; else ok; fi
expect 0 "gpfa gaussian constant unit" -- "$LATENS" gp gpfa --data "$tmp/silent.csv" --latents 2 --time-col t --trial-col trial --likelihood gaussian --iterations 10 --json
if grep -q 'null\|nan\|inf' "$tmp/out"; then bad "constant unit gives a non-finite value: $(head -c 300 "$tmp/out")"; else ok; fi
# --learn-timescales: "lengthscales" holds one learnt value per latent; without the flag, the
# given lengthscale for each.
expect 0 "gpfa fixed lengthscales" -- "$LATENS" gp gpfa --data "$D" --latents 2 --time-col t --trial-col trial --lengthscale 1 --iterations 3 --json
contains "$tmp/out" '"learn_timescales":false' "fixed: learn_timescales false"
contains "$tmp/out" '"lengthscales":[1,1]' "fixed: lengthscales are the given one"
for lik in gaussian poisson; do
  expect 0 "gpfa --learn-timescales $lik" -- "$LATENS" gp gpfa --data "$D" --latents 2 --time-col t --trial-col trial --lengthscale 1 --likelihood $lik --iterations 5 --learn-timescales --json
  contains "$tmp/out" '"learn_timescales":true' "learnt ($lik): learn_timescales true"
  L=$(sed -n 's/.*"lengthscales":\[\([^]]*\)\].*/\1/p' "$tmp/out")
  if awk -F, -v l="$L" 'BEGIN{n=split(l,a,","); if (n!=2) exit 1; for(i=1;i<=n;i++) if (!(a[i]+0>0) || a[i]+0>1e6) exit 1; if (a[1]==1 && a[2]==1) exit 1}'; then ok
  else bad "learnt ($lik) lengthscales not two finite positive values that moved from 1: [$L]"; fi
done
finish
