/* tests/sde/test_infer_match.c: SDE matching (loss, hand-derived gradients, tightness of the
 * bound at the exact posterior) and the OU fits. */
#include "infer_suites.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

typedef struct {
  latens_sde_match *w;
  const latens_sde_lti *M;
  const latens_sde_readout *ro;
  const latens_sde_data *y;
} ctx;

static int loss_fdf(const double *x, size_t n, void *user, double *f, double *g) {
  ctx *c = user;
  (void)n;
  return latens_sde_match_loss(c->w, c->M, c->ro, c->y, x, f, g, NULL);
}

/* Oracle: central differences of the loss (latens_optim_check_gradient; a correct gradient
 * gives ~1e-8, so 1e-6 separates right from wrong) on a 2-D model with correlated noise, a
 * full Cholesky factor, a 2-D readout with offset and a missing entry; then the model
 * gradients entry by entry. */
START_TEST(test_match_gradients) {
  double A[4] = {-0.8, 0.5, -0.3, -0.4}, b[2] = {0.2, -0.1}, Sig[4] = {0.3, 0.05, 0.05, 0.2};
  double m0[2] = {0.5, -0.2}, P0[4] = {0.3, 0.05, 0.05, 0.2};
  double C[4] = {1, 0.3, 0, 1}, d[2] = {0.1, 0}, R[4] = {0.1, 0.02, 0.02, 0.15};
  double t[5] = {0.2, 0.5, 0.5, 0.9, 1.3},
         x[10] = {0.3, -0.1, 0.2, NAN, 0.5, 0.1, -0.2, 0.4, 0.0, 0.3};
  latens_sde_lti M = {2, 0.0, A, b, Sig, m0, P0};
  latens_sde_readout ro = {LATENS_SDE_READOUT_GAUSSIAN, 2, C, d, R};
  latens_sde_data y = {5, 2, t, x, 2};
  latens_sde_match_options mo;
  latens_sde_match_options_default(&mo);
  mo.match_weight = 0.7, mo.obs_weight = 1.3;
  latens_sde_match *w = latens_sde_match_alloc(2, 0.0, &y, &mo);
  ck_assert_ptr_nonnull(w);
  const size_t nc = latens_sde_match_ncoef(w);
  ck_assert_uint_eq(nc, (2 + 3) * (3 * 3 * 4 + 1)); /* 4 distinct intervals, nsub 3 */
  double *c = malloc(nc * sizeof *c);
  ck_assert_int_eq(latens_sde_match_init(w, &ro, &y, c), LATENS_OK);
  uint64_t s = 17;
  for (size_t i = 0; i < nc; i++) c[i] += 0.1 * test_unif(&s); /* off the data, off-diagonals */
  ctx cx = {w, &M, &ro, &y};
  double err;
  ck_assert_int_eq(latens_optim_check_gradient(loss_fdf, c, nc, &cx, 0, &err), LATENS_OK);
  ck_assert_double_le(err, 1e-6);
  double gA[4], gb[2], gS[4], gm0[2], gP0[4], gC[4], gd[2], gR[4], f;
  latens_sde_lti_grad g = {gA, gb, gS, gm0, gP0, gC, gd, gR};
  ck_assert_int_eq(latens_sde_match_loss(w, &M, &ro, &y, c, &f, NULL, &g), LATENS_OK);
  double *arr[8] = {A, b, Sig, m0, P0, C, d, R}, *grd[8] = {gA, gb, gS, gm0, gP0, gC, gd, gR};
  const int len[8] = {4, 2, 4, 2, 4, 4, 2, 4}, sym[8] = {0, 0, 1, 0, 1, 0, 0, 1};
  double worst = 0;
  for (int a = 0; a < 8; a++)
    for (int i = 0; i < len[a]; i++) {
      /* symmetric matrices: move (i, j) and (j, i) together; the gradient of that move is
       * g_ij + g_ji (= 2 g_ij off the diagonal) */
      int j = sym[a] ? (i % 2) * 2 + i / 2 : i;
      if (sym[a] && j < i) continue;
      double h = 1e-6, v = arr[a][i], fp, fm;
      arr[a][i] = v + h, arr[a][j] = arr[a][i];
      latens_sde_match_loss(w, &M, &ro, &y, c, &fp, NULL, NULL);
      arr[a][i] = v - h, arr[a][j] = arr[a][i];
      latens_sde_match_loss(w, &M, &ro, &y, c, &fm, NULL, NULL);
      arr[a][i] = v, arr[a][j] = v;
      double fd = (fp - fm) / (2 * h), an = grd[a][i] + (j != i ? grd[a][j] : 0);
      worst = fmax(worst, fabs(fd - an) / fmax(1, fabs(fd)));
    }
  ck_assert_double_le(worst, 1e-6);
  free(c);
  latens_sde_match_free(w);
}
END_TEST

/* Oracle: the exact Kalman log-likelihood and RTS smoother.  For a 1-D linear prior the bound
 * is tight at the true posterior (the reference sheet: gap 3e-8 at the exact smoother
 * marginals), so after minimising over the spline the loss is >= -loglik, and the gap only
 * measures the spline's error: O(h^4) for cubic pieces, measured 1.2e-5 with 8 pieces per
 * interval (tolerance 1e-4); smoother means within 1e-4, variances 1e-5. */
START_TEST(test_match_tight) {
  ou4 o;
  ou4_init(&o);
  double ll, ms[4], Ps[4];
  ck_assert_int_eq(latens_sde_lti_smooth(&o.M, &o.ro, &o.y, ms, Ps, &ll), LATENS_OK);
  double gaps[2];
  const int runs = test_under_valgrind() ? 1 : 2; /* the 8-piece fit is the slow one */
  for (int r = 0; r < runs; r++) {
    latens_sde_match_options mo;
    latens_sde_match_options_default(&mo);
    mo.nsub = r ? 8 : 2;
    latens_sde_match *w = latens_sde_match_alloc(1, 0.0, &o.y, &mo);
    size_t nc = latens_sde_match_ncoef(w), it;
    double *c = malloc(nc * sizeof *c), loss, m[4], S[4];
    ck_assert_int_eq(latens_sde_match_init(w, &o.ro, &o.y, c), LATENS_OK);
    int st = latens_sde_match_fit_posterior(w, &o.M, &o.ro, &o.y, NULL, c, &loss, &it);
    ck_assert(st == LATENS_OK || st == LATENS_ENOPROG);
    gaps[r] = loss + ll;
    ck_assert_double_ge(gaps[r], -1e-9);
    ck_assert_int_eq(latens_sde_match_posterior(w, c, 4, o.t, m, S), LATENS_OK);
    if (r) {
      double em = 0, ev = 0;
      for (int k = 0; k < 4; k++)
        em = fmax(em, fabs(m[k] - ms[k])), ev = fmax(ev, fabs(S[k] - Ps[k]));
      ck_assert_double_le(em, 1e-4);
      ck_assert_double_le(ev, 1e-5);
    }
    double tbad = 2.0;
    ck_assert_int_eq(latens_sde_match_posterior(w, c, 1, &tbad, m, S), LATENS_EDOM);
    free(c);
    latens_sde_match_free(w);
  }
  if (runs < 2) return;
  ck_assert_double_le(gaps[1], 1e-4);
  ck_assert_double_lt(gaps[1], gaps[0]); /* refinement closes the gap */
}
END_TEST

/* Oracle: the exact Kalman log-likelihood.  With both weights 1, -loss = log p(x) -
 * KL(Q || P(.|x)) for the path measure Q of the spline posterior (Girsanov), so the closed-form
 * loss is >= -loglik for every q, not only the fitted one: checked at 40 random coefficient
 * vectors (1-D OU, and the 2-D model of test_match_gradients with correlated noise, a full
 * Cholesky factor, a repeated time and a missing entry). */
START_TEST(test_match_bound_any_q) {
  ou4 o;
  ou4_init(&o);
  double A[4] = {-0.8, 0.5, -0.3, -0.4}, b[2] = {0.2, -0.1}, Sig[4] = {0.3, 0.05, 0.05, 0.2};
  double m0[2] = {0.5, -0.2}, P0[4] = {0.3, 0.05, 0.05, 0.2};
  double C[4] = {1, 0.3, 0, 1}, d[2] = {0.1, 0}, R[4] = {0.1, 0.02, 0.02, 0.15};
  double t[5] = {0.2, 0.5, 0.5, 0.9, 1.3},
         x[10] = {0.3, -0.1, 0.2, NAN, 0.5, 0.1, -0.2, 0.4, 0.0, 0.3};
  latens_sde_lti M2 = {2, 0.0, A, b, Sig, m0, P0};
  latens_sde_readout ro2 = {LATENS_SDE_READOUT_GAUSSIAN, 2, C, d, R};
  latens_sde_data y2 = {5, 2, t, x, 2};
  const latens_sde_lti *Ms[2] = {&o.M, &M2};
  const latens_sde_readout *ros[2] = {&o.ro, &ro2};
  const latens_sde_data *ys[2] = {&o.y, &y2};
  int violations = 0, fails = 0;
  double mingap = INFINITY;
  uint64_t seed = 5;
  for (int k = 0; k < 2; k++) {
    double ll;
    ck_assert_int_eq(latens_sde_lti_filter(Ms[k], ros[k], ys[k], NULL, NULL, &ll), LATENS_OK);
    latens_sde_match *w = latens_sde_match_alloc(Ms[k]->n, 0.0, ys[k], NULL);
    const size_t nc = latens_sde_match_ncoef(w);
    double *c0 = malloc(2 * nc * sizeof *c0), *c = c0 + nc;
    ck_assert_int_eq(latens_sde_match_init(w, ros[k], ys[k], c0), LATENS_OK);
    for (int rep = 0; rep < 20; rep++) {
      double scale = 0.02 * (1 + rep % 5), f; /* near the data and further off */
      for (size_t i = 0; i < nc; i++) c[i] = c0[i] + scale * test_unif(&seed);
      fails += latens_sde_match_loss(w, Ms[k], ros[k], ys[k], c, &f, NULL, NULL) != LATENS_OK;
      violations += !(f >= -ll);
      mingap = fmin(mingap, f + ll);
    }
    free(c0);
    latens_sde_match_free(w);
  }
  ck_assert_int_eq(fails, 0);
  ck_assert_int_eq(violations, 0);
  ck_assert_double_gt(mingap, 0);
}
END_TEST

START_TEST(test_match_bad_input) {
  ou4 o;
  ou4_init(&o);
  latens_sde_match_options mo;
  latens_sde_match_options_default(&mo);
  mo.nsub = 0;
  ck_assert_ptr_null(latens_sde_match_alloc(1, 0.0, &o.y, &mo));
  ck_assert_ptr_null(latens_sde_match_alloc(0, 0.0, &o.y, NULL));
  ck_assert_ptr_null(latens_sde_match_alloc(1, 2.0, &o.y, NULL)); /* t0 after the data */
  latens_sde_match *w = latens_sde_match_alloc(1, 0.0, &o.y, NULL);
  size_t nc = latens_sde_match_ncoef(w);
  double *c = calloc(nc, sizeof *c), f;
  ck_assert_int_eq(latens_sde_match_loss(w, &o.M, &o.ro, &o.y, c, &f, NULL, NULL), LATENS_OK);
  o.Sigma = 0; /* the matching term needs Sigma^{-1} */
  ck_assert_int_eq(latens_sde_match_loss(w, &o.M, &o.ro, &o.y, c, &f, NULL, NULL),
                   LATENS_ENOTPOSDEF);
  o.Sigma = 0.81, c[0] = NAN;
  ck_assert_int_eq(latens_sde_match_loss(w, &o.M, &o.ro, &o.y, c, &f, NULL, NULL),
                   LATENS_ENOTFINITE);
  c[0] = 0, o.y.T = 3;
  ck_assert_int_eq(latens_sde_match_loss(w, &o.M, &o.ro, &o.y, c, &f, NULL, NULL), LATENS_EBADLEN);
  /* A noise variance on the boundary 0: the difference stencil would leave the domain, so
   * no standard error (EDOM), rather than a Hessian built from unset values. */
  o.y.T = 4;
  double th[LATENS_SDE_OU_NPARAM] = {1.3, 0.0, 0.9, 1e-300}, se[LATENS_SDE_OU_NPARAM];
  ck_assert_int_eq(latens_sde_ou_stderr(th, &o.y, se), LATENS_EDOM);
  const char *why = NULL;
  latens_last_error(&why);
  ck_assert(why && strstr(why, "boundary"));
  free(c);
  latens_sde_match_free(w);
}
END_TEST

/* Oracle: the exact Kalman MLE (L-BFGS on the Kalman likelihood) and its standard errors
 * from the observed information.  SDE matching maximises a bound that is tight at the exact
 * posterior, so its estimates must agree within those standard errors (the issue's
 * criterion); measured agreement is ~1e-3 SE.  Data: an exact OU sample, 150 points at
 * irregular times. */
START_TEST(test_ou_fit_matching_vs_mle) {
  enum { TMAX = 150 };
  const size_t T = test_under_valgrind() ? 50 : TMAX; /* valgrind checks memory, not numbers */
  double t[TMAX], x[TMAX];
  uint64_t s = 8;
  t[0] = 0;
  for (size_t k = 1; k < T; k++) t[k] = t[k - 1] + 0.3 + 0.2 * test_unif(&s);
  ou_simulate(0.8, 1.0, 0.6, 0.1, t, T, 21, x);
  x[40] = NAN;
  latens_sde_data y = {T, 1, t, x, 1};
  latens_sde_fit_options o;
  latens_sde_fit_options_default(&o);
  latens_sde_fit_result mle, sm;
  ck_assert_int_eq(latens_sde_ou_fit(&y, &o, &mle), LATENS_OK);
  o.method = LATENS_SDE_FIT_MATCHING;
  ck_assert_int_eq(latens_sde_ou_fit(&y, &o, &sm), LATENS_OK);
  if (test_under_valgrind()) return;
  int within = 0;
  for (int i = 0; i < 4; i++) within += fabs(sm.theta[i] - mle.theta[i]) < mle.se[i];
  ck_assert_int_eq(within, 4);
  /* The MLE is a maximum: half a standard error either way lowers the likelihood. */
  int lower = 0;
  for (int i = 0; i < 4; i++)
    for (int sg = -1; sg <= 1; sg += 2) {
      double th[4], ll;
      memcpy(th, mle.theta, sizeof th);
      th[i] += 0.5 * sg * mle.se[i];
      if (th[i] > 0 || i == 1)
        lower += !latens_sde_ou_loglik(th, &y, &ll) && ll < mle.loglik;
      else
        lower++;
    }
  ck_assert_int_eq(lower, 8);
  ck_assert_double_le(sm.objective, sm.loglik + 1e-9); /* a lower bound */
  ck_assert(mle.objective_se == 0 && sm.objective_se == 0); /* both objectives exact */
  ck_assert_double_le(mle.loglik - sm.objective, 0.05);
}
END_TEST

/* The particle-likelihood fit of the tests below: OU (kappa 0.5, mu -1, sigma 0.8) seen with
 * noise r = 0.2 at T = 60 times 0.5 apart (data stream 4), 500 particles, fit stream `seed`;
 * *exact: the Kalman log-likelihood at the estimate by latens_sde_ou_loglik.  ~0.15 s. */
enum { PFIT_T = 60 };
static int pf_fit(unsigned long seed, latens_sde_fit_result *r, double *exact) {
  double t[PFIT_T], x[PFIT_T];
  for (int k = 0; k < PFIT_T; k++) t[k] = 0.5 * k;
  ou_simulate(0.5, -1.0, 0.8, 0.2, t, PFIT_T, 4, x);
  latens_sde_data y = {PFIT_T, 1, t, x, 1};
  latens_sde_fit_options o;
  latens_sde_fit_options_default(&o);
  o.method = LATENS_SDE_FIT_PF, o.seed = seed;
  int st = latens_sde_ou_fit(&y, &o, r);
  if (st && st != LATENS_EMAXITER) return st;
  return latens_sde_ou_loglik(r->theta, &y, exact);
}

/* Oracles: the Kalman MLE (the particle-likelihood fit lands near it: its exact
 * log-likelihood within 2 nats of the maximum, the particle estimate's noise with 500
 * particles on 60 points being ~0.5 nats) and the exact Kalman log-likelihood at the fitted
 * parameters: the reported objective, re-estimated on 8 streams the fit never used, is
 * within 3 objective_se + 0.1 nats of it.  The 0.1 covers what 3 se does not: se comes from
 * only 8 draws of a skewed log-likelihood, and the log of a mean likelihood is low by
 * Jensen's ~var/16 (0.015 nats here).  Measured over fit streams 1000..1399 (pf_fit in a
 * loop): objective - exact had mean -0.019 and sd 0.215 against a mean se of 0.172, and
 * left the bound 3/400 times (by at most 0.21 nats; 9/400 without the 0.1).  The value the
 * fit reported before, the particle estimate on its own stream at its optimum
 * (latens_sde_pf_run at the estimate with the fit's seed), sat above the exact one in 246/400
 * fits, by 0.25 nats on average, and left the bound 101/400 times.  Checked on stream 1, the
 * default (objective - exact = +0.23, se 0.16), and on stream 1014, where the old value
 * would fail (0.82 nats above the exact value against a bound of 0.51; objective - exact =
 * +0.04, se 0.14). */
START_TEST(test_ou_fit_pf) {
  enum { T = 60 };
  double t[T], x[T];
  for (int k = 0; k < T; k++) t[k] = 0.5 * k;
  ou_simulate(0.5, -1.0, 0.8, 0.2, t, T, 4, x);
  latens_sde_data y = {T, 1, t, x, 1};
  latens_sde_fit_options o;
  latens_sde_fit_options_default(&o);
  latens_sde_fit_result mle, pf;
  ck_assert_int_eq(latens_sde_ou_fit(&y, &o, &mle), LATENS_OK);
  if (test_under_valgrind()) return;
  double exact;
  ck_assert_int_eq(pf_fit(1, &pf, &exact), LATENS_OK);
  ck_assert_double_le(mle.loglik - pf.loglik, 2.0);
  ck_assert_double_ge(mle.loglik - pf.loglik, -1e-6);
  ck_assert_double_le(fabs(pf.loglik - exact), 1e-9 * fabs(exact)); /* loglik: exact Kalman */
  ck_assert(isfinite(pf.objective_se) && pf.objective_se > 0);
  ck_assert_double_le(fabs(pf.objective - exact), 3 * pf.objective_se + 0.1);
  ck_assert_int_eq(pf_fit(1014, &pf, &exact), LATENS_OK);
  ck_assert(isfinite(pf.objective_se) && pf.objective_se > 0);
  ck_assert_double_le(fabs(pf.objective - exact), 3 * pf.objective_se + 0.1);
}
END_TEST

/* Oracle: the exact Kalman log-likelihood at the estimate, over 30 fits on streams
 * 1000..1029: the reported objective is unbiased for it to within Jensen's ~0.015 nats, i.e.
 * the mean of (objective - exact) is within 3 of its standard errors + 0.02 of 0.  Measured
 * on 13 blocks of 30 fits from streams 1000..1389: that statistic was between -1.7 and 1.6
 * standard errors (the block means -0.11 to +0.04 nats). */
START_TEST(test_ou_fit_pf_unbiased) {
  if (test_under_valgrind()) return;
  enum { NFIT = 30 };
  double sb = 0, sb2 = 0;
  int bad = 0;
  for (int i = 0; i < NFIT; i++) {
    latens_sde_fit_result r;
    double exact;
    bad += pf_fit(1000 + (unsigned long)i, &r, &exact) != LATENS_OK;
    const double b = r.objective - exact;
    sb += b, sb2 += b * b;
  }
  ck_assert_int_eq(bad, 0);
  const double mb = sb / NFIT, seb = sqrt((sb2 - NFIT * mb * mb) / (NFIT - 1) / NFIT);
  ck_assert_double_le(fabs(mb), 3 * seb + 0.02);
}
END_TEST

/* Oracle: the same fit with the re-estimating filters on 1, 3 and 8 OpenMP threads (the 8
 * streams keyed by their index, not by the thread): bitwise the same estimate, objective and
 * objective_se.  Also run under valgrind (the OpenMP region). */
START_TEST(test_ou_fit_pf_threads) {
#ifdef _OPENMP
  const int saved = omp_get_max_threads();
#endif
  static const int nth[3] = {1, 3, 8};
  latens_sde_fit_result r[3];
  int bad = 0;
  for (int q = 0; q < 3; q++) {
    double exact;
#ifdef _OPENMP
    omp_set_num_threads(nth[q]);
#endif
    bad += pf_fit(1001, &r[q], &exact) != LATENS_OK;
  }
#ifdef _OPENMP
  omp_set_num_threads(saved); /* CK_FORK=no runs the next tests in this process */
#endif
  ck_assert_int_eq(bad, 0);
  int diff = 0;
  for (int q = 1; q < 3; q++) {
    diff += r[q].objective != r[0].objective || r[q].objective_se != r[0].objective_se;
    diff += r[q].iterations != r[0].iterations ||
            memcmp(r[q].theta, r[0].theta, sizeof r[0].theta) != 0;
  }
  ck_assert_int_eq(diff, 0);
  ck_assert(isfinite(r[0].objective) && r[0].objective_se > 0);
}
END_TEST

Suite *sde_match_suite(void) {
  Suite *s = suite_create("sde_match");
  TCase *tc = tcase_create("match");
  tcase_add_test(tc, test_match_gradients);
  tcase_add_test(tc, test_match_tight);
  tcase_add_test(tc, test_match_bound_any_q);
  tcase_add_test(tc, test_match_bad_input);
  suite_add_tcase(s, tc);
  return s;
}

Suite *sde_ou_fit_suite(void) {
  Suite *s = suite_create("sde_ou_fit");
  TCase *tc = tcase_create("ou_fit");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_ou_fit_matching_vs_mle);
  tcase_add_test(tc, test_ou_fit_pf);
  tcase_add_test(tc, test_ou_fit_pf_unbiased);
  tcase_add_test(tc, test_ou_fit_pf_threads);
  suite_add_tcase(s, tc);
  return s;
}

/* ---------------------------------------------------------------- Monte Carlo matching */

typedef struct {
  latens_sde_match *w;
  latens_sde_model *model;
  const double *m0, *P0;
  const latens_sde_readout *ro;
  const latens_sde_data *y;
} mc_ctx;

static int mc_fdf(const double *x, size_t n, void *user, double *f, double *g) {
  mc_ctx *c = user;
  (void)n;
  return latens_sde_match_loss_mc(c->w, c->model, c->m0, c->P0, c->ro, c->y, 8, 99, x, f, g, NULL);
}

/* Oracle: central differences of the Monte Carlo estimate (its draws are fixed per node, so
 * it is a smooth function; 1e-6 as for the closed form) on the double-well prior, whose
 * drift z - z^3 makes the Jacobian term matter. */
START_TEST(test_match_mc_gradient) {
  double sg = 0.7;
  latens_sde_model *model = latens_sde_model_builtin("double-well", &sg, 1);
  double t[4] = {0.4, 0.9, 1.5, 2.0}, x[4] = {-0.9, -0.6, 0.3, 1.0}, C = 1, R = 0.05;
  double m0 = -1, P0 = 0.2;
  latens_sde_readout ro = {LATENS_SDE_READOUT_GAUSSIAN, 1, &C, NULL, &R};
  latens_sde_data y = {4, 1, t, x, 1};
  latens_sde_match *w = latens_sde_match_alloc(1, 0.0, &y, NULL);
  size_t nc = latens_sde_match_ncoef(w);
  double *c = malloc(nc * sizeof *c), err, f, gth, fp, fm;
  ck_assert_int_eq(latens_sde_match_init(w, &ro, &y, c), LATENS_OK);
  mc_ctx cx = {w, model, &m0, &P0, &ro, &y};
  ck_assert_int_eq(latens_optim_check_gradient(mc_fdf, c, nc, &cx, 0, &err), LATENS_OK);
  ck_assert_double_le(err, 1e-6);
  /* theta: the returned derivative against a wider central difference (h = 1e-4). */
  ck_assert_int_eq(latens_sde_match_loss_mc(w, model, &m0, &P0, &ro, &y, 8, 99, c, &f, NULL, &gth),
                   LATENS_OK);
  ck_assert_double_eq(model->theta[0], 0.7); /* restored */
  double th = 0.7 + 1e-4;
  latens_sde_model_set_params(model, &th, 1);
  latens_sde_match_loss_mc(w, model, &m0, &P0, &ro, &y, 8, 99, c, &fp, NULL, NULL);
  th = 0.7 - 1e-4;
  latens_sde_model_set_params(model, &th, 1);
  latens_sde_match_loss_mc(w, model, &m0, &P0, &ro, &y, 8, 99, c, &fm, NULL, NULL);
  ck_assert_double_eq_tol(gth, (fp - fm) / 2e-4, 1e-5 * fmax(1, fabs(gth)));
  /* multiplicative noise is refused: the matching term needs G independent of z */
  double gp[2] = {1.0, 0.5};
  latens_sde_model *gbm = latens_sde_model_builtin("gbm", gp, 2);
  ck_assert_int_eq(latens_sde_match_loss_mc(w, gbm, &m0, &P0, &ro, &y, 8, 99, c, &f, NULL, NULL),
                   LATENS_EUNIMPL);
  latens_sde_model_free(gbm);
  free(c);
  latens_sde_match_free(w);
  latens_sde_model_free(model);
}
END_TEST

/* Oracle: the closed-form loss of the linear case.  For the OU prior the Monte Carlo
 * estimate is unbiased, so its mean over 40 seeds (16 draws per node) lies within 3
 * standard errors of latens_sde_match_loss at the same coefficients. */
START_TEST(test_match_mc_unbiased) {
  ou4 o;
  ou4_init(&o);
  double th[3] = {1.3, 0.0, 0.9};
  latens_sde_model *model = latens_sde_model_builtin("ou", th, 3);
  latens_sde_match *w = latens_sde_match_alloc(1, 0.0, &o.y, NULL);
  size_t nc = latens_sde_match_ncoef(w);
  double *c = malloc(nc * sizeof *c), exact, s1 = 0, s2 = 0;
  latens_sde_match_init(w, &o.ro, &o.y, c);
  uint64_t s = 4;
  for (size_t i = 0; i < nc; i++) c[i] += 0.2 * test_unif(&s);
  ck_assert_int_eq(latens_sde_match_loss(w, &o.M, &o.ro, &o.y, c, &exact, NULL, NULL), LATENS_OK);
  enum { SEEDS = 40 };
  int bad = 0;
  for (int k = 0; k < SEEDS; k++) {
    double f;
    bad += latens_sde_match_loss_mc(w, model, &o.m0, &o.P0, &o.ro, &o.y, 16, (uint64_t)k, c, &f,
                                    NULL, NULL) != 0;
    s1 += f, s2 += f * f;
  }
  ck_assert_int_eq(bad, 0);
  double mean = s1 / SEEDS, se = sqrt((s2 / SEEDS - mean * mean) / (SEEDS - 1));
  ck_assert_double_le(fabs(mean - exact), 3 * se + 1e-12);
  free(c);
  latens_sde_match_free(w);
  latens_sde_model_free(model);
}
END_TEST

/* Oracle: the particle smoother (genealogy of 4000 particles over Euler-Maruyama paths of
 * the same model, dt = 0.01) on the double-well prior with precise observations (sd 0.1),
 * where the true posterior is close to Gaussian.  The SDE-matching posterior means must
 * agree within 0.05: half the observation sd, well above the particle error (~0.005) and
 * the Gaussian approximation's expected bias at this noise level. */
START_TEST(test_match_mc_double_well) {
  double sg = 0.5, m0 = -1.0, P0 = 0.05, C = 1, R = 0.01;
  latens_sde_model *model = latens_sde_model_builtin("double-well", &sg, 1);
  enum { T = 10 };
  double t[T], x[T], tg[T + 1], X[T + 1];
  for (int k = 0; k < T; k++) t[k] = 0.5 * (k + 1), tg[k + 1] = t[k];
  tg[0] = 0;
  latens_sde_options so;
  latens_sde_options_default(&so);
  so.dt = 0.01;
  latens_rng rng;
  latens_rng_init(&rng, 31, 0);
  latens_mat Xm = latens_mat_view(X, 1, T + 1, 1);
  ck_assert_int_eq(latens_sde_solve(model, &so, &m0, tg, T + 1, &rng, &Xm, NULL, NULL), LATENS_OK);
  for (int k = 0; k < T; k++) x[k] = X[k + 1] + 0.1 * latens_rng_normal(&rng);
  latens_sde_readout ro = {LATENS_SDE_READOUT_GAUSSIAN, 1, &C, NULL, &R};
  latens_sde_data y = {T, 1, t, x, 1};
  latens_sde_match *w = latens_sde_match_alloc(1, 0.0, &y, NULL);
  size_t nc = latens_sde_match_ncoef(w), it;
  double *c = malloc(nc * sizeof *c), loss, m[T], S[T];
  latens_sde_match_init(w, &ro, &y, c);
  latens_optim_options oo;
  latens_optim_options_default(&oo);
  oo.max_iter = test_under_valgrind() ? 30 : 5000;
  int st = latens_sde_match_fit_mc(w, model, &m0, &P0, &ro, &y, 16, 5, 0, &oo, c, &loss, &it);
  ck_assert(st == LATENS_OK || st == LATENS_ENOPROG ||
            (test_under_valgrind() && st == LATENS_EMAXITER));
  ck_assert_int_eq(latens_sde_match_posterior(w, c, T, t, m, S), LATENS_OK);
  latens_sde_path_sampler *smp = latens_sde_path_sampler_alloc(model, &so, 0.0, &m0, &P0);
  latens_sde_pf_model pm = latens_sde_path_sampler_model(smp);
  latens_sde_pf_options po;
  latens_sde_pf_options_default(&po);
  po.particles = test_under_valgrind() ? 200 : 4000, po.smooth = 1;
  double pms[T], pvs[T];
  latens_sde_pf_result res = {.ms = pms, .vs = pvs};
  latens_rng_init(&rng, 8, 0);
  ck_assert_int_eq(latens_sde_pf_run(&pm, &ro, &y, &po, &rng, &res), LATENS_OK);
  double err = 0;
  for (int k = 0; k < T; k++) err = fmax(err, fabs(m[k] - pms[k]));
  if (!test_under_valgrind()) ck_assert_double_le(err, 0.05);
  latens_sde_path_sampler_free(smp);
  free(c);
  latens_sde_match_free(w);
  latens_sde_model_free(model);
}
END_TEST

/* Oracle: a particle filter with many particles on the double-well.  The Monte Carlo
 * objective must stay a lower bound on log p(x): the fit's own minimum over its fixed draws
 * did not (last session: -25.3 against -30.2, with 16 independent normal draws per node; a
 * 1e5-particle filter gives -30.16 on those data, so the minimum was 5 nats too high, and the
 * same posterior re-estimated with fresh draws gave -35.3).  latens_sde_ssm_fit_matching now
 * reports the re-estimate at the fitted posterior with independent draws (unbiased, with its
 * standard error).  Check: objective <= the mean particle log-likelihood (4 runs x 5000
 * particles over Euler-Maruyama paths, dt = 0.01) + 3 combined standard errors + 0.3 nats for
 * the filter's time discretisation (on these data 4 x 10000 particles gave -18.62 +- 0.08 at
 * dt = 0.01, -18.40 +- 0.07 at 0.005, -18.49 +- 0.08 at 0.001); and the bound is not loose:
 * within 1.5 nats (objective -18.77 +- 0.03, a gap of about 0.3 nats). */
START_TEST(test_match_mc_bound_vs_pf) {
  double sg = 0.7, m0 = -1.0, P0 = 1.0, C = 1;
  latens_sde_model *model = latens_sde_model_builtin("double-well", &sg, 1);
  enum { T = 41 };
  double t[T], x[T];
  for (int k = 0; k < T; k++) t[k] = 0.25 * k;
  latens_sde_options so;
  latens_sde_options_default(&so);
  so.dt = 0.001;
  latens_rng rng;
  latens_rng_init(&rng, 5, 0);
  latens_mat Xm = latens_mat_view(x, 1, T, 1);
  ck_assert_int_eq(latens_sde_solve(model, &so, &m0, t, T, &rng, &Xm, NULL, NULL), LATENS_OK);
  latens_sde_data y = {T, 1, t, x, 1};
  latens_sde_ssm s;
  latens_sde_ssm_init(&s, model);
  s.C = &C, s.r = 0.01, s.t0 = 0.0, s.m0 = &m0, s.P0 = &P0;
  int fitflags[2] = {0, 0}; /* sigma and r fixed: only the posterior is fitted */
  latens_sde_ssm_fit_result res = {0};
  latens_optim_options oo;
  latens_optim_options_default(&oo);
  oo.max_iter = test_under_valgrind() ? 20 : 5000;
  int st = latens_sde_ssm_fit_matching(&s, fitflags, &oo, &y, &res, NULL, NULL);
  ck_assert(st == LATENS_OK || (test_under_valgrind() && st == LATENS_EMAXITER));
  ck_assert(isfinite(res.objective) && res.objective_se > 0 && res.objective_se < 0.2);
  if (test_under_valgrind()) {
    latens_sde_model_free(model);
    return;
  }
  enum { RUNS = 4 };
  double s1 = 0, s2 = 0;
  s.particles = 5000, s.solver.dt = 0.01;
  for (int k = 0; k < RUNS; k++) {
    double ll;
    s.seed = 40 + (uint64_t)k;
    ck_assert_int_eq(latens_sde_ssm_filter(&s, LATENS_SDE_FILTER_PF, 0, &y, NULL, NULL, &ll),
                     LATENS_OK);
    s1 += ll, s2 += ll * ll;
  }
  const double pf = s1 / RUNS, pfse = sqrt(fmax(s2 / RUNS - pf * pf, 0) / (RUNS - 1));
  const double tol = 3 * sqrt(pfse * pfse + res.objective_se * res.objective_se) + 0.3;
  ck_assert_double_le(res.objective, pf + tol);
  ck_assert_double_ge(res.objective, pf - 1.5);
  latens_sde_model_free(model);
}
END_TEST

Suite *sde_match_mc_suite(void) {
  Suite *s = suite_create("sde_match_mc");
  TCase *tc = tcase_create("match_mc");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_match_mc_gradient);
  tcase_add_test(tc, test_match_mc_unbiased);
  tcase_add_test(tc, test_match_mc_double_well);
  tcase_add_test(tc, test_match_mc_bound_vs_pf);
  suite_add_tcase(s, tc);
  return s;
}
