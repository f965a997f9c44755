/* tests/pc/test_learn_hclt.c: HCLT evaluation, expected counts, EM, latent variable
 * distillation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "learn_suites.h"

/* Oracle: brute-force enumeration of all 2^n observed and K^n latent states.  The
 * probabilities of all 2^8 states sum to 1 (a normalised circuit), each log p(x) equals the
 * enumeration, and a NaN entry marginalises: log p(x_-j) = logaddexp of both completions;
 * all-NaN gives log 1 = 0.  Tolerance: sums of ~K^n = 6561 positive terms, 1e-12 relative. */
START_TEST(test_hclt_brute_force) {
  uint64_t s = 7;
  const size_t n = 8, K = 3, M = 2, S = 256;
  latens_pc_hclt *h = learn_random_hclt(n, K, M, 1.0, &s);
  double *ref = malloc(S * sizeof *ref), *ll = malloc(S * sizeof *ll), worst = 0.0, tot = 0.0;
  learn_brute_loglik(h, ref);
  latens_mat *X = latens_mat_alloc(S, n);
  for (size_t x = 0; x < S; x++)
    for (size_t j = 0; j < n; j++) LATENS_MAT(X, x, j) = (double)((x >> j) & 1);
  ck_assert_int_eq(latens_pc_hclt_loglik(h, X, ll), LATENS_OK);
  for (size_t x = 0; x < S; x++) worst = fmax(worst, fabs(ll[x] - ref[x])), tot += exp(ll[x]);
  ck_assert_double_le(worst, 1e-12);
  ck_assert_double_le(fabs(tot - 1.0), 1e-12);
  /* marginals: x_3 missing in every row, and one row all missing */
  for (size_t x = 0; x < S; x++) LATENS_MAT(X, x, 3) = NAN;
  for (size_t j = 0; j < n; j++) LATENS_MAT(X, 0, j) = NAN;
  ck_assert_int_eq(latens_pc_hclt_loglik(h, X, ll), LATENS_OK);
  ck_assert_double_le(fabs(ll[0]), 1e-13);
  worst = 0.0;
  for (size_t x = 1; x < S; x++) {
    size_t a = x & ~(size_t)8, b = x | 8;
    worst = fmax(worst, fabs(ll[x] - latens_logaddexp(ref[a], ref[b])));
  }
  ck_assert_double_le(worst, 1e-12);
  free(ref), free(ll), latens_mat_free(X), latens_pc_hclt_free(h);
}
END_TEST

/* Oracle: central finite differences of L = sum_i log p(x_i) over a batch with missing
 * entries.  The counts are the circuit's flows, documented as c_ik = W_ik dL/dW_ik (tables
 * treated as free parameters) and for a leaf dL/dl = leaf1/l - (leafn - leaf1)/(1 - l).
 * Step 1e-6 on entries of size ~0.3: truncation ~1e-12, rounding ~1e-16 L / 1e-6 ~ 1e-8
 * relative to |L| ~ 100, so a 1e-6 relative tolerance. */
START_TEST(test_hclt_counts_are_gradient) {
  uint64_t s = 8;
  const size_t n = 6, K = 4, M = 2, N = 200;
  latens_pc_hclt *h = learn_random_hclt(n, K, M, 1.0, &s);
  latens_mat *X = latens_mat_alloc(N, n);
  learn_sample_hclt(h, N, &s, X, NULL);
  for (size_t i = 0; i < N; i += 7) LATENS_MAT(X, i, i % n) = NAN;
  latens_pc_hclt_counts *c = latens_pc_hclt_counts_alloc(h);
  ck_assert_int_eq(latens_pc_hclt_accumulate(h, X, 0, N, c), LATENS_OK);
  double *ll = malloc(N * sizeof *ll), worst = 0.0, L0 = 0.0;
  latens_pc_hclt_loglik(h, X, ll);
  for (size_t i = 0; i < N; i++) L0 += ll[i];
  ck_assert_double_le(fabs(L0 - c->loglik), 1e-9 * fabs(L0));
  double *targets[4] = {h->trans + (1 * n + 2) * K * K + 5, h->root + K + 1, h->mix + 1,
                        h->leaf + (0 * n + 4) * K + 2};
  double grads[4];
  grads[0] = c->trans[(1 * n + 2) * K * K + 5] / targets[0][0];
  grads[1] = c->root[K + 1] / targets[1][0];
  grads[2] = c->mix[1] / targets[2][0];
  {
    double l = targets[3][0], c1 = c->leaf1[(0 * n + 4) * K + 2], cn = c->leafn[(0 * n + 4) * K + 2];
    grads[3] = c1 / l - (cn - c1) / (1.0 - l);
  }
  for (int t = 0; t < 4; t++) {
    const double eps = 1e-6, v = targets[t][0];
    double Lp = 0.0, Lm = 0.0;
    targets[t][0] = v + eps, latens_pc_hclt_loglik(h, X, ll);
    for (size_t i = 0; i < N; i++) Lp += ll[i];
    targets[t][0] = v - eps, latens_pc_hclt_loglik(h, X, ll);
    for (size_t i = 0; i < N; i++) Lm += ll[i];
    targets[t][0] = v;
    double fd = (Lp - Lm) / (2 * eps);
    worst = fmax(worst, fabs(fd - grads[t]) / fmax(1.0, fabs(fd)));
  }
  ck_assert_double_le(worst, 1e-6);
  free(ll), latens_pc_hclt_counts_free(c), latens_mat_free(X), latens_pc_hclt_free(h);
}
END_TEST

/* Oracle: EM's monotonicity theorem (Dempster, Laird & Rubin 1977): full-batch EM with no
 * pseudocount never lowers the training log-likelihood (allowing 1e-10 relative rounding). */
START_TEST(test_hclt_em_monotone) {
  uint64_t s = 9;
  const size_t n = 7, K = 3, M = 2, N = 500;
  latens_pc_hclt *g = learn_random_hclt(n, K, M, 2.0, &s);
  latens_pc_hclt *h = learn_random_hclt(n, K, M, 1.0, &s);
  latens_mat *X = latens_mat_alloc(N, n);
  learn_sample_hclt(g, N, &s, X, NULL);
  latens_pc_hclt_counts *c = latens_pc_hclt_counts_alloc(h);
  double prev = -INFINITY;
  int drops = 0;
  for (int it = 0; it < 30; it++) {
    latens_pc_hclt_counts_zero(c);
    ck_assert_int_eq(latens_pc_hclt_accumulate(h, X, 0, N, c), LATENS_OK);
    drops += c->loglik < prev - 1e-10 * fabs(prev);
    prev = c->loglik;
    ck_assert_int_eq(latens_pc_hclt_mstep(h, c, 0.0, 1.0), LATENS_OK);
  }
  ck_assert_int_eq(drops, 0);
  latens_pc_hclt_counts_free(c), latens_mat_free(X), latens_pc_hclt_free(g), latens_pc_hclt_free(h);
}
END_TEST

/* Oracle: the generating parameters.  With the true latent assignments of a known HCLT
 * (latent variable distillation with a perfect teacher), the complete-data maximum-likelihood
 * estimate of every table entry is a binomial proportion; with 40,000 samples each of the
 * 5 sd bands is ~0.01-0.03 wide.  Mixing weights are not supervised (set uniform), so a
 * single-component model is used. */
START_TEST(test_lvd_true_latents) {
  uint64_t s = 10;
  const size_t n = 6, K = 3, N = 40000;
  latens_pc_hclt *g = learn_random_hclt(n, K, 1, 2.0, &s);
  latens_pc_hclt *h = latens_pc_hclt_alloc(n, K, 1, g->parent);
  latens_mat *X = latens_mat_alloc(N, n), *Z = latens_mat_alloc(N, n);
  learn_sample_hclt(g, N, &s, X, Z);
  ck_assert_int_eq(latens_pc_hclt_fit_latents(h, X, Z, 0.0), LATENS_OK);
  /* z-score of every entry, with the count of its conditioning event estimated from the fit */
  double worst = 0.0;
  for (size_t j = 0; j < n; j++)
    for (size_t k = 0; k < K; k++) {
      double p = g->leaf[j * K + k], q = h->leaf[j * K + k];
      double nk = 0.0; /* samples with z_j = k */
      for (size_t i = 0; i < N; i++) nk += LATENS_MAT(Z, i, j) == (double)k;
      if (nk > 100) worst = fmax(worst, fabs(p - q) / sqrt(p * (1 - p) / nk));
      if (g->parent[j] < 0) continue;
      for (size_t a = 0; a < K; a++) {
        double pa = g->trans[j * K * K + a + k * K], qa = h->trans[j * K * K + a + k * K], na = 0.0;
        for (size_t i = 0; i < N; i++) na += LATENS_MAT(Z, i, (size_t)g->parent[j]) == (double)a;
        if (na > 100 && pa > 1e-3) worst = fmax(worst, fabs(pa - qa) / sqrt(pa * (1 - pa) / na));
      }
    }
  ck_assert_double_le(worst, 5.0);
  latens_mat_free(X), latens_mat_free(Z), latens_pc_hclt_free(g), latens_pc_hclt_free(h);
}
END_TEST

/* Oracle: the published HCLT number on nltcs, -6.00 (Liu & Van den Broeck 2021), and the
 * Chow-Liu tree anchor -6.76.  A short run (K = 8, 2 components, 8 + 8 epochs) must land
 * between them and within 1.5% of the published value; the full-size run is in
 * bench/pc/bench_pc_accuracy. */
START_TEST(test_hclt_nltcs_short) {
  if (test_under_valgrind()) return;
  latens_mat *tr = learn_read_debd("nltcs", "train"), *va = learn_read_debd("nltcs", "valid"),
             *te = learn_read_debd("nltcs", "test");
  ck_assert_ptr_nonnull(tr);
  ck_assert_ptr_nonnull(va);
  ck_assert_ptr_nonnull(te);
  latens_rng r;
  latens_rng_init(&r, 3, 0);
  latens_pc_hclt *h = NULL;
  ck_assert_int_eq(latens_pc_hclt_structure(tr, 8, 2, &r, &h), LATENS_OK);
  latens_pc_hclt_em_options o;
  latens_pc_hclt_em_options_default(&o);
  o.epochs_minibatch = 8, o.epochs_full = 8;
  double bv, ll;
  ck_assert_int_eq(latens_pc_hclt_em(h, tr, va, &o, &r, NULL, &bv), LATENS_OK);
  ck_assert_int_eq(latens_pc_hclt_mean_loglik(h, te, &ll), LATENS_OK);
  ck_assert_double_ge(ll, -6.00 * 1.015);
  latens_pc_hclt_free(h), latens_mat_free(tr), latens_mat_free(va), latens_mat_free(te);
}
END_TEST

/* Oracle: one-hot responsibilities are hard assignments, so fit_soft must give exactly the
 * tables of fit_latents (the same counts summed in the same order: 1e-15); and the file
 * interface reads them back (CSV written with %.17g, exact). */
START_TEST(test_lvd_soft_and_file) {
  uint64_t s = 12;
  const size_t n = 5, K = 3, N = 300;
  latens_pc_hclt *g = learn_random_hclt(n, K, 1, 2.0, &s);
  latens_pc_hclt *a = latens_pc_hclt_alloc(n, K, 1, g->parent), *b = latens_pc_hclt_alloc(n, K, 1, g->parent);
  latens_pc_hclt *c = latens_pc_hclt_alloc(n, K, 1, g->parent);
  latens_mat *X = latens_mat_alloc(N, n), *Z = latens_mat_alloc(N, n), *R = latens_mat_alloc(N, n * K);
  learn_sample_hclt(g, N, &s, X, Z);
  for (size_t j = 0; j < n; j++)
    for (size_t i = 0; i < N; i++) LATENS_MAT(R, i, j * K + (size_t)LATENS_MAT(Z, i, j)) = 1.0;
  ck_assert_int_eq(latens_pc_hclt_fit_latents(a, X, Z, 0.1), LATENS_OK);
  ck_assert_int_eq(latens_pc_hclt_fit_soft(b, X, R, 0.1), LATENS_OK);
  char path[512];
  int fd = test_mkstemp(path, sizeof path, "lvd");
  ck_assert_int_ge(fd, 0);
  close(fd);
  ck_assert_int_eq(latens_table_write_csv(path, Z, NULL), LATENS_OK);
  ck_assert_int_eq(latens_pc_hclt_fit_latents_file(c, X, path, 0.1), LATENS_OK);
  double worst = 0.0;
  for (size_t q = 0; q < n * K * K; q++)
    worst = fmax(worst, fmax(fabs(a->trans[q] - b->trans[q]), fabs(a->trans[q] - c->trans[q])));
  for (size_t q = 0; q < n * K; q++)
    worst = fmax(worst, fmax(fabs(a->leaf[q] - b->leaf[q]), fabs(a->leaf[q] - c->leaf[q])));
  ck_assert_double_le(worst, 1e-15);
  LATENS_MAT(Z, 4, 2) = 7.0; /* not a state */
  ck_assert_int_eq(latens_pc_hclt_fit_latents(a, X, Z, 0.1), LATENS_EDOM);
  remove(path);
  latens_mat_free(X), latens_mat_free(Z), latens_mat_free(R);
  latens_pc_hclt_free(a), latens_pc_hclt_free(b), latens_pc_hclt_free(c), latens_pc_hclt_free(g);
}
END_TEST

/* Oracle: the built-in teacher's purpose.  On data from a peaked HCLT, tables distilled from
 * k-means assignments start EM from a higher training likelihood than the uniform-perturbed
 * initialisation of the published recipe (same K and tree); and every assignment is a state. */
START_TEST(test_lvd_teacher_beats_random_init) {
  if (test_under_valgrind()) return;
  uint64_t s = 13;
  const size_t n = 8, K = 4, N = 3000;
  latens_pc_hclt *g = learn_random_hclt(n, K, 1, 4.0, &s);
  latens_pc_hclt *t = latens_pc_hclt_alloc(n, K, 1, g->parent), *r = latens_pc_hclt_alloc(n, K, 1, g->parent);
  latens_mat *X = latens_mat_alloc(N, n), *Z = latens_mat_alloc(N, n);
  learn_sample_hclt(g, N, &s, X, NULL);
  latens_rng rng;
  latens_rng_init(&rng, 14, 0);
  ck_assert_int_eq(latens_pc_hclt_teacher_kmeans(t, X, 10, &rng, Z), LATENS_OK);
  int bad = 0;
  for (size_t q = 0; q < N * n; q++) bad += !(Z->data[q] >= 0 && Z->data[q] < K && Z->data[q] == floor(Z->data[q]));
  ck_assert_int_eq(bad, 0);
  ck_assert_int_eq(latens_pc_hclt_fit_latents(t, X, Z, 0.1), LATENS_OK);
  ck_assert_int_eq(latens_pc_hclt_randomize(r, 0.4, &rng), LATENS_OK);
  double lt, lr;
  latens_pc_hclt_mean_loglik(t, X, &lt), latens_pc_hclt_mean_loglik(r, X, &lr);
  ck_assert_double_gt(lt, lr);
  latens_mat_free(X), latens_mat_free(Z);
  latens_pc_hclt_free(g), latens_pc_hclt_free(t), latens_pc_hclt_free(r);
}
END_TEST

static int stop_at_two(void *user, const char *what, double done, double total) {
  (void)what, (void)total;
  ++*(int *)user;
  return done >= 2.0;
}

/* Oracle: the progress contract of common.h: a callback that asks to stop ends EM with
 * LATENS_EINTERRUPTED after its second report; the model stays normalised (brute force). */
START_TEST(test_hclt_em_interrupt) {
  uint64_t s = 15;
  latens_pc_hclt *g = learn_random_hclt(6, 3, 1, 2.0, &s), *h = learn_random_hclt(6, 3, 1, 1.0, &s);
  latens_mat *X = latens_mat_alloc(200, 6);
  learn_sample_hclt(g, 200, &s, X, NULL);
  int calls = 0;
  latens_progress pr = {stop_at_two, &calls};
  latens_rng r;
  latens_rng_init(&r, 16, 0);
  ck_assert_int_eq(latens_pc_hclt_em(h, X, X, NULL, &r, &pr, NULL), LATENS_EINTERRUPTED);
  ck_assert_int_eq(calls, 2);
  double ll[64], tot = 0.0;
  learn_brute_loglik(h, ll);
  for (int x = 0; x < 64; x++) tot += exp(ll[x]);
  ck_assert_double_le(fabs(tot - 1.0), 1e-12);
  latens_mat_free(X), latens_pc_hclt_free(g), latens_pc_hclt_free(h);
}
END_TEST

START_TEST(test_hclt_rejects) {
  long cyc[3] = {1, 2, 0}, two[3] = {-1, -1, 0};
  ck_assert_ptr_null(latens_pc_hclt_alloc(3, 2, 1, cyc));
  ck_assert_ptr_null(latens_pc_hclt_alloc(3, 2, 1, two));
  ck_assert_ptr_null(latens_pc_hclt_alloc(3, 1, 1, NULL));
  latens_pc_hclt *h = latens_pc_hclt_alloc(3, 2, 1, NULL);
  latens_mat *X = latens_mat_alloc(2, 3), *Y = latens_mat_alloc(2, 4);
  double ll[2];
  LATENS_MAT(X, 1, 2) = 0.5;
  ck_assert_int_eq(latens_pc_hclt_loglik(h, X, ll), LATENS_EDOM);
  ck_assert_int_eq(latens_pc_hclt_loglik(h, Y, ll), LATENS_EBADLEN);
  latens_pc_hclt_free(h), latens_mat_free(X), latens_mat_free(Y);
  latens_pc_hclt_free(NULL);
  /* variables x components overflowing size_t: ENOMEM, never a short allocation */
  latens_rng r;
  latens_rng_init(&r, 1, 0);
  latens_mat *Z = latens_mat_alloc(2, 3);
  latens_pc_hclt *o = NULL;
  ck_assert_int_eq(latens_pc_hclt_structure(Z, 2, SIZE_MAX / 2, &r, &o), LATENS_ENOMEM);
  ck_assert_ptr_null(o);
  latens_mat_free(Z);
}
END_TEST

void learn_cat_add_tests(TCase *tc); /* test_learn_cat.c */

Suite *learn_hclt_suite(void) {
  Suite *s = suite_create("learn_hclt");
  TCase *tc = tcase_create("hclt");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_hclt_brute_force);
  tcase_add_test(tc, test_hclt_counts_are_gradient);
  tcase_add_test(tc, test_hclt_em_monotone);
  tcase_add_test(tc, test_lvd_true_latents);
  tcase_add_test(tc, test_hclt_nltcs_short);
  tcase_add_test(tc, test_lvd_soft_and_file);
  tcase_add_test(tc, test_lvd_teacher_beats_random_init);
  tcase_add_test(tc, test_hclt_em_interrupt);
  tcase_add_test(tc, test_hclt_rejects);
  learn_cat_add_tests(tc);
  suite_add_tcase(s, tc);
  return s;
}
