/* tests/sde/test_ensemble.c: ensembles, reproducibility, the Brownian tree of adaptive
 * stepping. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <latens/latens.h>
#include "suites_solve.h"

static latens_sde_options opts(latens_sde_scheme s, double dt) {
  latens_sde_options o;
  latens_sde_options_default(&o);
  o.scheme = s, o.dt = dt;
  return o;
}

START_TEST(test_ou_moments) {
  /* Oracle: OU closed form E X_t = mu + (x0 - mu) e^{-theta t},
   * Var X_t = sigma^2 (1 - e^{-2 theta t}) / (2 theta), X_t Gaussian (quantiles mean + z sd).
   * SRA's weak bias at dt = 1/256 is O(dt^2) ~ 1e-5, far below the Monte Carlo tolerances:
   * 5 standard errors of the mean (sd/sqrt n), of the variance (var sqrt(2/(n-1))) and of a
   * quantile (sqrt(p(1-p)/n)/pdf). */
  int n = test_under_valgrind() ? 500 : 20000;
  double th[3] = {2.0, 0.5, 0.8};
  latens_sde_model *md = latens_sde_model_builtin("ou", th, 3);
  latens_sde_options o = opts(LATENS_SDE_SRA, 1.0 / 256);
  enum { NT = 5 };
  double t[NT] = {0, 0.25, 0.5, 0.75, 1.0}, prob[2] = {0.5, 0.9};
  latens_mat *mean = latens_mat_alloc(1, NT), *var = latens_mat_alloc(1, NT);
  latens_mat *q = latens_mat_alloc(2, NT);
  ck_assert_int_eq(latens_sde_ensemble_summary(md, &o, NULL, t, NT, (size_t)n, 7, prob, 2, mean,
                                               var, q, NULL, NULL), LATENS_OK);
  int bad = 0;
  for (int k = 1; k < NT; k++) {
    double m = 0.5 + (1 - 0.5) * exp(-2 * t[k]), v = 0.64 * (1 - exp(-4 * t[k])) / 4, sd = sqrt(v);
    bad += fabs(LATENS_MAT(mean, 0, k) - m) > 5 * sd / sqrt(n);
    bad += fabs(LATENS_MAT(var, 0, k) - v) > 5 * v * sqrt(2.0 / (n - 1));
    double pdf50 = 1 / (sd * sqrt(2 * M_PI)), pdf90 = pdf50 * exp(-0.5 * 1.2815515655446004 * 1.2815515655446004);
    bad += fabs(LATENS_MAT(q, 0, k) - m) > 5 * sqrt(0.25 / n) / pdf50;
    bad += fabs(LATENS_MAT(q, 1, k) - (m + 1.2815515655446004 * sd)) > 5 * sqrt(0.09 / n) / pdf90;
  }
  ck_assert_int_eq(bad, 0);
  ck_assert_double_eq(LATENS_MAT(mean, 0, 0), 1.0);
  ck_assert_double_eq(LATENS_MAT(var, 0, 0), 0.0);
  latens_mat_free(mean), latens_mat_free(var), latens_mat_free(q);
  latens_sde_model_free(md);
}
END_TEST

/* Full ensemble with a given thread count (X is (d nt) x npaths). */
static latens_mat *run(const latens_sde_model *md, latens_sde_options o, const double *t,
                       size_t nt, size_t np, int threads, latens_mat **W) {
  o.threads = threads;
  latens_mat *X = latens_mat_alloc(md->d * nt, np);
  *W = latens_mat_alloc(md->m * nt, np);
  ck_assert_int_eq(latens_sde_ensemble(md, &o, NULL, t, nt, np, 42, X, *W, NULL, NULL), LATENS_OK);
  return X;
}

START_TEST(test_threads) {
  /* Oracle: bitwise equality across thread counts, and with single solves on stream (42, p). */
  latens_sde_model *md = latens_sde_model_builtin("lotka-volterra", NULL, 0);
  double t[4] = {0, 0.3, 0.7, 1.0};
  for (int adaptive = 0; adaptive <= 1; adaptive++) {
    latens_sde_options o = opts(adaptive ? LATENS_SDE_SRI : LATENS_SDE_EM, 0.01);
    o.adaptive = adaptive;
    latens_mat *W1, *W3, *W2;
    latens_mat *X1 = run(md, o, t, 4, 50, 1, &W1), *X3 = run(md, o, t, 4, 50, 3, &W3);
    latens_mat *X2 = run(md, o, t, 4, 50, 2, &W2);
    ck_assert(latens_mat_max_abs_diff(X1, X3) == 0 && latens_mat_max_abs_diff(X1, X2) == 0);
    ck_assert(latens_mat_max_abs_diff(W1, W3) == 0);
    latens_mat *X = latens_mat_alloc(2, 4), *W = latens_mat_alloc(2, 4);
    int diff = 0;
    for (size_t p = 0; p < 50; p += 7) {
      latens_rng r;
      latens_rng_init(&r, 42, p);
      ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 4, &r, X, W, NULL), LATENS_OK);
      for (size_t k = 0; k < 8; k++)
        diff += X->data[k] != LATENS_MAT(X1, k, p) || W->data[k] != LATENS_MAT(W1, k, p);
    }
    ck_assert_int_eq(diff, 0);
    latens_mat_free(X), latens_mat_free(W);
    latens_mat_free(X1), latens_mat_free(X2), latens_mat_free(X3);
    latens_mat_free(W1), latens_mat_free(W2), latens_mat_free(W3);
  }
  latens_sde_model_free(md);
}
END_TEST

START_TEST(test_summary_matches_paths) {
  /* Oracle: the mean over the stored ensemble (same seed) computed here in path order. */
  latens_sde_model *md = latens_sde_model_builtin("double-well", NULL, 0);
  latens_sde_options o = opts(LATENS_SDE_EM, 0.01);
  double t[3] = {0, 0.5, 2.0};
  latens_mat *W, *X = run(md, o, t, 3, 101, 2, &W);
  latens_mat *mean = latens_mat_alloc(1, 3);
  ck_assert_int_eq(latens_sde_ensemble_summary(md, &o, NULL, t, 3, 101, 42, NULL, 0, mean, NULL,
                                               NULL, NULL, NULL), LATENS_OK);
  for (size_t k = 0; k < 3; k++) {
    double s = 0;
    for (size_t p = 0; p < 101; p++) s += LATENS_MAT(X, k, p);
    ck_assert_double_eq_tol(LATENS_MAT(mean, 0, k), s / 101, 1e-15);
  }
  latens_mat_free(X), latens_mat_free(W), latens_mat_free(mean);
  latens_sde_model_free(md);
}
END_TEST

START_TEST(test_solve_equals_increments) {
  /* Oracle: a grid solve with fixed steps draws exactly latens_sde_brownian_draw's increments,
   * so it equals latens_sde_solve_increments on them (SRI: dW and dZ). */
  latens_sde_model *md = latens_sde_model_builtin("gbm", NULL, 0);
  latens_sde_options o = opts(LATENS_SDE_SRI, 0.125);
  double t[3] = {0, 0.5, 1.0};
  latens_mat *X = latens_mat_alloc(1, 3), *W = latens_mat_alloc(1, 3);
  latens_rng r;
  latens_rng_init(&r, 5, 1);
  ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 3, &r, X, W, NULL), LATENS_OK);
  double dW[8], dZ[8], xe;
  latens_rng_init(&r, 5, 1);
  ck_assert_int_eq(latens_sde_brownian_draw(&r, 1, 8, 0.125, dW, dZ, 1), LATENS_OK);
  ck_assert_int_eq(latens_sde_solve_increments(md, &o, 0, NULL, 8, 0.125, dW, dZ, 1, NULL, &xe, NULL),
                   LATENS_OK);
  double w = 0;
  for (int i = 0; i < 8; i++) w += dW[i];
  ck_assert_double_eq_tol(LATENS_MAT(X, 0, 2), xe, 1e-14 * fabs(xe));
  ck_assert_double_eq_tol(LATENS_MAT(W, 0, 2), w, 1e-14);
  latens_mat_free(X), latens_mat_free(W);
  latens_sde_model_free(md);
}
END_TEST

START_TEST(test_adaptive_path) {
  /* Oracle: the Brownian tree makes W on the output grid a function of the stream alone:
   * two tolerances (different step sequences, with rejections) give the same W(t_k) up to
   * the rounding of summing different partitions; and the GBM solution on that W
   * (u0 exp(0.63155 t + 0.87 W), Ito's formula) is approached as the tolerance shrinks. */
  latens_sde_model *md = latens_sde_model_builtin("gbm", NULL, 0);
  enum { NT = 6 };
  double t[NT] = {0, 0.1, 0.35, 0.5, 0.8, 1.0}, tol[3] = {1e-2, 1e-4, 1e-6}, err[3];
  latens_mat *X = latens_mat_alloc(1, NT), *W = latens_mat_alloc(1, NT), *W0 = latens_mat_alloc(1, NT);
  size_t steps[3], rejected = 0;
  for (int i = 0; i < 3; i++) {
    latens_sde_options o = opts(LATENS_SDE_SRI, 0.25);
    o.adaptive = 1, o.abstol = o.reltol = tol[i];
    latens_rng r;
    latens_rng_init(&r, 99, 3);
    latens_sde_stats st;
    ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, NT, &r, X, i ? W : W0, &st), LATENS_OK);
    steps[i] = st.steps, rejected += st.rejected;
    if (i) ck_assert(latens_mat_max_abs_diff(W, W0) < 1e-13);
    err[i] = 0;
    for (int k = 0; k < NT; k++)
      err[i] = fmax(err[i], fabs(LATENS_MAT(X, 0, k) - 0.5 * exp(0.63155 * t[k] + 0.87 * LATENS_MAT(W0, 0, k))));
  }
  ck_assert(steps[0] < steps[1] && steps[1] < steps[2]);
  ck_assert(rejected > 0);
  ck_assert_msg(err[2] < err[1] && err[1] < err[0] && err[2] < 1e-4, "errors %g %g %g", err[0],
                err[1], err[2]);
  latens_mat_free(X), latens_mat_free(W), latens_mat_free(W0);
  latens_sde_model_free(md);
}
END_TEST

START_TEST(test_adaptive_tree_law) {
  /* Oracle: Brownian motion's law.  W(1) over many tree paths (each refined to the finest
   * adaptive level it needs) has mean 0 and variance 1; W(0.5) has variance 0.5 and the
   * increments over [0, 0.5] and [0.5, 1] are uncorrelated.  5-standard-error bounds. */
  if (test_under_valgrind()) return;
  latens_sde_model *md = latens_sde_model_builtin("additive", NULL, 0);
  latens_sde_options o = opts(LATENS_SDE_SRA, 1.0 / 64);
  o.adaptive = 1;
  double t[3] = {0, 0.5, 1.0};
  enum { N = 4000 };
  latens_mat *X = latens_mat_alloc(3, N), *W = latens_mat_alloc(3, N);
  ck_assert_int_eq(latens_sde_ensemble(md, &o, NULL, t, 3, N, 8, X, W, NULL, NULL), LATENS_OK);
  double s1 = 0, s11 = 0, sa = 0, sab = 0;
  for (int p = 0; p < N; p++) {
    double a = LATENS_MAT(W, 1, p), b = LATENS_MAT(W, 2, p) - a;
    s1 += a + b, s11 += (a + b) * (a + b), sa += a * a, sab += a * b;
  }
  ck_assert(fabs(s1 / N) < 5 / sqrt(N));
  ck_assert(fabs(s11 / N - 1) < 5 * sqrt(2.0 / N));
  ck_assert(fabs(sa / N - 0.5) < 5 * 0.5 * sqrt(2.0 / N));
  ck_assert(fabs(sab / N) < 5 * 0.5 / sqrt(N));
  latens_mat_free(X), latens_mat_free(W);
  latens_sde_model_free(md);
}
END_TEST

START_TEST(test_adaptive_limits) {
  /* dtmax caps the accepted steps (dyadic: the largest power-of-2 fraction of the span not
   * above it); a step budget too small ends with LATENS_EMAXITER. */
  latens_sde_model *md = latens_sde_model_builtin("gbm", NULL, 0);
  latens_sde_options o = opts(LATENS_SDE_SRI, 0.5);
  o.adaptive = 1, o.abstol = o.reltol = 10, o.dtmax = 0.1; /* loose: only dtmax binds */
  double t[2] = {0, 1};
  latens_mat *X = latens_mat_alloc(1, 2);
  latens_rng r;
  latens_rng_init(&r, 1, 1);
  latens_sde_stats st;
  ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 2, &r, X, NULL, &st), LATENS_OK);
  ck_assert(st.max_step == 0.0625 && st.steps == 16);
  o.abstol = o.reltol = 1e-8, o.max_steps = 50;
  ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 2, &r, X, NULL, &st), LATENS_EMAXITER);
  latens_mat_free(X);
  latens_sde_model_free(md);
}
END_TEST

static int stop_at_half(void *user, const char *what, double done, double total) {
  (void)what;
  ++*(int *)user;
  return done >= total / 2;
}

START_TEST(test_progress_stop) {
  /* The progress callback asking to stop ends the ensemble with LATENS_EINTERRUPTED. */
  latens_sde_model *md = latens_sde_model_builtin("ou", NULL, 0);
  latens_sde_options o = opts(LATENS_SDE_EM, 0.01);
  double t[5] = {0, 0.25, 0.5, 0.75, 1};
  int calls = 0;
  latens_progress pr = {stop_at_half, &calls};
  latens_mat *mean = latens_mat_alloc(1, 5);
  ck_assert_int_eq(latens_sde_ensemble_summary(md, &o, NULL, t, 5, 10, 1, NULL, 0, mean, NULL,
                                               NULL, NULL, &pr), LATENS_EINTERRUPTED);
  ck_assert_int_eq(calls, 2);
  latens_mat_free(mean);
  latens_sde_model_free(md);
}
END_TEST

/* x1 = W, x2 = int_0^t W ds: SRA steps it exactly (x1 += dW, x2 += h x1 + dZ), so the state
 * exposes the Brownian tree's (W, Z) at the output times. */
static int wz_f(double t, const double *x, const double *p, void *u, double *f) {
  (void)t, (void)p, (void)u;
  f[0] = 0, f[1] = x[0];
  return 0;
}
static int wz_g(double t, const double *x, const double *p, void *u, double *g) {
  (void)t, (void)x, (void)p, (void)u;
  g[0] = 1, g[1] = 0;
  return 0;
}

static latens_sde_model *wz_model(void) {
  latens_sde_model *md = latens_sde_model_alloc(2, 1, LATENS_SDE_NOISE_ADDITIVE, 0);
  md->drift = wz_f, md->diffusion = wz_g;
  return md;
}

START_TEST(test_tree_space_time) {
  /* Oracle 1 (exact): a path stepped at levels 1..6 (steps as long as the grid allows) and the
   * same stream stepped at level 6 throughout (dtmax = 1/64) give the same W and Z at the
   * output times up to rounding: Z of a dyadic interval is Z of its halves plus the first
   * half's dW times the half length, whatever the memoised nodes.
   * Oracle 2 (law of Brownian motion and its time integral Z = int W ds, jointly Gaussian):
   * at h = 1/64, reached by six bridge splits, W(h)/sqrt(h) and Z(h)/sqrt(h^3/3) have unit
   * variance and correlation sqrt(3)/2; Var Z(1) = 1/3, Cov(Z(1), W(1)) = 1/2.  A wrong
   * conditional mean or variance in the split changes the law of the level-6 node (a 0.7
   * instead of 0.75 in the conditional mean was checked to fail).  Bounds: 5 standard errors,
   * with the sample (co)variance's se sqrt((Var a Var b + Cov^2) / N) for Gaussian a, b. */
  latens_sde_model *md = wz_model();
  latens_sde_options o = opts(LATENS_SDE_SRA, 0.5);
  o.adaptive = 1, o.abstol = o.reltol = 1e6; /* never rejects: only dt/dtmax set the level */
  double h = 1.0 / 64, t[4] = {0, h, 0.5, 1.0};
  int N = test_under_valgrind() ? 200 : 8000;
  latens_mat *Xc = latens_mat_alloc(8, N), *Xf = latens_mat_alloc(8, N);
  ck_assert_int_eq(latens_sde_ensemble(md, &o, NULL, t, 4, N, 21, Xc, NULL, NULL, NULL), LATENS_OK);
  o.dt = o.dtmax = h;
  latens_sde_stats st;
  ck_assert_int_eq(latens_sde_ensemble(md, &o, NULL, t, 4, N, 21, Xf, NULL, &st, NULL), LATENS_OK);
  ck_assert(st.max_step == h && st.steps == 64 * (size_t)N);
  ck_assert_msg(latens_mat_max_abs_diff(Xc, Xf) < 1e-12, "tree levels disagree by %g",
                latens_mat_max_abs_diff(Xc, Xf));
  if (test_under_valgrind()) goto done; /* too few paths for the law */
  double va = 0, vz = 0, caz = 0, v1 = 0, c1 = 0;
  for (int p = 0; p < N; p++) {
    double a = LATENS_MAT(Xf, 2, p) / sqrt(h), z = LATENS_MAT(Xf, 3, p) / sqrt(h * h * h / 3);
    double W1 = LATENS_MAT(Xf, 6, p), Z1 = LATENS_MAT(Xf, 7, p);
    va += a * a, vz += z * z, caz += a * z, v1 += Z1 * Z1, c1 += Z1 * W1;
  }
  va /= N, vz /= N, caz /= N, v1 /= N, c1 /= N;
  double se1 = sqrt(2.0 / N), rho = sqrt(3.0) / 2;
  ck_assert_msg(fabs(va - 1) < 5 * se1, "Var W(h)/h = %g, expected 1", va);
  ck_assert_msg(fabs(vz - 1) < 5 * se1, "Var Z(h)/(h^3/3) = %g, expected 1", vz);
  ck_assert_msg(fabs(caz - rho) < 5 * sqrt((1 + rho * rho) / N), "corr(W(h), Z(h)) = %g", caz);
  ck_assert_msg(fabs(v1 - 1.0 / 3) < 5 * se1 / 3, "Var Z(1) = %g, expected 1/3", v1);
  ck_assert_msg(fabs(c1 - 0.5) < 5 * sqrt((1.0 / 3 + 0.25) / N), "Cov(Z(1), W(1)) = %g", c1);
done:
  latens_mat_free(Xc), latens_mat_free(Xf);
  latens_sde_model_free(md);
}
END_TEST

START_TEST(test_coarsen_consistent) {
  /* Oracle (exact): coarsening by 4 equals coarsening by 2 twice (Z of a union of intervals
   * is additive after shifting by the W reached), and the coarse dW are plain sums. */
  enum { N = 16 };
  double dW[2 * N], dZ[2 * N], a[2 * N / 4], b[2 * N / 4], c[2 * N / 2], e[2 * N / 2];
  double f[2 * N / 4], g[2 * N / 4];
  latens_rng r;
  latens_rng_init(&r, 9, 0);
  ck_assert_int_eq(latens_sde_brownian_draw(&r, 2, N, 0.01, dW, dZ, 2), LATENS_OK);
  ck_assert_int_eq(latens_sde_brownian_coarsen(2, N, 0.01, dW, dZ, 2, 4, a, b, 2), LATENS_OK);
  ck_assert_int_eq(latens_sde_brownian_coarsen(2, N, 0.01, dW, dZ, 2, 2, c, e, 2), LATENS_OK);
  ck_assert_int_eq(latens_sde_brownian_coarsen(2, N / 2, 0.02, c, e, 2, 2, f, g, 2), LATENS_OK);
  int bad = 0;
  for (int i = 0; i < 2 * N / 4; i++) {
    int q = i % 2, k = i / 2;
    double w = 0;
    for (int j = 4 * k; j < 4 * k + 4; j++) w += dW[q + 2 * j];
    bad += fabs(a[i] - w) > 1e-15 || fabs(a[i] - f[i]) > 1e-15 || fabs(b[i] - g[i]) > 1e-16;
  }
  ck_assert_int_eq(bad, 0);
}
END_TEST

static int bomb_f(double t, const double *x, const double *p, void *u, double *f) {
  (void)p, (void)u;
  f[0] = 0;
  return t > 0.2 && x[0] > 1.5 ? LATENS_EDOM : 0; /* fails on paths that wander up */
}
static int unit_diff(double t, const double *x, const double *p, void *u, double *g) {
  (void)t, (void)x, (void)p, (void)u;
  g[0] = 1;
  return 0;
}

START_TEST(test_failure_deterministic) {
  /* Oracle: the failing path reported (the lowest one) is a function of the seed, not of the
   * thread count, although later paths may be skipped. */
  latens_sde_model *md = latens_sde_model_alloc(1, 1, LATENS_SDE_NOISE_ADDITIVE, 0);
  md->drift = bomb_f, md->diffusion = unit_diff, md->x0[0] = 0;
  double t[2] = {0, 1};
  latens_mat *X = latens_mat_alloc(2, 300);
  char msg[2][400];
  for (int th = 0; th < 2; th++) {
    latens_sde_options o = opts(LATENS_SDE_EM, 0.01);
    o.threads = th ? 3 : 1;
    ck_assert_int_eq(latens_sde_ensemble(md, &o, NULL, t, 2, 300, 5, X, NULL, NULL, NULL),
                     LATENS_EDOM);
    const char *why = NULL;
    latens_last_error(&why);
    snprintf(msg[th], sizeof msg[th], "%s", why ? why : "");
  }
  ck_assert_str_eq(msg[0], msg[1]);
  ck_assert_ptr_nonnull(strstr(msg[0], "path "));
  latens_mat_free(X);
  latens_sde_model_free(md);
}
END_TEST

START_TEST(test_bulk_draws_equal_increments) {
  /* Oracle: latens_sde_brownian_draw's increments (one latens_rng_normal call per normal)
   * through latens_sde_solve_increments.  The fixed-step solve draws its normals in bulk
   * (EM: the 1-d kernel for gbm's combined callback and double-well's separate ones, the
   * general kernel for Lotka-Volterra's two noises; SRI: dW and dZ normals interleaved per
   * step), in chunks that 1300 steps cross several times, so a chunking or ordering slip would
   * change the path entirely.  The step arithmetic is grouped differently there (f h + g dW
   * vs two updates), hence 1e-12 relative, far below any change of stream. */
  enum { NS = 1300 };
  const char *names[4] = {"gbm", "double-well", "lotka-volterra", "gbm"};
  const latens_sde_scheme sch[4] = {LATENS_SDE_EM, LATENS_SDE_EM, LATENS_SDE_EM, LATENS_SDE_SRI};
  double *dW = malloc(2 * NS * sizeof *dW), *dZ = malloc(2 * NS * sizeof *dZ), xe[2];
  for (int c = 0; c < 4; c++) {
    latens_sde_model *md = latens_sde_model_builtin(names[c], NULL, 0);
    const size_t d = md->d, m = md->m;
    const double h = 1.0 / 2048;
    latens_sde_options o = opts(sch[c], h);
    double t[3] = {0, 650 * h, NS * h};
    latens_mat *X = latens_mat_alloc(d, 3), *W = latens_mat_alloc(m, 3);
    latens_rng r;
    latens_rng_init(&r, 77, (uint64_t)c);
    ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 3, &r, X, W, NULL), LATENS_OK);
    latens_rng_init(&r, 77, (uint64_t)c);
    double *z = sch[c] == LATENS_SDE_SRI ? dZ : NULL;
    ck_assert_int_eq(latens_sde_brownian_draw(&r, m, NS, h, dW, z, m), LATENS_OK);
    ck_assert_int_eq(latens_sde_solve_increments(md, &o, 0, NULL, NS, h, dW, z, m, NULL, xe, NULL),
                     LATENS_OK);
    for (size_t i = 0; i < d; i++)
      ck_assert_msg(fabs(LATENS_MAT(X, i, 2) - xe[i]) <= 1e-12 * fabs(xe[i]),
                    "case %d, x%zu: %.17g vs %.17g", c, i, LATENS_MAT(X, i, 2), xe[i]);
    for (size_t q = 0; q < m; q++) {
      double w = 0;
      for (int i = 0; i < NS; i++) w += dW[q + (size_t)i * m];
      ck_assert_double_eq_tol(LATENS_MAT(W, q, 2), w, 1e-12);
    }
    latens_mat_free(X), latens_mat_free(W);
    latens_sde_model_free(md);
  }
  free(dW), free(dZ);
}
END_TEST

/* The built-in formulas as user callbacks (models.c's arithmetic, written out again). */
static int user_gbm(double t, const double *x, const double *p, void *u, double *f, double *g) {
  (void)t, (void)u;
  if (f) f[0] = p[0] * x[0];
  if (g) g[0] = p[1] * x[0];
  return 0;
}
static int user_dw_f(double t, const double *x, const double *p, void *u, double *f) {
  (void)t, (void)p, (void)u;
  f[0] = x[0] - x[0] * x[0] * x[0];
  return 0;
}
static int user_dw_g(double t, const double *x, const double *p, void *u, double *g) {
  (void)t, (void)x, (void)u;
  g[0] = p[0];
  return 0;
}

static int user_ou(double t, const double *x, const double *p, void *u, double *f, double *g) {
  (void)t, (void)u;
  if (f) f[0] = p[0] * (p[1] - x[0]);
  if (g) g[0] = p[2];
  return 0;
}
static int user_lv_f(double t, const double *x, const double *p, void *u, double *f) {
  (void)t, (void)u;
  f[0] = p[0] * x[0] - p[1] * x[0] * x[1];
  f[1] = p[2] * x[0] * x[1] - p[3] * x[1];
  return 0;
}
static int user_lv_g(double t, const double *x, const double *p, void *u, double *g) {
  (void)t, (void)u;
  g[0] = p[4] * x[0], g[1] = p[5] * x[1];
  return 0;
}

/* Oracle of the kernel tests: bitwise equality with the same model driven through user
 * callbacks (the general per-step path, one path at a time): the EM and SRIW1 kernels'
 * inlined built-in formulas may not change a path, nor the step and evaluation counts.  23
 * paths: for EM one unit of 16 (the AVX2 kernel where the CPU has it), one group of 4 (the
 * scalar interleaved kernel) and 3 single paths; for SRI two groups of 8 and one of 4 (vector
 * kernels, AVX2 where the CPU has it) and 3 single paths.  The grid's spans of 210, 455 and
 * 35 steps cross the bulk-draw chunks and end in a short step.  With 2 threads too (the units
 * then run on either thread; with rng = FAST each thread's fast-stream slots are reused).
 * With rng = FAST the option must also be honoured: the Philox ensemble of the same seed is
 * another one.  Lotka-Volterra (d = m = 2; the EM kernels, four paths per vector; SRI keeps
 * the general path) runs to t = 2: its middle span of 1155 steps also crosses the general
 * path's bulk draws (1024 steps of two normals). */
static void kernel_vs_callbacks(int rng) {
  enum { NP = 53 }; /* FAST: a unit of 32 paths, then 16, a group of 4, one path */
  const char *names[4] = {"gbm", "double-well", "ou", "lotka-volterra"};
  for (int c = 0; c < 8; c++) {
    latens_sde_model *md = latens_sde_model_builtin(names[c % 4], NULL, 0);
    latens_sde_model *tw = latens_sde_model_builtin(names[c % 4], NULL, 0);
    if (c % 4 == 1) tw->drift = user_dw_f, tw->diffusion = user_dw_g;
    else if (c % 4 == 3) tw->drift = user_lv_f, tw->diffusion = user_lv_g;
    else tw->both = c % 4 ? user_ou : user_gbm;
    /* LV away from its defaults, whose factors 1 and 0.5 would hide a regrouped product */
    const double lvp[6] = {1.1, 0.47, 0.53, 0.9, 0.13, 0.17};
    for (int k = 0; c % 4 == 3 && k < 6; k++) md->theta[k] = tw->theta[k] = lvp[k];
    latens_sde_options o = opts(c < 4 ? LATENS_SDE_EM : LATENS_SDE_SRI, 1.0 / 700);
    o.rng = rng;
    double t[4] = {0, 0.3, 0.95, 1.0};
    if (c % 4 == 3) t[2] = 1.95, t[3] = 2.0;
    const size_t d = md->d;
    latens_mat *X = latens_mat_alloc(4 * d, NP), *Y = latens_mat_alloc(4 * d, NP);
    latens_mat *W = latens_mat_alloc(4 * d, NP), *V = latens_mat_alloc(4 * d, NP);
    latens_sde_stats sa, sb;
    ck_assert_int_eq(latens_sde_ensemble(tw, &o, NULL, t, 4, NP, 3, Y, V, &sb, NULL), LATENS_OK);
    for (int th = 1; th <= 2; th++) {
      o.threads = th;
      ck_assert_int_eq(latens_sde_ensemble(md, &o, NULL, t, 4, NP, 3, X, W, &sa, NULL), LATENS_OK);
      const size_t nb = 4 * d * NP * sizeof(double);
      ck_assert_msg(!memcmp(X->data, Y->data, nb) && !memcmp(W->data, V->data, nb), "%s %d",
                    names[c % 4], c / 4);
      ck_assert(sa.steps == sb.steps && sa.f_evals == sb.f_evals && sa.g_evals == sb.g_evals);
      ck_assert(sa.min_step == sb.min_step && sa.max_step == sb.max_step);
    }
    if (rng == LATENS_SDE_RNG_FAST) {
      o.rng = LATENS_SDE_RNG_PHILOX;
      ck_assert_int_eq(latens_sde_ensemble(md, &o, NULL, t, 4, NP, 3, X, W, NULL, NULL),
                       LATENS_OK);
      ck_assert(LATENS_MAT(X, 3, 0) != LATENS_MAT(Y, 3, 0));
    }
    latens_mat_free(X), latens_mat_free(Y), latens_mat_free(W), latens_mat_free(V);
    latens_sde_model_free(md), latens_sde_model_free(tw);
  }
}

START_TEST(test_builtin_kernel_equals_callbacks) {
  kernel_vs_callbacks(LATENS_SDE_RNG_PHILOX);
  /* A path that overflows is reported alike (status, path, time): gbm with drift 2000 passes
   * 1e308 near t = 0.35 (21 paths: a unit of 16, a group of 4, one single path). */
  const double th[2] = {2000, 0.1};
  latens_sde_model *md = latens_sde_model_builtin("gbm", th, 2);
  latens_sde_model *tw = latens_sde_model_builtin("gbm", th, 2);
  tw->both = user_gbm;
  latens_sde_options o = opts(LATENS_SDE_EM, 1.0 / 700);
  double t[4] = {0, 0.3, 0.95, 1.0};
  latens_mat *X = latens_mat_alloc(4, 21);
  char msg[2][400];
  for (int c = 0; c < 2; c++) {
    int st = latens_sde_ensemble(c ? tw : md, &o, NULL, t, 4, 21, 3, X, NULL, NULL, NULL);
    const char *why = NULL;
    ck_assert_int_eq(st, LATENS_ENOTFINITE);
    ck_assert_int_eq(latens_last_error(&why), LATENS_ENOTFINITE);
    snprintf(msg[c], sizeof msg[c], "%s", why ? why : "");
    latens_clear_error();
  }
  ck_assert_str_eq(msg[0], msg[1]);
  ck_assert_msg(strstr(msg[0], "path 0") != NULL, "%s", msg[0]);
  latens_mat_free(X);
  latens_sde_model_free(md), latens_sde_model_free(tw);
}
END_TEST

/* ------------------------------------------------------------------ options.rng = FAST */

static latens_sde_options fast_opts(latens_sde_scheme s, double dt) {
  latens_sde_options o = opts(s, dt);
  o.rng = LATENS_SDE_RNG_FAST;
  return o;
}

/* Path p's normals under rng = FAST, as sde.h defines them: lane p mod 16 of fast stream
 * (seed, p / 16). */
static latens_rng_lane lane_of(uint64_t seed, size_t p) {
  latens_rng_fast f;
  latens_rng_lane l;
  ck_assert_int_eq(latens_rng_fast_init(&f, seed, p / 16), LATENS_OK);
  ck_assert_int_eq(latens_rng_fast_lane(&f, (unsigned)(p % 16), &l), LATENS_OK);
  return l;
}

START_TEST(test_fast_kernel_equals_callbacks) {
  /* with rng = FAST the group kernels read each path's fast stream as the general path does */
  kernel_vs_callbacks(LATENS_SDE_RNG_FAST);
}
END_TEST

START_TEST(test_w_optional) {
  /* Oracle: the same ensemble with W stored.  Without W the kernels skip the running W
   * (and, on lanes, keep eight chains in registers); x must not change by a bit.  53 paths
   * cross every unit size; odd step counts leave a lane's second normal pending. */
  const char *names[3] = {"double-well", "gbm", "lotka-volterra"};
  double t[4] = {0, 0.3, 0.95, 1.0};
  for (int c = 0; c < 6; c++) {
    latens_sde_model *md = latens_sde_model_builtin(names[c % 3], NULL, 0);
    latens_sde_options o = opts(LATENS_SDE_EM, 1.0 / 700);
    o.rng = c < 3 ? LATENS_SDE_RNG_FAST : LATENS_SDE_RNG_PHILOX;
    const size_t d = md->d, np = 53;
    latens_mat *X = latens_mat_alloc(4 * d, np), *Y = latens_mat_alloc(4 * d, np);
    latens_mat *W = latens_mat_alloc(4 * md->m, np);
    for (int th = 1; th <= 2; th++) {
      o.threads = th;
      ck_assert_int_eq(latens_sde_ensemble(md, &o, NULL, t, 4, np, 5, X, W, NULL, NULL), LATENS_OK);
      ck_assert_int_eq(latens_sde_ensemble(md, &o, NULL, t, 4, np, 5, Y, NULL, NULL, NULL),
                       LATENS_OK);
      ck_assert_msg(!memcmp(X->data, Y->data, 4 * d * np * sizeof(double)), "%s %s, %d threads",
                    names[c % 3], latens_sde_rng_name(o.rng), th);
    }
    latens_mat_free(X), latens_mat_free(Y), latens_mat_free(W);
    latens_sde_model_free(md);
  }
}
END_TEST

START_TEST(test_fast_grids_threads) {
  /* Oracle: a path is a function of its stream alone, not of the output grid (which sets
   * where the bulk draws are cut) nor of the thread count.  With dt = 2^-9 and grid times on
   * multiples of dt every step is exactly dt, so the grids {0, 2}, {0, 153/512, 1, 1.5, 2} and
   * {0, 1/512, 3/512, 1001/512, 2} must give bitwise the same W(2) and x(2) (and x(1) for 1
   * and 3 threads).  EM and SRI on double-well (group kernels, 16 + 4 + 1 paths) and EM on a
   * callback model (the 1-d path loop). */
  enum { NP = 21 };
  const double h = 1.0 / 512;
  const double g1[2] = {0, 2}, g2[5] = {0, 153 * h, 1, 1.5, 2}, g3[5] = {0, h, 3 * h, 1001 * h, 2};
  const double *g[3] = {g1, g2, g3};
  const size_t ng[3] = {2, 5, 5};
  for (int c = 0; c < 3; c++) {
    latens_sde_model *md = latens_sde_model_builtin("double-well", NULL, 0);
    if (c == 2) md->drift = user_dw_f, md->diffusion = user_dw_g;
    latens_sde_options o = fast_opts(c == 1 ? LATENS_SDE_SRI : LATENS_SDE_EM, h);
    double ref_x[NP], ref_w[NP], ref_1[NP];
    int bad = 0;
    for (int k = 0; k < 3; k++)
      for (int th = 1; th <= 3; th += 2) {
        latens_mat *W, *X = run(md, o, g[k], ng[k], NP, th, &W);
        const size_t last = ng[k] - 1;
        for (size_t p = 0; p < NP; p++) {
          if (k == 0 && th == 1) /* the reference: grid {0, 2}, one thread */
            ref_x[p] = LATENS_MAT(X, last, p), ref_w[p] = LATENS_MAT(W, last, p);
          bad += LATENS_MAT(X, last, p) != ref_x[p] || LATENS_MAT(W, last, p) != ref_w[p];
          if (k == 1 && th == 1) ref_1[p] = LATENS_MAT(X, 2, p); /* t = 1 */
          if (k == 1 && th == 3) bad += LATENS_MAT(X, 2, p) != ref_1[p];
        }
        latens_mat_free(X), latens_mat_free(W);
      }
    ck_assert_msg(bad == 0, "case %d: %d values differ between grids or thread counts", c, bad);
    latens_sde_model_free(md);
  }
}
END_TEST

/* A nonlinear, time-dependent callback model: f = sin(t) - x^3, g = theta (1 + x^2 / 4). */
static int hand_fg(double t, const double *x, const double *p, void *u, double *f, double *g) {
  (void)u;
  if (f) f[0] = sin(t) - x[0] * x[0] * x[0];
  if (g) g[0] = p[0] * (1 + x[0] * x[0] / 4);
  return 0;
}

START_TEST(test_fast_hand_loop) {
  /* Oracle (independent re-implementation of the wiring): path p of the FAST ensemble is
   * lane p mod 16 of latens_rng_fast_init(seed, p / 16), one latens_rng_lane_normal per
   * step, and the EM step
   * x += f(t, x) h + g(t, x) (sqrt(h) z) with t = i h, written out here; the kernel's
   * arithmetic is that expression, so equality is bitwise.  Grid times are multiples of h =
   * 2^-8 (every step exactly h); spans of 100, 100 and 2400 steps, the last crossing the
   * bulk draws' 2048-normal chunks; 21 paths, so the second stream's lanes serve too. */
  latens_sde_model *md = latens_sde_model_alloc(1, 1, LATENS_SDE_NOISE_DIAGONAL, 1);
  md->both = hand_fg, md->theta[0] = 0.7, md->x0[0] = 0.3;
  const double h = 1.0 / 256;
  double t[4] = {0, 100 * h, 200 * h, 2600 * h};
  enum { NP = 21 };
  latens_sde_options o = fast_opts(LATENS_SDE_EM, h);
  latens_mat *W, *X = run(md, o, t, 4, NP, 2, &W);
  int bad = 0;
  for (size_t p = 0; p < NP; p++) {
    latens_rng_lane r = lane_of(42, p);
    double x = 0.3, w = 0, f, g;
    size_t k = 1;
    for (int i = 0; i < 2600; i++) {
      const double dw = latens_rng_lane_normal(&r) * sqrt(h);
      hand_fg(i * h, &x, md->theta, NULL, &f, &g);
      x += f * h + g * dw;
      w += dw;
      if ((i + 1) * h == t[k]) {
        bad += x != LATENS_MAT(X, k, p) || w != LATENS_MAT(W, k, p);
        k++;
      }
    }
    ck_assert(k == 4);
  }
  ck_assert_int_eq(bad, 0);
  latens_mat_free(X), latens_mat_free(W);
  latens_sde_model_free(md);
}
END_TEST

/* Stratonovich gbm (for HEUN). */
static latens_sde_model *strat_gbm(void) {
  latens_sde_model *md = latens_sde_model_builtin("gbm", NULL, 0);
  md->calculus = LATENS_SDE_STRATONOVICH;
  return md;
}

START_TEST(test_fast_every_scheme) {
  /* Oracle: latens_sde_solve_increments on increments built here from the fast stream
   * lane of path p (lane_of) by sde_draw_step's rule (per step m normals for dW = sqrt(h) z,
   * then, for SRI and SRA, m for dZ = h (dW + sqrt(h) z' / sqrt 3) / 2), so every scheme's
   * general path
   * and the single-draw route (m = 1100 with dZ: 2200 normals a step, more than a bulk
   * draw holds) read the fast stream in order.  Same step function on the same increments:
   * bitwise, except EM, whose kernel adds f h + g dW where step_em adds f h and g dW in
   * turn (1e-12 relative, as test_bulk_draws_equal_increments).  8 steps of 1/8. */
  enum { NS = 8, NP = 3 };
  const double h = 0.125;
  latens_mat *A = latens_mat_alloc(1, 1), *G = latens_mat_alloc(1, 1100);
  A->data[0] = -0.5;
  for (size_t q = 0; q < 1100; q++) G->data[q] = 0.01 * (double)(q % 5);
  latens_sde_model *lv = latens_sde_model_builtin("lotka-volterra", NULL, 0);
  latens_sde_model *mds[6] = {lv, lv, latens_sde_model_builtin("lorenz", NULL, 0),
                              latens_sde_model_builtin("additive", NULL, 0), strat_gbm(),
                              latens_sde_model_linear_alloc(A, NULL, G)};
  const latens_sde_scheme sch[7] = {LATENS_SDE_EM,  LATENS_SDE_MILSTEIN, LATENS_SDE_SRI,
                                    LATENS_SDE_SRA, LATENS_SDE_HEUN,     LATENS_SDE_SRA,
                                    LATENS_SDE_IMPLICIT_EM};
  double *dW = malloc(1100 * NS * sizeof *dW), *dZ = malloc(1100 * NS * sizeof *dZ);
  for (int c = 0; c < 7; c++) {
    latens_sde_model *md = c < 6 ? mds[c] : lv;
    const size_t d = md->d, m = md->m;
    const int need_dz = sch[c] == LATENS_SDE_SRI || sch[c] == LATENS_SDE_SRA;
    latens_sde_options o = fast_opts(sch[c], h);
    double t[3] = {0, 3 * h, NS * h}, xe[3];
    latens_mat *X = latens_mat_alloc(3 * d, NP);
    int bad = latens_sde_ensemble(md, &o, NULL, t, 3, NP, 9, X, NULL, NULL, NULL) != LATENS_OK;
    for (size_t p = 0; p < NP; p++) {
      latens_rng_lane r = lane_of(9, p);
      for (int j = 0; j < NS; j++) {
        double *w = dW + (size_t)j * m, *z = dZ + (size_t)j * m;
        for (size_t q = 0; q < m; q++) w[q] = sqrt(h) * latens_rng_lane_normal(&r);
        for (size_t q = 0; need_dz && q < m; q++)
          z[q] = 0.5 * h * (w[q] + sqrt(h) * latens_rng_lane_normal(&r) * 0.57735026918962576451);
      }
      bad += latens_sde_solve_increments(md, &o, 0, NULL, NS, h, dW, need_dz ? dZ : NULL, m,
                                         NULL, xe, NULL) != LATENS_OK;
      for (size_t i = 0; i < d; i++) {
        const double v = LATENS_MAT(X, 2 * d + i, p);
        bad += c == 0 ? !(fabs(v - xe[i]) <= 1e-12 * fabs(xe[i])) : v != xe[i];
      }
    }
    ck_assert_msg(bad == 0, "case %d (%s, d %zu, m %zu): %d values differ", c,
                  latens_sde_scheme_name(sch[c]), d, m, bad);
    latens_mat_free(X);
  }
  for (int c = 1; c < 6; c++) latens_sde_model_free(mds[c]);
  latens_mat_free(A), latens_mat_free(G);
  free(dW), free(dZ);
}
END_TEST

START_TEST(test_fast_ou_moments) {
  /* Oracle: OU closed form (test_ou_moments) at t = 1: E X = mu + (x0 - mu) e^{-theta},
   * Var X = sigma^2 (1 - e^{-2 theta}) / (2 theta), with rng = FAST, for EM (group kernels)
   * and SRI.  Bounds: 5 standard errors of the mean (sd / sqrt n) and of the variance
   * (var sqrt(2 / (n - 1))).  EM's bias at dt = 1/512 (the recursion's own moments:
   * (1 - theta dt)^512 against e^{-2}; sigma^2 dt sum (1 - theta dt)^{2i}) is -2.6e-4 in
   * the mean and 3.3e-4 in the variance, 0.1 and 0.2 standard errors.  Measured over seeds
   * 1..20 (EM and SRI): |z| of the mean at most 3.1, of the variance at most 2.4. */
  int n = test_under_valgrind() ? 400 : 20000;
  double th[3] = {2.0, 0.5, 0.8}, t[2] = {0, 1};
  latens_sde_model *md = latens_sde_model_builtin("ou", th, 3);
  const double m = 0.5 + (1 - 0.5) * exp(-2.0), v = 0.64 * (1 - exp(-4.0)) / 4;
  latens_mat *mean = latens_mat_alloc(1, 2), *var = latens_mat_alloc(1, 2);
  for (int c = 0; c < 2; c++) {
    latens_sde_options o = fast_opts(c ? LATENS_SDE_SRI : LATENS_SDE_EM, 1.0 / 512);
    ck_assert_int_eq(latens_sde_ensemble_summary(md, &o, NULL, t, 2, (size_t)n, 7, NULL, 0, mean,
                                                 var, NULL, NULL, NULL), LATENS_OK);
    const double zm = (LATENS_MAT(mean, 0, 1) - m) / sqrt(v / n);
    const double zv = (LATENS_MAT(var, 0, 1) - v) / (v * sqrt(2.0 / (n - 1)));
    ck_assert_msg(fabs(zm) < 5 && fabs(zv) < 5, "%s: mean z %g, variance z %g", c ? "sri" : "em",
                  zm, zv);
  }
  latens_mat_free(mean), latens_mat_free(var);
  latens_sde_model_free(md);
}
END_TEST

START_TEST(test_fast_refused) {
  /* rng outside {philox, fast}, FAST with adaptive steps (every entry point), and FAST for a
   * single solve from the caller's latens_rng: LATENS_EINVAL with the cause named.
   * latens_sde_solve_increments draws nothing and ignores the option: the same x(1). */
  latens_sde_model *md = latens_sde_model_builtin("gbm", NULL, 0);
  double t[2] = {0, 1}, xa, xb, dW[4] = {0.1, -0.2, 0.3, 0.05}, dZ[4] = {0.01, 0, -0.02, 0.01};
  latens_mat *X = latens_mat_alloc(2, 4), *mean = latens_mat_alloc(1, 2);
  latens_sde_options o = fast_opts(LATENS_SDE_SRI, 0.25);
  const char *why = NULL;
  o.adaptive = 1;
  ck_assert_int_eq(latens_sde_ensemble(md, &o, NULL, t, 2, 4, 1, X, NULL, NULL, NULL),
                   LATENS_EINVAL);
  ck_assert_int_eq(latens_last_error(&why), LATENS_EINVAL);
  ck_assert_msg(strstr(why, "adaptive") && strstr(why, "philox"), "%s", why);
  ck_assert_int_eq(latens_sde_ensemble_summary(md, &o, NULL, t, 2, 4, 1, NULL, 0, mean, NULL,
                                               NULL, NULL, NULL), LATENS_EINVAL);
  latens_rng r;
  latens_rng_init(&r, 1, 0);
  ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 2, &r, X, NULL, NULL), LATENS_EINVAL);
  o.adaptive = 0;
  ck_assert_int_eq(latens_sde_solve(md, &o, NULL, t, 2, &r, X, NULL, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_last_error(&why), LATENS_EINVAL);
  ck_assert_msg(strstr(why, "latens_sde_ensemble"), "%s", why);
  int sa = latens_sde_solve_increments(md, &o, 0, NULL, 4, 0.25, dW, dZ, 1, NULL, &xa, NULL);
  o.rng = LATENS_SDE_RNG_PHILOX;
  int sb = latens_sde_solve_increments(md, &o, 0, NULL, 4, 0.25, dW, dZ, 1, NULL, &xb, NULL);
  ck_assert(sa == LATENS_OK && sb == LATENS_OK && xa == xb);
  for (int bad = -1; bad <= 2; bad += 3) { /* the option's range */
    o.rng = bad;
    const int st = latens_sde_ensemble(md, &o, NULL, t, 2, 4, 1, X, NULL, NULL, NULL);
    ck_assert_int_eq(st, LATENS_EINVAL);
  }
  /* the names the CLI parses, and the default */
  ck_assert(!strcmp(latens_sde_rng_name(LATENS_SDE_RNG_PHILOX), "philox") &&
            !strcmp(latens_sde_rng_name(LATENS_SDE_RNG_FAST), "fast") && !latens_sde_rng_name(2));
  ck_assert(latens_sde_rng_from_name("fast") == LATENS_SDE_RNG_FAST &&
            latens_sde_rng_from_name("philox") == LATENS_SDE_RNG_PHILOX &&
            latens_sde_rng_from_name("xoshiro") == -1 && latens_sde_rng_from_name(NULL) == -1);
  latens_sde_options_default(&o);
  ck_assert_int_eq(o.rng, LATENS_SDE_RNG_PHILOX);
  latens_mat_free(X), latens_mat_free(mean);
  latens_sde_model_free(md);
}
END_TEST

START_TEST(test_fast_summary_matches_paths) {
  /* Oracle: the stored FAST ensemble of the same seed reduced here as summarise does (sum in
   * path order, / n; prob 0 and 1: the extreme paths), bitwise.  Summaries keep every path's
   * fast stream between intervals, stored ensembles a few per thread: both must read them
   * alike.  Group kernels (double-well EM, SRI) and the path loop (callbacks); 2 threads. */
  enum { NP = 37, NT = 4 };
  double t[NT] = {0, 0.5, 1.25, 2.0}, prob[2] = {0, 1};
  for (int c = 0; c < 3; c++) {
    latens_sde_model *md = latens_sde_model_builtin("double-well", NULL, 0);
    if (c == 2) md->drift = user_dw_f, md->diffusion = user_dw_g;
    latens_sde_options o = fast_opts(c == 1 ? LATENS_SDE_SRI : LATENS_SDE_EM, 0.01);
    o.threads = 2;
    latens_mat *W, *X = run(md, o, t, NT, NP, 2, &W);
    latens_mat *mean = latens_mat_alloc(1, NT), *q = latens_mat_alloc(2, NT);
    ck_assert_int_eq(latens_sde_ensemble_summary(md, &o, NULL, t, NT, NP, 42, prob, 2, mean, NULL,
                                                 q, NULL, NULL), LATENS_OK);
    int bad = 0;
    for (size_t k = 0; k < NT; k++) {
      double s = 0, lo = INFINITY, hi = -INFINITY;
      for (size_t p = 0; p < NP; p++) {
        const double v = LATENS_MAT(X, k, p);
        s += v, lo = fmin(lo, v), hi = fmax(hi, v);
      }
      bad += LATENS_MAT(mean, 0, k) != s / NP || LATENS_MAT(q, 0, k) != lo ||
             LATENS_MAT(q, 1, k) != hi;
    }
    ck_assert_msg(bad == 0, "case %d: %d summaries differ from the stored paths", c, bad);
    latens_mat_free(X), latens_mat_free(W), latens_mat_free(mean), latens_mat_free(q);
    latens_sde_model_free(md);
  }
}
END_TEST

Suite *sde_ensemble_suite(void) {
  Suite *s = suite_create("sde_ensemble");
  TCase *tc = tcase_create("ensemble");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_ou_moments);
  tcase_add_test(tc, test_threads);
  tcase_add_test(tc, test_summary_matches_paths);
  tcase_add_test(tc, test_solve_equals_increments);
  tcase_add_test(tc, test_adaptive_path);
  tcase_add_test(tc, test_adaptive_tree_law);
  tcase_add_test(tc, test_progress_stop);
  tcase_add_test(tc, test_adaptive_limits);
  tcase_add_test(tc, test_tree_space_time);
  tcase_add_test(tc, test_coarsen_consistent);
  tcase_add_test(tc, test_failure_deterministic);
  tcase_add_test(tc, test_bulk_draws_equal_increments);
  tcase_add_test(tc, test_builtin_kernel_equals_callbacks);
  tcase_add_test(tc, test_fast_kernel_equals_callbacks);
  tcase_add_test(tc, test_w_optional);
  tcase_add_test(tc, test_fast_grids_threads);
  tcase_add_test(tc, test_fast_hand_loop);
  tcase_add_test(tc, test_fast_every_scheme);
  tcase_add_test(tc, test_fast_ou_moments);
  tcase_add_test(tc, test_fast_refused);
  tcase_add_test(tc, test_fast_summary_matches_paths);
  suite_add_tcase(s, tc);
  return s;
}
