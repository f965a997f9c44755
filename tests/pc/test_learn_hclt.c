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

/* Oracle: the contract "a non-finite table is LATENS_ENOTFINITE, never a NaN likelihood with
 * OK" (latens/pc_learn.h), with the message naming the table and entry. */
static int refused(int st, const char *table) {
  const char *why = NULL;
  int last = latens_last_error(&why);
  return st == LATENS_ENOTFINITE && last == LATENS_ENOTFINITE && why && strstr(why, table) &&
         strstr(why, "not finite");
}

START_TEST(test_hclt_rejects_nonfinite_loglik) {
  uint64_t s = 21;
  const size_t n = 5, K = 3, M = 2, N = 40;
  latens_pc_hclt *h = learn_random_hclt(n, K, M, 1.0, &s);
  latens_mat *X = latens_mat_alloc(N, n);
  learn_sample_hclt(h, N, &s, X, NULL);
  double ll[40], mean, v = h->trans[(1 * n + 2) * K * K + 4];
  h->trans[(1 * n + 2) * K * K + 4] = NAN;
  ck_assert(refused(latens_pc_hclt_loglik(h, X, ll), "trans["));
  h->trans[(1 * n + 2) * K * K + 4] = v, h->leaf[7] = INFINITY;
  ck_assert(refused(latens_pc_hclt_mean_loglik(h, X, &mean), "leaf["));
  h->leaf[7] = 0.5, h->mix[1] = -INFINITY;
  ck_assert(refused(latens_pc_hclt_loglik(h, X, ll), "mix["));
  h->mix[1] = 1.0 - h->mix[0];
  ck_assert_int_eq(latens_pc_hclt_mean_loglik(h, X, &mean), LATENS_OK);
  ck_assert(isfinite(mean));
  latens_mat_free(X), latens_pc_hclt_free(h);
}
END_TEST

START_TEST(test_hclt_rejects_nonfinite_em) {
  uint64_t s = 22;
  const size_t n = 5, K = 3, M = 2, N = 60;
  latens_pc_hclt *h = learn_random_hclt(n, K, M, 1.0, &s);
  latens_mat *X = latens_mat_alloc(N, n);
  learn_sample_hclt(h, N, &s, X, NULL);
  latens_pc_hclt_counts *c = latens_pc_hclt_counts_alloc(h);
  /* accumulate: a NaN root probability */
  h->root[K + 1] = NAN;
  ck_assert(refused(latens_pc_hclt_accumulate(h, X, 0, N, c), "root["));
  h->root[K + 1] = 1.0 - h->root[K] - h->root[K + 2];
  ck_assert_int_eq(latens_pc_hclt_accumulate(h, X, 0, N, c), LATENS_OK);
  /* mstep: a NaN table (step < 1 mixes it in), then a non-finite count */
  double v = h->leaf[3];
  h->leaf[3] = NAN;
  ck_assert(refused(latens_pc_hclt_mstep(h, c, 0.1, 0.5), "leaf["));
  h->leaf[3] = v, c->trans[(0 * n + 1) * K * K] = INFINITY;
  ck_assert(refused(latens_pc_hclt_mstep(h, c, 0.1, 1.0), "counts trans["));
  ck_assert_double_eq(h->leaf[3], v); /* refused before touching the model */
  /* em: checked before the first epoch */
  latens_rng r;
  latens_rng_init(&r, 23, 0);
  h->trans[(1 * n + 3) * K * K] = NAN;
  ck_assert(refused(latens_pc_hclt_em(h, X, X, NULL, &r, NULL, NULL), "trans["));
  latens_pc_hclt_counts_free(c), latens_mat_free(X), latens_pc_hclt_free(h);
}
END_TEST

/* The same for a categorical model: its leaves are the cat table (the unused Bernoulli
 * leaves are not inspected).  Restored, the model is accepted again and gives the same
 * log-likelihoods as before the NaN (the same tables, bit for bit). */
START_TEST(test_hclt_rejects_nonfinite_cat) {
  const size_t n = 3, ncat[3] = {3, 2, 4}, K = 2;
  latens_pc_hclt *h = latens_pc_hclt_alloc_cat(n, ncat, K, 1, NULL);
  latens_mat *X = latens_mat_alloc(2, n);
  LATENS_MAT(X, 1, 0) = 2.0, LATENS_MAT(X, 1, 2) = 3.0, LATENS_MAT(X, 0, 1) = NAN;
  double ll[2], ll2[2], mean;
  h->leaf[0] = NAN; /* unused by a categorical model */
  ck_assert_int_eq(latens_pc_hclt_loglik(h, X, ll), LATENS_OK);
  ck_assert(isfinite(ll[0]) && isfinite(ll[1]));
  double v = h->cat[5];
  h->cat[5] = NAN;
  ck_assert(refused(latens_pc_hclt_loglik(h, X, ll2), "cat["));
  ck_assert(refused(latens_pc_hclt_mean_loglik(h, X, &mean), "cat["));
  latens_pc_hclt_counts *c = latens_pc_hclt_counts_alloc(h);
  ck_assert(refused(latens_pc_hclt_accumulate(h, X, 0, 2, c), "cat["));
  h->cat[5] = v;
  ck_assert_int_eq(latens_pc_hclt_loglik(h, X, ll2), LATENS_OK);
  ck_assert(ll2[0] == ll[0] && ll2[1] == ll[1]);
  ck_assert_int_eq(latens_pc_hclt_accumulate(h, X, 0, 2, c), LATENS_OK);
  latens_pc_hclt_counts_free(c), latens_mat_free(X), latens_pc_hclt_free(h);
}
END_TEST

/* Softened log-likelihood of the rows of X by enumeration: per row, the sum over all 2^n
 * states x' of prod_j e_j(x'_j) p(x'), e_j = soften where x'_j = x_j, 1 - soften where not,
 * 1 where x_j is missing; p(x') from learn_brute_loglik (ref: 2^n entries of workspace). */
static double brute_soft_loglik(const latens_pc_hclt *h, const latens_mat *X, double soften,
                                double *ref) {
  const size_t n = h->n, S = (size_t)1 << n;
  learn_brute_loglik(h, ref);
  double L = 0.0;
  for (size_t i = 0; i < X->nrow; i++) {
    double p = 0.0;
    for (size_t x = 0; x < S; x++) {
      double w = exp(ref[x]);
      for (size_t j = 0; j < n; j++) {
        double xj = LATENS_MAT(X, i, j);
        if (!isnan(xj)) w *= (double)((x >> j) & 1) == xj ? soften : 1.0 - soften;
      }
      p += w;
    }
    L += log(p);
  }
  return L;
}

/* Oracles, data softening (latens_pc_hclt_accumulate_soft):
 * - c->loglik equals brute_soft_loglik (2^6 observed and K^n latent states enumerated; sums
 *   of positive terms, 1e-12 relative);
 * - the counts are the gradient of that softened log-likelihood, checked against central
 *   differences of the enumeration as in test_hclt_counts_are_gradient (the leaf identity
 *   dL/dl = leaf1/l - (leafn - leaf1)/(1 - l) holds for soft evidence too: the expected count
 *   of x_j = 1 under evidence e is sum_k q_k e1 l / (e1 l + e0 (1 - l))); step 1e-6, 1e-6;
 * - soften = 1 is latens_pc_hclt_accumulate bit for bit (the contract says "exactly");
 * - soften outside (0.5, 1], or < 1 on a categorical model: LATENS_EDOM (the contract). */
START_TEST(test_hclt_soften) {
  uint64_t s = 31;
  const size_t n = 6, K = 3, M = 2, N = 60;
  const double soften = 0.9;
  latens_pc_hclt *h = learn_random_hclt(n, K, M, 1.0, &s);
  latens_mat *X = latens_mat_alloc(N, n);
  learn_sample_hclt(h, N, &s, X, NULL);
  for (size_t i = 0; i < N; i += 7) LATENS_MAT(X, i, (i / 7) % n) = NAN;
  double ref[64];
  latens_pc_hclt_counts *c = latens_pc_hclt_counts_alloc(h);
  ck_assert_int_eq(latens_pc_hclt_accumulate_soft(h, X, 0, N, soften, c), LATENS_OK);
  double L0 = brute_soft_loglik(h, X, soften, ref);
  ck_assert_double_le(fabs(c->loglik - L0), 1e-12 * fabs(L0));
  /* gradient: three leaves (both components), a transition and a root entry */
  size_t lq[3] = {(0 * n + 4) * K + 2, (1 * n + 1) * K + 0, (1 * n + 5) * K + 1};
  size_t jt = 2;
  while (h->parent[1 * n + jt] < 0) jt = (jt + 1) % n; /* a root's block is unused */
  size_t tq = (1 * n + jt) * K * K + 5;
  double *targets[5] = {h->leaf + lq[0], h->leaf + lq[1], h->leaf + lq[2], h->trans + tq,
                        h->root + 1};
  double grads[5], worst = 0.0;
  for (int t = 0; t < 3; t++) {
    double l = h->leaf[lq[t]], c1 = c->leaf1[lq[t]], cn = c->leafn[lq[t]];
    grads[t] = c1 / l - (cn - c1) / (1.0 - l);
  }
  grads[3] = c->trans[tq] / h->trans[tq], grads[4] = c->root[1] / h->root[1];
  for (int t = 0; t < 5; t++) {
    const double eps = 1e-6, v = targets[t][0];
    targets[t][0] = v + eps;
    double Lp = brute_soft_loglik(h, X, soften, ref);
    targets[t][0] = v - eps;
    double Lm = brute_soft_loglik(h, X, soften, ref);
    targets[t][0] = v;
    double fd = (Lp - Lm) / (2 * eps);
    worst = fmax(worst, fabs(fd - grads[t]) / fmax(1.0, fabs(fd)));
  }
  ck_assert_double_le(worst, 1e-6);
  /* soften = 1: bit-identical to the plain pass */
  latens_pc_hclt_counts *d = latens_pc_hclt_counts_alloc(h);
  latens_pc_hclt_counts_zero(c);
  ck_assert_int_eq(latens_pc_hclt_accumulate_soft(h, X, 0, N, 1.0, c), LATENS_OK);
  ck_assert_int_eq(latens_pc_hclt_accumulate(h, X, 0, N, d), LATENS_OK);
  const size_t nk = M * n * K;
  ck_assert(memcmp(&c->loglik, &d->loglik, sizeof(double)) == 0);
  ck_assert(memcmp(c->mix, d->mix, M * sizeof(double)) == 0);
  ck_assert(memcmp(c->root, d->root, M * K * sizeof(double)) == 0);
  ck_assert(memcmp(c->trans, d->trans, nk * K * sizeof(double)) == 0);
  ck_assert(memcmp(c->leaf1, d->leaf1, nk * sizeof(double)) == 0);
  ck_assert(memcmp(c->leafn, d->leafn, nk * sizeof(double)) == 0);
  /* the domain */
  const double bad[4] = {0.5, 0.3, 1.0 + 1e-12, NAN};
  for (int t = 0; t < 4; t++)
    ck_assert_int_eq(latens_pc_hclt_accumulate_soft(h, X, 0, N, bad[t], c), LATENS_EDOM);
  const size_t ncat[3] = {3, 2, 4};
  latens_pc_hclt *g = latens_pc_hclt_alloc_cat(3, ncat, 2, 1, NULL);
  latens_pc_hclt_counts *e = latens_pc_hclt_counts_alloc(g);
  latens_mat *Y = latens_mat_alloc(2, 3);
  ck_assert_int_eq(latens_pc_hclt_accumulate_soft(g, Y, 0, 2, 0.9, e), LATENS_EDOM);
  ck_assert_int_eq(latens_pc_hclt_accumulate_soft(g, Y, 0, 2, 1.0, e), LATENS_OK);
  latens_pc_hclt_em_options o;
  latens_pc_hclt_em_options_default(&o);
  o.soften = 0.9;
  latens_rng r;
  latens_rng_init(&r, 32, 0);
  ck_assert_int_eq(latens_pc_hclt_em(g, Y, NULL, &o, &r, NULL, NULL), LATENS_EDOM);
  latens_mat_free(Y), latens_pc_hclt_counts_free(e), latens_pc_hclt_free(g);
  latens_pc_hclt_counts_free(c), latens_pc_hclt_counts_free(d), latens_mat_free(X);
  latens_pc_hclt_free(h);
}
END_TEST

/* Oracle: what EM's early stopping keeps.  Trained with soften = 0.99 on data from a peaked
 * HCLT, the model kept is the one with the best validation LL on the data as given
 * (latens_pc_hclt_mean_loglik), which is finite and not below the random initial model's. */
START_TEST(test_hclt_soften_em) {
  uint64_t s = 33;
  const size_t n = 7, K = 3, M = 2, N = 400;
  latens_pc_hclt *g = learn_random_hclt(n, K, M, 2.0, &s);
  latens_pc_hclt *h = learn_random_hclt(n, K, M, 1.0, &s);
  latens_mat *X = latens_mat_alloc(N, n), *V = latens_mat_alloc(N, n);
  learn_sample_hclt(g, N, &s, X, NULL);
  learn_sample_hclt(g, N, &s, V, NULL);
  latens_pc_hclt_em_options o;
  latens_pc_hclt_em_options_default(&o);
  o.soften = 0.99, o.batch = 100, o.epochs_minibatch = 5, o.epochs_full = 5;
  latens_rng r;
  latens_rng_init(&r, 34, 0);
  double before, after, best;
  ck_assert_int_eq(latens_pc_hclt_mean_loglik(h, V, &before), LATENS_OK);
  ck_assert_int_eq(latens_pc_hclt_em(h, X, V, &o, &r, NULL, &best), LATENS_OK);
  ck_assert_int_eq(latens_pc_hclt_mean_loglik(h, V, &after), LATENS_OK);
  ck_assert(isfinite(after));
  ck_assert_double_ge(after, before);
  ck_assert_double_eq_tol(after, best, 1e-12 * fabs(best));
  latens_mat_free(X), latens_mat_free(V), latens_pc_hclt_free(g), latens_pc_hclt_free(h);
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
  tcase_add_test(tc, test_hclt_rejects_nonfinite_loglik);
  tcase_add_test(tc, test_hclt_rejects_nonfinite_em);
  tcase_add_test(tc, test_hclt_rejects_nonfinite_cat);
  tcase_add_test(tc, test_hclt_soften);
  tcase_add_test(tc, test_hclt_soften_em);
  learn_cat_add_tests(tc);
  suite_add_tcase(s, tc);
  return s;
}
