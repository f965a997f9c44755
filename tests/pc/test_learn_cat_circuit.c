/* tests/pc/test_learn_cat_circuit.c: categorical HCLTs as general circuits (marginals,
 * conditionals, MAP, sampling, file), the categorical Chow-Liu tree, latent variable
 * distillation on categorical data and categorical RAT-SPNs.  Run in the learn_hclt suite
 * through learn_cat_add_tests (test_learn_cat.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "learn_suites.h"

/* max over components, latent states and the missing x_j (x[j] < 0) of p(m, z, x): the
 * max-product value of the HCLT's circuit, whose sums select latent states. */
static double brute_max(const latens_pc_hclt *h, const int *x) {
  const size_t n = h->n, K = h->K;
  size_t tot = 1;
  for (size_t j = 0; j < n; j++) tot *= K;
  double best = 0.0;
  for (size_t m = 0; m < h->M; m++)
    for (size_t code = 0; code < tot; code++) {
      size_t z[16], c = code;
      for (size_t j = 0; j < n; j++) z[j] = c % K, c /= K;
      double q = h->mix[m];
      for (size_t j = 0; j < n; j++) {
        long pa = h->parent[m * n + j];
        q *= pa < 0 ? h->root[m * K + z[j]]
                    : h->trans[(m * n + j) * K * K + z[(size_t)pa] + z[j] * K];
        double l = 0.0;
        for (size_t v = 0; v < h->ncat[j]; v++)
          if (x[j] < 0 || (size_t)x[j] == v) l = fmax(l, learn_cat_leaf(h, m, j, z[j], v));
        q *= l;
      }
      best = fmax(best, q);
    }
  return best;
}

/* Chi-square statistic of counts against probabilities p (S cells, N draws): cells expecting
 * fewer than 5 draws are pooled into one; *dof receives the number of bins - 1. */
static double chi_square(const double *cnt, const double *p, size_t S, double N, size_t *dof) {
  double x2 = 0.0, pc = 0.0, pe = 0.0;
  size_t bins = 0;
  for (size_t s = 0; s < S; s++) {
    double e = N * p[s];
    if (e < 5.0) { pc += cnt[s], pe += e; continue; }
    x2 += (cnt[s] - e) * (cnt[s] - e) / e, bins++;
  }
  if (pe > 0.0) x2 += (pc - pe) * (pc - pe) / pe, bins++;
  *dof = bins - 1;
  return x2;
}

static size_t state_index(const latens_mat *X, size_t i, const size_t *ncat, size_t n) {
  size_t s = 0, r = 1;
  for (size_t j = 0; j < n; j++) s += (size_t)LATENS_MAT(X, i, j) * r, r *= ncat[j];
  return s;
}

/* Oracle: brute-force enumeration of the HCLT (all latent states of both components).  Its
 * general circuit (categorical inputs) gives every log p(x) of the 72 states, marginals with
 * X_0 and X_2 missing, and conditionals log p(x_1, x_3 | x_0, x_2) equal to the enumeration
 * (1e-12: sums of a few thousand positive terms).  MAP with x_0 observed: the max-product
 * value equals the enumerated max over (m, z, missing x) of the joint, and the completion
 * attains it.  The model file round-trips bit-exactly (parameters compared with memcmp). */
START_TEST(test_cat_circuit_queries) {
  const size_t n = 4, ncat[4] = {3, 2, 4, 3}, K = 3, M = 2;
  const long par[8] = {-1, 0, 0, 1, 2, 2, -1, 0};
  latens_pc_hclt *h = learn_cat_random(n, ncat, K, M, par, 61);
  latens_pc *pc = NULL;
  ck_assert_int_eq(latens_pc_hclt_to_circuit(h, &pc), LATENS_OK);
  for (size_t j = 0; j < n; j++) ck_assert_uint_eq(latens_pc_ncat(pc, j), ncat[j]);
  size_t S;
  latens_mat *X = learn_cat_states(n, ncat, &S);
  latens_vec *ll = latens_vec_alloc(S), *lc = latens_vec_alloc(S);
  double worst = 0.0, wm = 0.0, wc = 0.0;
  ck_assert_int_eq(latens_pc_loglik(pc, X, ll, NULL), LATENS_OK);
  const size_t q[2] = {1, 3};
  ck_assert_int_eq(latens_pc_conditional(pc, X, q, 2, lc, NULL), LATENS_OK);
  for (size_t s = 0; s < S; s++) {
    int x[4], e[4];
    for (size_t j = 0; j < n; j++) x[j] = (int)LATENS_MAT(X, s, j), e[j] = j & 1 ? -1 : x[j];
    worst = fmax(worst, fabs(LATENS_VEC(ll, s) - log(learn_cat_brute_p(h, x))));
    wc = fmax(wc, fabs(LATENS_VEC(lc, s) - log(learn_cat_brute_p(h, x) / learn_cat_brute_p(h, e))));
  }
  for (size_t s = 0; s < S; s++) LATENS_MAT(X, s, 0) = NAN, LATENS_MAT(X, s, 2) = NAN;
  ck_assert_int_eq(latens_pc_loglik(pc, X, ll, NULL), LATENS_OK);
  for (size_t s = 0; s < S; s++) {
    int x[4] = {-1, (int)LATENS_MAT(X, s, 1), -1, (int)LATENS_MAT(X, s, 3)};
    wm = fmax(wm, fabs(LATENS_VEC(ll, s) - log(learn_cat_brute_p(h, x))));
  }
  ck_assert_double_le(worst, 1e-12);
  ck_assert_double_le(wm, 1e-12);
  ck_assert_double_le(wc, 1e-12);
  /* MAP: evidence x_0 = v (v = 0, 1, 2), the rest missing */
  latens_mat *Q = latens_mat_alloc(3, n);
  latens_vec *lp = latens_vec_alloc(3);
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < n; j++) LATENS_MAT(Q, i, j) = j ? NAN : (double)i;
  ck_assert_int_eq(latens_pc_map(pc, Q, lp, NULL), LATENS_OK);
  double wmap = 0.0, watt = 0.0;
  for (size_t i = 0; i < 3; i++) {
    int e[4] = {(int)i, -1, -1, -1}, x[4];
    for (size_t j = 0; j < n; j++) x[j] = (int)LATENS_MAT(Q, i, j);
    ck_assert_int_eq(x[0], (int)i);
    wmap = fmax(wmap, fabs(LATENS_VEC(lp, i) - log(brute_max(h, e))));
    watt = fmax(watt, fabs(LATENS_VEC(lp, i) - log(brute_max(h, x))));
  }
  ck_assert_double_le(wmap, 1e-12);
  ck_assert_double_le(watt, 1e-12);
  /* file round trip */
  FILE *f = tmpfile();
  latens_pc *back = NULL;
  ck_assert_int_eq(latens_pc_write(pc, f), LATENS_OK);
  rewind(f);
  ck_assert_int_eq(latens_pc_read(f, "tmp", &back), LATENS_OK);
  fclose(f);
  ck_assert_uint_eq(latens_pc_nparams(back), latens_pc_nparams(pc));
  ck_assert_int_eq(memcmp(latens_pc_params(back), latens_pc_params(pc), latens_pc_nparams(pc) * sizeof(double)), 0);
  latens_pc_free(back), latens_mat_free(Q), latens_vec_free(lp);
  latens_vec_free(ll), latens_vec_free(lc), latens_mat_free(X), latens_pc_free(pc);
  latens_pc_hclt_free(h);
}
END_TEST

/* Oracle: the enumerated probabilities, by chi-square.  20,000 unconditional samples of the
 * categorical circuit over the 72 states, and 20,000 conditioned on x_1 = 1, x_3 = 2 over the
 * 12 states of (x_0, x_2) (probabilities p(x) / p(evidence) by enumeration).  Bound: dof +
 * 6 sqrt(2 dof), six standard deviations of the statistic under the null (measured over
 * sampling seeds 1..12: at most 2.2 sd for the 72 states, 3.7 sd once for the conditional's
 * 11 dof, p ~ 0.003; the bound there is p ~ 5e-5). */
START_TEST(test_cat_circuit_sampling) {
  const size_t n = 4, ncat[4] = {3, 2, 4, 3}, K = 3, M = 2, N = 20000;
  const long par[8] = {-1, 0, 0, 1, 2, 2, -1, 0};
  latens_pc_hclt *h = learn_cat_random(n, ncat, K, M, par, 62);
  latens_pc *pc = NULL;
  ck_assert_int_eq(latens_pc_hclt_to_circuit(h, &pc), LATENS_OK);
  size_t S, dof;
  latens_mat *A = learn_cat_states(n, ncat, &S), *X = latens_mat_alloc(N, n);
  double *p = malloc(S * sizeof *p), *cnt = calloc(S, sizeof *cnt), pe = 0.0;
  for (size_t s = 0; s < S; s++) {
    int x[4];
    for (size_t j = 0; j < n; j++) x[j] = (int)LATENS_MAT(A, s, j);
    p[s] = learn_cat_brute_p(h, x);
  }
  latens_rng rng;
  latens_rng_init(&rng, 63, 0);
  for (size_t q = 0; q < N * n; q++) X->data[q] = NAN;
  ck_assert_int_eq(latens_pc_sample(pc, X, &rng, NULL), LATENS_OK);
  for (size_t i = 0; i < N; i++) cnt[state_index(X, i, ncat, n)] += 1.0;
  double x2 = chi_square(cnt, p, S, (double)N, &dof);
  ck_assert_double_le(x2, (double)dof + 6.0 * sqrt(2.0 * (double)dof));
  /* conditional: states with x_1 = 1, x_3 = 2 only */
  for (size_t i = 0; i < N; i++)
    for (size_t j = 0; j < n; j++) LATENS_MAT(X, i, j) = j == 1 ? 1.0 : j == 3 ? 2.0 : NAN;
  ck_assert_int_eq(latens_pc_sample(pc, X, &rng, NULL), LATENS_OK);
  memset(cnt, 0, S * sizeof *cnt);
  for (size_t s = 0; s < S; s++)
    if (LATENS_MAT(A, s, 1) == 1.0 && LATENS_MAT(A, s, 3) == 2.0) pe += p[s];
  for (size_t s = 0; s < S; s++)
    p[s] = LATENS_MAT(A, s, 1) == 1.0 && LATENS_MAT(A, s, 3) == 2.0 ? p[s] / pe : 0.0;
  size_t off = 0;
  for (size_t i = 0; i < N; i++) {
    off += LATENS_MAT(X, i, 1) != 1.0 || LATENS_MAT(X, i, 3) != 2.0;
    cnt[state_index(X, i, ncat, n)] += 1.0;
  }
  ck_assert_uint_eq(off, 0);
  x2 = chi_square(cnt, p, S, (double)N, &dof);
  ck_assert_uint_ge(dof, 8);
  ck_assert_double_le(x2, (double)dof + 6.0 * sqrt(2.0 * (double)dof));
  free(p), free(cnt), latens_mat_free(A), latens_mat_free(X), latens_pc_free(pc);
  latens_pc_hclt_free(h);
}
END_TEST

/* Smoothed MI of columns j, k over the rows observing both (alpha per cell), written out
 * from the definition: the closed form the Chow-Liu tree maximises. */
static double mi_pair(const latens_mat *X, size_t j, size_t k, const size_t *ncat, double alpha) {
  double T[64] = {0}, ra[8] = {0}, rb[8] = {0}, tot = 0.0, mi = 0.0;
  const size_t a = ncat[j], b = ncat[k];
  for (size_t i = 0; i < X->nrow; i++) {
    double x = LATENS_MAT(X, i, j), y = LATENS_MAT(X, i, k);
    if (!isnan(x) && !isnan(y)) T[(size_t)x * 8 + (size_t)y] += 1.0;
  }
  for (size_t u = 0; u < a; u++)
    for (size_t v = 0; v < b; v++) T[u * 8 + v] += alpha, ra[u] += T[u * 8 + v], rb[v] += T[u * 8 + v], tot += T[u * 8 + v];
  for (size_t u = 0; u < a; u++)
    for (size_t v = 0; v < b; v++) mi += T[u * 8 + v] / tot * log(T[u * 8 + v] * tot / (ra[u] * rb[v]));
  return mi;
}

/* Brute-force maximum spanning tree on 5 nodes: every one of the 5^3 labelled trees from its
 * Pruefer sequence; the heaviest one's edges into E (E[a*5+b] = 1 for an edge a-b). */
static void brute_mst5(const double *W, int *E) {
  double best = -INFINITY;
  for (size_t code = 0; code < 125; code++) {
    size_t seq[3] = {code % 5, code / 5 % 5, code / 25}, deg[5] = {1, 1, 1, 1, 1}, ea[4], eb[4];
    for (int t = 0; t < 3; t++) deg[seq[t]]++;
    for (int t = 0; t < 3; t++) {
      size_t leaf = 0;
      while (deg[leaf] != 1) leaf++;
      ea[t] = leaf, eb[t] = seq[t], deg[leaf]--, deg[seq[t]]--;
    }
    size_t u = 5, v = 5;
    for (size_t q = 0; q < 5; q++)
      if (deg[q] == 1 && u == 5) u = q;
      else if (deg[q] == 1) v = q;
    ea[3] = u, eb[3] = v;
    double w = 0.0;
    for (int t = 0; t < 4; t++) w += W[ea[t] * 5 + eb[t]];
    if (w > best) {
      best = w;
      memset(E, 0, 25 * sizeof *E);
      for (int t = 0; t < 4; t++) E[ea[t] * 5 + eb[t]] = E[eb[t] * 5 + ea[t]] = 1;
    }
  }
}

/* The enumeration part of the Chow-Liu test: all states' probabilities sum to 1, and MAP
 * with x_1 = 2 observed returns the arg-max and the max of the enumerated log p. */
static void cltree_enumeration(const latens_pc *pc, size_t n, const size_t *ncat) {
  size_t S;
  latens_mat *A = learn_cat_states(n, ncat, &S);
  latens_vec *la = latens_vec_alloc(S);
  ck_assert_int_eq(latens_pc_loglik(pc, A, la, NULL), LATENS_OK);
  double tot = 0.0, best = -INFINITY;
  size_t arg = 0;
  for (size_t q = 0; q < S; q++) {
    tot += exp(LATENS_VEC(la, q));
    if (LATENS_MAT(A, q, 1) == 2.0 && LATENS_VEC(la, q) > best) best = LATENS_VEC(la, q), arg = q;
  }
  ck_assert_double_le(fabs(tot - 1.0), 1e-12);
  latens_mat *Q = latens_mat_alloc(1, n);
  latens_vec *lp = latens_vec_alloc(1);
  for (size_t j = 0; j < n; j++) LATENS_MAT(Q, 0, j) = j == 1 ? 2.0 : NAN;
  ck_assert_int_eq(latens_pc_map(pc, Q, lp, NULL), LATENS_OK);
  ck_assert_double_le(fabs(LATENS_VEC(lp, 0) - best), 1e-12);
  for (size_t j = 0; j < n; j++) ck_assert_double_eq(LATENS_MAT(Q, 0, j), LATENS_MAT(A, arg, j));
  latens_mat_free(Q), latens_vec_free(lp), latens_mat_free(A), latens_vec_free(la);
}

/* Oracles: (1) the tree is the brute-force maximum spanning tree (all 125 trees on 5 nodes)
 * of the closed-form smoothed categorical MI; (2) each complete row's log-likelihood is the
 * sum of the logs of the smoothed conditional tables (N_uv + a) / (N_u + ncat a) counted
 * directly from the data, for the HCLT and for its circuit (1e-12); (3) the circuit is
 * deterministic, so MAP is exact: its value and completion equal the arg-max of the 360
 * enumerated states with the evidence; (4) the 360 probabilities sum to 1. */
START_TEST(test_cat_cltree) {
  const size_t n = 5, ncat[5] = {3, 4, 2, 3, 5}, N = 400;
  const long gpar[5] = {-1, 0, 1, 1, 3};
  latens_pc_hclt *g = learn_cat_random(n, ncat, 3, 1, gpar, 71);
  uint64_t s = 72;
  latens_mat *X = latens_mat_alloc(N, n);
  learn_cat_sample(g, N, &s, X);
  for (size_t i = 0; i < N; i += 9) LATENS_MAT(X, i, (i / 9) % n) = NAN;
  const double alpha = 0.3;
  latens_pc_hclt *h = NULL;
  ck_assert_int_eq(latens_pc_cltree_fit_cat(X, ncat, alpha, &h), LATENS_OK);
  ck_assert_uint_eq(h->K, 5);
  double W[25];
  int E[25];
  for (size_t j = 0; j < n; j++)
    for (size_t k = 0; k < n; k++) W[j * 5 + k] = j == k ? 0.0 : mi_pair(X, j, k, ncat, 0.01);
  brute_mst5(W, E);
  ck_assert_int_eq(h->parent[0], -1);
  for (size_t j = 1; j < n; j++) ck_assert_int_eq(E[j * 5 + (size_t)h->parent[j]], 1);
  /* the directly counted conditional tables */
  double lt[5][5][5];
  for (size_t j = 0; j < n; j++) {
    long p = h->parent[j];
    double c[5][5] = {{0}};
    size_t np = p < 0 ? 1 : ncat[p];
    for (size_t i = 0; i < N; i++) {
      double x = LATENS_MAT(X, i, j), y = p < 0 ? 0.0 : LATENS_MAT(X, i, (size_t)p);
      if (!isnan(x) && !isnan(y)) c[(size_t)y][(size_t)x] += 1.0;
    }
    for (size_t u = 0; u < np; u++) {
      double nu = 0.0;
      for (size_t v = 0; v < ncat[j]; v++) nu += c[u][v];
      for (size_t v = 0; v < ncat[j]; v++) lt[j][u][v] = log((c[u][v] + alpha) / (nu + (double)ncat[j] * alpha));
    }
  }
  latens_pc *pc = NULL;
  ck_assert_int_eq(latens_pc_hclt_to_circuit(h, &pc), LATENS_OK);
  ck_assert_int_eq(latens_pc_is_deterministic(pc), 1);
  double *ll = malloc(N * sizeof *ll), wh = 0.0, wc = 0.0;
  latens_vec *lv = latens_vec_alloc(N);
  ck_assert_int_eq(latens_pc_hclt_loglik(h, X, ll), LATENS_OK);
  ck_assert_int_eq(latens_pc_loglik(pc, X, lv, NULL), LATENS_OK);
  size_t complete = 0;
  for (size_t i = 0; i < N; i++) {
    double ref = 0.0;
    int miss = 0;
    for (size_t j = 0; j < n; j++) miss |= isnan(LATENS_MAT(X, i, j));
    /* complete rows only: a parent's code may sit in a later column */
    for (size_t j = 0; j < n && !miss; j++) {
      long p = h->parent[j];
      ref += lt[j][p < 0 ? 0 : (size_t)LATENS_MAT(X, i, (size_t)p)][(size_t)LATENS_MAT(X, i, j)];
    }
    wc = fmax(wc, fabs(LATENS_VEC(lv, i) - ll[i])); /* rows with missing values too */
    if (miss) continue;
    complete++, wh = fmax(wh, fabs(ll[i] - ref));
  }
  ck_assert_uint_ge(complete, 300);
  ck_assert_double_le(wh, 1e-12);
  ck_assert_double_le(wc, 1e-12);
  cltree_enumeration(pc, n, ncat);
  /* a bad code is refused naming it */
  LATENS_MAT(X, 5, 2) = 2.0;
  latens_pc_hclt *bad = NULL;
  ck_assert_int_eq(latens_pc_cltree_fit_cat(X, ncat, alpha, &bad), LATENS_EDOM);
  ck_assert_ptr_null(bad);
  free(ll), latens_vec_free(lv), latens_pc_free(pc), latens_pc_hclt_free(h);
  latens_pc_hclt_free(g), latens_mat_free(X);
}
END_TEST

/* Oracle: counts by hand.  n = 3 (ncat 3, 2, 4), K = 2, chain 0-1-2, five rows of x and z,
 * pseudocount a = 0.5 (each table entry (count + a/len) / (total + a)):
 *   x: (0,1,3) (2,0,3) (0,1,1) (1,1,0) (2,0,NA);  z: (0,1,1) (1,0,0) (0,1,1) (0,1,NA) (1,1,0)
 * root z0: states 0,1,0,0,1 -> counts (3, 2);  z1 | z0: pairs (0,1) (1,0) (0,1) (0,1) (1,1);
 * z2 | z1: pairs (1,1) (0,0) (1,1) (1,0) (row 4 unknown);  x0 | z0 = 0: x0 = 0,0,1; z0 = 1:
 * 2,2;  x1 | z1 = 0: 0; z1 = 1: 1,1,1,0;  x2 | z2 = 1: 3,1; z2 = 0: 3 (row 5's x2 missing).
 * Soft responsibilities that are one-hot give the same tables, and so does the CSV file. */
START_TEST(test_cat_lvd_by_hand) {
  const size_t ncat[3] = {3, 2, 4};
  const long par[3] = {-1, 0, 1};
  const double xs[15] = {0, 1, 3, 2, 0, 3, 0, 1, 1, 1, 1, 0, 2, 0, NAN};
  const double zs[15] = {0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 1, NAN, 1, 1, 0};
  latens_mat *X = latens_mat_alloc(5, 3), *Z = latens_mat_alloc(5, 3), *R = latens_mat_alloc(5, 6);
  for (size_t i = 0; i < 5; i++)
    for (size_t j = 0; j < 3; j++) {
      double z = zs[i * 3 + j];
      LATENS_MAT(X, i, j) = xs[i * 3 + j], LATENS_MAT(Z, i, j) = z;
      for (size_t k = 0; k < 2; k++) LATENS_MAT(R, i, j * 2 + k) = isnan(z) ? 0.0 : z == (double)k;
    }
  const double a = 0.5;
  const double root[2] = {(3 + a / 2) / (5 + a), (2 + a / 2) / (5 + a)};
  /* trans[j][i + 2k] = p(z_j = k | z_parent = i) */
  const double t1[4] = {(0 + a / 2) / (3 + a), (1 + a / 2) / (2 + a), (3 + a / 2) / (3 + a), (1 + a / 2) / (2 + a)};
  const double t2[4] = {(1 + a / 2) / (1 + a), (1 + a / 2) / (3 + a), (0 + a / 2) / (1 + a), (2 + a / 2) / (3 + a)};
  /* leaves [k * ncat + v] */
  const double l0[6] = {(2 + a / 3) / (3 + a), (1 + a / 3) / (3 + a), (0 + a / 3) / (3 + a),
                        (0 + a / 3) / (2 + a), (0 + a / 3) / (2 + a), (2 + a / 3) / (2 + a)};
  const double l1[4] = {(1 + a / 2) / (1 + a), (0 + a / 2) / (1 + a), (1 + a / 2) / (4 + a), (3 + a / 2) / (4 + a)};
  const double l2[8] = {(0 + a / 4) / (1 + a), (0 + a / 4) / (1 + a), (0 + a / 4) / (1 + a), (1 + a / 4) / (1 + a),
                        (0 + a / 4) / (2 + a), (1 + a / 4) / (2 + a), (0 + a / 4) / (2 + a), (1 + a / 4) / (2 + a)};
  const double *leaves[3] = {l0, l1, l2};
  char path[256];
  int fd = test_mkstemp(path, sizeof path, "lvdcat");
  FILE *f = fdopen(fd, "w");
  for (size_t i = 0; i < 5; i++)
    fprintf(f, "%s,%s,%s\n", isnan(zs[i * 3]) ? "NA" : zs[i * 3] ? "1" : "0",
            isnan(zs[i * 3 + 1]) ? "NA" : zs[i * 3 + 1] ? "1" : "0", isnan(zs[i * 3 + 2]) ? "NA" : zs[i * 3 + 2] ? "1" : "0");
  fclose(f);
  for (int mode = 0; mode < 3; mode++) {
    latens_pc_hclt *h = latens_pc_hclt_alloc_cat(3, ncat, 2, 1, par);
    int st = mode == 0 ? latens_pc_hclt_fit_latents(h, X, Z, a)
             : mode == 1 ? latens_pc_hclt_fit_soft(h, X, R, a)
                         : latens_pc_hclt_fit_latents_file(h, X, path, a);
    ck_assert_int_eq(st, LATENS_OK);
    double worst = fmax(fabs(h->root[0] - root[0]), fabs(h->root[1] - root[1]));
    for (size_t q = 0; q < 4; q++)
      worst = fmax(worst, fmax(fabs(h->trans[4 + q] - t1[q]), fabs(h->trans[8 + q] - t2[q])));
    for (size_t j = 0; j < 3; j++)
      for (size_t q = 0; q < 2 * ncat[j]; q++) worst = fmax(worst, fabs(h->cat[h->catoff[j] * 2 + q] - leaves[j][q]));
    ck_assert_double_le(worst, 1e-15);
    latens_pc_hclt_free(h);
  }
  remove(path);
  latens_mat_free(X), latens_mat_free(Z), latens_mat_free(R);
}
END_TEST

/* Oracle: EM's monotonicity.  The k-means teacher's states (one per row and node, in
 * 0..K-1) fit a categorical HCLT; full-batch EM from there (pseudocount 0, so each step
 * cannot lower the likelihood) never lowers the training LL (to 1e-10 relative rounding) and
 * ends above the distilled start; latens_pc_hclt_em (mini-batch + full) ends no lower. */
START_TEST(test_cat_lvd_teacher_then_em) {
  const size_t n = 5, ncat[5] = {3, 4, 2, 3, 5}, K = 3, N = 600;
  const long gpar[5] = {-1, 0, 1, 1, 3};
  latens_pc_hclt *g = learn_cat_random(n, ncat, K, 1, gpar, 81);
  uint64_t s = 82;
  latens_mat *X = latens_mat_alloc(N, n), *Z = latens_mat_alloc(N, 2 * n);
  learn_cat_sample(g, N, &s, X);
  for (size_t i = 0; i < N; i += 11) LATENS_MAT(X, i, i % n) = NAN;
  latens_rng rng;
  latens_rng_init(&rng, 83, 0);
  latens_pc_hclt *h = NULL;
  ck_assert_int_eq(latens_pc_hclt_structure_cat(X, ncat, K, 2, &rng, &h), LATENS_OK);
  ck_assert_int_eq(latens_pc_hclt_teacher_kmeans(h, X, 10, &rng, Z), LATENS_OK);
  size_t badz = 0;
  for (size_t q = 0; q < N * 2 * n; q++) badz += !(Z->data[q] >= 0 && Z->data[q] < (double)K && Z->data[q] == floor(Z->data[q]));
  ck_assert_uint_eq(badz, 0);
  ck_assert_int_eq(latens_pc_hclt_fit_latents(h, X, Z, 0.1), LATENS_OK);
  double l0, prev, cur;
  ck_assert_int_eq(latens_pc_hclt_mean_loglik(h, X, &l0), LATENS_OK);
  prev = l0;
  latens_pc_hclt_counts *c = latens_pc_hclt_counts_alloc(h);
  size_t drops = 0;
  for (int it = 0; it < 10; it++) {
    latens_pc_hclt_counts_zero(c);
    ck_assert_int_eq(latens_pc_hclt_accumulate(h, X, 0, N, c), LATENS_OK);
    ck_assert_int_eq(latens_pc_hclt_mstep(h, c, 0.0, 1.0), LATENS_OK);
    latens_pc_hclt_mean_loglik(h, X, &cur);
    drops += cur < prev - 1e-10 * fabs(prev);
    prev = cur;
  }
  ck_assert_uint_eq(drops, 0);
  ck_assert_double_gt(prev, l0);
  /* the CLI's path: distil again, then latens_pc_hclt_em with its defaults (short) */
  ck_assert_int_eq(latens_pc_hclt_fit_latents(h, X, Z, 0.1), LATENS_OK);
  latens_pc_hclt_em_options o;
  latens_pc_hclt_em_options_default(&o);
  o.epochs_minibatch = 3, o.epochs_full = 10, o.batch = 128;
  double best;
  ck_assert_int_eq(latens_pc_hclt_em(h, X, NULL, &o, &rng, NULL, &best), LATENS_OK);
  latens_pc_hclt_mean_loglik(h, X, &cur);
  ck_assert_double_ge(cur, l0);
  latens_pc_hclt_counts_free(c), latens_pc_hclt_free(h), latens_pc_hclt_free(g);
  latens_mat_free(X), latens_mat_free(Z);
}
END_TEST

/* Oracle: enumeration.  A RAT-SPN over categorical variables (3, 2, 4, 3) is a normalised
 * circuit: the probabilities of all 72 states sum to 1, an all-missing row has log p = 0,
 * and the marginal with X_2 missing equals the sum over X_2 of the joint (1e-12).  After a
 * few EM epochs on data it is still normalised. */
START_TEST(test_cat_rat) {
  const size_t n = 4, ncat[4] = {3, 2, 4, 3};
  latens_rng rng;
  latens_rng_init(&rng, 91, 0);
  latens_pc *pc = NULL;
  ck_assert_int_eq(latens_pc_rat_alloc_cat(n, ncat, 2, 3, 3, 2, &rng, &pc), LATENS_OK);
  size_t S;
  latens_mat *A = learn_cat_states(n, ncat, &S), *D = latens_mat_alloc(200, n);
  uint64_t s = 92;
  for (size_t q = 0; q < 200 * n; q++) D->data[q] = (double)(size_t)(u01(&s) * (double)ncat[q / 200]);
  latens_vec *ll = latens_vec_alloc(S), *lm = latens_vec_alloc(S);
  for (int round = 0; round < 2; round++) {
    ck_assert_int_eq(latens_pc_loglik(pc, A, ll, NULL), LATENS_OK);
    double tot = 0.0, worst = 0.0;
    for (size_t q = 0; q < S; q++) tot += exp(LATENS_VEC(ll, q));
    ck_assert_double_le(fabs(tot - 1.0), 1e-12);
    latens_mat *B = latens_mat_alloc(S, n);
    latens_mat_copy(B, A);
    for (size_t q = 0; q < S; q++) LATENS_MAT(B, q, 2) = NAN;
    for (size_t j = 0; j < n; j++) LATENS_MAT(B, 0, j) = NAN;
    ck_assert_int_eq(latens_pc_loglik(pc, B, lm, NULL), LATENS_OK);
    ck_assert_double_le(fabs(LATENS_VEC(lm, 0)), 1e-13);
    for (size_t q = 1; q < S; q++) {
      double sum = 0.0; /* the states that differ from q only in x_2 */
      for (size_t r = 0; r < S; r++)
        if (LATENS_MAT(A, r, 0) == LATENS_MAT(A, q, 0) && LATENS_MAT(A, r, 1) == LATENS_MAT(A, q, 1) &&
            LATENS_MAT(A, r, 3) == LATENS_MAT(A, q, 3))
          sum += exp(LATENS_VEC(ll, r));
      worst = fmax(worst, fabs(LATENS_VEC(lm, q) - log(sum)));
    }
    ck_assert_double_le(worst, 1e-12);
    latens_mat_free(B);
    latens_pc_em_options o;
    latens_pc_em_options_default(&o);
    o.epochs = 3;
    ck_assert_int_eq(latens_pc_em(pc, D, NULL, &o, &rng, NULL, NULL), LATENS_OK);
  }
  /* a continuous or one-category variable is refused */
  const size_t one[4] = {3, 1, 4, 3};
  latens_pc *bad = NULL;
  ck_assert_int_ne(latens_pc_rat_alloc_cat(n, one, 2, 3, 3, 2, &rng, &bad), LATENS_OK);
  ck_assert_ptr_null(bad);
  latens_vec_free(ll), latens_vec_free(lm), latens_mat_free(A), latens_mat_free(D), latens_pc_free(pc);
}
END_TEST

void learn_cat_circuit_add_tests(TCase *tc) {
  tcase_add_test(tc, test_cat_circuit_queries);
  tcase_add_test(tc, test_cat_circuit_sampling);
  tcase_add_test(tc, test_cat_cltree);
  tcase_add_test(tc, test_cat_lvd_by_hand);
  tcase_add_test(tc, test_cat_lvd_teacher_then_em);
  tcase_add_test(tc, test_cat_rat);
}
