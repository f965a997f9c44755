/* tests/core/test_chol.c: Cholesky with the jitter ladder, solves, inverse, logdet, logpdf.
 *
 * Random SPD matrices are X X^T + n I with X (n x k, k <= n) uniform on (-1, 1): their
 * eigenvalues lie in [n, n + |X|^2] with |X|^2 <~ (sqrt(n) + sqrt(k))^2 / 3 <= 4n/3, so
 * kappa(A) < 3 and forward errors stay near n u (u = 2^-53).  Orders above 256 use k = 64 to
 * keep the suite fast under valgrind (the O(n^3) products there dominate).  Tolerances below
 * come from the standard backward-error bounds with that kappa and are named where used. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <latens/latens.h>
#include "suites.h"

static const double U = DBL_EPSILON / 2;

#define unif test_unif

static latens_mat *random_spd(size_t n, uint64_t seed) {
  const size_t k = n > 256 ? 64 : n;
  latens_mat *X = latens_mat_alloc(n, k), *A = latens_mat_alloc(n, n);
  for (size_t j = 0; j < k; j++)
    for (size_t i = 0; i < n; i++) LATENS_MAT(X, i, j) = unif(&seed);
  latens_mat_gemm('N', 'T', 1.0, X, X, 0.0, A);
  for (size_t i = 0; i < n; i++) LATENS_MAT(A, i, i) += (double)n;
  latens_mat_free(X);
  return A;
}

static double max_diag(const latens_mat *A) {
  double m = 0.0;
  for (size_t i = 0; i < A->nrow; i++) m = fmax(m, fabs(LATENS_MAT(A, i, i)));
  return m;
}

/* Oracle: GSL's gsl_linalg_cholesky_decomp1 (dense reference) and reconstruction L L^T = A.
 * Orders 1, 5 run the unblocked kernel; 64 and 200 the recursive one; 513 the blocked one
 * (two 256-wide panels and a last 1x1 block).  The factor is stored with ld = n + 3 to exercise the
 * leading dimension; the padding rows must survive. */
START_TEST(decomp_matches_gsl_and_reconstructs) {
  const size_t sizes[] = {1, 5, 64, 200, 513};
  for (size_t t = 0; t < sizeof sizes / sizeof *sizes; t++) {
    const size_t n = sizes[t], ld = n + 3;
    latens_mat *A = random_spd(n, 11 + n);
    double *store = malloc(ld * n * sizeof *store);
    for (size_t k = 0; k < ld * n; k++) store[k] = -7.0;
    latens_mat L = latens_mat_view(store, n, n, ld);
    for (size_t j = 0; j < n; j++)
      for (size_t i = j; i < n; i++) LATENS_MAT(&L, i, j) = LATENS_MAT(A, i, j);
    latens_chol_info info;
    double *work = malloc(latens_chol_work_size(n) * sizeof *work);
    latens_chol_options o; /* caller's backup buffer, n > 32 */
    latens_chol_options_default(&o);
    o.work = work, o.lwork = latens_chol_work_size(n);
    ck_assert_int_eq(latens_chol_decomp(&L, n == 200 ? &o : NULL, &info), LATENS_OK);
    free(work);
    ck_assert_double_eq(info.jitter, 0.0);
    ck_assert_uint_eq(info.tries, 1);
    ck_assert_uint_eq(info.minor, 0);

    gsl_matrix *G = gsl_matrix_alloc(n, n);
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < n; j++) gsl_matrix_set(G, i, j, LATENS_MAT(A, i, j));
    ck_assert_int_eq(gsl_linalg_cholesky_decomp1(G), 0);
    /* Cholesky perturbation bound |dL| <~ kappa(A) n u |L| with kappa < 3; |L_ij| <=
     * sqrt(max diag).  Bound 3 n u sqrt(max diag) for each of the two factors. */
    /* (Element loops count mismatches and assert once: each passing ck_assert costs Check a
     * message, which adds up to seconds under valgrind.) */
    double tol_l = 6.0 * n * U * sqrt(max_diag(A)), err = 0.0;
    size_t upper_nonzero = 0, padding_changed = 0;
    for (size_t j = 0; j < n; j++)
      for (size_t i = 0; i < n; i++) {
        if (i < j) upper_nonzero += LATENS_MAT(&L, i, j) != 0.0;
        else err = fmax(err, fabs(LATENS_MAT(&L, i, j) - gsl_matrix_get(G, i, j)));
      }
    ck_assert_double_le(err, tol_l);
    ck_assert_uint_eq(upper_nonzero, 0);
    for (size_t j = 0; j < n; j++)
      for (size_t i = n; i < ld; i++) padding_changed += store[i + j * ld] != -7.0;
    ck_assert_uint_eq(padding_changed, 0);

    /* Backward error |A - L L^T| <= gamma_{n+1} |L||L^T| <= (n+1) u max diag, plus as much
     * again for the product that forms L L^T.  Past 256 (the blocked path), the columns on
     * both sides of each panel boundary and the last one, which involves every column of L:
     * a full product would dominate the suite's time under valgrind. */
    const double tol_r = 2.0 * (n + 1) * U * max_diag(A);
    latens_mat *LLt = latens_mat_alloc(n, n);
    if (n <= 256) {
      latens_mat_gemm('N', 'T', 1.0, &L, &L, 0.0, LLt);
      ck_assert_double_le(latens_mat_max_abs_diff(LLt, A), tol_r);
    } else {
      const size_t cols[] = {0, 255, 256, 511, 512, n - 1};
      double rerr = 0.0;
      for (size_t c = 0; c < sizeof cols / sizeof *cols; c++) {
        latens_vec row = latens_mat_row(&L, cols[c]), out = latens_mat_column(LLt, 0);
        latens_mat_gemv('N', 1.0, &L, &row, 0.0, &out); /* column cols[c] of L L^T */
        for (size_t i = 0; i < n; i++)
          rerr = fmax(rerr, fabs(LATENS_VEC(&out, i) - LATENS_MAT(A, i, cols[c])));
      }
      ck_assert_double_le(rerr, tol_r);
    }

    /* log det vs GSL's LU determinant (dense reference).  |d logdet| = |tr(A^-1 dA)| <=
     * n kappa (n u): at most 3 n^2 u for each, doubled. */
    gsl_permutation *perm = gsl_permutation_alloc(n);
    int sign;
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < n; j++) gsl_matrix_set(G, i, j, LATENS_MAT(A, i, j));
    gsl_linalg_LU_decomp(G, perm, &sign);
    ck_assert_double_eq_tol(latens_chol_logdet(&L), gsl_linalg_LU_lndet(G), 6.0 * n * n * U);
    gsl_permutation_free(perm);
    gsl_matrix_free(G);
    latens_mat_free(LLt);
    latens_mat_free(A);
    free(store);
  }
}
END_TEST

/* Oracle: multiplication back.  For each solve the residual of the solution against the
 * right-hand side is bounded by the backward error n u |op||x|; with kappa < 3 and O(1)
 * right-hand sides that is a few n u max diag. */
START_TEST(solves_multiply_back) {
  const size_t sizes[] = {1, 7, 150};
  for (size_t t = 0; t < 3; t++) {
    const size_t n = sizes[t], k = 3;
    uint64_t seed = 99 + n;
    latens_mat *A = random_spd(n, 5 * n), *L = latens_mat_alloc(n, n);
    latens_mat *B = latens_mat_alloc(n, k), *X = latens_mat_alloc(n, k),
               *AX = latens_mat_alloc(n, k);
    latens_mat_copy(L, A);
    ck_assert_int_eq(latens_chol_decomp(L, NULL, NULL), LATENS_OK);
    for (size_t j = 0; j < k; j++)
      for (size_t i = 0; i < n; i++) LATENS_MAT(B, i, j) = unif(&seed);
    const double tol = 8.0 * (n + 1) * U * max_diag(A);

    latens_mat_copy(X, B); /* A X = B */
    ck_assert_int_eq(latens_chol_solve(L, X), LATENS_OK);
    latens_mat_gemm('N', 'N', 1.0, A, X, 0.0, AX);
    ck_assert_double_le(latens_mat_max_abs_diff(AX, B), tol);

    for (int tr = 0; tr < 2; tr++) { /* op(L) x = b, then x <- op(L) x must give b back */
      char c = tr ? 'T' : 'N';
      latens_mat_copy(X, B);
      ck_assert_int_eq(latens_chol_trsm(L, c, X), LATENS_OK);
      latens_vec x0 = latens_mat_column(X, 0), x1 = latens_mat_column(X, 1);
      ck_assert_int_eq(latens_chol_trmv(L, c, &x0), LATENS_OK);
      latens_vec b1 = latens_mat_column(B, 1); /* a strided copy: row 1 of X^T-like layout */
      double buf[2 * 150];
      latens_vec xs = latens_vec_view(buf, n, 2);
      latens_vec_copy(&xs, &b1);
      ck_assert_int_eq(latens_chol_trsv(L, c, &xs), LATENS_OK);
      double e0 = 0.0, e1 = 0.0;
      for (size_t i = 0; i < n; i++) {
        e0 = fmax(e0, fabs(LATENS_VEC(&x0, i) - LATENS_MAT(B, i, 0)));
        e1 = fmax(e1, fabs(LATENS_VEC(&xs, i) - LATENS_VEC(&x1, i)));
      }
      ck_assert_double_le(e0, tol);
      ck_assert_double_le(e1, tol);
    }
    latens_vec b = latens_mat_column(B, 2), x = latens_mat_column(X, 2),
               ax = latens_mat_column(AX, 2);
    latens_vec_copy(&x, &b); /* A x = b */
    ck_assert_int_eq(latens_chol_solve_vec(L, &x), LATENS_OK);
    latens_mat_gemv('N', 1.0, A, &x, 0.0, &ax);
    double ev = 0.0;
    for (size_t i = 0; i < n; i++) ev = fmax(ev, fabs(LATENS_VEC(&ax, i) - LATENS_VEC(&b, i)));
    ck_assert_double_le(ev, tol);
    latens_mat_free(A), latens_mat_free(L), latens_mat_free(B), latens_mat_free(X),
        latens_mat_free(AX);
  }
}
END_TEST

/* Oracle: GSL's gsl_linalg_cholesky_invert (dense reference) and A A^{-1} = I.  Orders 6
 * (unblocked), 300 (blocked, 128 + 128 + 44), out of place and in place.  |A^{-1}| <= 1/n
 * (smallest eigenvalue >= n), and the forward error of an inverse is <= c n u kappa |A^{-1}|
 * with kappa < 3: 3 u per entry for each of the two results, 6 u between them.  The
 * residual A A^{-1} - I is bounded by n u |A||A^{-1}| <= 3 n u, doubled for the gemm. */
START_TEST(inverse_matches_gsl) {
  const size_t sizes[] = {6, 300};
  for (size_t t = 0; t < 2; t++) {
    const size_t n = sizes[t];
    latens_mat *A = random_spd(n, 3 * n), *L = latens_mat_alloc(n, n), *Ai = latens_mat_alloc(n, n);
    latens_mat_copy(L, A);
    ck_assert_int_eq(latens_chol_decomp(L, NULL, NULL), LATENS_OK);
    ck_assert_int_eq(latens_chol_invert(L, Ai), LATENS_OK);
    gsl_matrix *G = gsl_matrix_alloc(n, n);
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < n; j++) gsl_matrix_set(G, i, j, LATENS_MAT(A, i, j));
    gsl_linalg_cholesky_decomp1(G);
    gsl_linalg_cholesky_invert(G);
    double err = 0.0;
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < n; j++)
        err = fmax(err, fabs(LATENS_MAT(Ai, i, j) - gsl_matrix_get(G, i, j)));
    ck_assert_double_le(err, 6.0 * U);
    latens_mat *I = latens_mat_alloc(n, n), *E = latens_mat_alloc(n, n);
    latens_mat_gemm('N', 'N', 1.0, A, Ai, 0.0, I);
    latens_mat_set_identity(E);
    ck_assert_double_le(latens_mat_max_abs_diff(I, E), 6.0 * n * U);
    ck_assert_int_eq(latens_chol_invert(L, L), LATENS_OK); /* in place */
    ck_assert_double_eq(latens_mat_max_abs_diff(L, Ai), 0.0);
    gsl_matrix_free(G);
    latens_mat_free(A), latens_mat_free(L), latens_mat_free(Ai), latens_mat_free(I),
        latens_mat_free(E);
  }
}
END_TEST

/* Oracle: exact arithmetic on the all-ones matrix (rank 1).  The plain factorisation meets an
 * exactly zero pivot at minor 2; ones + 1e-10 I (first rung: 1e-10 x mean diag 1) has
 * pivots 1 + 1e-10 and ~2e-10 > 0, so exactly one retry with jitter 1e-10 succeeds. */
START_TEST(jitter_rescues_singular_psd) {
  const size_t n = 5;
  latens_mat *A = latens_mat_alloc(n, n), *LLt = latens_mat_alloc(n, n);
  for (size_t j = 0; j < n; j++)
    for (size_t i = 0; i < n; i++) LATENS_MAT(A, i, j) = 1.0;
  latens_mat *L = latens_mat_alloc(n, n);
  latens_mat_copy(L, A);
  latens_chol_info info;
  latens_chol_options plain;
  latens_chol_options_default(&plain);
  plain.max_tries = 0;
  ck_assert_int_eq(latens_chol_decomp(L, &plain, &info), LATENS_ENOTPOSDEF);
  ck_assert_uint_eq(info.minor, 2);
  latens_mat_copy(L, A);
  ck_assert_int_eq(latens_chol_decomp(L, NULL, &info), LATENS_OK);
  ck_assert_double_eq(info.jitter, 1e-10);
  ck_assert_uint_eq(info.tries, 2);
  for (size_t i = 0; i < n; i++) LATENS_MAT(A, i, i) += info.jitter;
  latens_mat_gemm('N', 'T', 1.0, L, L, 0.0, LLt);
  ck_assert_double_le(latens_mat_max_abs_diff(LLt, A), 4.0 * (n + 1) * U);

  /* The 14x14 Hilbert matrix (kappa ~ 1e19: numerically singular PSD).  Whether the plain
   * attempt fails depends on the rounding of the build (FMA contraction), so the oracle is
   * the contract: success, the reported jitter is a rung of the ladder, and L L^T
   * reconstructs H + jitter I to the backward-error bound (n+1) u max diag (=1), doubled. */
  const size_t h = 14;
  latens_mat *H = latens_mat_alloc(h, h), *Lh = latens_mat_alloc(h, h),
             *HH = latens_mat_alloc(h, h);
  double mean = 0.0;
  for (size_t j = 0; j < h; j++)
    for (size_t i = 0; i < h; i++) LATENS_MAT(H, i, j) = 1.0 / (double)(i + j + 1);
  for (size_t i = 0; i < h; i++) mean += LATENS_MAT(H, i, i) / (double)h;
  latens_mat_copy(Lh, H);
  double work[14 * 15 / 2];
  latens_chol_options o;
  latens_chol_options_default(&o);
  o.work = work, o.lwork = sizeof work / sizeof *work;
  ck_assert_int_eq(latens_chol_decomp(Lh, &o, &info), LATENS_OK);
  if (info.tries > 1) {
    double rung = 1e-10 * mean * pow(10.0, (double)(info.tries - 2));
    ck_assert_double_eq_tol(info.jitter, rung, 1e-12 * rung);
  }
  for (size_t i = 0; i < h; i++) LATENS_MAT(H, i, i) += info.jitter;
  latens_mat_gemm('N', 'T', 1.0, Lh, Lh, 0.0, HH);
  ck_assert_double_le(latens_mat_max_abs_diff(HH, H), 2.0 * (h + 1) * U);
  latens_mat_free(A), latens_mat_free(L), latens_mat_free(LLt);
  latens_mat_free(H), latens_mat_free(Lh), latens_mat_free(HH);
}
END_TEST

/* Oracle: diag(1, -1) is indefinite by inspection; no jitter up to 1e-5 mean|diag| (=1) can
 * make the second pivot positive. */
START_TEST(indefinite_fails_and_restores) {
  double a[4] = {1.0, 0.0, 0.0, -1.0};
  latens_mat A = latens_mat_view(a, 2, 2, 2);
  latens_chol_info info;
  latens_clear_error();
  ck_assert_int_eq(latens_chol_decomp(&A, NULL, &info), LATENS_ENOTPOSDEF);
  ck_assert_uint_eq(info.minor, 2);
  ck_assert_uint_eq(info.tries, 7);
  ck_assert_double_eq_tol(info.jitter, 1e-5, 1e-20);
  const char *msg;
  ck_assert_int_eq(latens_last_error(&msg), LATENS_ENOTPOSDEF);
  ck_assert_ptr_nonnull(strstr(msg, "minor of order 2"));
  ck_assert_ptr_nonnull(strstr(msg, "1e-05"));
  ck_assert_double_eq(a[0], 1.0); /* restored */
  ck_assert_double_eq(a[3], -1.0);

  /* Larger, through the blocked path: a negative pivot at order 290, in the second panel. */
  const size_t n = 300;
  latens_mat *B = random_spd(n, 4);
  LATENS_MAT(B, 289, 289) = -1e6;
  latens_mat *C = latens_mat_alloc(n, n);
  latens_mat_copy(C, B);
  ck_assert_int_eq(latens_chol_decomp(C, NULL, &info), LATENS_ENOTPOSDEF);
  ck_assert_uint_eq(info.minor, 290);
  size_t changed = 0;
  for (size_t j = 0; j < n; j++)
    for (size_t i = j; i < n; i++) changed += LATENS_MAT(C, i, j) != LATENS_MAT(B, i, j);
  ck_assert_uint_eq(changed, 0);
  latens_mat_free(B), latens_mat_free(C);
}
END_TEST

/* Oracle: the options function and the static initialiser are the same defaults. */
START_TEST(options_default_matches_macro) {
  const latens_chol_options m = LATENS_CHOL_OPTIONS_DEFAULT;
  latens_chol_options o = {0.5, 99u, (double *)&m, 7};
  latens_chol_options_default(&o);
  ck_assert_double_eq(o.jitter_start, m.jitter_start);
  ck_assert_uint_eq(o.max_tries, m.max_tries);
  ck_assert_ptr_eq(o.work, m.work);
  ck_assert_uint_eq(o.lwork, m.lwork);
  ck_assert_double_eq(o.jitter_start, 1e-10);
  ck_assert_uint_eq(o.max_tries, 6);
  latens_chol_options_default(NULL); /* NULL-safe */
}
END_TEST

/* Oracle: exact scaling.  For A = 4^e B every rounded operation of the factorisation (sums,
 * products, quotients, square roots) scales exactly by a power of two unless it over- or
 * underflows, so chol(A) = 2^e chol(B); a subnormal intermediate may cost an ulp, hence the
 * normwise bound 4 (n + 1) u max|L| instead of equality.  B is a random SPD matrix rescaled
 * by a power of two to max diag in (1/2, 1], then taken to max diag ~4.5e307 (4^511) and
 * ~1.5e-300 (4^-498).  n = 5 runs the unblocked kernel, 40 the recursive one on BLAS. */
START_TEST(extreme_scales_factor_exactly) {
  const size_t ns[] = {5, 40};
  const int es[] = {511, -498};
  for (size_t t = 0; t < 2; t++) {
    const size_t n = ns[t];
    latens_mat *B = random_spd(n, 90 + n), *LB = latens_mat_alloc(n, n),
               *LA = latens_mat_alloc(n, n);
    int ex;
    frexp(max_diag(B), &ex);
    for (size_t j = 0; j < n; j++)
      for (size_t i = 0; i < n; i++) LATENS_MAT(B, i, j) = ldexp(LATENS_MAT(B, i, j), -ex);
    latens_mat_copy(LB, B);
    latens_chol_info info;
    ck_assert_int_eq(latens_chol_decomp(LB, NULL, &info), LATENS_OK);
    ck_assert_double_eq(info.jitter, 0.0);
    double lmax = 0.0;
    for (size_t j = 0; j < n; j++)
      for (size_t i = j; i < n; i++) lmax = fmax(lmax, fabs(LATENS_MAT(LB, i, j)));
    for (size_t s = 0; s < 2; s++) {
      const int e = es[s];
      for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++) LATENS_MAT(LA, i, j) = ldexp(LATENS_MAT(B, i, j), 2 * e);
      ck_assert_int_eq(latens_chol_decomp(LA, NULL, &info), LATENS_OK);
      ck_assert_double_eq(info.jitter, 0.0);
      double worst = 0.0;
      for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++)
          worst = fmax(worst, fabs(ldexp(LATENS_MAT(LA, i, j), -e) - LATENS_MAT(LB, i, j)));
      ck_assert_msg(worst <= 4.0 * (n + 1) * U * lmax, "n %zu, scale 4^%d: off by %g", n, e,
                    worst);
    }
    latens_mat_free(B), latens_mat_free(LB), latens_mat_free(LA);
  }
}
END_TEST

/* Oracles: exact arithmetic and the contract (L finite whenever the status is OK).
 * - The rank-1 [[1e308, 1e308], [1e308, 1e308]]: mean |diag| is 1e308 (summing first gave
 *   Inf, hence an Inf jitter and L = diag(Inf, Inf) with status OK).  As for ones(2), the
 *   first rung, jitter 1e-10 x 1e308, leaves a second pivot ~2e298 > 0: success, finite L,
 *   and L L^T = A + jitter I to the backward-error bound 4 (n + 1) u max diag (which is far
 *   below the jitter, so the reconstruction sees it).
 * - diag(DBL_MAX, -1): indefinite; the first rung (~9e297) would push DBL_MAX to Inf, so the
 *   ladder stops at once: LATENS_ENOTPOSDEF, one attempt, jitter 0, A restored (it used to
 *   return OK with L(0,0) = Inf).
 * - diag(DBL_MAX (1 - 1e-7), -1e305): rungs 9e297 .. 9e300 fit under DBL_MAX and fail (each
 *   is below 1e305); the fifth, 9e301, would overflow the first entry, so the ladder stops
 *   after 5 attempts with jitter ~9e300.
 * The message says why the ladder stopped. */
START_TEST(jitter_ladder_never_overflows) {
  double a[4] = {1e308, 1e308, 1e308, 1e308}, r[4];
  latens_mat A = latens_mat_view(a, 2, 2, 2), R = latens_mat_view(r, 2, 2, 2);
  latens_chol_info info;
  ck_assert_int_eq(latens_chol_decomp(&A, NULL, &info), LATENS_OK);
  /* Without FMA the plain second pivot is exactly 0; with it, it may be a rounding residue
   * of either sign, so only the rung itself is certain. */
  if (info.tries > 1) ck_assert_double_eq(info.jitter, 1e-10 * 1e308);
  for (int i = 0; i < 4; i++) ck_assert(isfinite(a[i]));
  ck_assert_int_eq(latens_mat_gemm('N', 'T', 1.0, &A, &A, 0.0, &R), LATENS_OK);
  const double ref[4] = {1e308 + info.jitter, 1e308, 1e308, 1e308 + info.jitter};
  for (int i = 0; i < 4; i++) ck_assert_double_eq_tol(r[i], ref[i], 4.0 * 3 * U * ref[0]);

  double b[4] = {DBL_MAX, 0.0, 0.0, -1.0};
  latens_mat Bm = latens_mat_view(b, 2, 2, 2);
  latens_clear_error();
  ck_assert_int_eq(latens_chol_decomp(&Bm, NULL, &info), LATENS_ENOTPOSDEF);
  ck_assert_uint_eq(info.tries, 1);
  ck_assert_double_eq(info.jitter, 0.0);
  ck_assert_double_eq(b[0], DBL_MAX);
  ck_assert_double_eq(b[3], -1.0);
  const char *msg;
  ck_assert_int_eq(latens_last_error(&msg), LATENS_ENOTPOSDEF);
  ck_assert_ptr_nonnull(strstr(msg, "overflow"));

  double c[4] = {DBL_MAX * (1 - 1e-7), 0.0, 0.0, -1e305};
  latens_mat Cm = latens_mat_view(c, 2, 2, 2);
  const double scale = c[0] / 2 + fabs(c[3]) / 2; /* mean |diag|, as the ladder forms it */
  ck_assert_int_eq(latens_chol_decomp(&Cm, NULL, &info), LATENS_ENOTPOSDEF);
  ck_assert_uint_eq(info.tries, 5);
  ck_assert_double_eq_tol(info.jitter, 1e-7 * scale, 1e-12 * 1e-7 * scale);
  ck_assert_double_eq(c[0], DBL_MAX * (1 - 1e-7));
  ck_assert_double_eq(c[3], -1e305);
  ck_assert_int_eq(latens_last_error(&msg), LATENS_ENOTPOSDEF);
  ck_assert_ptr_nonnull(strstr(msg, "overflow"));

  /* The other end: mean |diag| 4e-320 (subnormal) makes the first rung 1e-10 x 4e-320 = 0,
   * which cannot help: one attempt, not six additions of zero. */
  double d[4] = {4e-320, 0.0, 0.0, -4e-320};
  latens_mat Dm = latens_mat_view(d, 2, 2, 2);
  ck_assert_int_eq(latens_chol_decomp(&Dm, NULL, &info), LATENS_ENOTPOSDEF);
  ck_assert_uint_eq(info.tries, 1);
  ck_assert_int_eq(latens_last_error(&msg), LATENS_ENOTPOSDEF);
  ck_assert_ptr_nonnull(strstr(msg, "underflow"));
}
END_TEST

START_TEST(bad_input_gives_status) {
  double a[9] = {4, 1, 0, 1, 3, 0, 0, 0, 2};
  latens_mat A = latens_mat_view(a, 3, 3, 3);
  latens_mat R = latens_mat_view(a, 3, 2, 3);
  a[1] = NAN;
  ck_assert_int_eq(latens_chol_decomp(&A, NULL, NULL), LATENS_ENOTFINITE);
  ck_assert(isnan(a[1])); /* untouched */
  latens_chol_options plain = {0.0, 0, NULL, 0};
  a[1] = INFINITY;
  ck_assert_int_eq(latens_chol_decomp(&A, &plain, NULL), LATENS_ENOTFINITE);
  a[1] = 1.0;
  a[3] = NAN; /* the strict upper triangle is never read */
  ck_assert_int_eq(latens_chol_decomp(&A, NULL, NULL), LATENS_OK);
  ck_assert_double_eq(a[3], 0.0);
  ck_assert_int_eq(latens_chol_decomp(NULL, NULL, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_chol_decomp(&R, NULL, NULL), LATENS_EBADLEN);
  latens_chol_options bad;
  latens_chol_options_default(&bad);
  bad.jitter_start = 0.0; /* finite, outside the domain */
  ck_assert_int_eq(latens_chol_decomp(&A, &bad, NULL), LATENS_EDOM);
  bad.jitter_start = -1e-10;
  ck_assert_int_eq(latens_chol_decomp(&A, &bad, NULL), LATENS_EDOM);
  bad.jitter_start = NAN;
  ck_assert_int_eq(latens_chol_decomp(&A, &bad, NULL), LATENS_ENOTFINITE);
  bad.jitter_start = INFINITY;
  ck_assert_int_eq(latens_chol_decomp(&A, &bad, NULL), LATENS_ENOTFINITE);
  double big[40 * 40];
  latens_mat B40 = latens_mat_view(big, 40, 40, 40);
  latens_mat_set_identity(&B40);
  double w[10];
  latens_chol_options shortw;
  latens_chol_options_default(&shortw);
  shortw.work = w, shortw.lwork = 10;
  ck_assert_int_eq(latens_chol_decomp(&B40, &shortw, NULL), LATENS_EBADLEN);

  /* n = 0: a valid empty factorisation, log det 0. */
  latens_mat E = latens_mat_view(NULL, 0, 0, 1);
  ck_assert_int_eq(latens_chol_decomp(&E, NULL, NULL), LATENS_OK);
  ck_assert_double_eq(latens_chol_logdet(&E), 0.0);
  ck_assert(isnan(latens_chol_logdet(&R)));
  ck_assert(isnan(latens_chol_logdet(NULL)));

  double v[3] = {1, 2, 3};
  latens_vec x2 = latens_vec_view(v, 2, 1), x3 = latens_vec_view(v, 3, 1);
  ck_assert_int_eq(latens_chol_trsv(&A, 'N', &x2), LATENS_EBADLEN);
  ck_assert_int_eq(latens_chol_trsv(&A, 'X', &x3), LATENS_EINVAL);
  ck_assert_int_eq(latens_chol_trmv(&A, 'N', NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_chol_solve_vec(&R, &x3), LATENS_EBADLEN);
  latens_mat X = latens_mat_view(v, 2, 1, 2);
  ck_assert_int_eq(latens_chol_solve(&A, &X), LATENS_EBADLEN);
  ck_assert_int_eq(latens_chol_trsm(&A, 'N', NULL), LATENS_EINVAL);
  double z[4] = {0};
  latens_mat Z = latens_mat_view(z, 2, 2, 2), Ai = latens_mat_view(big, 3, 3, 3);
  ck_assert_int_eq(latens_chol_invert(&Z, &Z), LATENS_ESING);
  ck_assert_int_eq(latens_chol_invert(&A, &Z), LATENS_EBADLEN);
  ck_assert_int_eq(latens_chol_invert(&A, &Ai), LATENS_OK);
  double lp;
  ck_assert_int_eq(latens_gauss_logpdf(&x2, NULL, &A, NULL, &lp), LATENS_EBADLEN);
  ck_assert_int_eq(latens_gauss_logpdf(&x3, NULL, &A, NULL, NULL), LATENS_EINVAL);
  v[1] = NAN;
  ck_assert_int_eq(latens_gauss_logpdf(&x3, NULL, &A, NULL, &lp), LATENS_ENOTFINITE);
}
END_TEST

/* Oracle: GSL's gsl_ran_multivariate_gaussian_log_pdf (dense reference) on the GSL factor.
 * Both evaluate the same formula on factors equal to ~n u; the log-density is O(n), so
 * the difference is bounded by ~n^2 u (quadratic form of O(1) residuals). */
START_TEST(logpdf_matches_gsl) {
  const size_t sizes[] = {1, 4, 90};
  for (size_t t = 0; t < 3; t++) {
    const size_t n = sizes[t];
    uint64_t seed = 7 * n;
    latens_mat *A = random_spd(n, 17 + n), *L = latens_mat_alloc(n, n);
    latens_mat_copy(L, A);
    latens_chol_decomp(L, NULL, NULL);
    gsl_matrix *G = gsl_matrix_alloc(n, n);
    gsl_vector *gx = gsl_vector_alloc(n), *gm = gsl_vector_alloc(n), *gw = gsl_vector_alloc(n);
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < n; j++) gsl_matrix_set(G, i, j, LATENS_MAT(A, i, j));
    gsl_linalg_cholesky_decomp1(G);
    double xs[90], ms[90], ws[90];
    for (size_t i = 0; i < n; i++) {
      xs[i] = 3.0 * unif(&seed), ms[i] = unif(&seed);
      gsl_vector_set(gx, i, xs[i]), gsl_vector_set(gm, i, ms[i]);
    }
    double ref, got, got0, ref0;
    gsl_ran_multivariate_gaussian_log_pdf(gx, gm, G, &ref, gw);
    latens_vec x = latens_vec_view(xs, n, 1), mu = latens_vec_view(ms, n, 1),
               w = latens_vec_view(ws, n, 1);
    ck_assert_int_eq(latens_gauss_logpdf(&x, &mu, L, &w, &got), LATENS_OK);
    ck_assert_double_eq_tol(got, ref, 8.0 * n * n * U);
    gsl_vector_set_zero(gm);
    gsl_ran_multivariate_gaussian_log_pdf(gx, gm, G, &ref0, gw);
    ck_assert_int_eq(latens_gauss_logpdf(&x, NULL, L, NULL, &got0), LATENS_OK);
    ck_assert_double_eq_tol(got0, ref0, 8.0 * n * n * U);
    gsl_matrix_free(G), gsl_vector_free(gx), gsl_vector_free(gm), gsl_vector_free(gw);
    latens_mat_free(A), latens_mat_free(L);
  }
}
END_TEST

Suite *chol_suite(void) {
  Suite *s = suite_create("chol");
  TCase *tc = tcase_create("chol");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, decomp_matches_gsl_and_reconstructs);
  tcase_add_test(tc, solves_multiply_back);
  tcase_add_test(tc, inverse_matches_gsl);
  tcase_add_test(tc, jitter_rescues_singular_psd);
  tcase_add_test(tc, indefinite_fails_and_restores);
  tcase_add_test(tc, options_default_matches_macro);
  tcase_add_test(tc, extreme_scales_factor_exactly);
  tcase_add_test(tc, jitter_ladder_never_overflows);
  tcase_add_test(tc, bad_input_gives_status);
  tcase_add_test(tc, logpdf_matches_gsl);
  suite_add_tcase(s, tc);
  return s;
}
