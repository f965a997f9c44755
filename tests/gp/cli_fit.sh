#!/bin/bash
# tests/gp/cli_fit.sh: `latens gp fit|loglik|smooth|predict` and the gp demo — JSON fields
# of the issue, exit codes, one-line errors naming file:line:column.
. "${LATENS_SRCDIR:-.}/tests/cli/lib.sh"

SUN="$SRC/data/sunspot_month.csv"
num() { sed -n "s/.*\"$1\":\([-0-9.eE+]*\).*/\1/p" "$tmp/out"; }
# |a - b| <= tol
close() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }

# loglik against closed forms.  One point: log N(y; 0, v + r).  Two Matern-1/2 points:
# log N(y; 0, [[v+r, v e^{-d/l}], [v e^{-d/l}, v+r]]) by the 2x2 determinant and inverse.
printf 't,y\n0,1\n' >"$tmp/one.csv"
expect 0 "loglik one point" -- "$LATENS" gp loglik --data "$tmp/one.csv" --time-col t --value-col y \
  --kernel matern32 --params "lengthscale=2,variance=1,noise=1" --json
ref=$(awk 'BEGIN { printf "%.15g", -0.5 * (log(2 * 3.141592653589793 * 2) + 0.5) }')
if close "$(num loglik)" "$ref" 1e-12; then ok; else bad "one-point loglik $(num loglik) vs $ref"; fi
contains "$tmp/out" '"n":1' "loglik --json n"
printf 't,y\n0,1\n0.7,-0.4\n' >"$tmp/two.csv"
expect 0 "loglik two points" -- "$LATENS" gp loglik --data "$tmp/two.csv" --time-col t --value-col y \
  --kernel matern12 --params "variance=1.5,lengthscale=0.9,noise=0.2" --json
ref=$(awk 'BEGIN { v = 1.5; r = 0.2; c = v * exp(-0.7 / 0.9); a = v + r; det = a * a - c * c;
  q = (a * 1 - 2 * c * 1 * -0.4 + a * 0.16) / det;
  printf "%.15g", -0.5 * (q + log(det) + 2 * log(2 * 3.141592653589793)) }')
if close "$(num loglik)" "$ref" 1e-12; then ok; else bad "two-point loglik $(num loglik) vs $ref"; fi
# rows out of order and a missing value: same loglik, n counts observed values
printf 't,y\n0.7,-0.4\n0.3,NA\n0,1\n' >"$tmp/shuf.csv"
expect 0 "loglik unsorted with NA" -- "$LATENS" gp loglik --data "$tmp/shuf.csv" --time-col t --value-col y \
  --kernel matern12 --params "variance=1.5,lengthscale=0.9,noise=0.2" --json
if close "$(num loglik)" "$ref" 1e-12; then ok; else bad "unsorted loglik $(num loglik) vs $ref"; fi
contains "$tmp/out" '"n":2' "NA is not counted"

# fit: the JSON contract, on real data (sum kernel: numbered parameter names)
expect 0 "fit sunspots" -- "$LATENS" gp fit --data "$SUN" --time-col time --value-col value \
  --kernel hida-matern,matern12 --json
for k in '"loglik":' '"kernel":"hida-matern,matern12"' '"params":{' '"iterations":' \
  '"variance1":' '"lengthscale1":' '"frequency1":' '"variance2":' '"lengthscale2":' '"noise":'; do
  contains "$tmp/out" "$k" "fit --json has $k"
done
# the cycle: 2 pi / frequency1 within 9.5..12 years
f=$(num frequency1)
if awk -v f="$f" 'BEGIN { c = 2 * 3.141592653589793 / f; exit !(c > 9.5 && c < 12) }'; then ok; else bad "sunspot cycle from frequency $f"; fi
# fit's loglik is the loglik command's value at fit's parameters
ll=$(num loglik)
p="variance1=$(num variance1),lengthscale1=$(num lengthscale1),frequency1=$(num frequency1)"
p="$p,variance2=$(num variance2),lengthscale2=$(num lengthscale2),noise=$(num noise)"
expect 0 "loglik at fitted params" -- "$LATENS" gp loglik --data "$SUN" --time-col time --value-col value \
  --kernel hida-matern,matern12 --params "$p" --json
if close "$(num loglik)" "$ll" 1e-6; then ok; else bad "loglik $(num loglik) vs fit $ll"; fi
expect 0 "fit --whittle" -- "$LATENS" gp fit --data "$SUN" --time-col time --value-col value \
  --kernel matern32 --whittle --json
contains "$tmp/out" '"method":"whittle"' "whittle fit says so"
expect 0 "fit human output" -- "$LATENS" gp fit --data "$tmp/shuf.csv" --time-col t --value-col y --kernel matern12
contains "$tmp/out" "lengthscale" "fit prints parameters"

# smooth / predict: CSV time,mean,sd
expect 0 "smooth" -- "$LATENS" gp smooth --data "$tmp/shuf.csv" --time-col t --value-col y \
  --kernel matern12 --params "variance=1.5,lengthscale=0.9,noise=0.2"
contains "$tmp/out" "time,mean,sd" "smooth CSV header"
if [ "$(wc -l <"$tmp/out")" -eq 4 ]; then ok; else bad "smooth rows: $(cat "$tmp/out")"; fi
expect 0 "predict --at" -- "$LATENS" gp predict --data "$tmp/two.csv" --time-col t --value-col y \
  --kernel matern12 --params "variance=1.5,lengthscale=0.9,noise=0.2" --at 0,100
# far from the data the posterior is the prior: mean 0, sd sqrt(1.5)
last=$(tail -n 1 "$tmp/out")
if awk -F, -v l="$last" 'BEGIN { split(l, a, ","); d = a[3] - sqrt(1.5); exit !(a[1] == 100 && a[2] * a[2] < 1e-20 && d * d < 1e-20) }'; then ok; else bad "prior far away: $last"; fi
expect 0 "predict --grid -o" -- "$LATENS" gp predict --data "$tmp/two.csv" --time-col t --value-col y \
  --kernel matern12 --params "variance=1.5,lengthscale=0.9,noise=0.2" --grid 0:1:11 -o "$tmp/pred.csv"
if [ "$(wc -l <"$tmp/pred.csv")" -eq 12 ]; then ok; else bad "predict grid rows"; fi

# non-Gaussian likelihoods through gp-cvi: counts (Poisson) and 0/1 (Bernoulli)
awk 'BEGIN { print "t,y"; for (i = 0; i < 60; i++) print i "," int(3 + 2 * sin(i / 6)) }' >"$tmp/counts.csv"
expect 0 "fit poisson" -- "$LATENS" gp fit --data "$tmp/counts.csv" --likelihood poisson --json
contains "$tmp/out" '"method":"cvi-elbo"' "poisson fit is a CVI fit"
contains "$tmp/out" '"lengthscale":' "poisson fit has lengthscale"
expect 0 "smooth poisson" -- "$LATENS" gp smooth --data "$tmp/counts.csv" --likelihood poisson \
  --params "variance=0.5,lengthscale=5"
contains "$tmp/out" "time,mean,sd,rate" "poisson smooth has a rate column"
expect 0 "predict bernoulli" -- "$LATENS" gp predict --data "$tmp/one.csv" --likelihood bernoulli \
  --params "variance=1,lengthscale=1" --at 0,5
contains "$tmp/out" "time,mean,sd,prob" "bernoulli predict has a prob column"
expect 2 "bernoulli with a 2" -- "$LATENS" gp loglik --data "$tmp/counts.csv" --likelihood bernoulli \
  --params "variance=1,lengthscale=1"
expect 2 "whittle with poisson" -- "$LATENS" gp fit --data "$tmp/counts.csv" --likelihood poisson --whittle

# errors: one line, exit 2, naming the cause
expect 2 "missing column" -- "$LATENS" gp loglik --data "$tmp/one.csv" --time-col time --value-col y \
  --kernel matern32 --params "lengthscale=2,variance=1,noise=1"
contains "$tmp/err" "no column 'time'" "missing column named"
expect 2 "unknown parameter" -- "$LATENS" gp loglik --data "$tmp/one.csv" --time-col t --value-col y \
  --kernel matern32 --params "lengthscale=2,variance=1,noise=1,frequency=3"
contains "$tmp/err" "frequency" "unknown parameter named"
expect 2 "missing noise" -- "$LATENS" gp loglik --data "$tmp/one.csv" --time-col t --value-col y \
  --kernel matern32 --params "lengthscale=2,variance=1"
contains "$tmp/err" "'noise' is missing" "missing noise named"
expect 2 "negative lengthscale" -- "$LATENS" gp loglik --data "$tmp/one.csv" --time-col t --value-col y \
  --kernel matern32 --params "lengthscale=-2,variance=1,noise=1"
expect 2 "unknown kernel" -- "$LATENS" gp fit --data "$tmp/one.csv" --kernel rbf
contains "$tmp/err" "rbf" "unknown kernel named"
printf 't,y\n0,1\n1,abc\n' >"$tmp/badnum.csv"
expect 2 "text cell" -- "$LATENS" gp loglik --data "$tmp/badnum.csv" --kernel matern32 \
  --params "lengthscale=2,variance=1,noise=1"
contains "$tmp/err" "badnum.csv:" "text cell error names the file"
printf 't,y\n0,1\nNA,2\n' >"$tmp/natime.csv"
expect 2 "missing time" -- "$LATENS" gp loglik --data "$tmp/natime.csv" --kernel matern32 \
  --params "lengthscale=2,variance=1,noise=1"
contains "$tmp/err" "natime.csv:3:1" "missing time names file:line:column"
expect 2 "whittle on an irregular grid" -- "$LATENS" gp fit --data "$tmp/shuf.csv" --whittle
contains "$tmp/err" "regular grid" "whittle error says why"
expect 2 "predict without times" -- "$LATENS" gp predict --data "$tmp/two.csv" \
  --params "lengthscale=2,variance=1,noise=1"
expect 2 "bad likelihood" -- "$LATENS" gp fit --data "$tmp/two.csv" --likelihood gamma
expect 2 "missing --data" -- "$LATENS" gp fit
expect 0 "fit --help" -- "$LATENS" gp fit --help
contains "$tmp/out" "usage: latens gp fit" "fit --help prints usage"

# the demo section
expect 0 "demo gp" -- "$LATENS" demo --data "$SRC/data" gp
contains "$tmp/out" "solar cycle" "demo reports the cycle"
expect 0 "demo gp --json" -- "$LATENS" demo --data "$SRC/data" --json gp
c=$(num cycle_years)
if awk -v c="$c" 'BEGIN { exit !(c > 9.5 && c < 12) }'; then ok; else bad "demo cycle $c"; fi

finish
