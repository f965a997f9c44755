/* tests/core/test_lti.c: matrix exponential, Van Loan discretisation, Lyapunov equations.
 * Each test names its oracle.  u = 2^-53 is the unit roundoff. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_permutation.h>
#include <latens/latens.h>
#include "suites.h"

static const double U = DBL_EPSILON / 2;

#define unif test_unif

/* Set LATENS_TEST_VERBOSE to see the measured errors beside their bounds. */
static void report(const char *what, double err, double tol) {
  if (getenv("LATENS_TEST_VERBOSE"))
    fprintf(stderr, "lti: %-40s err %.3g tol %.3g\n", what, err, tol);
}

static latens_mat mv(double *a, size_t r, size_t c) { return latens_mat_view(a, r, c, r); }

static double max_abs(const double *a, size_t n) {
  double m = 0.0;
  for (size_t k = 0; k < n; k++) m = fmax(m, fabs(a[k]));
  return m;
}

static double max_diff(const double *a, const double *b, size_t n) {
  double m = 0.0;
  for (size_t k = 0; k < n; k++) m = fmax(m, fabs(a[k] - b[k]));
  return m;
}

static double norm1(const double *a, size_t n) {
  double m = 0.0;
  for (size_t j = 0; j < n; j++) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += fabs(a[i + j * n]);
    m = fmax(m, s);
  }
  return m;
}

/* C = A B for n x n column-major arrays (naive: the oracle's own arithmetic). */
static void matmul(size_t n, const double *A, const double *B, double *C) {
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      double s = 0.0;
      for (size_t k = 0; k < n; k++) s += A[i + k * n] * B[k + j * n];
      C[i + j * n] = s;
    }
}

static int expm_arr(size_t n, double *a, double *e) {
  latens_mat A = mv(a, n, n), E = mv(e, n, n);
  return latens_expm(&A, &E, NULL);
}

/* ---------------------------------------------------------------- expm */

/* Scaling steps of Higham's algorithm for ||A||_1 = a: s = max(0, ceil(log2(a / theta_13))). */
static int squarings(double a) {
  const double theta13 = 5.371920351148152; /* Higham (2005), Table 2.3 */
  return a <= theta13 ? 0 : (int)ceil(log2(a / theta13));
}

/* Oracle: closed form, exp(diag(x)) = diag(exp(x)).  A diagonal matrix decouples into the
 * scalar algorithm with the common scaling y = x / 2^s.  r_m(y) = p(y) / p(-y) where one of
 * the two is an alternating sum whose terms add up to about e^{|y|} times its value, so its
 * relative rounding error is about e^{|y|} u (|y| <= theta_13 = 5.37: at most 215 u), plus a
 * few u for the rest; each of the s squarings then doubles the relative error.  Bound, entry
 * by entry: 2^s (16 + e^{|y|}) u.  (Al-Mohy & Higham 2009 is no better here: this is the
 * price of a rational approximant at |y| ~ 5.) */
START_TEST(expm_diagonal) {
  const double x[] = {-30.0, -2.5, 0.0, 0.1, 1.0, 4.0, 20.0};
  const size_t n = sizeof x / sizeof *x;
  double a[49] = {0}, e[49];
  for (size_t i = 0; i < n; i++) a[i + i * n] = x[i];
  ck_assert_int_eq(expm_arr(n, a, e), LATENS_OK);
  const int s = squarings(30.0);
  double off = 0.0;
  for (size_t j = 0; j < n; j++)
    for (size_t i = 0; i < n; i++) {
      if (i != j) {
        off = fmax(off, fabs(e[i + j * n]));
        continue;
      }
      const double err = fabs(e[i + i * n] - exp(x[i])) / exp(x[i]);
      const double tol = ldexp(16 + exp(fabs(ldexp(x[i], -s))), s) * U;
      report("expm diagonal (relative)", err, tol);
      ck_assert_double_le(err, tol);
    }
  ck_assert_double_eq(off, 0.0); /* a diagonal stays diagonal: no fill-in from the LU */

  /* Small norms take the low degrees (m = 3, 5, 7, 9) and 13 without squaring. */
  const double small[] = {0.01, 0.2, 0.9, 2.0, 5.0};
  for (size_t t = 0; t < 5; t++) {
    const double y[2] = {-small[t], 0.5 * small[t]};
    double a2[4] = {y[0], 0, 0, y[1]}, e2[4];
    ck_assert_int_eq(expm_arr(2, a2, e2), LATENS_OK);
    for (int i = 0; i < 2; i++) {
      const double err = fabs(e2[3 * i] - exp(y[i])) / exp(y[i]);
      const double tol = (16 + exp(fabs(y[i]))) * U;
      report("expm diagonal, low degree", err, tol);
      ck_assert_double_le(err, tol);
    }
  }
}
END_TEST

/* Oracle: closed form, exp([[0, -θ], [θ, 0]]) = [[cos θ, -sin θ], [sin θ, cos θ]].  The
 * result is orthogonal (entries <= 1); rounding errors of the ~log2(θ/5.37) squarings of an
 * orthogonal matrix grow about linearly with θ (each squaring doubles the angle error), so
 * the bound is 16 u max(8, θ) absolute. */
START_TEST(expm_rotation) {
  const double th[] = {0.3, 2.0, 40.0, 1000.0};
  for (size_t t = 0; t < 4; t++) {
    double a[4] = {0.0, th[t], -th[t], 0.0}, e[4];
    ck_assert_int_eq(expm_arr(2, a, e), LATENS_OK);
    const double c = cos(th[t]), s = sin(th[t]), ref[4] = {c, s, -s, c};
    const double err = max_diff(e, ref, 4), tol = 16 * U * fmax(8.0, th[t]);
    report("expm rotation", err, tol);
    ck_assert_double_le(err, tol);
  }
}
END_TEST

/* Oracle: finite series.  For nilpotent N (N^4 = 0) exp(N) = I + N + N^2/2 + N^3/6, and the
 * Padé approximant r_m(N) is exact too (r_m(x) - e^x = O(x^{2m+1})), so only rounding is
 * left: 64 u max|E| covers the products, the LU solve and up to two squarings. */
START_TEST(expm_nilpotent) {
  const double scales[] = {0.01, 1.0, 30.0};
  for (size_t t = 0; t < 3; t++) {
    double N[16] = {0}, N2[16], N3[16], ref[16], e[16];
    const double v[6] = {1.0, -2.0, 0.5, 3.0, -1.5, 2.5};
    N[0 + 1 * 4] = v[0], N[0 + 2 * 4] = v[1], N[0 + 3 * 4] = v[2];
    N[1 + 2 * 4] = v[3], N[1 + 3 * 4] = v[4], N[2 + 3 * 4] = v[5];
    for (int k = 0; k < 16; k++) N[k] *= scales[t];
    matmul(4, N, N, N2);
    matmul(4, N2, N, N3);
    for (size_t k = 0; k < 16; k++) ref[k] = N[k] + N2[k] / 2 + N3[k] / 6 + (k % 5 == 0);
    ck_assert_int_eq(expm_arr(4, N, e), LATENS_OK);
    const double err = max_diff(e, ref, 16), tol = 64 * U * max_abs(ref, 16);
    report("expm nilpotent", err, tol);
    ck_assert_double_le(err, tol);
  }
}
END_TEST

/* Oracle: closed form for a Jordan block, exp(λ I + N) = e^λ (I + N + N^2/2) for the 3x3
 * shift N.  Bound 64u relative to max|E| (as for the nilpotent case; e^λ is libm's, <1 ulp). */
START_TEST(expm_jordan) {
  const double lams[] = {0.7, -3.0, 6.0};
  for (size_t t = 0; t < 3; t++) {
    const double l = lams[t], el = exp(l);
    double a[9] = {l, 0, 0, 1, l, 0, 0, 1, l}, e[9];
    const double ref[9] = {el, 0, 0, el, el, 0, el / 2, el, el};
    ck_assert_int_eq(expm_arr(3, a, e), LATENS_OK);
    const double err = max_diff(e, ref, 9), tol = 64 * U * max_abs(ref, 9);
    report("expm jordan", err, tol);
    ck_assert_double_le(err, tol);
  }
}
END_TEST

/* A = V diag(λ) V^{-1} with V unimodular (integer inverse), so exp(A) = V diag(e^λ) V^{-1}
 * is known to long-double accuracy.  V = [[1,2,0],[0,1,1],[1,3,2]], det 1. */
static const double VV[9] = {1, 0, 1, 2, 1, 3, 0, 1, 2};     /* column-major */
static const double VI[9] = {-1, 1, -1, -4, 2, -1, 2, -1, 1}; /* V^{-1}, column-major */

static void known_answer(const double *lam, double *A, double *E) {
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 3; j++) {
      long double a = 0, e = 0;
      for (size_t k = 0; k < 3; k++) {
        a += (long double)VV[i + 3 * k] * lam[k] * VI[k + 3 * j];
        e += (long double)VV[i + 3 * k] * expl(lam[k]) * VI[k + 3 * j];
      }
      A[i + 3 * j] = (double)a, E[i + 3 * j] = (double)e;
    }
}

/* Oracle: the known answer above (A's entries are small integer combinations of λ, exact in
 * double for these λ).  exp is then evaluated for ||A||_1 ~ 10^4: its relative condition
 * number is about ||A|| kappa(V)^2 (kappa_1(V) = 6 * 7 = 42), and Higham's algorithm is
 * backward stable to about the squarings' 2^s u ~ ||A|| u.  Bound: 2 ||A||_1 kappa_1(V) u
 * relative to max|E|.  GSL's gsl_linalg_exponential_ss (a Taylor series with scaling and
 * squaring) on the same matrices is the less accurate of the two: measured errors 4.5e-12,
 * 9.6e-12, 2.3e-12 against ours 3.9e-13, 2.9e-12, 4.0e-13 (3-12x); asserted no better. */
START_TEST(expm_large_norm_known_answer) {
  const double lams[3][3] = {{-1000.0, -1.0, 0.5}, {-2000.0, -700.0, 2.0}, {3.0, -4.0, -800.0}};
  for (size_t t = 0; t < 3; t++) {
    double A[9], ref[9], e[9];
    known_answer(lams[t], A, ref);
    ck_assert_int_eq(expm_arr(3, A, e), LATENS_OK);
    const double kappa = 42.0, scale = max_abs(ref, 9);
    const double err = max_diff(e, ref, 9) / scale, tol = 2.0 * norm1(A, 3) * kappa * U;
    report("expm known answer (relative)", err, tol);
    ck_assert_double_le(err, tol);

    gsl_matrix_view gA = gsl_matrix_view_array(A, 3, 3); /* sees A^T: exp(A^T) = exp(A)^T */
    gsl_matrix *gE = gsl_matrix_alloc(3, 3);
    ck_assert_int_eq(gsl_linalg_exponential_ss(&gA.matrix, gE, GSL_PREC_DOUBLE), GSL_SUCCESS);
    const double gerr = max_diff(gE->data, ref, 9) / scale;
    report("  GSL exponential_ss on the same", gerr, tol);
    ck_assert_double_le(err, gerr);
    gsl_matrix_free(gE);
  }
}
END_TEST

/* Oracle: the group property exp(A) exp(-A) = I.  Each factor has relative error about
 * n u kappa; the product's deviation from I is then bounded by about
 * 2 n u ||E||_1 ||E^-||_1 (times a small constant for the squarings: 8). */
START_TEST(expm_inverse_pair) {
  const size_t sizes[] = {2, 5, 9, 24};
  const double scales[] = {0.05, 0.7, 3.0};
  uint64_t seed = 77;
  for (size_t t = 0; t < 4; t++)
    for (size_t c = 0; c < 3; c++) {
      const size_t n = sizes[t], nn = n * n;
      double *a = malloc(nn * sizeof *a), *na = malloc(nn * sizeof *a), *e = malloc(nn * sizeof *a),
             *ei = malloc(nn * sizeof *a), *p = malloc(nn * sizeof *a);
      for (size_t k = 0; k < nn; k++) a[k] = scales[c] * unif(&seed), na[k] = -a[k];
      ck_assert_int_eq(expm_arr(n, a, e), LATENS_OK);
      ck_assert_int_eq(expm_arr(n, na, ei), LATENS_OK);
      matmul(n, e, ei, p);
      for (size_t i = 0; i < n; i++) p[i + i * n] -= 1.0;
      const double err = max_abs(p, nn), tol = 16.0 * n * U * norm1(e, n) * norm1(ei, n);
      report("expm exp(A) exp(-A) - I", err, tol);
      ck_assert_double_le(err, tol);
      free(a), free(na), free(e), free(ei), free(p);
    }
}
END_TEST

/* Oracle: GSL's gsl_linalg_exponential_ss at GSL_PREC_DOUBLE (dense reference, an
 * independent Taylor-series method) on random matrices of moderate norm, where both are
 * accurate to a small multiple of n u ||A||-ish: bound 32 n u (1 + ||A||_1) relative to
 * max|E|. */
START_TEST(expm_vs_gsl) {
  uint64_t seed = 4242;
  const double scales[] = {0.01, 0.3, 1.5};
  for (size_t n = 1; n <= 8; n++)
    for (size_t c = 0; c < 3; c++) {
      double a[64], e[64];
      for (size_t k = 0; k < n * n; k++) a[k] = scales[c] * unif(&seed);
      gsl_matrix_view gA = gsl_matrix_view_array(a, n, n);
      gsl_matrix *gE = gsl_matrix_alloc(n, n);
      ck_assert_int_eq(gsl_linalg_exponential_ss(&gA.matrix, gE, GSL_PREC_DOUBLE), GSL_SUCCESS);
      ck_assert_int_eq(expm_arr(n, a, e), LATENS_OK);
      const double err = max_diff(e, gE->data, n * n) / max_abs(e, n * n);
      const double tol = 32.0 * n * U * (1.0 + norm1(a, n));
      report("expm vs GSL (relative)", err, tol);
      ck_assert_double_le(err, tol);
      gsl_matrix_free(gE);
    }
}
END_TEST

/* Workspace, in-place and leading-dimension variants must give the very same numbers (same
 * arithmetic), and orders past the stack scratch and the CBLAS thresholds must still work
 * (oracle: bitwise agreement; the inverse-pair test covers accuracy at those orders). */
START_TEST(expm_workspace_inplace_ld) {
  uint64_t seed = 5;
  const size_t sizes[] = {3, 8, 9, 40};
  latens_expm_workspace *w = latens_expm_workspace_alloc(40);
  ck_assert_ptr_nonnull(w);
  for (size_t t = 0; t < 4; t++) {
    const size_t n = sizes[t], nn = n * n, ld = n + 3;
    double *a = malloc(nn * sizeof *a), *e1 = malloc(nn * sizeof *a), *e2 = malloc(nn * sizeof *a);
    double *pad = malloc(ld * n * sizeof *a);
    for (size_t k = 0; k < nn; k++) a[k] = 2.0 * unif(&seed);
    latens_mat A = mv(a, n, n), E1 = mv(e1, n, n), E2 = mv(e2, n, n);
    ck_assert_int_eq(latens_expm(&A, &E1, NULL), LATENS_OK);
    ck_assert_int_eq(latens_expm(&A, &E2, w), LATENS_OK);
    ck_assert_int_eq(memcmp(e1, e2, nn * sizeof *e1), 0);
    for (size_t k = 0; k < ld * n; k++) pad[k] = -7.0;
    latens_mat P = latens_mat_view(pad, n, n, ld);
    for (size_t j = 0; j < n; j++)
      for (size_t i = 0; i < n; i++) LATENS_MAT(&P, i, j) = a[i + j * n];
    ck_assert_int_eq(latens_expm(&P, &P, w), LATENS_OK); /* in place, with padding */
    size_t bad = 0;
    for (size_t j = 0; j < n; j++)
      for (size_t i = 0; i < ld; i++)
        bad += i < n ? LATENS_MAT(&P, i, j) != e1[i + j * n] : pad[i + j * ld] != -7.0;
    ck_assert_uint_eq(bad, 0);
    free(a), free(e1), free(e2), free(pad);
  }
  latens_expm_workspace_free(w);
  latens_expm_workspace_free(NULL);
}
END_TEST

START_TEST(expm_bad_input) {
  double a[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, e[9];
  latens_mat A = mv(a, 3, 3), E = mv(e, 3, 3), R = mv(a, 3, 2), E2 = mv(e, 2, 2);
  latens_mat bad = latens_mat_view(a, 4, 2, 3); /* failed view: data NULL */
  ck_assert_int_eq(latens_expm(NULL, &E, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_expm(&A, NULL, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_expm(&bad, &E, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_expm(&R, &E, NULL), LATENS_EBADLEN);
  ck_assert_int_eq(latens_expm(&A, &E2, NULL), LATENS_EBADLEN);
  latens_expm_workspace *w = latens_expm_workspace_alloc(2);
  ck_assert_int_eq(latens_expm(&A, &E, w), LATENS_EBADLEN);
  latens_expm_workspace_free(w);
  ck_assert_ptr_null(latens_expm_workspace_alloc(0));
  a[4] = NAN;
  e[4] = 12.0;
  ck_assert_int_eq(latens_expm(&A, &E, NULL), LATENS_ENOTFINITE);
  ck_assert_double_eq(e[4], 12.0); /* untouched */
  a[4] = INFINITY;
  ck_assert_int_eq(latens_expm(&A, &E, NULL), LATENS_ENOTFINITE);
  /* exp(1000) overflows; exp(-1e308) is fine (0): extreme norms must not break the scaling. */
  double big = 1000.0, eb, huge[4] = {-1e308, 0, 0, -1e308}, eh[4];
  latens_mat B = mv(&big, 1, 1), EB = mv(&eb, 1, 1), H = mv(huge, 2, 2), EH = mv(eh, 2, 2);
  ck_assert_int_eq(latens_expm(&B, &EB, NULL), LATENS_ERANGE);
  ck_assert_int_eq(latens_expm(&H, &EH, NULL), LATENS_OK);
  ck_assert_double_eq(max_abs(eh, 4), 0.0);
  double dmax[4] = {DBL_MAX, DBL_MAX, DBL_MAX, DBL_MAX}; /* ||A||_1 itself overflows */
  latens_mat DM = mv(dmax, 2, 2);
  ck_assert_int_eq(latens_expm(&DM, &EH, NULL), LATENS_ERANGE);
  /* The empty matrix is valid. */
  latens_mat Z0 = latens_mat_view(NULL, 0, 0, 1);
  ck_assert_int_eq(latens_expm(&Z0, &Z0, NULL), LATENS_OK);
}
END_TEST

/* ---------------------------------------------------------------- Van Loan */

static int discretize_arr(size_t d, double *F, double *G, double dt, double *A, double *Q,
                          latens_lti_workspace *w) {
  latens_mat Fm = mv(F, d, d), Gm = mv(G, d, d), Am = mv(A, d, d), Qm = mv(Q, d, d);
  return latens_lti_discretize(&Fm, &Gm, dt, &Am, &Qm, w);
}

/* Oracle: closed form for the OU process dx = -x/l dt + sqrt(2 s2 / l) dβ:
 * A = e^{-dt/l}, Q = s2 (1 - e^{-2dt/l}) = -s2 expm1(-2 dt/l).  The relative condition number
 * of A in dt is x = dt/l; Q's is at most 1.  Bound: relative (x + 8) 16u for A (16u per
 * unit of x covers the doubling of relative error at each of the log2(2x) squarings) and
 * 64u (1 + log2(1 + x)) for Q (a few roundings per doubling). */
START_TEST(vanloan_scalar_ou) {
  const double l = 0.7, s2 = 1.3, dts[] = {1e-8, 1e-3, 0.5, 3.0, 50.0, 1e4};
  for (size_t t = 0; t < 6; t++) {
    double F = -1.0 / l, G = 2.0 * s2 / l, A, Q;
    ck_assert_int_eq(discretize_arr(1, &F, &G, dts[t], &A, &Q, NULL), LATENS_OK);
    const double x = dts[t] / l, Aref = exp(-x), Qref = -s2 * expm1(-2.0 * x);
    const double ea = Aref > 0 ? fabs(A - Aref) / Aref : fabs(A), eq = fabs(Q - Qref) / Qref;
    const double ta = (x + 8) * 16 * U, tq = 64 * U * (1 + log2(1 + x));
    report("vanloan OU A (relative)", ea, ta);
    report("vanloan OU Q (relative)", eq, tq);
    ck_assert_double_le(ea, ta);
    ck_assert_double_le(eq, tq);
  }
}
END_TEST

/* Matérn state spaces of /work/shared/notes/gp.md section 3 (order p = 1, 2): F, L Qc L^T,
 * Pinf and A = expm(F dt) in closed form. */
static void matern(int p, double lam, double s2, double dt, double *F, double *G, double *Pinf,
                   double *A) {
  const double e = exp(-lam * dt), x = lam * dt;
  if (p == 1) {
    const double f[4] = {0, -lam * lam, 1, -2 * lam}, g[4] = {0, 0, 0, 4 * lam * lam * lam * s2};
    const double pi[4] = {s2, 0, 0, lam * lam * s2};
    const double a[4] = {e * (1 + x), -e * lam * x, e * dt, e * (1 - x)};
    memcpy(F, f, sizeof f), memcpy(G, g, sizeof g), memcpy(Pinf, pi, sizeof pi);
    memcpy(A, a, sizeof a);
    return;
  }
  const double l2 = lam * lam, l3 = l2 * lam, k = l2 * s2 / 3;
  const double f[9] = {0, 0, -l3, 1, 0, -3 * l2, 0, 1, -3 * lam};
  double g[9] = {0};
  g[8] = 16 * l2 * l3 * s2 / 3;
  const double pi[9] = {s2, 0, -k, 0, k, 0, -k, 0, l2 * l2 * s2};
  /* A = e^{-x} (I + dt M), M row-major in the notes; stored column-major here. */
  const double M[3][3] = {{lam * (x / 2 + 1), x + 1, dt / 2},
                          {-l3 * dt / 2, lam * (1 - x), 1 - x / 2},
                          {l3 * (x / 2 - 1), l2 * (x - 3), lam * (x / 2 - 2)}};
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 3; j++) A[i + 3 * j] = e * ((i == j) + dt * M[i][j]);
  memcpy(F, f, sizeof f), memcpy(G, g, sizeof g), memcpy(Pinf, pi, sizeof pi);
}

/* Pinf - A Pinf A^T in long double (the reference for Q, accurate while x = λ dt is not tiny:
 * the subtraction then loses log10(1/x^3) of long double's 19 digits). */
static void stationary_ref(size_t d, const double *A, const double *P, double *Q) {
  for (size_t i = 0; i < d; i++)
    for (size_t j = 0; j < d; j++) {
      long double s = P[i + j * d];
      for (size_t k = 0; k < d; k++)
        for (size_t l = 0; l < d; l++)
          s -= (long double)A[i + k * d] * P[k + l * d] * A[j + l * d];
      Q[i + j * d] = (double)s;
    }
}

/* Error of X against Xref in the natural coordinates of the Matérn state, D = diag(λ^i):
 * max |D^{-1} (X - Xref) D^{-s}| / max |D^{-1} Sc D^{-s}|, s = -1 for transitions and s = 1
 * for covariances, Sc the scale (usually Xref).  An error relative to the largest entry alone
 * would hide the small entries of a graded state (f, f', f'' scale like 1, λ, λ²). */
static double scaled_err(size_t d, const double *X, const double *Xref, const double *Sc,
                         double lam, int s) {
  double e = 0.0, m = 0.0;
  for (size_t i = 0; i < d; i++)
    for (size_t j = 0; j < d; j++) {
      const double w = pow(lam, -(double)i - s * (double)j);
      e = fmax(e, fabs(X[i + j * d] - Xref[i + j * d]) * w), m = fmax(m, fabs(Sc[i + j * d]) * w);
    }
  return e / m;
}

/* ||D^{-1} F D||_1 for the Matérn F: the norm that governs the exponential once the graded
 * state is balanced. */
static double scaled_norm1(size_t d, const double *F, double lam) {
  double m = 0.0;
  for (size_t j = 0; j < d; j++) {
    double c = 0.0;
    for (size_t i = 0; i < d; i++) c += fabs(F[i + j * d]) * pow(lam, (double)j - (double)i);
    m = fmax(m, c);
  }
  return m;
}

/* Oracle: the closed forms of gp.md section 3 (A, Pinf) and Q = Pinf - A Pinf A^T (long
 * double), compared in the state's natural scaling (scaled_err).  Bound for A and Q:
 * (||D^{-1} F D dt||_1 + 8) 32u.  The relative condition number of exp at a matrix of norm
 * ν is about ν for these (after scaling, nearly normal) matrices, and the log2(ν) squarings
 * or doublings each double a relative rounding error of a few u; the closed-form A itself
 * carries a few u. */
START_TEST(vanloan_matern) {
  const double lams[] = {0.8, 25.0}, dts[] = {0.05, 0.3, 1.0, 3.0, 20.0};
  for (int p = 1; p <= 2; p++)
    for (size_t il = 0; il < 2; il++)
      for (size_t t = 0; t < 5; t++) {
        const size_t d = p + 1;
        const double lam = lams[il], dt = dts[t] / lam;
        double F[9], G[9], P[9], Aref[9], Qref[9], A[9], Q[9];
        matern(p, lam, 1.7, dt, F, G, P, Aref);
        stationary_ref(d, Aref, P, Qref);
        ck_assert_int_eq(discretize_arr(d, F, G, dt, A, Q, NULL), LATENS_OK);
        const double tol = (scaled_norm1(d, F, lam) * dt + 8) * 32 * U;
        const double ea = scaled_err(d, A, Aref, Aref, lam, -1);
        const double eq = scaled_err(d, Q, Qref, Qref, lam, 1);
        report(p == 1 ? "vanloan matern32 A" : "vanloan matern52 A", ea, tol);
        report(p == 1 ? "vanloan matern32 Q" : "vanloan matern52 Q", eq, tol);
        ck_assert_double_le(ea, tol);
        ck_assert_double_le(eq, tol);
        /* The stationary form from the same closed-form A: the long double reference's
         * arithmetic in double, d^2 products per entry, so 4 d^2 u against Pinf's scale. */
        double Qs[9];
        latens_mat Am = mv(Aref, d, d), Pm = mv(P, d, d), Qm = mv(Qs, d, d);
        ck_assert_int_eq(latens_lti_stationary_noise(&Am, &Pm, &Qm), LATENS_OK);
        const double ep = scaled_err(d, Qs, Qref, P, lam, 1);
        report("stationary_noise vs long double", ep, 4 * d * d * U);
        ck_assert_double_le(ep, 4 * d * d * U);
      }
}
END_TEST

/* Oracle: closed form for the Wiener velocity (double integrator) F = [[0,1],[0,0]],
 * LQLt = diag(0, q): A = [[1, dt], [0, 1]], Q = q [[dt^3/3, dt^2/2], [dt^2/2, dt]].  F is
 * nilpotent, so every step is exact up to rounding: 32u (1 + log2(1 + dt)) relative, entry by
 * entry, for the roundings of the doublings.  Also F = 0 (plain Wiener): Q = LQLt dt. */
START_TEST(vanloan_wiener_velocity) {
  const double q = 0.37, dts[] = {1e-6, 0.1, 1.0, 7.5, 1e3};
  for (size_t t = 0; t < 5; t++) {
    const double dt = dts[t];
    double F[4] = {0, 0, 1, 0}, G[4] = {0, 0, 0, q}, A[4], Q[4];
    ck_assert_int_eq(discretize_arr(2, F, G, dt, A, Q, NULL), LATENS_OK);
    const double Aref[4] = {1, 0, dt, 1};
    const double Qref[4] = {q * dt * dt * dt / 3, q * dt * dt / 2, q * dt * dt / 2, q * dt};
    double worst = max_diff(A, Aref, 4) / dt;
    for (int k = 0; k < 4; k++) worst = fmax(worst, fabs(Q[k] - Qref[k]) / Qref[k]);
    const double tol = 32 * U * (1 + log2(1 + dt));
    report("vanloan wiener velocity (relative)", worst, tol);
    ck_assert_double_le(worst, tol);

    double Z[4] = {0}, G2[4] = {2.0, 0.5, 0.5, 1.0};
    ck_assert_int_eq(discretize_arr(2, Z, G2, dt, A, Q, NULL), LATENS_OK);
    for (int k = 0; k < 4; k++) {
      ck_assert_double_eq(A[k], k % 3 == 0);
      ck_assert_double_eq_tol(Q[k], G2[k] * dt, 2 * U * G2[k] * dt);
    }
  }
}
END_TEST

/* Oracle: latens_expm(F dt) for A (an independent path through the same exponential:
 * bound (||F dt|| + 8) 32 u relative), bitwise agreement between the stack, heap and
 * workspace paths, and the exact dt = 0 case. */
START_TEST(vanloan_paths_agree) {
  uint64_t seed = 31;
  const size_t dims[] = {1, 3, 4, 5, 9};
  latens_lti_workspace *w = latens_lti_workspace_alloc(9);
  ck_assert_ptr_nonnull(w);
  for (size_t t = 0; t < 5; t++) {
    const size_t d = dims[t], dd = d * d;
    double F[81], G[81], A1[81], Q1[81], A2[81], Q2[81], Fdt[81], E[81];
    for (size_t k = 0; k < dd; k++) F[k] = unif(&seed), G[k] = 0.0;
    for (size_t i = 0; i < d; i++) F[i + i * d] -= 1.5, G[i + i * d] = 1.0 + i;
    const double dt = 0.8;
    ck_assert_int_eq(discretize_arr(d, F, G, dt, A1, Q1, NULL), LATENS_OK);
    ck_assert_int_eq(discretize_arr(d, F, G, dt, A2, Q2, w), LATENS_OK);
    ck_assert_int_eq(memcmp(A1, A2, dd * sizeof *A1), 0);
    ck_assert_int_eq(memcmp(Q1, Q2, dd * sizeof *Q1), 0);
    for (size_t k = 0; k < dd; k++) Fdt[k] = F[k] * dt;
    ck_assert_int_eq(expm_arr(d, Fdt, E), LATENS_OK);
    const double err = max_diff(A1, E, dd) / max_abs(E, dd), tol = (norm1(Fdt, d) + 8) * 32 * U;
    report("vanloan A vs expm(F dt)", err, tol);
    ck_assert_double_le(err, tol);
    for (size_t i = 0; i < d; i++) /* Q symmetric exactly */
      for (size_t j = 0; j < d; j++) ck_assert_double_eq(Q1[i + j * d], Q1[j + i * d]);
    ck_assert_int_eq(discretize_arr(d, F, G, 0.0, A1, Q1, w), LATENS_OK);
    for (size_t i = 0; i < d; i++)
      for (size_t j = 0; j < d; j++) {
        ck_assert_double_eq(A1[i + j * d], i == j);
        ck_assert_double_eq(Q1[i + j * d], 0.0);
      }
  }
  latens_lti_workspace_free(w);
  latens_lti_workspace_free(NULL);
}
END_TEST

START_TEST(vanloan_bad_input) {
  double F[4] = {-1, 0, 0, -1}, G[4] = {1, 0, 0, 1}, A[4], Q[4], R[6] = {0};
  latens_mat Fm = mv(F, 2, 2), Gm = mv(G, 2, 2), Am = mv(A, 2, 2), Qm = mv(Q, 2, 2);
  latens_mat Rm = mv(R, 2, 3), G3 = mv(R, 3, 2), bad = latens_mat_view(F, 3, 2, 2);
  ck_assert_int_eq(latens_lti_discretize(NULL, &Gm, 1.0, &Am, &Qm, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_lti_discretize(&Fm, NULL, 1.0, &Am, &Qm, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_lti_discretize(&Fm, &Gm, 1.0, NULL, &Qm, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_lti_discretize(&Fm, &Gm, 1.0, &Am, NULL, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_lti_discretize(&bad, &Gm, 1.0, &Am, &Qm, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_lti_discretize(&Rm, &Gm, 1.0, &Am, &Qm, NULL), LATENS_EBADLEN);
  ck_assert_int_eq(latens_lti_discretize(&Fm, &G3, 1.0, &Am, &Qm, NULL), LATENS_EBADLEN);
  ck_assert_int_eq(latens_lti_discretize(&Fm, &Gm, 1.0, &Rm, &Qm, NULL), LATENS_EBADLEN);
  ck_assert_int_eq(latens_lti_discretize(&Fm, &Gm, -1e-300, &Am, &Qm, NULL), LATENS_EDOM);
  ck_assert_int_eq(latens_lti_discretize(&Fm, &Gm, NAN, &Am, &Qm, NULL), LATENS_ENOTFINITE);
  ck_assert_int_eq(latens_lti_discretize(&Fm, &Gm, INFINITY, &Am, &Qm, NULL), LATENS_ENOTFINITE);
  latens_lti_workspace *w = latens_lti_workspace_alloc(1);
  ck_assert_int_eq(latens_lti_discretize(&Fm, &Gm, 1.0, &Am, &Qm, w), LATENS_EBADLEN);
  latens_lti_workspace_free(w);
  ck_assert_ptr_null(latens_lti_workspace_alloc(0));
  G[1] = NAN;
  ck_assert_int_eq(latens_lti_discretize(&Fm, &Gm, 1.0, &Am, &Qm, NULL), LATENS_ENOTFINITE);
  G[1] = 0.0, F[3] = -INFINITY;
  ck_assert_int_eq(latens_lti_discretize(&Fm, &Gm, 1.0, &Am, &Qm, NULL), LATENS_ENOTFINITE);
  F[3] = 2.0; /* unstable: e^{2 dt} overflows for dt = 1000 */
  ck_assert_int_eq(latens_lti_discretize(&Fm, &Gm, 1000.0, &Am, &Qm, NULL), LATENS_ERANGE);
  latens_mat Z0 = latens_mat_view(NULL, 0, 0, 1);
  ck_assert_int_eq(latens_lti_discretize(&Z0, &Z0, 1.0, &Z0, &Z0, NULL), LATENS_OK);

  ck_assert_int_eq(latens_lti_stationary_noise(NULL, &Gm, &Qm), LATENS_EINVAL);
  ck_assert_int_eq(latens_lti_stationary_noise(&Fm, &G3, &Qm), LATENS_EBADLEN);
  ck_assert_int_eq(latens_lti_stationary_noise(&Fm, &Gm, &Rm), LATENS_EBADLEN);
  F[0] = NAN;
  ck_assert_int_eq(latens_lti_stationary_noise(&Fm, &Gm, &Qm), LATENS_ENOTFINITE);
}
END_TEST

/* ---------------------------------------------------------------- Lyapunov */

static int lyap_arr(size_t d, double *F, double *C, double *P) {
  latens_mat Fm = mv(F, d, d), Cm = mv(C, d, d), Pm = mv(P, d, d);
  return latens_lyap_solve(&Fm, &Cm, &Pm);
}

/* Oracle: the closed-form Pinf of gp.md section 3 for Matérn-3/2 and -5/2, compared in the
 * state's natural scaling (scaled_err).  In those coordinates F is λ times a fixed matrix
 * with eigenvalue -1 of multiplicity d, whose Lyapunov operator is mildly conditioned, and
 * the Schur method is backward stable: bound 64 d u. */
START_TEST(lyap_matern) {
  const double lams[] = {0.05, 1.0, 30.0};
  for (int p = 1; p <= 2; p++)
    for (size_t t = 0; t < 3; t++) {
      const size_t d = p + 1;
      double F[9], G[9], Pref[9], A[9], P[9];
      matern(p, lams[t], 2.3, 1.0, F, G, Pref, A);
      ck_assert_int_eq(lyap_arr(d, F, G, P), LATENS_OK);
      const double err = scaled_err(d, P, Pref, Pref, lams[t], 1), tol = 64 * d * U;
      report(p == 1 ? "lyap matern32" : "lyap matern52", err, tol);
      ck_assert_double_le(err, tol);
    }
  double f = -2.0, c = 3.0, pp; /* d = 1: P = -C / (2F) */
  ck_assert_int_eq(lyap_arr(1, &f, &c, &pp), LATENS_OK);
  ck_assert_double_eq_tol(pp, 0.75, 2 * U);
}
END_TEST

/* Random stable F = X - c I (c > ||X||_1, so every eigenvalue has real part < -0.5) plus a
 * rotation block that guarantees complex pairs (2x2 Schur blocks); C = B B^T.
 * Oracles: (1) the residual: Bartels-Stewart is backward stable in the sense
 * |F P + P F^T + C|_F <= c d u (2 |F|_F |P|_F + |C|_F) (Higham, Accuracy and Stability,
 * section 16.2) with c = 16 here; (2) a dense Kronecker solve (I ⊗ F + F ⊗ I) vec P = -vec C
 * with GSL's LU, the two agreeing to 8 d^2 u kappa_1 relative, kappa_1 the 1-norm condition
 * number of the Kronecker matrix (from GSL's LU inverse). */
START_TEST(lyap_random_stable) {
  uint64_t seed = 1234;
  for (size_t d = 2; d <= 12; d += 5)
    for (int rep = 0; rep < 3; rep++) {
      const size_t dd = d * d;
      double *F = malloc(dd * sizeof *F), *C = malloc(dd * sizeof *F), *P = malloc(dd * sizeof *F);
      double *B = malloc(dd * sizeof *F), *R = malloc(dd * sizeof *F), *T = malloc(dd * sizeof *F);
      for (size_t k = 0; k < dd; k++) F[k] = unif(&seed), B[k] = unif(&seed);
      F[0 + 1 * d] += 4.0 * (rep + 1), F[1 + 0 * d] -= 4.0 * (rep + 1);
      const double c = norm1(F, d) * (rep == 2 ? 0.6 : 1.0) + 0.5; /* rep 2: tighter margin */
      for (size_t i = 0; i < d; i++) F[i + i * d] -= c;
      for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
          double s = 0.0;
          for (size_t k = 0; k < d; k++) s += B[i + k * d] * B[j + k * d];
          C[i + j * d] = s;
        }
      int st = lyap_arr(d, F, C, P);
      if (rep == 2 && st == LATENS_ESING) goto next; /* the tighter margin may be unstable */
      ck_assert_int_eq(st, LATENS_OK);
      matmul(d, F, P, R);
      double fn = 0, pn = 0, cn = 0, rn = 0;
      for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++) {
          const double r = R[i + j * d] + R[j + i * d] + C[i + j * d];
          rn += r * r, fn += F[i + j * d] * F[i + j * d], pn += P[i + j * d] * P[i + j * d];
          cn += C[i + j * d] * C[i + j * d];
        }
      const double res = sqrt(rn), rtol = 16 * d * U * (2 * sqrt(fn) * sqrt(pn) + sqrt(cn));
      report("lyap residual (Frobenius)", res, rtol);
      ck_assert_double_le(res, rtol);

      const size_t N = dd;
      gsl_matrix *K = gsl_matrix_alloc(N, N), *Ki = gsl_matrix_alloc(N, N);
      gsl_vector *b = gsl_vector_alloc(N), *x = gsl_vector_alloc(N);
      gsl_permutation *perm = gsl_permutation_alloc(N);
      gsl_matrix_set_zero(K);
      for (size_t j = 0; j < d; j++) /* vec index i + j d */
        for (size_t i = 0; i < d; i++) {
          for (size_t k = 0; k < d; k++) {
            *gsl_matrix_ptr(K, i + j * d, k + j * d) += F[i + k * d]; /* (I ⊗ F) */
            *gsl_matrix_ptr(K, i + j * d, i + k * d) += F[j + k * d]; /* (F ⊗ I) */
          }
          gsl_vector_set(b, i + j * d, -C[i + j * d]);
        }
      double kn = 0.0;
      for (size_t j = 0; j < N; j++) {
        double s = 0.0;
        for (size_t i = 0; i < N; i++) s += fabs(gsl_matrix_get(K, i, j));
        kn = fmax(kn, s);
      }
      int sign;
      gsl_linalg_LU_decomp(K, perm, &sign);
      gsl_linalg_LU_solve(K, perm, b, x);
      gsl_linalg_LU_invert(K, perm, Ki);
      double kin = 0.0;
      for (size_t j = 0; j < N; j++) {
        double s = 0.0;
        for (size_t i = 0; i < N; i++) s += fabs(gsl_matrix_get(Ki, i, j));
        kin = fmax(kin, s);
      }
      for (size_t k = 0; k < N; k++) T[k] = gsl_vector_get(x, k);
      const double err = max_diff(P, T, dd) / max_abs(T, dd), tol = 8 * dd * U * kn * kin;
      report("lyap vs Kronecker LU (relative)", err, tol);
      ck_assert_double_le(err, tol);
      gsl_matrix_free(K), gsl_matrix_free(Ki), gsl_vector_free(b), gsl_vector_free(x);
      gsl_permutation_free(perm);
    next:
      free(F), free(C), free(P), free(B), free(R), free(T);
    }
}
END_TEST

/* Oracle: the definition of stability.  Eigenvalues with real part >= 0 (an unstable mode,
 * the double integrator's zeros, a pure rotation) must give LATENS_ESING, not a P. */
START_TEST(lyap_unstable) {
  double C[4] = {1, 0, 0, 1}, P[4];
  double up[4] = {0.1, 0, 1, -1}, dint[4] = {0, 0, 1, 0}, rot[4] = {0, 1, -1, 0};
  ck_assert_int_eq(lyap_arr(2, up, C, P), LATENS_ESING);
  ck_assert_int_eq(lyap_arr(2, dint, C, P), LATENS_ESING);
  ck_assert_int_eq(lyap_arr(2, rot, C, P), LATENS_ESING);
  double f = 0.0, c = 1.0, p;
  ck_assert_int_eq(lyap_arr(1, &f, &c, &p), LATENS_ESING);
  double F3[9] = {-1, 0, 0, 0, -2, 0, 0, 0, 1e-3}, C3[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, P3[9];
  ck_assert_int_eq(lyap_arr(3, F3, C3, P3), LATENS_ESING);

  double F[4] = {-1, 0, 0, -1}, R[6];
  latens_mat Fm = mv(F, 2, 2), Cm = mv(C, 2, 2), Pm = mv(P, 2, 2), Rm = mv(R, 2, 3);
  ck_assert_int_eq(latens_lyap_solve(NULL, &Cm, &Pm), LATENS_EINVAL);
  ck_assert_int_eq(latens_lyap_solve(&Fm, NULL, &Pm), LATENS_EINVAL);
  ck_assert_int_eq(latens_lyap_solve(&Fm, &Cm, NULL), LATENS_EINVAL);
  ck_assert_int_eq(latens_lyap_solve(&Rm, &Cm, &Pm), LATENS_EBADLEN);
  ck_assert_int_eq(latens_lyap_solve(&Fm, &Rm, &Pm), LATENS_EBADLEN);
  ck_assert_int_eq(latens_lyap_solve(&Fm, &Cm, &Rm), LATENS_EBADLEN);
  C[1] = NAN;
  ck_assert_int_eq(latens_lyap_solve(&Fm, &Cm, &Pm), LATENS_ENOTFINITE);
  C[1] = 0.0, F[2] = INFINITY;
  ck_assert_int_eq(latens_lyap_solve(&Fm, &Cm, &Pm), LATENS_ENOTFINITE);
  latens_mat Z0 = latens_mat_view(NULL, 0, 0, 1);
  ck_assert_int_eq(latens_lyap_solve(&Z0, &Z0, &Z0), LATENS_OK);
}
END_TEST

/* Oracle: consistency of the two routes to the process noise of a stable model.  The
 * stationary covariance obeys Q(dt) = Pinf - A Pinf A^T for every dt, and Q(dt) -> Pinf as
 * dt grows.  Pinf from latens_lyap_solve carries a relative error ~ d u kappa_lyap (here
 * kappa_lyap < 50 by construction: eigenvalue real parts in [-4, -0.5]); the subtraction
 * then leaves an absolute error of order u ||Pinf||.  Bound: 1e3 d u max|Pinf|, absolute. */
START_TEST(consistency_discretize_lyap) {
  uint64_t seed = 99;
  const size_t d = 4, dd = 16;
  double F[16], G[16], B[16], P[16], A[16], Q[16], Qs[16];
  for (size_t k = 0; k < dd; k++) F[k] = 0.5 * unif(&seed), B[k] = unif(&seed);
  F[0 + 1 * d] += 3.0, F[1 + 0 * d] -= 3.0; /* an oscillating pair */
  const double c = 0.5 * norm1(F, d) + 0.7;
  for (size_t i = 0; i < d; i++) F[i + i * d] -= c;
  for (size_t i = 0; i < d; i++)
    for (size_t j = 0; j < d; j++) {
      double s = 0.0;
      for (size_t k = 0; k < d; k++) s += B[i + k * d] * B[j + k * d];
      G[i + j * d] = s;
    }
  ck_assert_int_eq(lyap_arr(d, F, G, P), LATENS_OK);
  const double dts[] = {1e-3, 0.1, 1.0, 10.0, 1e3, 1e6};
  latens_lti_workspace *w = latens_lti_workspace_alloc(d);
  for (size_t t = 0; t < 6; t++) {
    ck_assert_int_eq(discretize_arr(d, F, G, dts[t], A, Q, w), LATENS_OK);
    latens_mat Am = mv(A, d, d), Pm = mv(P, d, d), Qm = mv(Qs, d, d);
    ck_assert_int_eq(latens_lti_stationary_noise(&Am, &Pm, &Qm), LATENS_OK);
    const double err = max_diff(Q, Qs, dd), tol = 1e3 * d * U * max_abs(P, dd);
    report("Q(dt) vs Pinf - A Pinf A^T", err, tol);
    ck_assert_double_le(err, tol);
  }
  /* dt = 1e6: A underflows to exactly zero and Q is Pinf itself. */
  ck_assert_double_eq(max_abs(A, dd), 0.0);
  const double err = max_diff(Q, P, dd), tol = 1e3 * d * U * max_abs(P, dd);
  report("Q(1e6) vs Pinf", err, tol);
  ck_assert_double_le(err, tol);
  latens_lti_workspace_free(w);
}
END_TEST

Suite *lti_suite(void) {
  Suite *s = suite_create("lti");
  TCase *tc = tcase_create("expm");
  tcase_add_test(tc, expm_diagonal);
  tcase_add_test(tc, expm_rotation);
  tcase_add_test(tc, expm_nilpotent);
  tcase_add_test(tc, expm_jordan);
  tcase_add_test(tc, expm_large_norm_known_answer);
  tcase_add_test(tc, expm_inverse_pair);
  tcase_add_test(tc, expm_vs_gsl);
  tcase_add_test(tc, expm_workspace_inplace_ld);
  tcase_add_test(tc, expm_bad_input);
  suite_add_tcase(s, tc);
  tc = tcase_create("vanloan");
  tcase_add_test(tc, vanloan_scalar_ou);
  tcase_add_test(tc, vanloan_matern);
  tcase_add_test(tc, vanloan_wiener_velocity);
  tcase_add_test(tc, vanloan_paths_agree);
  tcase_add_test(tc, vanloan_bad_input);
  suite_add_tcase(s, tc);
  tc = tcase_create("lyap");
  tcase_add_test(tc, lyap_matern);
  tcase_add_test(tc, lyap_random_stable);
  tcase_add_test(tc, lyap_unstable);
  tcase_add_test(tc, consistency_discretize_lyap);
  suite_add_tcase(s, tc);
  return s;
}
