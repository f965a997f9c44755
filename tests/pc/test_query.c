/* tests/pc/test_query.c: log-likelihood, marginals, conditionals, MAP, sampling and flows
 * against brute-force enumeration of all 2^n states. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "suites.h"

/* Summing 2^n probabilities of a normalised circuit: relative error ~ n_edges * eps per term
 * plus 2^n * eps for the sum; 1e-12 is far above either for n <= 10. */
static const double TOL = 1e-12;

static double lse(const double *x, size_t n) {
  double m = -INFINITY, s = 0;
  for (size_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
  for (size_t i = 0; i < n; i++) s += exp(x[i] - m);
  return m + log(s);
}

static latens_pc *make(int kind, uint64_t *seed) {
  if (kind == 0) return pcu_random(7, 3, seed);
  if (kind == 1) return pcu_decision(6, 4, seed);
  return pcu_hclt_chain(6, 12, seed); /* 12 x 12 blocks: the DGEMM path */
}

/* Oracle: enumeration; all states sum to 1, and all-NaN gives log 1 = 0. */
START_TEST(test_normalised) {
  uint64_t seed = 1 + (uint64_t)_i;
  latens_pc *pc = make(_i, &seed);
  ck_assert_ptr_nonnull(pc);
  size_t n = latens_pc_nvars(pc);
  double *ll = pcu_enumerate(pc);
  ck_assert_double_eq_tol(lse(ll, (size_t)1 << n), 0.0, TOL);
  latens_mat *X = latens_mat_alloc(1, n);
  for (size_t j = 0; j < n; j++) LATENS_MAT(X, 0, j) = NAN;
  latens_vec *v = latens_vec_alloc(1);
  ck_assert_int_eq(latens_pc_loglik(pc, X, v, NULL), LATENS_OK);
  ck_assert_double_eq_tol(v->data[0], 0.0, TOL);
  free(ll), latens_mat_free(X), latens_vec_free(v), latens_pc_free(pc);
}
END_TEST

/* Oracle: a marginal with NaN entries equals the log-sum over the enumeration of the states
 * that agree with the observed entries; a conditional equals the difference of two such
 * sums. */
START_TEST(test_marginal_conditional) {
  uint64_t seed = 7 + (uint64_t)_i;
  latens_pc *pc = make(_i, &seed);
  size_t n = latens_pc_nvars(pc), N = (size_t)1 << n, R = 40;
  double *ll = pcu_enumerate(pc), *sel = malloc(N * sizeof *sel);
  latens_mat *X = latens_mat_alloc(R, n);
  latens_vec *m = latens_vec_alloc(R), *c = latens_vec_alloc(R);
  int *mask = malloc(R * n * sizeof *mask);
  for (size_t r = 0; r < R; r++)
    for (size_t j = 0; j < n; j++) {
      double u = test_unif(&seed);
      mask[r * n + j] = u < -0.3 ? -1 : u > 0.35; /* -1: missing */
      LATENS_MAT(X, r, j) = mask[r * n + j] < 0 ? NAN : (double)mask[r * n + j];
    }
  /* query variable 0 is always observed for the conditional */
  for (size_t r = 0; r < R; r++)
    if (mask[r * n] < 0) mask[r * n] = 1, LATENS_MAT(X, r, 0) = 1;
  ck_assert_int_eq(latens_pc_loglik(pc, X, m, NULL), LATENS_OK);
  size_t q = 0;
  ck_assert_int_eq(latens_pc_conditional(pc, X, &q, 1, c, NULL), LATENS_OK);
  size_t bad = 0;
  for (size_t r = 0; r < R; r++) {
    size_t k = 0, ke = 0;
    double *selE = malloc(N * sizeof *selE);
    for (size_t s = 0; s < N; s++) {
      int ok = 1, oke = 1;
      for (size_t j = 0; j < n; j++) {
        int b = (s >> j) & 1, want = mask[r * n + j];
        if (want >= 0 && b != want) ok = 0, oke = oke && j == 0;
      }
      if (ok) sel[k++] = ll[s];
      if (oke) selE[ke++] = ll[s];
    }
    double lm = lse(sel, k), le = lse(selE, ke);
    if (fabs(LATENS_VEC(m, r) - lm) > TOL * (1 + fabs(lm))) bad++;
    if (fabs(LATENS_VEC(c, r) - (lm - le)) > TOL * (1 + fabs(lm))) bad++;
    free(selE);
  }
  ck_assert_uint_eq(bad, 0);
  free(ll), free(sel), free(mask), latens_mat_free(X), latens_vec_free(m), latens_vec_free(c);
  latens_pc_free(pc);
}
END_TEST

/* Oracle: for a deterministic circuit the MAP value and completion equal the arg-max over
 * the enumeration of the states agreeing with the evidence (ties impossible: random
 * continuous parameters). */
START_TEST(test_map_deterministic) {
  uint64_t seed = 3;
  latens_pc *pc = pcu_decision(8, 5, &seed);
  ck_assert_int_eq(latens_pc_is_deterministic(pc), 1);
  size_t n = 8, N = 256, R = 30, bad = 0;
  double *ll = pcu_enumerate(pc);
  latens_mat *X = latens_mat_alloc(R, n);
  latens_vec *lp = latens_vec_alloc(R);
  for (size_t r = 0; r < R; r++)
    for (size_t j = 0; j < n; j++) {
      double u = test_unif(&seed);
      LATENS_MAT(X, r, j) = u < 0.2 ? NAN : (u > 0.6 ? 1.0 : 0.0);
    }
  for (size_t j = 0; j < n; j++) LATENS_MAT(X, 0, j) = NAN; /* row 0: unconditional MAP */
  latens_mat *E = latens_mat_alloc(R, n);
  latens_mat_copy(E, X);
  ck_assert_int_eq(latens_pc_map(pc, X, lp, NULL), LATENS_OK);
  for (size_t r = 0; r < R; r++) {
    double best = -INFINITY;
    size_t arg = 0;
    for (size_t s = 0; s < N; s++) {
      int ok = 1;
      for (size_t j = 0; j < n; j++) {
        double e = LATENS_MAT(E, r, j);
        if (!isnan(e) && e != (double)((s >> j) & 1)) ok = 0;
      }
      if (ok && ll[s] > best) best = ll[s], arg = s;
    }
    if (fabs(LATENS_VEC(lp, r) - best) > 1e-12 * (1 + fabs(best))) bad++;
    for (size_t j = 0; j < n; j++)
      if (LATENS_MAT(X, r, j) != (double)((arg >> j) & 1)) bad++;
  }
  ck_assert_uint_eq(bad, 0);
  free(ll), latens_mat_free(X), latens_mat_free(E), latens_vec_free(lp), latens_pc_free(pc);
}
END_TEST

/* Oracle for the non-deterministic case: the completion's probability p(x*) is at most the
 * enumeration's maximum and at least the returned max-product value (which lower-bounds the
 * joint of x* and the selected sum children). */
START_TEST(test_map_bounds) {
  uint64_t seed = 9;
  latens_pc *pc = pcu_random(7, 3, &seed);
  double *ll = pcu_enumerate(pc), best = -INFINITY;
  for (size_t s = 0; s < 128; s++) best = ll[s] > best ? ll[s] : best;
  latens_mat *X = latens_mat_alloc(1, 7);
  for (size_t j = 0; j < 7; j++) LATENS_MAT(X, 0, j) = NAN;
  latens_vec *lp = latens_vec_alloc(1), *lx = latens_vec_alloc(1);
  ck_assert_int_eq(latens_pc_map(pc, X, lp, NULL), LATENS_OK);
  ck_assert_int_eq(latens_pc_loglik(pc, X, lx, NULL), LATENS_OK);
  ck_assert(lx->data[0] <= best + 1e-12);
  ck_assert(lx->data[0] >= lp->data[0] - 1e-12);
  free(ll), latens_mat_free(X), latens_vec_free(lp), latens_vec_free(lx), latens_pc_free(pc);
}
END_TEST

/* Oracle: chi-square goodness of fit of 20000 samples against the enumerated probabilities
 * (unconditional), and of conditional samples against enumerated conditionals.  Critical
 * value: chi2 quantile 0.9999 with df = 63 is 110.6 (fixed seed, so the test is a
 * deterministic check that sampling follows the model, with a 1e-4 false-alarm rate). */
START_TEST(test_sampling_chi2) {
  uint64_t seed = 21;
  latens_pc *pc = pcu_hclt_chain(6, 12, &seed);
  size_t n = 6, N = 64, S = test_under_valgrind() ? 2000 : 20000;
  double *ll = pcu_enumerate(pc);
  latens_mat *X = latens_mat_alloc(S, n);
  for (size_t k = 0; k < S * n; k++) X->data[k] = NAN;
  latens_rng rng;
  latens_rng_init(&rng, 42, 0);
  ck_assert_int_eq(latens_pc_sample(pc, X, &rng, NULL), LATENS_OK);
  double *cnt = calloc(N, sizeof *cnt), chi = 0;
  for (size_t r = 0; r < S; r++) {
    size_t s = 0;
    for (size_t j = 0; j < n; j++) s |= (size_t)LATENS_MAT(X, r, j) << j;
    cnt[s]++;
  }
  for (size_t s = 0; s < N; s++) {
    double e = (double)S * exp(ll[s]);
    chi += (cnt[s] - e) * (cnt[s] - e) / e;
  }
  ck_assert_msg(chi < 110.6, "chi2 = %g", chi);
  /* conditional: x0 = 1, x3 = 0 fixed; 16 states of the rest, df 15, 0.9999 quantile 42.6 */
  for (size_t r = 0; r < S; r++) {
    for (size_t j = 0; j < n; j++) LATENS_MAT(X, r, j) = NAN;
    LATENS_MAT(X, r, 0) = 1, LATENS_MAT(X, r, 3) = 0;
  }
  ck_assert_int_eq(latens_pc_sample(pc, X, &rng, NULL), LATENS_OK);
  memset(cnt, 0, N * sizeof *cnt);
  size_t kept = 0;
  for (size_t r = 0; r < S; r++) {
    size_t s = 0;
    for (size_t j = 0; j < n; j++) s |= (size_t)LATENS_MAT(X, r, j) << j;
    kept += (s & 1) && !(s & 8);
    cnt[s]++;
  }
  ck_assert_uint_eq(kept, S);
  double z = 0;
  for (size_t s = 0; s < N; s++)
    if ((s & 1) && !(s & 8)) z += exp(ll[s]);
  chi = 0;
  for (size_t s = 0; s < N; s++)
    if ((s & 1) && !(s & 8)) {
      double e = (double)S * exp(ll[s]) / z;
      chi += (cnt[s] - e) * (cnt[s] - e) / e;
    }
  ck_assert_msg(chi < 42.6, "conditional chi2 = %g", chi);
  free(ll), free(cnt), latens_mat_free(X), latens_pc_free(pc);
}
END_TEST

/* Oracle: central finite differences of L(w) = sum_i s_i log p(x_i) in each parameter; the
 * flow entry divided by the parameter is dL/dtheta (weights vary freely, unnormalised).  Step
 * h = 1e-6 * theta: truncation O(h^2 L''') ~ 1e-10 relative, rounding ~ eps L / h ~ 1e-8;
 * tolerance 1e-6 relative to max(1, |g|). */
START_TEST(test_flows_fd) {
  uint64_t seed = 33 + (uint64_t)_i;
  latens_pc *pc = make(_i, &seed);
  size_t n = latens_pc_nvars(pc), R = 25, np = latens_pc_nparams(pc);
  latens_mat *X = latens_mat_alloc(R, n);
  latens_vec *sw = latens_vec_alloc(R), *g = latens_vec_alloc(np), *uf = latens_vec_alloc(latens_pc_nunits(pc));
  latens_vec *ll = latens_vec_alloc(R), *th = latens_vec_alloc(np);
  for (size_t r = 0; r < R; r++) {
    sw->data[r] = 0.5 + 0.5 * test_unif(&seed);
    for (size_t j = 0; j < n; j++) LATENS_MAT(X, r, j) = test_unif(&seed) > 0 ? 1.0 : 0.0;
  }
  ck_assert_int_eq(latens_pc_flows(pc, X, sw, g, uf, NULL, NULL), LATENS_OK);
  double tot = 0; /* oracle: the root's flow is 1 per sample, so its total is sum s_i */
  for (size_t r = 0; r < R; r++) tot += sw->data[r];
  ck_assert_double_eq_tol(uf->data[latens_pc_root(pc)], tot, 1e-12);
  latens_pc_params_get(pc, th);
  size_t bad = 0, checked = 0;
  for (size_t k = 0; k < np; k += 1 + np / 60) {
    double t0 = th->data[k], h = 1e-6 * t0, L[2];
    if (t0 <= 0) continue;
    for (int sgn = 0; sgn < 2; sgn++) {
      th->data[k] = t0 + (sgn ? h : -h);
      latens_pc_params_set(pc, th);
      latens_pc_loglik(pc, X, ll, NULL);
      L[sgn] = 0;
      for (size_t r = 0; r < R; r++) L[sgn] += sw->data[r] * ll->data[r];
    }
    th->data[k] = t0;
    double fd = (L[1] - L[0]) / (2 * h), an = g->data[k] / t0;
    if (fabs(fd - an) > 1e-6 * fmax(1, fabs(an))) bad++;
    checked++;
  }
  latens_pc_params_set(pc, th);
  ck_assert_uint_gt(checked, 10);
  ck_assert_uint_eq(bad, 0);
  latens_mat_free(X), latens_vec_free(sw), latens_vec_free(g), latens_vec_free(uf);
  latens_vec_free(ll), latens_vec_free(th), latens_pc_free(pc);
}
END_TEST

/* Oracle: bad data is refused with the row, column and value. */
START_TEST(test_bad_data) {
  uint64_t seed = 2;
  latens_pc *pc = pcu_random(3, 2, &seed);
  latens_mat *X = latens_mat_alloc(2, 3);
  latens_vec *ll = latens_vec_alloc(2);
  LATENS_MAT(X, 1, 2) = 2;
  ck_assert_int_eq(latens_pc_loglik(pc, X, ll, NULL), LATENS_EDOM);
  const char *msg;
  latens_last_error(&msg);
  ck_assert(strstr(msg, "X[1, 2] = 2"));
  LATENS_MAT(X, 1, 2) = 0.5;
  ck_assert_int_eq(latens_pc_loglik(pc, X, ll, NULL), LATENS_EDOM);
  latens_mat W = latens_mat_view(X->data, 2, 2, 2);
  ck_assert_int_eq(latens_pc_loglik(pc, &W, ll, NULL), LATENS_EBADLEN);
  latens_mat_free(X), latens_vec_free(ll), latens_pc_free(pc);
}
END_TEST

/* Oracle: the same numbers whatever the workspace batch (chunking); BLAS may block a
 * 7-row panel differently from a 100-row one, so agreement is to 1e-14 relative, not bits. */
START_TEST(test_batch_invariance) {
  uint64_t seed = 4;
  latens_pc *pc = pcu_hclt_chain(7, 16, &seed);
  size_t R = 100;
  latens_mat *X = latens_mat_alloc(R, 7);
  for (size_t k = 0; k < R * 7; k++) X->data[k] = test_unif(&seed) > 0.3 ? NAN : (test_unif(&seed) > 0);
  latens_vec *a = latens_vec_alloc(R), *b = latens_vec_alloc(R);
  latens_pc_work *w7 = latens_pc_work_alloc(pc, 7);
  ck_assert_int_eq(latens_pc_loglik(pc, X, a, w7), LATENS_OK);
  ck_assert_int_eq(latens_pc_loglik(pc, X, b, NULL), LATENS_OK);
  size_t bad = 0;
  for (size_t r = 0; r < R; r++) bad += fabs(a->data[r] - b->data[r]) > 1e-14 * fabs(b->data[r]);
  ck_assert_uint_eq(bad, 0);
  latens_pc_work_free(w7);
  latens_mat_free(X), latens_vec_free(a), latens_vec_free(b), latens_pc_free(pc);
}
END_TEST

Suite *pc_query_suite(void) {
  Suite *s = suite_create("pc_query");
  TCase *tc = tcase_create("query");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_normalised, 0, 3);
  tcase_add_loop_test(tc, test_marginal_conditional, 0, 3);
  tcase_add_test(tc, test_map_deterministic);
  tcase_add_test(tc, test_map_bounds);
  tcase_add_test(tc, test_sampling_chi2);
  tcase_add_loop_test(tc, test_flows_fd, 0, 3);
  tcase_add_test(tc, test_bad_data);
  tcase_add_test(tc, test_batch_invariance);
  suite_add_tcase(s, tc);
  return s;
}
