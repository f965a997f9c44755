/* tests/gp/test_inference.c: exact Gaussian inference against a dense Cholesky GP, gradients
 * against central differences, trials, robustness. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <latens/latens.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "suites.h"

#define unif test_unif

/* Independent closed form of the kernel (see test_kernels.c for the formulas' sources). */
static double kclosed(const latens_gp_kernel *k, double tau) {
  double s = 0, d = fabs(tau);
  for (size_t i = 0; i < latens_gp_kernel_nterms(k); i++) {
    latens_gp_term t;
    latens_gp_kernel_get_term(k, i, &t);
    int p = (int)t.kind & 3;
    double x = sqrt(2.0 * p + 1.0) * d / t.lengthscale;
    double poly = p == 0 ? 1 : p == 1 ? 1 + x : p == 2 ? 1 + x + x * x / 3 : 1 + x + 0.4 * x * x + x * x * x / 15;
    s += t.variance * poly * exp(-x) * ((int)t.kind >= 4 ? cos(t.frequency * tau) : 1.0);
  }
  return s;
}

/* Dense reference (Rasmussen & Williams 2006, Algorithm 2.1) with GSL's Cholesky:
 * log N(y; 0, K + σ²I) over the observed entries, and the posterior of f at tq. */
static void dense_gp(const latens_gp_kernel *k, double noise, const double *t, const double *y,
                     size_t n, const double *tq, size_t nq, double *ll, double *mean,
                     double *var) {
  size_t *ob = malloc(n * sizeof *ob), m = 0;
  for (size_t i = 0; i < n; i++)
    if (!isnan(y[i])) ob[m++] = i;
  gsl_matrix *K = gsl_matrix_alloc(m ? m : 1, m ? m : 1);
  gsl_vector *a = gsl_vector_alloc(m ? m : 1), *v = gsl_vector_alloc(m ? m : 1);
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < m; j++)
      gsl_matrix_set(K, i, j, kclosed(k, t[ob[i]] - t[ob[j]]) + (i == j ? noise : 0));
  gsl_linalg_cholesky_decomp1(K);
  double logdet = 0;
  for (size_t i = 0; i < m; i++) {
    logdet += 2 * log(gsl_matrix_get(K, i, i));
    gsl_vector_set(a, i, y[ob[i]]);
  }
  gsl_linalg_cholesky_svx(K, a); /* a = (K + σ²I)^{-1} y */
  double q = 0;
  for (size_t i = 0; i < m; i++) q += y[ob[i]] * gsl_vector_get(a, i);
  *ll = -0.5 * (q + logdet + m * log(2 * M_PI));
  for (size_t j = 0; j < nq; j++) {
    double mu = 0;
    for (size_t i = 0; i < m; i++) {
      double kv = kclosed(k, tq[j] - t[ob[i]]);
      mu += kv * gsl_vector_get(a, i);
      gsl_vector_set(v, i, kv);
    }
    gsl_linalg_cholesky_svx(K, v);
    double red = 0;
    for (size_t i = 0; i < m; i++) red += kclosed(k, tq[j] - t[ob[i]]) * gsl_vector_get(v, i);
    mean[j] = mu;
    var[j] = kclosed(k, 0) - red;
  }
  gsl_matrix_free(K), gsl_vector_free(a), gsl_vector_free(v), free(ob);
}

static const char *const specs[] = {"matern12",      "matern32",      "matern52",
                                    "matern72",      "hida-matern12", "hida-matern32",
                                    "hida-matern52", "hida-matern72", "matern32,hida-matern52",
                                    "matern12,matern72,hida-matern12"};
enum { NSPECS = sizeof specs / sizeof *specs };

static latens_gp_kernel *make_kernel(int which, uint64_t *s) {
  latens_gp_kernel *k = latens_gp_kernel_parse(specs[which]);
  size_t np = latens_gp_kernel_nparams(k);
  double th[32];
  latens_gp_kernel_get_params(k, th);
  for (size_t i = 0; i < latens_gp_kernel_nterms(k); i++) {
    latens_gp_term t;
    latens_gp_kernel_get_term(k, i, &t);
    (void)t;
  }
  /* variance in [0.5, 1.5], lengthscale in [0.5, 2.5], frequency in [0.5, 2.5] */
  for (size_t q = 0; q < np; q++) {
    const char *nm = latens_gp_kernel_param_name(k, q);
    th[q] = strncmp(nm, "variance", 8) == 0 ? 1.0 + 0.5 * unif(s) : 1.5 + unif(s);
  }
  latens_gp_kernel_set_params(k, th);
  return k;
}

/* Random irregular grid: exponential gaps of mean 0.3 with 5% duplicates, 10% missing. */
static void make_data(size_t n, uint64_t *s, double *t, double *y) {
  double now = 0;
  for (size_t i = 0; i < n; i++) {
    double u = 0.5 * (unif(s) + 1);
    if (i > 0 && u > 0.05) now += -0.3 * log(0.5 * (unif(s) + 1) + 1e-300);
    t[i] = now;
    y[i] = 0.1 * (i % 7 == 3 ? NAN : 1.0) + sin(now) + 0.5 * unif(s);
  }
}

/* Oracle: dense Cholesky GP; relative 1e-9 (loglik) and 1e-9 of the prior variance
 * (posterior mean and variance): both sides are backward stable, and κ(K + σ²I) <= ~1e4
 * here, so agreement to ~1e-11 is expected. */
START_TEST(test_dense_agreement) {
  uint64_t s = 77;
  size_t n = 500, nq = 60;
  double *t = malloc(n * sizeof *t), *y = malloc(n * sizeof *y);
  double tq[60], m1[60], v1[60], m2[60], v2[60];
  double *mo = malloc(n * sizeof *mo), *vo = malloc(n * sizeof *vo);
  double *mo2 = malloc(n * sizeof *mo2), *vo2 = malloc(n * sizeof *vo2);
  size_t bad = 0;
  double worst_ll = 0, worst_mv = 0;
  for (int w = 0; w < NSPECS; w++) {
    size_t nn = test_under_valgrind() ? 120 : n;
    make_data(nn, &s, t, y);
    for (size_t j = 0; j < nq; j++) tq[j] = t[nn - 1] * (0.5 * (unif(&s) + 1)) * 1.1 - 1.0;
    tq[0] = t[5]; /* a query at an observed time */
    latens_gp_kernel *k = make_kernel(w, &s);
    double noise = 0.05 + 0.1 * (unif(&s) + 1), ll, llref;
    latens_gp_series ser = {nn, t, y, NULL};
    ck_assert_int_eq(latens_gp_loglik(k, noise, &ser, 1, &ll, NULL), LATENS_OK);
    ck_assert_int_eq(latens_gp_posterior(k, noise, &ser, tq, nq, m1, v1), LATENS_OK);
    ck_assert_int_eq(latens_gp_posterior(k, noise, &ser, NULL, 0, mo, vo), LATENS_OK);
    dense_gp(k, noise, t, y, nn, tq, nq, &llref, m2, v2);
    dense_gp(k, noise, t, y, nn, t, nn, &llref, mo2, vo2);
    double e = fabs(ll - llref) / fabs(llref);
    worst_ll = fmax(worst_ll, e);
    if (e > 1e-9) bad++;
    double sc = kclosed(k, 0);
    for (size_t j = 0; j < nq; j++) {
      double em = fmax(fabs(m1[j] - m2[j]), fabs(v1[j] - v2[j])) / sc;
      worst_mv = fmax(worst_mv, em);
      if (em > 1e-9) bad++;
    }
    for (size_t j = 0; j < nn; j++) {
      double em = fmax(fabs(mo[j] - mo2[j]), fabs(vo[j] - vo2[j])) / sc;
      worst_mv = fmax(worst_mv, em);
      if (em > 1e-9) bad++;
    }
    latens_gp_kernel_free(k);
  }
  if (getenv("GP_TEST_VERBOSE"))
    fprintf(stderr, "dense: worst loglik rel %g, worst mean/var %g\n", worst_ll, worst_mv);
  ck_assert_msg(bad == 0, "%zu mismatches; worst loglik rel %g, worst mean/var %g", bad, worst_ll,
                worst_mv);
  free(t), free(y), free(mo), free(vo), free(mo2), free(vo2);
}
END_TEST

typedef struct {
  latens_gp_kernel *k;
  latens_gp_series *s;
  size_t nt;
} obj;

/* -loglik in the natural parameters (theta..., noise) for latens_optim_check_gradient. */
static int negll(const double *x, size_t n, void *u, double *f, double *g) {
  obj *o = u;
  int st = latens_gp_kernel_set_params(o->k, x);
  if (st) return st;
  double ll;
  st = latens_gp_loglik(o->k, x[n - 1], o->s, o->nt, &ll, g);
  if (st) return st;
  *f = -ll;
  if (g)
    for (size_t i = 0; i < n; i++) g[i] = -g[i];
  return LATENS_OK;
}

/* Oracle: central differences (core's latens_optim_check_gradient, step 6e-6 relative);
 * the rule there is relative error <= 1e-6 for |grad| > 1 (truncation O(h²) ~ 4e-11 times
 * third derivatives of a loglik of ~300 points, rounding eps/h ~ 4e-11 |f|). */
START_TEST(test_gradient) {
  uint64_t s = 99;
  size_t n = test_under_valgrind() ? 60 : 300;
  double *t = malloc(n * sizeof *t), *y = malloc(n * sizeof *y);
  make_data(n, &s, t, y);
  double worst = 0;
  for (int w = 0; w < NSPECS; w++) {
    latens_gp_kernel *k = make_kernel(w, &s);
    latens_gp_series ser = {n, t, y, NULL};
    obj o = {k, &ser, 1};
    double x[33];
    size_t np = latens_gp_kernel_nparams(k);
    latens_gp_kernel_get_params(k, x);
    x[np] = 0.2;
    double err;
    ck_assert_int_eq(latens_optim_check_gradient(negll, x, np + 1, &o, 0, &err), LATENS_OK);
    worst = fmax(worst, err);
    latens_gp_kernel_free(k);
  }
  if (getenv("GP_TEST_VERBOSE")) fprintf(stderr, "gradient: worst rel error %g\n", worst);
  ck_assert_msg(worst < 1e-6, "worst gradient error %g", worst);
  free(t), free(y);
}
END_TEST

/* Oracle: trials are independent, so the batch loglik and gradient are the sums of the
 * single-trial ones (to rounding, 1e-12 relative), whatever the thread count. */
START_TEST(test_trials) {
  uint64_t s = 5;
  enum { R = 7, N = 200 };
  double t[R][N], y[R][N];
  latens_gp_series ser[R];
  for (int r = 0; r < R; r++) {
    size_t n = (size_t)(N - 20 * r);
    make_data(n, &s, t[r], y[r]);
    ser[r] = (latens_gp_series){n, t[r], y[r], NULL};
  }
  ser[3].n = 0; /* an empty trial */
  latens_gp_kernel *k = make_kernel(8, &s);
  double ll, g[6], sum = 0, gs[6] = {0};
  ck_assert_int_eq(latens_gp_loglik(k, 0.1, ser, R, &ll, g), LATENS_OK);
  for (int r = 0; r < R; r++) {
    double l1, g1[6];
    ck_assert_int_eq(latens_gp_loglik(k, 0.1, &ser[r], 1, &l1, g1), LATENS_OK);
    sum += l1;
    for (int q = 0; q < 6; q++) gs[q] += g1[q];
  }
  ck_assert_double_eq_tol(ll, sum, 1e-12 * fabs(sum));
  for (int q = 0; q < 6; q++) ck_assert_double_eq_tol(g[q], gs[q], 1e-12 * (1 + fabs(gs[q])));
  /* the batch posterior is the per-trial posterior, bit for bit */
  double mb[R][N], vb[R][N], m1[N], v1[N];
  double *mp[R], *vp[R];
  for (int r = 0; r < R; r++) mp[r] = mb[r], vp[r] = vb[r];
  ck_assert_int_eq(latens_gp_posterior_trials(k, 0.1, ser, R, mp, vp), LATENS_OK);
  size_t diff = 0;
  for (int r = 0; r < R; r++) {
    if (!ser[r].n) continue;
    ck_assert_int_eq(latens_gp_posterior(k, 0.1, &ser[r], NULL, 0, m1, v1), LATENS_OK);
    diff += memcmp(m1, mb[r], ser[r].n * sizeof(double)) != 0;
    diff += memcmp(v1, vb[r], ser[r].n * sizeof(double)) != 0;
  }
  ck_assert_uint_eq(diff, 0);
  latens_gp_kernel_free(k);
}
END_TEST

/* Oracle: the no-gradient paths (scalar Matérn-1/2 and -3/2 loops; for the other kinds the
 * general filter's P⁻ = P∞ + A(P − P∞)Aᵀ predict) against the gradient path's
 * P⁻ = A P Aᵀ + Q, with missing values, duplicate times and per-point noise; both are exact,
 * so they agree to rounding (1e-12 relative on an O(n) sum of O(1) terms). */
START_TEST(test_fast_path) {
  uint64_t s = 21;
  size_t n = 400;
  double t[400], y[400], nv[400];
  make_data(n, &s, t, y);
  for (size_t i = 0; i < n; i++) nv[i] = 0.05 + 0.1 * (unif(&s) + 1);
  size_t bad = 0;
  for (int kind = 0; kind < LATENS_GP_NKINDS; kind++)
    for (int het = 0; het < 2; het++) {
      latens_gp_term tm = {(latens_gp_kind)kind, 1.3, 0.8, 0.9};
      latens_gp_kernel *k = latens_gp_kernel_alloc(&tm, 1);
      latens_gp_series ser = {n, t, y, het ? nv : NULL};
      double l1, l2, g[4];
      ck_assert_int_eq(latens_gp_loglik(k, 0.2, &ser, 1, &l1, NULL), LATENS_OK);
      ck_assert_int_eq(latens_gp_loglik(k, 0.2, &ser, 1, &l2, g), LATENS_OK);
      if (!(fabs(l1 - l2) <= 1e-12 * fabs(l2))) bad++;
      latens_gp_kernel_free(k);
    }
  ck_assert_uint_eq(bad, 0);
}
END_TEST

/* Results do not depend on the thread count: 1 and 2 threads give identical bits. */
START_TEST(test_thread_independence) {
#ifdef _OPENMP
  uint64_t s = 6;
  enum { R = 6, N = 150 };
  double t[R][N], y[R][N];
  latens_gp_series ser[R];
  for (int r = 0; r < R; r++) {
    make_data(N, &s, t[r], y[r]);
    ser[r] = (latens_gp_series){N, t[r], y[r], NULL};
  }
  latens_gp_kernel *k = make_kernel(9, &s);
  double l1, l2, g1[8], g2[8];
  int old = omp_get_max_threads();
  omp_set_num_threads(1);
  ck_assert_int_eq(latens_gp_loglik(k, 0.1, ser, R, &l1, g1), LATENS_OK);
  omp_set_num_threads(2);
  ck_assert_int_eq(latens_gp_loglik(k, 0.1, ser, R, &l2, g2), LATENS_OK);
  omp_set_num_threads(old);
  ck_assert(l1 == l2);
  ck_assert(memcmp(g1, g2, (latens_gp_kernel_nparams(k) + 1) * sizeof(double)) == 0);
  latens_gp_kernel_free(k);
#endif
}
END_TEST

/* Robustness: extreme hyperparameters give finite answers that match the dense oracle where
 * it is itself reliable, duplicate times are exact, unsorted times and bad values are clear
 * errors, an empty series is loglik 0. */
START_TEST(test_robustness) {
  uint64_t s = 11;
  size_t n = test_under_valgrind() ? 40 : 200;
  double t[200], y[200], mean[200], var[200];
  make_data(n, &s, t, y);
  latens_gp_series ser = {n, t, y, NULL};
  double ells[] = {1e-9, 1e-3, 1e3, 1e9}, vars[] = {1e-12, 1.0, 1e12};
  size_t nonfinite = 0, off = 0;
  for (int kind = 0; kind < LATENS_GP_NKINDS; kind++)
    for (int a = 0; a < 4; a++)
      for (int b = 0; b < 3; b++) {
        latens_gp_term tm = {(latens_gp_kind)kind, vars[b], ells[a], 1.0};
        latens_gp_kernel *k = latens_gp_kernel_alloc(&tm, 1);
        double ll, g[4], llref, dm[1], dv[1];
        int st = latens_gp_loglik(k, 0.1, &ser, 1, &ll, g);
        st |= latens_gp_posterior(k, 0.1, &ser, NULL, 0, mean, var);
        if (st || !isfinite(ll) || !isfinite(g[0]) || !isfinite(g[1])) nonfinite++;
        for (size_t i = 0; i < n; i++) nonfinite += !isfinite(mean[i]) || !isfinite(var[i]);
        /* dense oracle where K + σ²I is well conditioned (σ² <= 1) */
        if (b <= 1) {
          dense_gp(k, 0.1, t, y, n, t, 1, &llref, dm, dv);
          if (fabs(ll - llref) > 1e-8 * fabs(llref)) off++;
        }
        latens_gp_kernel_free(k);
      }
  ck_assert_uint_eq(nonfinite, 0);
  ck_assert_uint_eq(off, 0);

  /* near-duplicate times (1e-9 apart, where Q(Δ) = P∞ − A P∞ Aᵀ cancels to rounding) against
   * the dense oracle, every kernel */
  double tn[200];
  for (size_t i = 0; i < n; i++) tn[i] = 0.5 * (double)(i / 2) + ((i & 1) ? 1e-9 : 0.0);
  latens_gp_series snd = {n, tn, y, NULL};
  for (int w = 0; w < NSPECS; w++) {
    latens_gp_kernel *k = make_kernel(w, &s);
    double ll, llref, dm[1], dv[1];
    if (latens_gp_loglik(k, 0.1, &snd, 1, &ll, NULL) != LATENS_OK) off++;
    dense_gp(k, 0.1, tn, y, n, tn, 1, &llref, dm, dv);
    if (!(fabs(ll - llref) <= 1e-9 * fabs(llref))) off++;
    latens_gp_kernel_free(k);
  }
  ck_assert_uint_eq(off, 0);

  latens_gp_kernel *k = latens_gp_kernel_parse("matern32");
  double ll;
  /* unsorted */
  double tu[3] = {0, 2, 1}, yu[3] = {1, 2, 3};
  latens_gp_series su = {3, tu, yu, NULL};
  ck_assert_int_eq(latens_gp_loglik(k, 0.1, &su, 1, &ll, NULL), LATENS_EDOM);
  ck_assert(isnan(ll));
  const char *msg;
  latens_last_error(&msg);
  ck_assert_ptr_nonnull(strstr(msg, "not sorted"));
  /* Inf value, NaN time, bad noise */
  tu[2] = 3, yu[1] = INFINITY;
  ck_assert_int_eq(latens_gp_loglik(k, 0.1, &su, 1, &ll, NULL), LATENS_ENOTFINITE);
  yu[1] = 2, tu[1] = NAN;
  ck_assert_int_eq(latens_gp_loglik(k, 0.1, &su, 1, &ll, NULL), LATENS_ENOTFINITE);
  tu[1] = 2;
  ck_assert_int_eq(latens_gp_loglik(k, 0.0, &su, 1, &ll, NULL), LATENS_EDOM);
  /* empty series and all-missing: loglik 0, posterior = prior (mean 0, var σ²) */
  latens_gp_series se = {0, NULL, NULL, NULL};
  ck_assert_int_eq(latens_gp_loglik(k, 0.1, &se, 1, &ll, NULL), LATENS_OK);
  ck_assert(ll == 0.0);
  double tq[2] = {5, -1}, mq[2], vq[2];
  ck_assert_int_eq(latens_gp_posterior(k, 0.1, &se, tq, 2, mq, vq), LATENS_OK);
  ck_assert(mq[0] == 0 && mq[1] == 0 && fabs(vq[0] - 1) < 1e-15);
  /* duplicate times: the dense oracle covers them exactly (two observations of one f) */
  double td[4] = {0, 1, 1, 1}, yd[4] = {0.3, 1.0, 1.2, NAN}, lref, m0[1], v0[1];
  latens_gp_series sd = {4, td, yd, NULL};
  ck_assert_int_eq(latens_gp_loglik(k, 0.1, &sd, 1, &ll, NULL), LATENS_OK);
  dense_gp(k, 0.1, td, yd, 4, td, 1, &lref, m0, v0);
  ck_assert_double_eq_tol(ll, lref, 1e-13);
  latens_gp_kernel_free(k);
}
END_TEST

/* Oracle: per-point noise equal to the scalar gives the same loglik; the sampler's draws
 * have the kernel's covariance (moment check on 4000 draws at two lags, 5 sigma). */
START_TEST(test_noise_var_and_sampler) {
  uint64_t s = 3;
  double t[100], y[100], nv[100];
  make_data(100, &s, t, y);
  for (int i = 0; i < 100; i++) nv[i] = 0.3;
  latens_gp_kernel *k = latens_gp_kernel_parse("hida-matern52");
  latens_gp_series a = {100, t, y, NULL}, b = {100, t, y, nv};
  double l1, l2;
  ck_assert_int_eq(latens_gp_loglik(k, 0.3, &a, 1, &l1, NULL), LATENS_OK);
  ck_assert_int_eq(latens_gp_loglik(k, -1.0, &b, 1, &l2, NULL), LATENS_OK);
  ck_assert_double_eq_tol(l1, l2, 1e-13 * fabs(l1));
  double ts[3] = {0, 0.4, 0.4}, f[3], c01 = 0, c00 = 0, c12 = 0;
  latens_rng r;
  latens_rng_init(&r, 42, 0);
  int M = test_under_valgrind() ? 200 : 4000;
  for (int i = 0; i < M; i++) {
    ck_assert_int_eq(latens_gp_sample(k, &r, ts, 3, f), LATENS_OK);
    c00 += f[0] * f[0], c01 += f[0] * f[1], c12 += (f[1] - f[2]) * (f[1] - f[2]);
  }
  double k04;
  latens_gp_kernel_eval(k, 0.4, &k04);
  /* sd of a product of unit normals is <= sqrt(2): 5 sd of the mean */
  ck_assert_double_eq_tol(c00 / M, 1.0, 5 * sqrt(2.0 / M));
  ck_assert_double_eq_tol(c01 / M, k04, 5 * sqrt(2.0 / M));
  ck_assert(c12 == 0); /* duplicate times give the same draw */
  latens_gp_kernel_free(k);
}
END_TEST

Suite *gp_inference_suite(void) {
  Suite *s = suite_create("gp_inference");
  TCase *tc = tcase_create("inference");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_dense_agreement);
  tcase_add_test(tc, test_gradient);
  tcase_add_test(tc, test_trials);
  tcase_add_test(tc, test_fast_path);
  tcase_add_test(tc, test_thread_independence);
  tcase_add_test(tc, test_robustness);
  tcase_add_test(tc, test_noise_var_and_sampler);
  suite_add_tcase(s, tc);
  return s;
}
