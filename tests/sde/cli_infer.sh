#!/bin/bash
# tests/sde/cli_infer.sh: `latens sde filter|smooth|fit` for any model (--model NAME,
# --plugin): the JSON contract fields, parameter recovery on data from `latens sde simulate`,
# EKF / UKF against the exact Kalman filter, multi-column data, one-line errors.
. "${LATENS_SRCDIR:-.}/tests/cli/lib.sh"

nile="$SRC/data/nile.csv"
num() { # num KEY: the first number after "KEY": in $tmp/out (the first on the line too:
  # a greedy sed match would take the last)
  grep -o "\"$1\":[-0-9.e+]*" "$tmp/out" | head -n 1 | sed 's/^[^:]*://'
}

# Data: a double-well path (sigma = 0.7) at 101 times, observed exactly (time,x1); the fits
# hold the observation noise at r = 0.01 (below it the particle weights degenerate).
"$LATENS" sde simulate --model double-well --params sigma=0.7 --x0 -1 --t1 25 --dt 0.001 \
  --out-dt 0.25 --seed 5 | cut -d, -f2,3 >"$tmp/dw.csv"
# Oracle: the data were simulated with sigma = 0.7, so the MLE is within 3 standard errors.
for m in mle pf sde-matching; do
  expect 0 "double-well fit $m" -- "$LATENS" sde fit --model double-well --method $m \
    --data "$tmp/dw.csv" --params r=1e-2 --fit-params sigma --particles 200 --dt 0.01 --json --quiet
  for f in '"params":{"sigma":' '"loglik":' '"iterations":' '"method":"'$m'"' \
           '"model":"double-well"' '"stderr":{"sigma":'; do
    contains "$tmp/out" "$f" "fit $m: $f"
  done
  s=$(sed -n 's/.*"params":{"sigma":\([-0-9.e+]*\).*/\1/p' "$tmp/out"); se=$(sed -n 's/.*"stderr":{"sigma":\([-0-9.e+]*\).*/\1/p' "$tmp/out")
  awk -v s="$s" -v se="$se" 'BEGIN { exit !(se > 0 && (s - 0.7)^2 < 9 * se^2) }' && ok \
    || bad "double-well $m: sigma $s (se $se), simulated with 0.7"
done
expect 0 "double-well fit text" -- "$LATENS" sde fit --model double-well --method mle \
  --data "$tmp/dw.csv" --params r=1e-3 --fit-params sigma
contains "$tmp/out" "(fixed)" "text output marks fixed parameters"

# Oracle: for the OU model the EKF and UKF equal the exact Kalman filter (closed form), here
# the OU interface's Kalman filter with the same stationary prior at the first time.
P="kappa=0.15,mu=920,sigma=71,r=12000"; Q="theta=0.15,mu=920,sigma=71,r=12000"
expect 0 "ou kalman (OU interface)" -- "$LATENS" sde filter --data "$nile" --params "$P" --json
llk=$(num loglik); mk=$(sed -n 's/.*"mean":\[\([-0-9.e+]*\),.*/\1/p' "$tmp/out")
for m in ekf ukf kalman; do
  expect 0 "ou $m" -- "$LATENS" sde filter --model ou --obs gaussian --method $m --data "$nile" --params "$Q" --json
  ll=$(num loglik); mm=$(sed -n 's/.*"mean":\[\([-0-9.e+]*\),.*/\1/p' "$tmp/out")
  awk -v a="$llk" -v b="$ll" -v c="$mk" -v d="$mm" \
    'BEGIN { exit !((a - b)^2 < 1e-10 && (c - d)^2 < 1e-10 * c^2) }' && ok \
    || bad "ou $m: loglik $ll mean $mm vs Kalman $llk $mk"
done
expect 0 "ou smooth ukf csv" -- "$LATENS" sde smooth --model ou --method ukf --data "$nile" --params "$Q"
contains "$tmp/out" "time,value,mean,sd" "smooth csv header"
[ "$(wc -l <"$tmp/out")" -eq 101 ] && ok || bad "smooth: expected 101 lines"

# Closed-form SDE matching for a linear model.  Oracle: its objective is a lower bound on the
# exact (Kalman) log-likelihood at its estimate, which the Kalman MLE's cannot be below.
O="--model ou --obs gaussian --data $tmp/dw.csv --params theta=1,mu=0,sigma=1,r=0.1 --z0 -1,1 --json --quiet"
expect 0 "ou fit mle" -- "$LATENS" sde fit --method mle $O
ll_mle=$(num loglik)
expect 0 "ou fit sde-matching (closed form)" -- "$LATENS" sde fit --method sde-matching $O
contains "$tmp/out" '"likelihood":"kalman"' "linear matching reports the Kalman likelihood"
ll_m=$(num loglik); ob_m=$(num objective)
awk -v a="$ll_mle" -v b="$ll_m" -v c="$ob_m" 'BEGIN { exit !(c <= b + 1e-6 && b <= a + 1e-6 && a - c < 2) }' \
  && ok || bad "ou matching: bound $ob_m, loglik $ll_m, MLE loglik $ll_mle"
contains "$tmp/out" '"objective_se":0' "closed-form matching: objective_se is 0"
expect 0 "double-well fit sde-matching objective_se" -- "$LATENS" sde fit --model double-well \
  --method sde-matching --data "$tmp/dw.csv" --params r=1e-2 --fit-params sigma --json --quiet
se=$(num objective_se)
awk -v s="$se" 'BEGIN { exit !(s > 0 && s < 1) }' && ok || bad "MC matching: objective_se $se"

# Two observed components of Lotka-Volterra, with a missing value; CSV and JSON layouts.
"$LATENS" sde simulate --model lotka-volterra --t1 2 --dt 0.001 --out-dt 0.1 --seed 2 \
  | cut -d, -f2-4 | sed '5s/,[^,]*$/,NA/' >"$tmp/lv.csv"
expect 0 "lv filter ekf" -- "$LATENS" sde filter --model lotka-volterra --data "$tmp/lv.csv" \
  --readout "1,0;0,1" --params r=0.01 --z0 2,0.5,1,0.5
contains "$tmp/out" "time,value1,value2,mean1,sd1,mean2,sd2" "two-component CSV header"
contains "$tmp/out" ",NA," "missing value written as NA"
expect 0 "lv smooth pf json" -- "$LATENS" sde smooth --model lotka-volterra --method pf \
  --data "$tmp/lv.csv" --column x1,x2 --readout "1,0;0,1" --params r=0.01 --particles 200 --dt 0.01 --json
contains "$tmp/out" '"mean":[[' "per-component mean arrays"
contains "$tmp/out" '"params":{"a":1,"b":0.5,"c":0.5,"e":1,"s1":0.1,"s2":0.1,"r":0.01}' "params by name"

# Poisson counts through a particle filter.
printf 't,n\n0,1\n0.5,0\n1,2\n1.5,NA\n2,3\n' >"$tmp/counts.csv"
expect 0 "poisson pf" -- "$LATENS" sde filter --model ou --obs poisson --method pf --data "$tmp/counts.csv" --particles 100 --json
contains "$tmp/out" '"loglik":' "poisson loglik"

# Errors: one line, naming the option or file:line:column.
expect 2 "unknown parameter" -- "$LATENS" sde fit --model cir --method mle --data "$tmp/dw.csv" --params nope=1
contains "$tmp/err" "--params: model 'cir' has no parameter 'nope'" "names the parameter"
expect 2 "negative sigma" -- "$LATENS" sde fit --model cir --method mle --data "$tmp/dw.csv" --params sigma=-1
contains "$tmp/err" "--params" "negative sigma names the option"
expect 2 "unknown --fit-params" -- "$LATENS" sde fit --model cir --method mle --data "$tmp/dw.csv" --fit-params kappa,zz
contains "$tmp/err" "'zz'" "unknown --fit-params named"
printf 't,x\n0,1\n1,nan\n2,3\n' >"$tmp/nan.csv"
expect 2 "NaN in data" -- "$LATENS" sde filter --model double-well --data "$tmp/nan.csv"
contains "$tmp/err" "nan.csv:3:2" "NaN names file:line:column"
expect 2 "wrong column" -- "$LATENS" sde filter --model double-well --data "$tmp/dw.csv" --column 7
contains "$tmp/err" "--column" "wrong column names the option"
expect 2 "columns vs readout" -- "$LATENS" sde filter --model lotka-volterra --data "$tmp/lv.csv" --readout "1,0;0,1;1,1"
printf 't,n\n0,1\n1,2.5\n' >"$tmp/frac.csv"
expect 2 "non-count" -- "$LATENS" sde filter --model ou --obs poisson --method pf --data "$tmp/frac.csv"
contains "$tmp/err" "frac.csv:3:2" "non-count names file:line:column"
expect 2 "readout width" -- "$LATENS" sde filter --model lotka-volterra --data "$tmp/lv.csv" --readout "1,0,0;0,1,0"
expect 2 "kalman on nonlinear" -- "$LATENS" sde filter --model double-well --method kalman --data "$tmp/dw.csv"
expect 2 "bad --z0" -- "$LATENS" sde filter --model double-well --data "$tmp/dw.csv" --z0 1,-2
expect 2 "fit --method ekf" -- "$LATENS" sde fit --model double-well --method ekf --data "$tmp/dw.csv"
expect 2 "matching on multiplicative noise" -- "$LATENS" sde fit --model gbm --method sde-matching --data "$tmp/dw.csv"
expect 2 "poisson mle" -- "$LATENS" sde fit --model ou --obs poisson --method mle --data "$tmp/counts.csv"
contains "$tmp/err" "needs --method pf" "poisson mle names the cause"
expect 0 "help" -- "$LATENS" sde filter --model double-well --help
contains "$tmp/out" "--fit-params" "help documents --fit-params"

# A plug-in model (its own parameter r: the observation noise is then r_obs).
CC_=${CC:-cc}
if command -v "$CC_" >/dev/null 2>&1 &&
   "$CC_" -shared -fPIC -I"$SRC/include" $(pkg-config --cflags gsl 2>/dev/null) \
     "$SRC/tests/sde/plugin_model.c" -o "$tmp/model.so" 2>"$tmp/cc.err"; then
  printf 't,x\n0,0.1\n1,0.25\n2,0.6\n3,1.1\n4,1.6\n5,1.8\n' >"$tmp/log.csv"
  expect 0 "plugin filter" -- "$LATENS" sde filter --plugin "$tmp/model.so" --method ukf --data "$tmp/log.csv" --params r_obs=0.01 --json
  contains "$tmp/out" '"params":{"r":1,"K":2,"s":0.2,"r_obs":0.01}' "plugin params and r_obs"
fi
finish
