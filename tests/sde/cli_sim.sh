#!/bin/bash
# tests/sde/cli_sim.sh: `latens sde simulate` — CSV of paths with W(t), summaries, JSON,
# reproducibility across thread counts, one-line errors and exit codes, a user plug-in.
. "${LATENS_SRCDIR:-.}/tests/cli/lib.sh"
sim() { "$LATENS" sde simulate "$@"; }

expect 0 "simulate --help" -- sim --help
contains "$tmp/out" "--plugin F.so" "help documents --plugin"

# GBM paths with the Brownian path: the exact Ito solution 0.5 exp(0.63155 t + 0.87 W) on the
# written W must be approached by SRI at dt = 2^-10 (strong order 1.5: error ~1e-4).
expect 0 "gbm paths --brownian" -- sim --model gbm --scheme sri --dt 0.0009765625 --out-dt 0.25 --paths 3 --brownian --seed 5
contains "$tmp/out" "path,t,x1,W1" "paths CSV header"
if awk -F, 'NR > 1 { e = $3 - 0.5 * exp(0.63155 * $2 + 0.87 * $4); if (e < 0) e = -e; if (e > m) m = e; n++ }
            END { exit !(n == 15 && m < 2e-3) }' "$tmp/out"; then ok
else bad "gbm: SRI path far from the exact solution on its own W: $(head -c 300 "$tmp/out")"; fi

# Same seed, different thread counts: identical output.
expect 0 "threads 1" -- sim --model lotka-volterra --paths 40 --dt 0.01 --out-dt 0.5 --threads 1 -o "$tmp/a.csv"
expect 0 "threads 2" -- sim --model lotka-volterra --paths 40 --dt 0.01 --out-dt 0.5 --threads 2 -o "$tmp/b.csv"
if cmp -s "$tmp/a.csv" "$tmp/b.csv"; then ok; else bad "paths differ between --threads 1 and 2"; fi

# Summary of OU: mean mu + (x0 - mu) e^{-theta t} and variance sigma^2 (1 - e^{-2 theta t})/(2 theta)
# (closed form), within 5 standard errors at 4000 paths.
expect 0 "ou --summary" -- sim --model ou --params theta=2,mu=0.5,sigma=0.8 --scheme sra --dt 0.01 --out-dt 1 --paths 4000 --summary
contains "$tmp/out" "t,mean_x1,var_x1,q05_x1,q50_x1,q95_x1" "summary header"
if awk -F, 'NR == 3 { m = 0.5 + 0.5 * exp(-2); v = 0.64 * (1 - exp(-4)) / 4;
              dm = $2 - m; if (dm < 0) dm = -dm; dv = $3 - v; if (dv < 0) dv = -dv;
              exit !($1 == 1 && dm < 5 * sqrt(v / 4000) && dv < 5 * v * sqrt(2 / 3999)) }' "$tmp/out"; then ok
else bad "ou summary differs from the closed form: $(cat "$tmp/out")"; fi
expect 0 "summary --json" -- sim --model ou --summary --paths 100 --out-dt 0.5 --dt 0.01 --json
contains "$tmp/out" '"model":"ou"' "json model"
contains "$tmp/out" '"params":{"theta":1,"mu":0,"sigma":1}' "json params"
contains "$tmp/out" '"t":[0,0.5,1]' "json grid"
contains "$tmp/out" '"mean":[[1,' "json mean"
expect 0 "adaptive --json" -- sim --model gbm --scheme sri --adaptive --tol 1e-3 --json --out-dt 0.5
contains "$tmp/out" '"adaptive":true' "json adaptive flag"
contains "$tmp/out" '"rejected":' "json rejected count"

# --rng fast: the JSON says so; thread-count independent; different paths from Philox; the OU
# law at t = 1 (closed form, as above) within 5 standard errors; no adaptive steps.
expect 0 "rng fast --json" -- sim --model gbm --rng fast --paths 4 --json --out-dt 0.5
contains "$tmp/out" '"rng":"fast"' "json rng"
expect 0 "rng fast, threads 1" -- sim --model double-well --rng fast --paths 40 --dt 0.01 --out-dt 0.5 --threads 1 -o "$tmp/a.csv"
expect 0 "rng fast, threads 2" -- sim --model double-well --rng fast --paths 40 --dt 0.01 --out-dt 0.5 --threads 2 -o "$tmp/b.csv"
expect 0 "rng philox" -- sim --model double-well --paths 40 --dt 0.01 --out-dt 0.5 -o "$tmp/c.csv"
if cmp -s "$tmp/a.csv" "$tmp/b.csv" && ! cmp -s "$tmp/a.csv" "$tmp/c.csv"; then ok
else bad "rng fast: paths depend on --threads, or equal the Philox paths"; fi
expect 0 "ou --summary --rng fast" -- sim --model ou --params theta=2,mu=0.5,sigma=0.8 --rng fast --scheme sra --dt 0.01 --out-dt 1 --paths 4000 --summary
if awk -F, 'NR == 3 { m = 0.5 + 0.5 * exp(-2); v = 0.64 * (1 - exp(-4)) / 4;
              dm = $2 - m; if (dm < 0) dm = -dm; dv = $3 - v; if (dv < 0) dv = -dv;
              exit !($1 == 1 && dm < 5 * sqrt(v / 4000) && dv < 5 * v * sqrt(2 / 3999)) }' "$tmp/out"; then ok
else bad "ou summary with --rng fast differs from the closed form: $(cat "$tmp/out")"; fi
expect 2 "adaptive --rng fast" -- sim --model gbm --scheme sri --adaptive --rng fast
contains "$tmp/err" "philox" "adaptive + fast explained"
expect 2 "unknown rng" -- sim --model gbm --rng mt19937

# Errors: one line, exit 2.
expect 2 "no model" -- sim --paths 2
expect 2 "unknown model" -- sim --model nosuch
contains "$tmp/err" "nosuch" "unknown model named"
expect 2 "unknown scheme" -- sim --model gbm --scheme rk4
expect 2 "dt <= 0" -- sim --model gbm --dt 0
expect 2 "NaN parameter" -- sim --model gbm --params mu=nan
expect 2 "parameter out of domain" -- sim --model ou --params sigma=-1
contains "$tmp/err" "sigma" "bad parameter named"
expect 2 "unknown parameter" -- sim --model ou --params kappa=1
expect 2 "sra on multiplicative noise" -- sim --model gbm --scheme sra
contains "$tmp/err" "additive" "sra mismatch explained"
expect 2 "adaptive em" -- sim --model gbm --adaptive
expect 2 "heun on an Ito model" -- sim --model gbm --scheme heun
contains "$tmp/err" "Stratonovich" "heun mismatch explained"
# Stratonovich GBM by Heun: u0 exp(1.01 t + 0.87 W) on the written W (closed form), strong
# order 1 at dt = 2^-10: error ~1e-3.
expect 0 "heun --stratonovich" -- sim --model gbm --scheme heun --stratonovich --dt 0.0009765625 --out-dt 0.5 --brownian --paths 2
if awk -F, 'NR > 1 { e = $3 - 0.5 * exp(1.01 * $2 + 0.87 * $4); if (e < 0) e = -e; if (e > m) m = e; n++ }
            END { exit !(n == 6 && m < 2e-2) }' "$tmp/out"; then ok
else bad "heun: far from the Stratonovich solution: $(cat "$tmp/out")"; fi
expect 2 "t1 before t0" -- sim --model gbm --t1 -1
expect 2 "bad x0" -- sim --model lotka-volterra --x0 1
expect 2 "state overflows, 2 threads" -- sim --model gbm --params mu=1e200 --dt 0.01 --paths 50 --threads 2 --out-dt 1
contains "$tmp/err" "NaN or Inf" "overflow explained on the calling thread"
expect 2 "missing plugin" -- sim --plugin "$tmp/none.so"
contains "$tmp/err" "none.so" "missing plugin named"

# A user plug-in built from tests/sde/plugin_model.c, when a C compiler is at hand.
CC_=${CC:-cc}
if command -v "$CC_" >/dev/null 2>&1 &&
   "$CC_" -shared -fPIC -I"$SRC/include" $(pkg-config --cflags gsl 2>/dev/null) \
     "$SRC/tests/sde/plugin_model.c" -o "$tmp/model.so" 2>"$tmp/cc.err"; then
  expect 0 "plugin" -- sim --plugin "$tmp/model.so" --params r=2 --paths 2 --dt 0.01 --out-dt 0.5 --json
  contains "$tmp/out" '"model":"log"' "plugin name"
  contains "$tmp/out" '"params":{"r":2,"K":2,"s":0.2}' "plugin params"
  expect 2 "plugin bad parameter" -- sim --plugin "$tmp/model.so" --params K=-1
  # a bare file name is the file in the working directory, not a library-path search
  abs=$(cd "$(dirname "$LATENS")" && pwd)/$(basename "$LATENS")
  expect 0 "plugin by bare name" -- sh -c 'cd "$1" && "$2" sde simulate --plugin model.so --paths 1 --dt 0.1 --json' sh "$tmp" "$abs"
  contains "$tmp/out" '"model":"log"' "plugin found in the working directory"
  echo 'int latens_sde_not_a_model = 1;' >"$tmp/empty.c"
  if "$CC_" -shared -fPIC "$tmp/empty.c" -o "$tmp/empty.so" 2>/dev/null; then
    expect 2 "plugin without latens_sde_plugin_init" -- sim --plugin "$tmp/empty.so"
    contains "$tmp/err" "latens_sde_plugin_init" "missing init symbol named"
  fi
else
  echo "SKIP: no C compiler to build the plug-in ($(head -c 200 "$tmp/cc.err" 2>/dev/null))"
fi
finish
