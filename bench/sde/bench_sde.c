/* bench/sde/bench_sde.c: SDE path throughput and a work-precision table.
 *
 *   1. Euler-Maruyama on GBM (du = 1.01 u dt + 0.87 u dW, u0 = 1/2), 10^4 paths x 10^3 steps
 *      on [0, 1], one thread, in path.steps per second, beside
 *        (a) drawing the same 10^7 normals with the core generator (the method's floor), one
 *            call per normal and in bulk per path (the EM kernel's way), and
 *        (b) a vectorised NumPy Euler-Maruyama on the same problem (numpy's default_rng
 *            normals), run by /usr/bin/python3 in the same run (skipped when absent);
 *      and SRIW1 (two normals per step) on the same problem, and EM on all OpenMP threads.
 *      Then the same with the opt-in fast lanes (options.rng = fast): their bare normals
 *      (sixteen lanes in lockstep, as the ensemble draws them) beside Philox's, and EM on
 *      them beside those normals and NumPy.
 *   2. Double-well (nonlinear drift) EM, 10^4 paths x 10^3 steps, vs NumPy: Philox, fast
 *      lanes, and fast lanes on all threads (NumPy's elementwise loops use one); then
 *      stochastic Lotka-Volterra (2-d, two normals per step) likewise.
 *   3. A small batch: 10 GBM and 10 double-well paths x 10^5 steps, EM, vs NumPy (interpreted
 *      per-step cost).
 *   4. Work-precision on GBM: mean strong error at t = 1 against the exact solution on the
 *      path's own W (u0 exp(0.63155 + 0.87 W(1))) vs time, for EM, Milstein, SRI and
 *      adaptive SRI, 200 paths; then the time each needs at equal error (interpolated
 *      log-log).
 * Figures are the best of REPS runs (bench.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <latens/latens.h>
#include "../bench.h"
#include "../../src/core/rng_impl.h" /* latens_rng_fill_normal_kernel (test hook) */

enum { REPS = 3 };

static double run_ensemble_rng(latens_sde_model *md, latens_sde_scheme scheme, size_t np,
                               size_t nsteps, int threads, int rng, double *mean) {
  latens_sde_options o;
  latens_sde_options_default(&o);
  o.scheme = scheme, o.dt = 1.0 / (double)nsteps, o.threads = threads, o.rng = rng;
  double t[2] = {0, 1}, best;
  latens_mat *X = latens_mat_alloc(2 * md->d, np);
  int st = 0;
  BENCH_BEST(REPS, best, st |= latens_sde_ensemble(md, &o, NULL, t, 2, np, 1, X, NULL, NULL, NULL));
  if (st) fprintf(stderr, "ensemble failed: %d\n", st);
  double s = 0;
  for (size_t p = 0; p < np; p++) s += LATENS_MAT(X, md->d, p);
  *mean = s / (double)np;
  latens_mat_free(X);
  return best;
}

static double run_ensemble_threads(latens_sde_model *md, latens_sde_scheme scheme, size_t np,
                                   size_t nsteps, int threads, double *mean) {
  return run_ensemble_rng(md, scheme, np, nsteps, threads, LATENS_SDE_RNG_PHILOX, mean);
}

static double run_ensemble(latens_sde_model *md, latens_sde_scheme scheme, size_t np, size_t nsteps,
                           double *mean) {
  return run_ensemble_threads(md, scheme, np, nsteps, 1, mean);
}

/* The fast lanes' normals alone, as the ensemble draws them with rng = fast: sixteen paths'
 * lanes of one fast stream filled in lockstep, in chunks of 128 steps. */
enum { LANE_CHUNK = 128 };
static double fast_lane_pass(size_t np, size_t nsteps, double *z) {
  double s = 0;
  for (size_t g = 0; g < (np + 15) / 16; g++) {
    latens_rng_fast f;
    latens_rng_lane lane[16], *L[16];
    latens_rng_fast_init(&f, 1, g);
    for (unsigned l = 0; l < 16; l++) latens_rng_fast_lane(&f, l, &lane[l]), L[l] = &lane[l];
    for (size_t i = 0; i < nsteps; i += LANE_CHUNK) {
      const size_t n = nsteps - i < LANE_CHUNK ? nsteps - i : LANE_CHUNK;
      latens_rng_lane_fill16(L, 16, z, n);
      s += z[16 * n - 1];
    }
  }
  return s;
}
static double draw_fast_normals(size_t np, size_t nsteps, double *sink) {
  double best, s = 0, *z = malloc(16 * LANE_CHUNK * sizeof *z);
  BENCH_BEST(REPS, best, s += fast_lane_pass(np, nsteps, z));
  free(z);
  *sink = s;
  return best;
}

/* The normals alone, per path stream: one latens_rng_normal call each (bulk = 0), one
 * latens_rng_fill_normal of the path's nsteps into a reused buffer (bulk = 1, what the EM
 * kernel does), or the same through the AVX2 fast-test kernel, which the fill does not use
 * by default (bulk = 2; -1 when this CPU lacks AVX2). */
static double draw_normals(size_t np, size_t nsteps, int bulk, double *sink) {
  double best, s = 0, *z = malloc(nsteps * sizeof *z);
  latens_rng probe;
  latens_rng_init(&probe, 1, 0);
  if (bulk == 2 && latens_rng_fill_normal_kernel(&probe, z, 0, 0.0, 1.0, 1)) {
    free(z);
    return -1; /* no AVX2 here */
  }
  BENCH_BEST(REPS, best, {
    for (size_t p = 0; p < np; p++) {
      latens_rng r;
      latens_rng_init(&r, 1, p);
      if (bulk) {
        if (bulk == 1) latens_rng_fill_normal(&r, z, nsteps, 0.0, 1.0);
        else latens_rng_fill_normal_kernel(&r, z, nsteps, 0.0, 1.0, 1);
        s += z[nsteps - 1];
      } else {
        for (size_t k = 0; k < nsteps; k++) s += latens_rng_normal(&r);
      }
    }
  });
  free(z);
  *sink = s;
  return best;
}

/* A vectorised NumPy Euler-Maruyama in the same run: `init` sets the state arrays, `step`
 * (one line, run n times) draws and advances them.  Seconds (best of REPS), or -1 when
 * /usr/bin/python3 with numpy is missing. */
static double numpy_run(const char *init, const char *step, size_t np, size_t nsteps) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 -c '\n"
           "import time, math\n"
           "import numpy as np\n"
           "N, n = %zu, %zu\n"
           "h = 1.0 / n; sh = math.sqrt(h)\n"
           "best = 1e300\n"
           "for r in range(%d):\n"
           "    rng = np.random.default_rng(1)\n"
           "    t0 = time.perf_counter()\n"
           "    %s\n"
           "    for k in range(n):\n"
           "        %s\n"
           "    best = min(best, time.perf_counter() - t0)\n"
           "print(best)' 2>/dev/null",
           np, nsteps, REPS, init, step);
  FILE *f = popen(cmd, "r");
  if (!f) return -1;
  double t = -1;
  if (fscanf(f, "%lf", &t) != 1) t = -1;
  pclose(f);
  return t;
}

/* GBM (du = 1.01 u dt + 0.87 u dW, u0 = 1/2) or double-well (dx = (x - x^3) dt + 0.5 dW,
 * x0 = -1), one normal per path and step. */
static double numpy_em(const char *drift, size_t np, size_t nsteps) {
  const int gbm = !strcmp(drift, "gbm");
  return numpy_run(gbm ? "x = np.full(N, 0.5)" : "x = np.full(N, -1.0)",
                   gbm ? "dW = rng.standard_normal(N) * sh; x += 1.01 * x * h + 0.87 * x * dW"
                       : "dW = rng.standard_normal(N) * sh; x += (x - x * x * x) * h + 0.5 * dW",
                   np, nsteps);
}

/* The stochastic Lotka-Volterra built-in (its defaults a, b, c, e = 1, 0.5, 0.5, 1,
 * s1 = s2 = 0.1; x0 = (2, 1)): two normals per path and step. */
static double numpy_lv(size_t np, size_t nsteps) {
  return numpy_run("x = np.full(N, 2.0); y = np.full(N, 1.0)",
                   "dW = rng.standard_normal((2, N)) * sh; fx = x - 0.5 * x * y; "
                   "fy = 0.5 * x * y - y; x, y = x + (fx * h + 0.1 * x * dW[0]), "
                   "y + (fy * h + 0.1 * y * dW[1])",
                   np, nsteps);
}

static void line(const char *what, double sec, double work, double ref_sec, const char *ref) {
  printf("  %-34s %8.3f s  %7.2f M path.steps/s", what, sec, work / sec / 1e6);
  if (ref_sec > 0) printf("   %-18s %8.3f s  ratio %.2fx", ref, ref_sec, ref_sec / sec);
  printf("\n");
}

static void throughput(void) {
  const size_t np = 10000, ns = 1000;
  double work = (double)np * (double)ns, mean, sink;
  latens_sde_model *gbm = latens_sde_model_builtin("gbm", NULL, 0);
  latens_sde_model *dw = latens_sde_model_builtin("double-well", NULL, 0);
  double t_norm1 = draw_normals(np, ns, 0, &sink), t_norm = draw_normals(np, ns, 1, &sink);
  double t_norm0 = draw_normals(np, ns, 2, &sink);
  double t_em = run_ensemble(gbm, LATENS_SDE_EM, np, ns, &mean);
  double t_sri = run_ensemble(gbm, LATENS_SDE_SRI, np, ns, &mean);
  double t_np = numpy_em("gbm", np, ns);
  printf("1. GBM, %zu paths x %zu steps, 1 thread (E u(1) = %.4f, exact %.4f)\n", np, ns, mean,
         0.5 * exp(1.01));
  printf("  %-34s %8.3f s  %7.2f M normals/s\n", "core rng: 10^7 normals, single", t_norm1,
         work / t_norm1 / 1e6);
  printf("  %-34s %8.3f s  %7.2f M normals/s   (sum %.3g)\n", "core rng: 10^7 normals, bulk fill",
         t_norm, work / t_norm / 1e6, sink);
  if (t_norm0 > 0)
    printf("  %-34s %8.3f s  %7.2f M normals/s   (sum %.3g)\n", "  the same, AVX2 fast-test kernel",
           t_norm0, work / t_norm0 / 1e6, sink);
  line("latens EM", t_em, work, t_norm, "bulk normal draws");
  if (t_np > 0) line("latens EM", t_em, work, t_np, "NumPy EM");
  else printf("  NumPy EM: skipped (/usr/bin/python3 with numpy not found; apt-get install python3-numpy)\n");
  line("latens SRIW1 (2 normals/step)", t_sri, work, 2 * t_norm, "2x bulk normals");
  int nth = latens_max_threads();
  double t_par = run_ensemble_threads(gbm, LATENS_SDE_EM, np, ns, 0, &mean);
  char what[64];
  snprintf(what, sizeof what, "latens EM, %d threads (same paths)", nth);
  line(what, t_par, work, t_em, "EM, 1 thread");
  /* the opt-in fast lanes (options.rng = fast): xoshiro128++ words, float Box-Muller */
  double t_fnorm = draw_fast_normals(np, ns, &sink);
  double t_fem = run_ensemble_rng(gbm, LATENS_SDE_EM, np, ns, 1, LATENS_SDE_RNG_FAST, &mean);
  printf("  with rng = fast (E u(1) = %.4f):\n", mean);
  printf("  %-34s %8.3f s  %7.2f M normals/s   %-18s %8.3f s  ratio %.2fx\n",
         "fast lanes: 10^7 normals, lockstep", t_fnorm, work / t_fnorm / 1e6, "Philox bulk fill",
         t_norm, t_norm / t_fnorm);
  line("latens EM, rng = fast", t_fem, work, t_fnorm, "fast lane normals");
  if (t_np > 0) line("latens EM, rng = fast", t_fem, work, t_np, "NumPy EM");
  double t_dw = run_ensemble(dw, LATENS_SDE_EM, np, ns, &mean);
  double t_npdw = numpy_em("dw", np, ns);
  double t_fdw = run_ensemble_rng(dw, LATENS_SDE_EM, np, ns, 1, LATENS_SDE_RNG_FAST, &mean);
  double t_fdw2 = run_ensemble_rng(dw, LATENS_SDE_EM, np, ns, 0, LATENS_SDE_RNG_FAST, &mean);
  printf("2. double-well (nonlinear drift), %zu paths x %zu steps, EM\n", np, ns);
  line("latens EM", t_dw, work, t_npdw, "NumPy EM");
  line("latens EM, rng = fast", t_fdw, work, t_npdw, "NumPy EM");
  snprintf(what, sizeof what, "latens EM, rng = fast, %d threads", nth);
  line(what, t_fdw2, work, t_npdw, "NumPy EM (1 thread)");
  /* Lotka-Volterra: two normals per step, a 2-d state (the EM group kernel since session 5) */
  latens_sde_model *lv = latens_sde_model_builtin("lotka-volterra", NULL, 0);
  double t_lv = run_ensemble(lv, LATENS_SDE_EM, np, ns, &mean);
  double t_flv = run_ensemble_rng(lv, LATENS_SDE_EM, np, ns, 1, LATENS_SDE_RNG_FAST, &mean);
  double t_flv2 = run_ensemble_rng(lv, LATENS_SDE_EM, np, ns, 0, LATENS_SDE_RNG_FAST, &mean);
  double t_nplv = numpy_lv(np, ns);
  printf("   Lotka-Volterra (2 normals per step), %zu paths x %zu steps, EM\n", np, ns);
  line("latens EM", t_lv, work, t_nplv, "NumPy EM");
  line("latens EM, rng = fast", t_flv, work, t_nplv, "NumPy EM");
  snprintf(what, sizeof what, "latens EM, rng = fast, %d threads", nth);
  line(what, t_flv2, work, t_nplv, "NumPy EM (1 thread)");
  latens_sde_model_free(lv);
  const size_t sp = 10, ss = 100000;
  double t_small = run_ensemble(gbm, LATENS_SDE_EM, sp, ss, &mean);
  double t_npsmall = numpy_em("gbm", sp, ss);
  printf("3. small batch: GBM, %zu paths x %zu steps, EM\n", sp, ss);
  line("latens EM", t_small, (double)sp * ss, t_npsmall, "NumPy EM");
  /* the nonlinear model where NumPy pays its per-operation overhead on every step */
  double t_smalldw = run_ensemble(dw, LATENS_SDE_EM, sp, ss, &mean);
  double t_npsmalldw = numpy_em("dw", sp, ss);
  printf("   small batch: double-well, %zu paths x %zu steps, EM\n", sp, ss);
  line("latens EM", t_smalldw, (double)sp * ss, t_npsmalldw, "NumPy EM");
  latens_sde_model_free(gbm), latens_sde_model_free(dw);
}

/* Mean strong error at t = 1 and seconds for npaths GBM paths (streams (7, p)). */
static void strong_point(latens_sde_model *md, const latens_sde_options *o, size_t npaths,
                         double *err, double *sec, double *steps) {
  double t[2] = {0, 1};
  latens_mat *X = latens_mat_alloc(2, npaths), *W = latens_mat_alloc(2, npaths);
  latens_sde_stats st;
  BENCH_BEST(REPS, *sec, latens_sde_ensemble(md, o, NULL, t, 2, npaths, 7, X, W, &st, NULL));
  double e = 0;
  for (size_t p = 0; p < npaths; p++)
    e += fabs(LATENS_MAT(X, 1, p) - 0.5 * exp(0.63155 + 0.87 * LATENS_MAT(W, 1, p)));
  *err = e / (double)npaths, *steps = (double)st.steps / (double)npaths;
  latens_mat_free(X), latens_mat_free(W);
}

/* log-log interpolation of time at error target along a table (errors decreasing). */
static double time_at(const double *err, const double *sec, int n, double target) {
  for (int i = 0; i + 1 < n; i++)
    if (err[i] >= target && err[i + 1] <= target) {
      double u = (log(target) - log(err[i])) / (log(err[i + 1]) - log(err[i]));
      return exp(log(sec[i]) + u * (log(sec[i + 1]) - log(sec[i])));
    }
  return NAN;
}

static void work_precision(void) {
  const size_t np = 200;
  latens_sde_model *md = latens_sde_model_builtin("gbm", NULL, 0);
  const char *names[4] = {"EM", "Milstein", "SRI", "SRI adaptive"};
  enum { NL = 6 };
  double err[4][NL], sec[4][NL];
  printf("4. work-precision, GBM, %zu paths, mean |u_h(1) - u(1)| on the same W, 1 thread\n", np);
  printf("  %-13s %10s %12s %12s %12s\n", "scheme", "dt / tol", "steps/path", "error", "seconds");
  for (int s = 0; s < 4; s++)
    for (int i = 0; i < NL; i++) {
      latens_sde_options o;
      latens_sde_options_default(&o);
      o.threads = 1;
      o.scheme = s == 0 ? LATENS_SDE_EM : s == 1 ? LATENS_SDE_MILSTEIN : LATENS_SDE_SRI;
      double knob;
      if (s < 3) knob = o.dt = ldexp(1, -(3 + 2 * i));
      else o.adaptive = 1, o.dt = 0.25, knob = o.abstol = o.reltol = pow(10, -1 - 0.75 * i);
      double steps;
      strong_point(md, &o, np, &err[s][i], &sec[s][i], &steps);
      printf("  %-13s %10.3g %12.0f %12.3e %12.3e\n", names[s], knob, steps, err[s][i], sec[s][i]);
    }
  double targets[3] = {1e-2, 1e-3, 1e-4};
  printf("  time to reach a mean error (interpolated; nan: outside the table)\n");
  printf("  %-10s %12s %12s %12s %14s %14s\n", "error", "EM", "Milstein", "SRI", "SRI adaptive",
         "EM / SRI");
  for (int k = 0; k < 3; k++) {
    double tt[4];
    for (int s = 0; s < 4; s++) tt[s] = time_at(err[s], sec[s], NL, targets[k]);
    printf("  %-10.0e %12.3e %12.3e %12.3e %14.3e %14.1f\n", targets[k], tt[0], tt[1], tt[2], tt[3],
           tt[0] / tt[2]);
  }
  latens_sde_model_free(md);
}

/* --throughput: parts 1-3 only (the work-precision table takes minutes). */
int main(int argc, char **argv) {
  throughput();
  if (argc > 1 && !strcmp(argv[1], "--throughput")) return 0;
  work_precision();
  return 0;
}
