/* tests/core/test_logspace.c: log-space sums, softplus, log1mexp and the log-space product.
 *
 * Oracles: closed forms where they exist (log(n(n+1)/2), 1000 + ln 2, ...), and otherwise the
 * same quantity evaluated by brute force in long double (x87 extended precision, 64-bit
 * mantissa: ~2000 times finer than double), which is exact at double precision for the
 * ranges used here.
 *
 * Tolerances: glibc's scalar and libmvec exp/log are within 4 ulp; a sum of n positive terms
 * adds at most (n - 1) roundings of eps relative, which becomes an absolute error of the same
 * size after the log; adding back the shift m costs eps |m|.  lse_tol() states that bound. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <latens/latens.h>
#include "suites.h"

static double lse_tol(size_t n, double ref) {
  return (n + 8) * DBL_EPSILON + 8 * DBL_EPSILON * fabs(ref);
}

/* Brute-force oracle: max-shifted sum in long double.  NaN and +-Inf are decided in double
 * (valgrind's x87 emulation does not classify long double infinities reliably). */
static double lse_ref(const double *x, size_t n, size_t stride, const double *w, size_t ws) {
  double m = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    double v = x[i * stride] + (w ? w[i * ws] : 0.0);
    if (isnan(v)) return NAN;
    if (v > m) m = v;
  }
  if (isinf(m)) return m;
  long double s = 0;
  for (size_t i = 0; i < n; i++) s += expl((long double)x[i * stride] + (w ? w[i * ws] : 0.0) - m);
  return (double)(m + logl(s));
}

static double fill_value(size_t i, size_t j) {
  return 3.0 * sin(0.7 + 1.3 * i + 0.37 * j * j) - 0.1 * j;
}

START_TEST(logaddexp_and_logsubexp) {
  /* Closed forms. */
  ck_assert_double_eq_tol(latens_logaddexp(1.0, 2.0), log(exp(1.0) + exp(2.0)),
                          4 * DBL_EPSILON * 3);
  ck_assert_double_eq_tol(latens_logaddexp(1000.0, 1000.0), 1000.0 + M_LN2, 2000 * DBL_EPSILON);
  ck_assert_double_eq(latens_logaddexp(1000.0, -1000.0), 1000.0); /* e^-2000 is below eps */
  ck_assert_double_eq(latens_logaddexp(-INFINITY, 3.0), 3.0);
  ck_assert(isinf(latens_logaddexp(-INFINITY, -INFINITY)) &&
            latens_logaddexp(-INFINITY, -INFINITY) < 0);
  ck_assert(isinf(latens_logaddexp(INFINITY, -INFINITY)) && latens_logaddexp(INFINITY, 1.0) > 0);
  ck_assert(isinf(latens_logaddexp(INFINITY, INFINITY)));
  ck_assert(isnan(latens_logaddexp(NAN, 1.0)) && isnan(latens_logaddexp(-INFINITY, NAN)));

  ck_assert_double_eq_tol(latens_logsubexp(log(5.0), log(3.0)), log(2.0), 8 * DBL_EPSILON);
  /* log(e^1000 - e^999) = 1000 + log(1 - e^-1); the naive form overflows. */
  ck_assert_double_eq_tol(latens_logsubexp(1000.0, 999.0), 1000.0 + log1p(-exp(-1.0)),
                          2000 * DBL_EPSILON);
  ck_assert(isinf(latens_logsubexp(2.0, 2.0)) && latens_logsubexp(2.0, 2.0) < 0);
  ck_assert(isinf(latens_logsubexp(-INFINITY, -INFINITY)) &&
            latens_logsubexp(-INFINITY, -INFINITY) < 0);
  /* Bad input gives NaN and is reported (EDOM); an incoming NaN passes through silently. */
  latens_clear_error();
  ck_assert(isnan(latens_logsubexp(1.0, 2.0))); /* negative difference */
  ck_assert_int_eq(latens_last_error(NULL), LATENS_EDOM);
  latens_clear_error();
  ck_assert(isnan(latens_logsubexp(INFINITY, INFINITY))); /* Inf - Inf */
  ck_assert_int_eq(latens_last_error(NULL), LATENS_EDOM);
  latens_clear_error();
  ck_assert(isinf(latens_logsubexp(INFINITY, 0.0)));
  ck_assert_double_eq(latens_logsubexp(0.0, -INFINITY), 0.0);
  ck_assert(isnan(latens_logsubexp(NAN, 0.0)));
  ck_assert_int_eq(latens_last_error(NULL), LATENS_OK);
}
END_TEST

START_TEST(log1pexp_whole_range) {
  /* Oracle: log1p(exp(x)) in long double.  Tolerance 4 ulp: exp and log1p are each within
   * 1 ulp and the composition adds one rounding (see the file comment). */
  double worst = 0;
  for (double x = -800.0; x <= 800.0; x += 0.37) {
    double ref = (double)log1pl(expl((long double)x)), got = latens_log1pexp(x);
    if (ref < DBL_MIN) {
      ck_assert_double_eq_tol(got, ref, DBL_MIN);
      continue;
    }
    double e = fabs(got - ref) / ref;
    if (e > worst) worst = e;
  }
  ck_assert_msg(worst <= 4 * DBL_EPSILON, "log1pexp relative error %g", worst);
  /* The thresholds themselves (Maechler 2012), from both sides. */
  double edges[] = {-37.0, 18.0, 33.3};
  for (int t = 0; t < 3; t++)
    for (int s = -1; s <= 1; s += 2) {
      double x = nextafter(edges[t], edges[t] + s);
      double ref = (double)log1pl(expl((long double)x));
      ck_assert_double_eq_tol(latens_log1pexp(x), ref, 4 * DBL_EPSILON * ref);
    }
  ck_assert_double_eq(latens_log1pexp(-INFINITY), 0.0);
  ck_assert(isinf(latens_log1pexp(INFINITY)) && isnan(latens_log1pexp(NAN)));
}
END_TEST

START_TEST(log1mexp_whole_range) {
  /* Oracle: log(1 - e^x) in long double; 4 ulp as above. */
  double worst = 0;
  for (double x = -700.0; x < 0; x = x * 0.93 - 1e-300) {
    if (x > -1e-300) break;
    long double xl = x;
    double ref = (double)(x > -0.5 ? logl(-expm1l(xl)) : log1pl(-expl(xl)));
    double e = fabs(latens_log1mexp(x) - ref) / fabs(ref);
    if (e > worst) worst = e;
    if (x > -1e-18) break;
  }
  ck_assert_msg(worst <= 4 * DBL_EPSILON, "log1mexp relative error %g", worst);
  /* Closed form near 0: 1 - e^-t = t - t^2/2 + ..., so log1mexp(-1e-20) = log(1e-20) to 1e-20;
   * the naive log(1 - exp(x)) gives -Inf there. */
  ck_assert_double_eq_tol(latens_log1mexp(-1e-20), log(1e-20), 4 * DBL_EPSILON * 47);
  ck_assert(isinf(log(1.0 - exp(-1e-20))));
  ck_assert(isinf(latens_log1mexp(0.0)) && latens_log1mexp(0.0) < 0);
  ck_assert_double_eq(latens_log1mexp(-INFINITY), 0.0);
  latens_clear_error();
  ck_assert(isnan(latens_log1mexp(NAN)));
  ck_assert_int_eq(latens_last_error(NULL), LATENS_OK); /* propagated, not reported */
  ck_assert(isnan(latens_log1mexp(1.0)));
  ck_assert_int_eq(latens_last_error(NULL), LATENS_EDOM); /* outside the domain: reported */
}
END_TEST

START_TEST(logsumexp_vector) {
  enum { N = 1000 };
  double x[3 * N];
  /* Closed form: sum_{i<n} (i+1) = n(n+1)/2, at shifts that overflow or underflow a naive sum. */
  double shifts[] = {0.0, 1000.0, -1000.0};
  for (int t = 0; t < 3; t++) {
    for (size_t i = 0; i < N; i++) x[i] = shifts[t] + log(i + 1.0);
    double ref = shifts[t] + log(N * (N + 1.0) / 2.0);
    ck_assert_double_eq_tol(latens_logsumexp(x, N, 1), ref, lse_tol(N, ref));
  }
  /* Every length up to 37 (vector bodies and remainders), strided and not, vs brute force. */
  for (size_t n = 1; n <= 37; n++) {
    for (size_t i = 0; i < 3 * n; i++) x[i] = fill_value(i, n);
    double ref1 = lse_ref(x, n, 1, NULL, 0), ref3 = lse_ref(x, n, 3, NULL, 0);
    ck_assert_double_eq_tol(latens_logsumexp(x, n, 1), ref1, lse_tol(n, ref1));
    ck_assert_double_eq_tol(latens_logsumexp(x, n, 3), ref3, lse_tol(n, ref3));
    double refw = lse_ref(x, n, 1, x + n, 1);
    ck_assert_double_eq_tol(latens_logsumexp_weighted(x, x + n, n), refw, lse_tol(n, refw));
  }
  /* IEEE conventions. */
  double s[5] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
  ck_assert(isinf(latens_logsumexp(s, 5, 1)) && latens_logsumexp(s, 5, 1) < 0);
  s[3] = 2.0;
  ck_assert_double_eq(latens_logsumexp(s, 5, 1), 2.0);
  s[1] = INFINITY;
  ck_assert(isinf(latens_logsumexp(s, 5, 1)) && latens_logsumexp(s, 5, 1) > 0);
  s[4] = NAN;
  ck_assert(isnan(latens_logsumexp(s, 5, 1)));
  ck_assert(isinf(latens_logsumexp(NULL, 0, 1)) && latens_logsumexp(NULL, 0, 1) < 0);
  /* Bad input: NaN and a status, not a crash. */
  latens_clear_error();
  ck_assert(isnan(latens_logsumexp(NULL, 3, 1)));
  ck_assert_int_eq(latens_last_error(NULL), LATENS_EINVAL);
  ck_assert(isnan(latens_logsumexp(x, 3, 0)));
  ck_assert(isnan(latens_logsumexp_weighted(x, NULL, 3)));
}
END_TEST

/* Brute-force check of one reduction direction (rows: per row over columns). */
static void check_reduce(const latens_mat *X, const latens_vec *w, const latens_vec *out,
                         int rows) {
  size_t nout = rows ? X->nrow : X->ncol, nterm = rows ? X->ncol : X->nrow;
  for (size_t r = 0; r < nout; r++) {
    const double *base = rows ? X->data + r : X->data + r * X->ld;
    double ref = lse_ref(base, nterm, rows ? X->ld : 1, w ? w->data : NULL, w ? w->stride : 0);
    double got = LATENS_VEC(out, r);
    if (isnan(ref) || isinf(ref))
      ck_assert_msg(isnan(ref) ? isnan(got) : got == ref, "%s %zu: got %g, expected %g",
                    rows ? "row" : "col", r, got, ref);
    else
      ck_assert_msg(fabs(got - ref) <= lse_tol(nterm, ref), "%s %zu: got %.17g, expected %.17g",
                    rows ? "row" : "col", r, got, ref);
  }
}

START_TEST(logsumexp_rows_cols) {
  /* Shapes: fewer rows than the vector path wants, several row blocks, and ld padding. */
  size_t shapes[][2] = {{2, 50}, {37, 23}, {150, 9}, {5, 1}};
  for (int t = 0; t < 4; t++) {
    size_t nr = shapes[t][0], nc = shapes[t][1], ld = nr + 3;
    double *data = malloc(ld * nc * sizeof *data), *wbuf = malloc(2 * (nr + nc) * sizeof *wbuf);
    double *obuf = malloc(2 * (nr + nc) * sizeof *obuf);
    for (size_t j = 0; j < nc; j++)
      for (size_t i = 0; i < ld; i++) data[i + j * ld] = i < nr ? fill_value(i, j) : NAN;
    for (size_t i = 0; i < 2 * (nr + nc); i++) wbuf[i] = -0.5 * i + cos(1.0 * i);
    latens_mat X = latens_mat_view(data, nr, nc, ld);
    latens_vec orow = latens_vec_view(obuf, nr, 2), ocol = latens_vec_view(obuf, nc, 2);
    latens_vec wrow = latens_vec_view(wbuf, nc, 2), wcol = latens_vec_view(wbuf, nr, 1);
    ck_assert_int_eq(latens_logsumexp_rows(&X, NULL, &orow), LATENS_OK);
    check_reduce(&X, NULL, &orow, 1);
    ck_assert_int_eq(latens_logsumexp_rows(&X, &wrow, &orow), LATENS_OK);
    check_reduce(&X, &wrow, &orow, 1);
    ck_assert_int_eq(latens_logsumexp_cols(&X, NULL, &ocol), LATENS_OK);
    check_reduce(&X, NULL, &ocol, 0);
    ck_assert_int_eq(latens_logsumexp_cols(&X, &wcol, &ocol), LATENS_OK);
    check_reduce(&X, &wcol, &ocol, 0);
    /* Special rows in the vectorised path: all -Inf, one +Inf, one NaN, beside normal ones. */
    if (nr >= 37) {
      for (size_t j = 0; j < nc; j++) LATENS_MAT(&X, 4, j) = -INFINITY;
      LATENS_MAT(&X, 7, nc / 2) = INFINITY;
      LATENS_MAT(&X, 30, nc - 1) = NAN;
      ck_assert_int_eq(latens_logsumexp_rows(&X, NULL, &orow), LATENS_OK);
      ck_assert(isinf(LATENS_VEC(&orow, 4)) && LATENS_VEC(&orow, 4) < 0);
      ck_assert(isinf(LATENS_VEC(&orow, 7)) && LATENS_VEC(&orow, 7) > 0);
      ck_assert(isnan(LATENS_VEC(&orow, 30)));
      check_reduce(&X, NULL, &orow, 1);
      ck_assert_int_eq(latens_logsumexp_cols(&X, NULL, &ocol), LATENS_OK);
      check_reduce(&X, NULL, &ocol, 0);
    }
    free(data), free(wbuf), free(obuf);
  }
}
END_TEST

START_TEST(logsumexp_rows_cols_bad_input) {
  double d[12] = {0}, o[4];
  latens_mat X = latens_mat_view(d, 3, 4, 3);
  latens_vec o3 = latens_vec_view(o, 3, 1), o4 = latens_vec_view(o, 4, 1);
  ck_assert_int_eq(latens_logsumexp_rows(&X, NULL, &o4), LATENS_EBADLEN);
  ck_assert_int_eq(latens_logsumexp_cols(&X, NULL, &o3), LATENS_EBADLEN);
  ck_assert_int_eq(latens_logsumexp_rows(&X, &o3, &o3), LATENS_EBADLEN); /* w needs 4 */
  ck_assert_int_eq(latens_logsumexp_rows(NULL, NULL, &o3), LATENS_EINVAL);
  ck_assert_int_eq(latens_logsumexp_rows(&X, NULL, NULL), LATENS_EINVAL);
  latens_mat badld = {d, 3, 4, 2, 0};
  ck_assert_int_eq(latens_logsumexp_cols(&badld, NULL, &o4), LATENS_EINVAL);
  latens_mat nodata = {NULL, 3, 4, 3, 0};
  ck_assert_int_eq(latens_logsumexp_cols(&nodata, NULL, &o4), LATENS_EINVAL);
  /* Empty reductions are log 0 = -Inf; no rows is nothing to do. */
  latens_mat nocol = latens_mat_view(d, 3, 0, 3);
  latens_vec o0 = latens_vec_view(o, 0, 1);
  ck_assert_int_eq(latens_logsumexp_rows(&nocol, NULL, &o3), LATENS_OK);
  ck_assert(isinf(o[0]) && o[0] < 0 && isinf(o[2]));
  ck_assert_int_eq(latens_logsumexp_cols(&nocol, NULL, &o0), LATENS_OK);
  latens_mat norow = latens_mat_view(d, 0, 4, 1);
  ck_assert_int_eq(latens_logsumexp_cols(&norow, NULL, &o4), LATENS_OK);
  ck_assert(isinf(o[3]) && o[3] < 0);
}
END_TEST

/* Brute-force oracle for the log-space product, entry by entry in long double. */
static void check_logmatmul(const latens_mat *A, const latens_mat *B, const latens_mat *C) {
  size_t k = A->ncol;
  double row[512];
  for (size_t i = 0; i < C->nrow; i++)
    for (size_t j = 0; j < C->ncol; j++) {
      for (size_t t = 0; t < k; t++) row[t] = LATENS_MAT(A, i, t);
      double ref = lse_ref(row, k, 1, B->data + j * B->ld, 1), got = LATENS_MAT(C, i, j);
      if (isnan(ref) || isinf(ref))
        ck_assert_msg(isnan(ref) ? isnan(got) : got == ref, "C[%zu,%zu] = %g, expected %g", i, j,
                      got, ref);
      else /* lse_tol, plus the row and column shifts added back (each up to |ref| + 6) */
        ck_assert_msg(fabs(got - ref) <= lse_tol(k, ref) + 16 * DBL_EPSILON * (fabs(ref) + 6),
                      "C[%zu,%zu] = %.17g, expected %.17g", i, j, got, ref);
    }
}

START_TEST(logmatmul_matches_brute_force) {
  size_t shapes[][3] = {{13, 7, 9}, {70, 40, 50}, {1, 1, 1}, {3, 100, 2}};
  for (int t = 0; t < 4; t++) {
    size_t m = shapes[t][0], k = shapes[t][1], n = shapes[t][2];
    latens_mat *A = latens_mat_alloc(m + 2, k), *B = latens_mat_alloc(k + 1, n),
               *C = latens_mat_alloc(m + 1, n);
    latens_mat Av = latens_mat_submatrix(A, 1, 0, m, k), Bv = latens_mat_submatrix(B, 0, 0, k, n);
    latens_mat Cv = latens_mat_submatrix(C, 1, 0, m, n);
    for (size_t j = 0; j < k; j++)
      for (size_t i = 0; i < m; i++) LATENS_MAT(&Av, i, j) = fill_value(i, j) + 0.3 * j;
    for (size_t j = 0; j < n; j++)
      for (size_t i = 0; i < k; i++) LATENS_MAT(&Bv, i, j) = fill_value(j + 5, i) - 0.2 * i;
    ck_assert_int_eq(latens_logmatmul(&Av, &Bv, &Cv, NULL), LATENS_OK);
    check_logmatmul(&Av, &Bv, &Cv);
    /* A caller-provided workspace gives the same bits. */
    latens_mat *C2 = latens_mat_alloc(m, n);
    double *work = malloc(latens_logmatmul_work_size(m, k, n) * sizeof *work);
    ck_assert_int_eq(latens_logmatmul(&Av, &Bv, C2, work), LATENS_OK);
    ck_assert_double_eq(latens_mat_max_abs_diff(&Cv, C2), 0.0);
    free(work);
    latens_mat_free(A), latens_mat_free(B), latens_mat_free(C), latens_mat_free(C2);
  }
}
END_TEST

START_TEST(logmatmul_special_values) {
  enum { M = 6, K = 3, N = 5 };
  double a[M * K], b[K * N], c[M * N];
  latens_mat A = latens_mat_view(a, M, K, M), B = latens_mat_view(b, K, N, K),
             C = latens_mat_view(c, M, N, M);
  for (size_t j = 0; j < K; j++)
    for (size_t i = 0; i < M; i++) a[i + j * M] = fill_value(i, j);
  for (size_t j = 0; j < N; j++)
    for (size_t i = 0; i < K; i++) b[i + j * K] = fill_value(j, i + 3);
  /* Row 0 of A peaks at k = 0, column 0 of B at k = 2, 2000 nats apart: the shifted product
   * underflows to 0 and the entry must be recomputed.  Closed form: -2000 + log 2. */
  a[0] = 0.0, a[0 + M] = -5000.0, a[0 + 2 * M] = -2000.0;
  b[0] = -2000.0, b[1] = -5000.0, b[2] = 0.0;
  for (size_t i = 0; i < M; i++) a[i + M] = -INFINITY;     /* k = 1 never contributes */
  a[1] = a[1 + 2 * M] = -INFINITY;                         /* row 1 entirely -Inf */
  a[2 + 2 * M] = NAN;                                      /* row 2 NaN */
  a[3] = INFINITY;                                         /* row 3 +Inf at k = 0 */
  for (size_t i = 0; i < K; i++) b[i + 1 * K] = -INFINITY; /* column 1 entirely -Inf */
  b[0 + 3 * K] = NAN;                                      /* column 3 NaN */
  ck_assert_int_eq(latens_logmatmul(&A, &B, &C, NULL), LATENS_OK);
  ck_assert_double_eq_tol(c[0], -2000.0 + M_LN2, 4000 * DBL_EPSILON);
  for (size_t j = 0; j < N; j++) {
    ck_assert(j == 3 ? isnan(c[1 + j * M]) : (isinf(c[1 + j * M]) && c[1 + j * M] < 0));
    ck_assert(isnan(c[2 + j * M]));
  }
  /* Row 3 (+Inf) meets column 1 (-Inf): Inf * 0 is NaN; with a finite column it is +Inf. */
  ck_assert(isnan(c[3 + 1 * M]));
  ck_assert(isinf(c[3 + 0 * M]) && c[3 + 0 * M] > 0);
  /* Everything else agrees with brute force (which applies the same IEEE rules). */
  check_logmatmul(&A, &B, &C);
  /* The same rules when K spans whole vector lanes (K = 20): NaN at k = 13 of a column of B and
   * k = 9 of a row of A, a column of -Inf, a row of -Inf with one +Inf. */
  enum { M2 = 5, K2 = 20, N2 = 4 };
  double a2[M2 * K2], b2[K2 * N2], c2[M2 * N2];
  for (size_t j = 0; j < K2; j++)
    for (size_t i = 0; i < M2; i++) a2[i + j * M2] = fill_value(i, j);
  for (size_t j = 0; j < N2; j++)
    for (size_t i = 0; i < K2; i++) b2[i + j * K2] = fill_value(j + 2, i);
  b2[13 + 1 * K2] = NAN;
  a2[2 + 9 * M2] = NAN;
  for (size_t i = 0; i < K2; i++) b2[i + 3 * K2] = -INFINITY, a2[4 + i * M2] = -INFINITY;
  a2[4 + 17 * M2] = INFINITY;
  latens_mat A2 = latens_mat_view(a2, M2, K2, M2), B2 = latens_mat_view(b2, K2, N2, K2);
  latens_mat C2 = latens_mat_view(c2, M2, N2, M2);
  ck_assert_int_eq(latens_logmatmul(&A2, &B2, &C2, NULL), LATENS_OK);
  ck_assert(isnan(c2[0 + 1 * M2]) && isnan(c2[2 + 0 * M2]) && isnan(c2[4 + 3 * M2]));
  ck_assert(isinf(c2[0 + 3 * M2]) && c2[0 + 3 * M2] < 0 && isinf(c2[4]) && c2[4] > 0);
  check_logmatmul(&A2, &B2, &C2);
}
END_TEST

START_TEST(logmatmul_bad_input) {
  double a[6] = {0}, b[6] = {0}, c[9];
  latens_mat A = latens_mat_view(a, 2, 3, 2), B = latens_mat_view(b, 3, 2, 3),
             C = latens_mat_view(c, 2, 2, 2);
  latens_mat Cbad = latens_mat_view(c, 3, 2, 3);
  ck_assert_int_eq(latens_logmatmul(&A, &B, &Cbad, NULL), LATENS_EBADLEN);
  ck_assert_int_eq(latens_logmatmul(&A, &A, &C, NULL), LATENS_EBADLEN);
  ck_assert_int_eq(latens_logmatmul(NULL, &B, &C, NULL), LATENS_EINVAL);
  latens_mat Aldbad = {a, 2, 3, 1, 0};
  ck_assert_int_eq(latens_logmatmul(&Aldbad, &B, &C, NULL), LATENS_EINVAL);
  latens_mat Anull = {NULL, 2, 3, 2, 0};
  ck_assert_int_eq(latens_logmatmul(&Anull, &B, &C, NULL), LATENS_EINVAL);
  /* K = 0: every entry is an empty sum, log 0 = -Inf. */
  latens_mat A0 = latens_mat_view(a, 2, 0, 2), B0 = latens_mat_view(b, 0, 2, 1);
  ck_assert_int_eq(latens_logmatmul(&A0, &B0, &C, NULL), LATENS_OK);
  for (int i = 0; i < 4; i++) ck_assert(isinf(c[i]) && c[i] < 0);
  ck_assert_uint_eq(latens_logmatmul_work_size(2, 3, 4), 2 * 3 + 3 * 4 + 2 * 2 + 2 * 4);
  ck_assert_uint_eq(latens_logmatmul_work_size(SIZE_MAX / 2, 3, 4), 0);
  /* A dimension beyond the BLAS int is LATENS_EINVAL, as everywhere in latens.  The views
   * are never dereferenced: the sizes are refused first. */
  const size_t big = (size_t)INT_MAX + 1;
  latens_mat Abig = latens_mat_view(a, big, 1, big), B1 = latens_mat_view(b, 1, 1, 1),
             Cbig = latens_mat_view(c, big, 1, big);
  ck_assert_int_eq(latens_logmatmul(&Abig, &B1, &Cbig, NULL), LATENS_EINVAL);
}
END_TEST

Suite *logspace_suite(void) {
  Suite *s = suite_create("logspace");
  TCase *tc = tcase_create("logspace");
  tcase_add_test(tc, logaddexp_and_logsubexp);
  tcase_add_test(tc, log1pexp_whole_range);
  tcase_add_test(tc, log1mexp_whole_range);
  tcase_add_test(tc, logsumexp_vector);
  tcase_add_test(tc, logsumexp_rows_cols);
  tcase_add_test(tc, logsumexp_rows_cols_bad_input);
  tcase_add_test(tc, logmatmul_matches_brute_force);
  tcase_add_test(tc, logmatmul_special_values);
  tcase_add_test(tc, logmatmul_bad_input);
  suite_add_tcase(s, tc);
  return s;
}
