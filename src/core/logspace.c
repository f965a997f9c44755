/* core/logspace.c: stable log-space sums, softplus and friends, and the log-space matrix
 * product.  Argument checking and the special cases live here; the loops that matter for
 * speed are in logspace_kernels.c. */
#include "internal.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <gsl/gsl_cblas.h>
#include <latens/logspace.h>
#include "logspace_kernels.h"

/* Below this many rows a row-wise reduction is cheaper as one strided reduction per row. */
#define ROWS_VECTOR_MIN 4

double latens_logsumexp(const double *x, size_t n, size_t stride) {
  if (n == 0) return -INFINITY;
  if (!x || stride == 0) {
    latens_errorf(__FILE__, __LINE__, LATENS_EINVAL, "latens_logsumexp: %s (n = %zu)",
                  x ? "stride is 0" : "x is NULL", n);
    return NAN;
  }
  return latens_lse_kernel(x, stride, NULL, 0, n);
}

double latens_logsumexp_weighted(const double *x, const double *w, size_t n) {
  if (n == 0) return -INFINITY;
  if (!x || !w) {
    latens_errorf(__FILE__, __LINE__, LATENS_EINVAL,
                  "latens_logsumexp_weighted: %s is NULL (n = %zu)", x ? "w" : "x", n);
    return NAN;
  }
  return latens_lse_kernel(x, 1, w, 1, n);
}

/* Maechler (2012): below -37, log1p(e^x) = e^x (1 - e^x/2 + ...) and e^x / 2 < eps / 2, so
 * the correction is invisible; above 18, log1p(e^x) = x + log1p(e^-x) and replacing the
 * second term by e^-x errs by e^-2x / 2 < eps x / 2; above 33.3, e^-x < eps x / 2 too. */
double latens_log1pexp(double x) {
  if (x <= -37.0) return exp(x);
  if (x <= 18.0) return log1p(exp(x));
  if (x <= 33.3) return x + exp(-x);
  return x; /* also NaN */
}

/* Maechler (2012): near 0, 1 - e^x cancels, so take -expm1(x); far below, e^x is tiny and
 * log1p(-e^x) keeps its digits.  The switch at -ln 2 is where both lose the least. */
double latens_log1mexp(double x) {
  if (isnan(x)) return x;
  if (x > 0.0) {
    latens_errorf(__FILE__, __LINE__, LATENS_EDOM, "latens_log1mexp: x = %g > 0", x);
    return NAN;
  }
  if (x > -M_LN2) return log(-expm1(x));
  return log1p(-exp(x));
}

double latens_logaddexp(double a, double b) {
  if (isnan(a) || isnan(b)) return a + b;
  double hi = a > b ? a : b, lo = a > b ? b : a;
  /* Both infinite ends need no arithmetic (and Inf - Inf below would be NaN). */
  if (hi == -INFINITY || hi == INFINITY) return hi;
  return hi + latens_log1pexp(lo - hi);
}

double latens_logsubexp(double a, double b) {
  if (isnan(a) || isnan(b)) return a + b;
  if (a < b || (a == b && a == INFINITY)) {
    latens_errorf(__FILE__, __LINE__, LATENS_EDOM, "latens_logsubexp: exp(%g) - exp(%g) is %s",
                  a, b, a < b ? "negative" : "Inf - Inf");
    return NAN;
  }
  if (a == b) return -INFINITY;
  if (a == INFINITY) return INFINITY;
  return a + latens_log1mexp(b - a);
}

static int check_reduce_args(const char *fn, const latens_mat *X, const latens_vec *w,
                             const latens_vec *out, size_t nterm, size_t nout) {
  if (!X || !out) LATENS_ERRORF(LATENS_EINVAL, "%s: %s is NULL", fn, X ? "out" : "X");
  if (X->ld < X->nrow)
    LATENS_ERRORF(LATENS_EINVAL, "%s: X has ld %zu < nrow %zu", fn, X->ld, X->nrow);
  if (!X->data && X->nrow && X->ncol)
    LATENS_ERRORF(LATENS_EINVAL, "%s: X (%zux%zu) has no data", fn, X->nrow, X->ncol);
  if (out->n != nout)
    LATENS_ERRORF(LATENS_EBADLEN, "%s: out has length %zu, expected %zu", fn, out->n, nout);
  if (nout && (!out->data || out->stride == 0))
    LATENS_ERRORF(LATENS_EINVAL, "%s: out has no data or stride 0", fn);
  if (w) {
    if (w->n != nterm)
      LATENS_ERRORF(LATENS_EBADLEN, "%s: w has length %zu, expected %zu", fn, w->n, nterm);
    if (nterm && (!w->data || w->stride == 0))
      LATENS_ERRORF(LATENS_EINVAL, "%s: w has no data or stride 0", fn);
  }
  return LATENS_OK;
}

int latens_logsumexp_rows(const latens_mat *X, const latens_vec *w, latens_vec *out) {
  int st = check_reduce_args("latens_logsumexp_rows", X, w, out, X ? X->ncol : 0, X ? X->nrow : 0);
  if (st) return st;
  const double *wd = w && X->ncol ? w->data : NULL;
  size_t ws = wd ? w->stride : 0;
  if (X->ncol == 0) {
    for (size_t i = 0; i < X->nrow; i++) LATENS_VEC(out, i) = -INFINITY;
  } else if (X->nrow < ROWS_VECTOR_MIN) {
    for (size_t i = 0; i < X->nrow; i++)
      LATENS_VEC(out, i) = latens_lse_kernel(X->data + i, X->ld, wd, ws, X->ncol);
  } else {
    latens_lse_rows_kernel(X->data, X->ld, X->nrow, X->ncol, wd, ws, out->data, out->stride);
  }
  return LATENS_OK;
}

int latens_logsumexp_cols(const latens_mat *X, const latens_vec *w, latens_vec *out) {
  int st = check_reduce_args("latens_logsumexp_cols", X, w, out, X ? X->nrow : 0, X ? X->ncol : 0);
  if (st) return st;
  const double *wd = w && X->nrow ? w->data : NULL;
  size_t ws = wd ? w->stride : 0;
  for (size_t j = 0; j < X->ncol; j++)
    LATENS_VEC(out, j) =
        X->nrow ? latens_lse_kernel(X->data + j * X->ld, 1, wd, ws, X->nrow) : -INFINITY;
  return LATENS_OK;
}

/* ---------------------------------------------------------------- log-space product */

size_t latens_logmatmul_work_size(size_t m, size_t k, size_t n) {
  size_t ea = latens_mul_size(m, k), eb = latens_mul_size(k, n);
  if ((ea == 0 && m && k) || (eb == 0 && k && n)) return 0;
  if (m > (SIZE_MAX / 4) || n > (SIZE_MAX / 4)) return 0;
  size_t sz = ea, extra[] = {eb, 2 * m, 2 * n};
  for (size_t i = 0; i < 3; i++) {
    if (extra[i] > SIZE_MAX - sz) return 0;
    sz += extra[i];
  }
  return sz;
}

static int check_matmul_args(const latens_mat *A, const latens_mat *B, const latens_mat *C) {
  if (!A || !B || !C) LATENS_ERROR("latens_logmatmul: A, B or C is NULL", LATENS_EINVAL);
  if (A->ncol != B->nrow || C->nrow != A->nrow || C->ncol != B->ncol)
    LATENS_ERRORF(LATENS_EBADLEN, "latens_logmatmul: (%zux%zu)(%zux%zu) into %zux%zu", A->nrow,
                  A->ncol, B->nrow, B->ncol, C->nrow, C->ncol);
  const latens_mat *all[] = {A, B, C};
  const char *name = "ABC";
  for (int t = 0; t < 3; t++) {
    const latens_mat *M = all[t];
    if (M->ld < M->nrow)
      LATENS_ERRORF(LATENS_EINVAL, "latens_logmatmul: %c has ld %zu < nrow %zu", name[t], M->ld,
                    M->nrow);
    if (!M->data && M->nrow && M->ncol)
      LATENS_ERRORF(LATENS_EINVAL, "latens_logmatmul: %c (%zux%zu) has no data", name[t], M->nrow,
                    M->ncol);
    if (M->nrow > INT_MAX || M->ncol > INT_MAX || M->ld > INT_MAX)
      LATENS_ERRORF(LATENS_EINVAL, "latens_logmatmul: %c (%zux%zu, ld %zu) exceeds the BLAS int",
                    name[t], M->nrow, M->ncol, M->ld);
  }
  return LATENS_OK;
}

/* One entry the shifted product cannot give: infinite or NaN row/column maxima, or a product
 * so small that underflow in the shifted exponentials may have eaten its digits. */
static double logmatmul_entry(const latens_mat *A, const latens_mat *B, size_t i, size_t j,
                              double ra, double rb) {
  if (isnan(ra) || isnan(rb)) return NAN;
  /* A row (column) of -Inf contributes exp(-Inf) = 0 to every term, unless it meets +Inf. */
  if (ra == -INFINITY || rb == -INFINITY)
    return (ra == INFINITY || rb == INFINITY) ? NAN : -INFINITY;
  return latens_lse_kernel(A->data + i, A->ld, B->data + j * B->ld, 1, A->ncol);
}

int latens_logmatmul(const latens_mat *A, const latens_mat *B, latens_mat *C, double *work) {
  int st = check_matmul_args(A, B, C);
  if (st) return st;
  size_t m = A->nrow, k = A->ncol, n = B->ncol;
  if (m == 0 || n == 0) return LATENS_OK;
  if (k == 0) {
    for (size_t j = 0; j < n; j++)
      for (size_t i = 0; i < m; i++) LATENS_MAT(C, i, j) = -INFINITY;
    return LATENS_OK;
  }
  size_t need = latens_logmatmul_work_size(m, k, n);
  double *own = NULL;
  if (need == 0)
    LATENS_ERRORF(LATENS_ENOMEM, "latens_logmatmul: workspace for %zux%zux%zu overflows", m, k, n);
  if (!work) {
    work = own = malloc(need * sizeof *own);
    if (!own) LATENS_ERRORF(LATENS_ENOMEM, "latens_logmatmul: cannot allocate %zu doubles", need);
  }
  double *EA = work, *EB = EA + m * k, *ra = EB + k * n, *sa = ra + m, *rb = sa + m, *sb = rb + n;
  latens_rowmax_kernel(A->data, A->ld, m, k, ra);
  int rows_finite = 1;
  for (size_t i = 0; i < m; i++) {
    rows_finite &= isfinite(ra[i]) != 0;
    sa[i] = isfinite(ra[i]) ? ra[i] : 0.0;
  }
  latens_exp_rowshift_kernel(A->data, A->ld, m, k, sa, EA, m);
  for (size_t j = 0; j < n; j++) {
    rb[j] = latens_max_kernel(B->data + j * B->ld, k);
    sb[j] = isfinite(rb[j]) ? rb[j] : 0.0;
    latens_exp_shift_kernel(B->data + j * B->ld, k, sb[j], EB + j * k);
  }
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)k, 1.0, EA, (int)m,
              EB, (int)k, 0.0, C->data, (int)C->ld);
  /* Each shifted product carries an absolute error of at most ~k * 2^-1074 from underflowing
   * exponentials; 2^-960 leaves 2^-114 of relative headroom, far below rounding. */
  double thr = (double)k * 0x1p-960;
  for (size_t j = 0; j < n; j++) {
    double *c = C->data + j * C->ld;
    if (isfinite(rb[j]) && latens_log_shift_kernel(c, m, ra, sa, sb[j], thr)) {
      for (size_t i = 0; !rows_finite && i < m; i++)
        if (!isfinite(ra[i])) c[i] = logmatmul_entry(A, B, i, j, ra[i], rb[j]);
      continue;
    }
    for (size_t i = 0; i < m; i++) {
      if (isfinite(ra[i]) && isfinite(rb[j]) && c[i] >= thr)
        c[i] = sa[i] + sb[j] + log(c[i]);
      else
        c[i] = logmatmul_entry(A, B, i, j, ra[i], rb[j]);
    }
  }
  free(own);
  return LATENS_OK;
}
