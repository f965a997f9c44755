/* tests/pc/test_learn_cat.c: categorical HCLTs (leaves with ncat[j] states), categorical
 * mutual information, the linear-space upward pass's underflow paths and thread-count
 * independence of the chunked passes.  Added to the learn_hclt suite (test_learn_hclt.c),
 * with the tests of test_learn_cat_circuit.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "learn_suites.h"

void learn_cat_add_tests(TCase *tc);

/* A categorical HCLT on the tree `parent` with random tables (perturb 0.9, seed s). */
latens_pc_hclt *learn_cat_random(size_t n, const size_t *ncat, size_t K, size_t M,
                                  const long *parent, uint64_t seed) {
  latens_pc_hclt *h = latens_pc_hclt_alloc_cat(n, ncat, K, M, parent);
  latens_rng r;
  latens_rng_init(&r, seed, 0);
  ck_assert_ptr_nonnull(h);
  ck_assert_int_eq(latens_pc_hclt_randomize(h, 0.9, &r), LATENS_OK);
  return h;
}

double learn_cat_leaf(const latens_pc_hclt *h, size_t m, size_t j, size_t k, size_t v) {
  return h->cat[(m * h->catoff[h->n] + h->catoff[j]) * h->K + k * h->ncat[j] + v];
}

/* p(x) by enumerating every latent assignment of every component (the brute-force oracle;
 * x[j] < 0 marginalises X_j). */
double learn_cat_brute_p(const latens_pc_hclt *h, const int *x) {
  const size_t n = h->n, K = h->K;
  size_t tot = 1;
  for (size_t j = 0; j < n; j++) tot *= K;
  double p = 0.0;
  for (size_t m = 0; m < h->M; m++)
    for (size_t code = 0; code < tot; code++) {
      size_t z[16], c = code;
      for (size_t j = 0; j < n; j++) z[j] = c % K, c /= K;
      double q = h->mix[m];
      for (size_t j = 0; j < n; j++) {
        long pa = h->parent[m * n + j];
        q *= pa < 0 ? h->root[m * K + z[j]]
                    : h->trans[(m * n + j) * K * K + z[(size_t)pa] + z[j] * K];
        if (x[j] >= 0) q *= learn_cat_leaf(h, m, j, z[j], (size_t)x[j]);
      }
      p += q;
    }
  return p;
}

/* Every observed state of x (mixed radix over ncat) into X's rows. */
latens_mat *learn_cat_states(size_t n, const size_t *ncat, size_t *S) {
  *S = 1;
  for (size_t j = 0; j < n; j++) *S *= ncat[j];
  latens_mat *X = latens_mat_alloc(*S, n);
  for (size_t s = 0; s < *S; s++)
    for (size_t j = 0, c = s; j < n; c /= ncat[j], j++) LATENS_MAT(X, s, j) = (double)(c % ncat[j]);
  return X;
}

/* Oracle: brute-force enumeration of all 72 observed and 81 latent states per component.
 * The probabilities of all observed states sum to 1, every log p(x) equals the enumeration,
 * a missing X_2 gives the enumeration with X_2 summed out, an all-missing row log 1 = 0.
 * Tolerance 1e-12: sums of a few thousand positive terms. */
START_TEST(test_cat_brute_force) {
  const size_t n = 4, ncat[4] = {3, 2, 4, 3}, K = 3, M = 2;
  const long par[8] = {-1, 0, 0, 1, 2, 2, -1, 0};
  latens_pc_hclt *h = learn_cat_random(n, ncat, K, M, par, 11);
  ck_assert_ptr_nonnull(h->ncat);
  size_t S;
  latens_mat *X = learn_cat_states(n, ncat, &S);
  double *ll = malloc(S * sizeof *ll), worst = 0.0, tot = 0.0;
  ck_assert_int_eq(latens_pc_hclt_loglik(h, X, ll), LATENS_OK);
  for (size_t s = 0; s < S; s++) {
    int x[4];
    for (size_t j = 0; j < n; j++) x[j] = (int)LATENS_MAT(X, s, j);
    worst = fmax(worst, fabs(ll[s] - log(learn_cat_brute_p(h, x))));
    tot += exp(ll[s]);
  }
  ck_assert_double_le(worst, 1e-12);
  ck_assert_double_le(fabs(tot - 1.0), 1e-12);
  for (size_t s = 0; s < S; s++) LATENS_MAT(X, s, 2) = NAN;
  for (size_t j = 0; j < n; j++) LATENS_MAT(X, 0, j) = NAN;
  ck_assert_int_eq(latens_pc_hclt_loglik(h, X, ll), LATENS_OK);
  ck_assert_double_le(fabs(ll[0]), 1e-13);
  worst = 0.0;
  for (size_t s = 1; s < S; s++) {
    int x[4];
    for (size_t j = 0; j < n; j++) x[j] = j == 2 ? -1 : (int)LATENS_MAT(X, s, j);
    worst = fmax(worst, fabs(ll[s] - log(learn_cat_brute_p(h, x))));
  }
  ck_assert_double_le(worst, 1e-12);
  free(ll), latens_mat_free(X), latens_pc_hclt_free(h);
}
END_TEST

/* Ancestral sampling with the splitmix generator of the tests (independent of the library's
 * rng): component, root state, each child's state from its row, each x_j from its leaf. */
static size_t draw(const double *p, size_t len, size_t stride, uint64_t *s) {
  double u = u01(s), acc = 0.0;
  for (size_t k = 0; k < len; k++)
    if (u < (acc += p[k * stride])) return k;
  return len - 1;
}

void learn_cat_sample(const latens_pc_hclt *h, size_t N, uint64_t *s, latens_mat *X) {
  const size_t n = h->n, K = h->K;
  size_t z[16];
  for (size_t i = 0; i < N; i++) {
    size_t m = draw(h->mix, h->M, 1, s);
    for (size_t t = 0; t < n; t++) {
      size_t j = h->order[m * n + t];
      long pa = h->parent[m * n + j];
      z[j] = pa < 0 ? draw(h->root + m * K, K, 1, s)
                    : draw(h->trans + (m * n + j) * K * K + z[(size_t)pa], K, K, s);
      const double *leaf = h->cat + (m * h->catoff[n] + h->catoff[j]) * K + z[j] * h->ncat[j];
      LATENS_MAT(X, i, j) = (double)draw(leaf, h->ncat[j], 1, s);
    }
  }
}

/* Oracle: central finite differences of L = sum log p(x) (with missing entries): the counts
 * are the flows, c = theta dL/dtheta for a categorical leaf entry theta treated as free, as
 * for the transition tables.  Step 1e-6: a 1e-6 relative tolerance, as in the binary test. */
START_TEST(test_cat_counts_are_gradient) {
  const size_t n = 5, ncat[5] = {3, 4, 2, 5, 3}, K = 3, M = 2, N = 300;
  const long par[10] = {-1, 0, 1, 1, 0, 2, -1, 1, 2, 2};
  latens_pc_hclt *h = learn_cat_random(n, ncat, K, M, par, 12);
  uint64_t s = 13;
  latens_mat *X = latens_mat_alloc(N, n);
  learn_cat_sample(h, N, &s, X);
  for (size_t i = 0; i < N; i += 7) LATENS_MAT(X, i, i % n) = NAN;
  latens_pc_hclt_counts *c = latens_pc_hclt_counts_alloc(h);
  ck_assert_int_eq(latens_pc_hclt_accumulate(h, X, 0, N, c), LATENS_OK);
  double *ll = malloc(N * sizeof *ll), worst = 0.0;
  size_t idx[3] = {(1 * h->catoff[n] + h->catoff[3]) * K + 2 * 5 + 4,
                   (0 * h->catoff[n] + h->catoff[1]) * K + 1 * 4 + 0,
                   (1 * h->catoff[n] + h->catoff[0]) * K + 0 * 3 + 2};
  for (int t = 0; t < 3; t++) {
    const double eps = 1e-6, v = h->cat[idx[t]], g = c->cat[idx[t]] / v;
    double Lp = 0.0, Lm = 0.0;
    h->cat[idx[t]] = v + eps, latens_pc_hclt_loglik(h, X, ll);
    for (size_t i = 0; i < N; i++) Lp += ll[i];
    h->cat[idx[t]] = v - eps, latens_pc_hclt_loglik(h, X, ll);
    for (size_t i = 0; i < N; i++) Lm += ll[i];
    h->cat[idx[t]] = v;
    double fd = (Lp - Lm) / (2 * eps);
    worst = fmax(worst, fabs(fd - g) / fmax(1.0, fabs(fd)));
  }
  ck_assert_double_le(worst, 1e-6);
  /* the leaf counts of a node add up to its observed rows' posterior mass, M-step rows sum to 1 */
  double tot = 0.0, obs = 0.0;
  for (size_t m = 0; m < M; m++)
    for (size_t q = 0; q < K * ncat[4]; q++) tot += c->cat[(m * h->catoff[n] + h->catoff[4]) * K + q];
  for (size_t i = 0; i < N; i++) obs += !isnan(LATENS_MAT(X, i, 4));
  ck_assert_double_le(fabs(tot - obs), 1e-9 * obs);
  ck_assert_int_eq(latens_pc_hclt_mstep(h, c, 0.1, 1.0), LATENS_OK);
  double rs = 0.0;
  for (size_t v = 0; v < ncat[3]; v++) rs += learn_cat_leaf(h, 1, 3, 2, v);
  ck_assert_double_le(fabs(rs - 1.0), 1e-14);
  free(ll), latens_pc_hclt_counts_free(c), latens_mat_free(X), latens_pc_hclt_free(h);
}
END_TEST

/* Oracle: the generating model.  EM (three seeded restarts, best training LL kept) on 20,000
 * samples of a known categorical HCLT with the true tree recovers its distribution: over all
 * 72 observed states the total variation distance to the true p(x) is below 0.03 (the
 * empirical distribution of 20,000 draws alone is ~0.02 away), and the learned model's mean
 * log-likelihood of fresh samples is within 0.01 nats of the true model's. */
START_TEST(test_cat_em_recovers) {
  /* 600 EM epochs over 20,000 rows take minutes under valgrind; the same EM code paths run
   * under valgrind in the smaller cases of this file. */
  if (test_under_valgrind()) return;
  const size_t n = 4, ncat[4] = {3, 2, 4, 3}, K = 2, N = 20000;
  const long par[4] = {-1, 0, 0, 2};
  latens_pc_hclt *g = learn_cat_random(n, ncat, K, 1, par, 21);
  uint64_t s = 22;
  latens_mat *X = latens_mat_alloc(N, n), *T = latens_mat_alloc(N, n);
  learn_cat_sample(g, N, &s, X), learn_cat_sample(g, N, &s, T);
  latens_pc_hclt_em_options o;
  latens_pc_hclt_em_options_default(&o);
  o.epochs_minibatch = 5, o.epochs_full = 200, o.pseudocount = 0.01, o.patience = 200;
  latens_pc_hclt *best = NULL;
  double best_ll = -INFINITY;
  for (uint64_t r = 0; r < 3; r++) {
    latens_pc_hclt *h = learn_cat_random(n, ncat, K, 1, par, 30 + r);
    latens_rng rng;
    latens_rng_init(&rng, 40 + r, 0);
    double v;
    ck_assert_int_eq(latens_pc_hclt_em(h, X, NULL, &o, &rng, NULL, &v), LATENS_OK);
    if (v > best_ll) latens_pc_hclt_free(best), best = h, best_ll = v;
    else latens_pc_hclt_free(h);
  }
  size_t S;
  latens_mat *A = learn_cat_states(n, ncat, &S);
  double *lg = malloc(S * sizeof *lg), *lh = malloc(S * sizeof *lh), tv = 0.0, mg, mh;
  latens_pc_hclt_loglik(g, A, lg), latens_pc_hclt_loglik(best, A, lh);
  for (size_t q = 0; q < S; q++) tv += 0.5 * fabs(exp(lg[q]) - exp(lh[q]));
  ck_assert_double_le(tv, 0.03);
  latens_pc_hclt_mean_loglik(g, T, &mg), latens_pc_hclt_mean_loglik(best, T, &mh);
  ck_assert_double_le(fabs(mg - mh), 0.01);
  free(lg), free(lh), latens_mat_free(A), latens_mat_free(X), latens_mat_free(T);
  latens_pc_hclt_free(g), latens_pc_hclt_free(best);
}
END_TEST

/* Oracles, closed forms: a column and its copy have MI equal to the column's entropy; columns
 * laid out as the full product grid (every pair of codes once) have MI exactly 0 (alpha 0);
 * on 0/1 data with ncat 2 the tables agree with the binary routine's X^T X path. */
START_TEST(test_cat_mutual_info) {
  const size_t N = 60, ncat[3] = {3, 3, 4};
  latens_mat *X = latens_mat_alloc(N, 3), *MI = latens_mat_alloc(3, 3);
  for (size_t i = 0; i < N; i++) {
    LATENS_MAT(X, i, 0) = (double)((i * 7 + i / 5) % 3);
    LATENS_MAT(X, i, 1) = LATENS_MAT(X, i, 0);
    LATENS_MAT(X, i, 2) = (double)((i / 3) % 4); /* with i % 3 below: a 3 x 4 grid, 5 times */
  }
  ck_assert_int_eq(latens_pc_mutual_info_cat(X, ncat, 0.0, MI), LATENS_OK);
  ck_assert_double_le(fabs(LATENS_MAT(MI, 0, 1) - LATENS_MAT(MI, 0, 0)), 1e-14);
  for (size_t i = 0; i < N; i++) LATENS_MAT(X, i, 1) = (double)(i % 3);
  ck_assert_int_eq(latens_pc_mutual_info_cat(X, ncat, 0.0, MI), LATENS_OK);
  ck_assert_double_le(fabs(LATENS_MAT(MI, 1, 2)), 1e-15);
  ck_assert_double_le(fabs(LATENS_MAT(MI, 2, 2) - log(4.0)), 1e-14);
  /* binary */
  const size_t two[5] = {2, 2, 2, 2, 2};
  latens_mat *B = latens_mat_alloc(200, 5), *M1 = latens_mat_alloc(5, 5), *M2 = latens_mat_alloc(5, 5);
  uint64_t s = 5;
  for (size_t i = 0; i < 200; i++)
    for (size_t j = 0; j < 5; j++)
      LATENS_MAT(B, i, j) = j && u01(&s) < 0.8 ? LATENS_MAT(B, i, j - 1) : (double)(u01(&s) < 0.3);
  LATENS_MAT(B, 3, 2) = NAN;
  ck_assert_int_eq(latens_pc_mutual_info(B, 0.5, M1), LATENS_OK);
  ck_assert_int_eq(latens_pc_mutual_info_cat(B, two, 0.5, M2), LATENS_OK);
  double worst = 0.0;
  for (size_t q = 0; q < 25; q++) worst = fmax(worst, fabs(M1->data[q] - M2->data[q]));
  ck_assert_double_le(worst, 1e-13);
  /* a code outside its column's range */
  LATENS_MAT(X, 4, 2) = 4.0;
  ck_assert_int_eq(latens_pc_mutual_info_cat(X, ncat, 0.0, MI), LATENS_EDOM);
  latens_mat_free(X), latens_mat_free(MI), latens_mat_free(B), latens_mat_free(M1), latens_mat_free(M2);
}
END_TEST

/* Oracle: closed form.  With leaves equal across latent states, p(x) = prod_j leaf_j whatever
 * the tables: leaves 1e-100 drive rows below the linear pass's rescaling threshold (2^-256),
 * leaves 1e-300 below 2^-960, where the chunk is redone in log space.  log p = n log(leaf). */
START_TEST(test_hclt_underflow_paths) {
  const size_t n = 9, K = 4, N = 5;
  const double leaves[2] = {1e-100, 1e-300};
  for (int c = 0; c < 2; c++) {
    uint64_t s = 31;
    latens_pc_hclt *h = learn_random_hclt(n, K, 2, 1.0, &s);
    for (size_t q = 0; q < 2 * n * K; q++) h->leaf[q] = leaves[c];
    latens_mat *X = latens_mat_alloc(N, n);
    for (size_t q = 0; q < N * n; q++) X->data[q] = 1.0;
    LATENS_MAT(X, 2, 4) = NAN;
    double ll[5], worst = 0.0;
    ck_assert_int_eq(latens_pc_hclt_loglik(h, X, ll), LATENS_OK);
    for (size_t i = 0; i < N; i++)
      worst = fmax(worst, fabs(ll[i] - (double)(i == 2 ? n - 1 : n) * log(leaves[c])));
    ck_assert_double_le(worst, 1e-9);
    latens_pc_hclt_counts *cn = latens_pc_hclt_counts_alloc(h);
    ck_assert_int_eq(latens_pc_hclt_accumulate(h, X, 0, N, cn), LATENS_OK);
    ck_assert_double_le(fabs(cn->loglik - (ll[0] + ll[1] + ll[2] + ll[3] + ll[4])), 1e-9 * fabs(cn->loglik));
    ck_assert_double_le(fabs(cn->mix[0] + cn->mix[1] - (double)N), 1e-9);
    latens_pc_hclt_counts_free(cn), latens_mat_free(X), latens_pc_hclt_free(h);
  }
}
END_TEST

/* Oracle: the one-thread result.  The passes cut the rows into fixed chunks and add the
 * chunks' counts in chunk order, so 1 and 2 OpenMP threads give bit-identical log-likelihoods
 * and counts (binary and categorical; 3000 rows are three chunks).  The chunks run in
 * parallel only when OpenBLAS's pool has one thread, so the test sets it so, and restores it;
 * the same comparison with OpenBLAS's pool at 2 checks the other level (BLAS threads). */
static void set_omp(int t) {
#ifdef _OPENMP
  omp_set_num_threads(t);
#else
  (void)t;
#endif
}

static int blas_pool(int set) {
  int (*get)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "openblas_get_num_threads");
  void (*put)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
  int old = get ? get() : 1;
  if (put && set > 0) put(set);
  return old;
}

START_TEST(test_hclt_threads_identical) {
  const size_t n = 100, N = 3000, K = 16;
  size_t *ncat = malloc(n * sizeof *ncat);
  long *par = malloc(n * sizeof *par);
  for (size_t j = 0; j < n; j++) ncat[j] = 2 + j % 3, par[j] = j ? (long)((j - 1) / 2) : -1;
  int pool = blas_pool(0);
  for (int run = 0; run < 4; run++) {
    const int cat = run & 1;
    blas_pool(run < 2 ? 1 : 2);
    latens_pc_hclt *h = cat ? learn_cat_random(n, ncat, K, 1, par, 50) : NULL;
    if (!cat) {
      h = latens_pc_hclt_alloc(n, K, 1, par);
      latens_rng r;
      latens_rng_init(&r, 51, 0);
      latens_pc_hclt_randomize(h, 0.4, &r);
    }
    latens_mat *X = latens_mat_alloc(N, n);
    uint64_t s = 52;
    for (size_t j = 0; j < n; j++)
      for (size_t i = 0; i < N; i++)
        LATENS_MAT(X, i, j) = (double)(size_t)(u01(&s) * (double)(cat ? ncat[j] : 2));
    double *l1 = malloc(N * sizeof *l1), *l2 = malloc(N * sizeof *l2);
    latens_pc_hclt_counts *c1 = latens_pc_hclt_counts_alloc(h), *c2 = latens_pc_hclt_counts_alloc(h);
    set_omp(1);
    ck_assert_int_eq(latens_pc_hclt_loglik(h, X, l1), LATENS_OK);
    ck_assert_int_eq(latens_pc_hclt_accumulate(h, X, 0, N, c1), LATENS_OK);
    set_omp(2);
    ck_assert_int_eq(latens_pc_hclt_loglik(h, X, l2), LATENS_OK);
    ck_assert_int_eq(latens_pc_hclt_accumulate(h, X, 0, N, c2), LATENS_OK);
    set_omp(1);
    ck_assert_int_eq(memcmp(l1, l2, N * sizeof *l1), 0);
    ck_assert_int_eq(memcmp(c1->trans, c2->trans, n * K * K * sizeof(double)), 0);
    ck_assert_int_eq(memcmp(c1->root, c2->root, K * sizeof(double)), 0);
    if (cat) ck_assert_int_eq(memcmp(c1->cat, c2->cat, c1->ncatlen * sizeof(double)), 0);
    else ck_assert_int_eq(memcmp(c1->leaf1, c2->leaf1, n * K * sizeof(double)), 0);
    ck_assert(c1->loglik == c2->loglik);
    free(l1), free(l2), latens_pc_hclt_counts_free(c1), latens_pc_hclt_counts_free(c2);
    latens_mat_free(X), latens_pc_hclt_free(h);
  }
  blas_pool(pool);
  free(ncat), free(par);
}
END_TEST

/* Bad categorical data and shapes are refused with LATENS_EDOM / NULL. */
START_TEST(test_cat_rejects) {
  const size_t ncat[3] = {3, 2, 4}, one[3] = {3, 1, 4}, two[3] = {2, 2, 2};
  ck_assert_ptr_null(latens_pc_hclt_alloc_cat(3, one, 2, 1, NULL));
  latens_pc_hclt *b = latens_pc_hclt_alloc_cat(3, two, 2, 1, NULL);
  ck_assert_ptr_null(b->ncat); /* all binary: the fast path */
  latens_pc_hclt *h = latens_pc_hclt_alloc_cat(3, ncat, 2, 1, NULL);
  latens_mat *X = latens_mat_alloc(2, 3);
  double ll[2], bad[3] = {4.0, -1.0, 1.5};
  size_t col[3] = {2, 0, 2};
  for (int t = 0; t < 3; t++) {
    LATENS_MAT(X, 1, col[t]) = bad[t];
    ck_assert_int_eq(latens_pc_hclt_loglik(h, X, ll), LATENS_EDOM);
    LATENS_MAT(X, 1, col[t]) = 0.0;
  }
  LATENS_MAT(X, 0, 2) = 3.0;
  ck_assert_int_eq(latens_pc_hclt_loglik(h, X, ll), LATENS_OK);
  latens_pc_hclt_counts *c = latens_pc_hclt_counts_alloc(b);
  ck_assert_int_eq(latens_pc_hclt_accumulate(h, X, 0, 2, c), LATENS_EBADLEN); /* binary counts */
  ck_assert_uint_eq(latens_pc_hclt_nparams(h), 0 + (2 - 1) + 2 * 2 * (2 - 1) + 2 * (2 + 1 + 3));
  latens_pc_hclt_counts_free(c), latens_mat_free(X), latens_pc_hclt_free(h), latens_pc_hclt_free(b);
}
END_TEST

void learn_cat_add_tests(TCase *tc) {
  tcase_add_test(tc, test_cat_brute_force);
  tcase_add_test(tc, test_cat_counts_are_gradient);
  tcase_add_test(tc, test_cat_em_recovers);
  tcase_add_test(tc, test_cat_mutual_info);
  tcase_add_test(tc, test_hclt_underflow_paths);
  tcase_add_test(tc, test_hclt_threads_identical);
  tcase_add_test(tc, test_cat_rejects);
  learn_cat_circuit_add_tests(tc);
}
