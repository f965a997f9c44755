/* causal/score_data.c: data checks, centring, covariances and least squares shared by the
 * LiNGAM family, the cumulant method, NOTEARS and GES. */
#include "score_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cdf.h>

int cs_check_data(const char *fn, const double *X, size_t n, size_t p, size_t ldx, size_t min_n) {
  if (!X || n == 0 || p == 0)
    LATENS_ERRORF(LATENS_EINVAL, "%s: data is empty (n = %zu, p = %zu)", fn, n, p);
  if (ldx < n) LATENS_ERRORF(LATENS_EINVAL, "%s: leading dimension %zu < n = %zu", fn, ldx, n);
  for (size_t j = 0; j < p; j++)
    for (size_t i = 0; i < n; i++)
      if (!isfinite(X[i + j * ldx]))
        LATENS_ERRORF(LATENS_ENOTFINITE, "%s: value %g at row %zu, column %zu", fn,
                      X[i + j * ldx], i + 1, j + 1);
  if (n < min_n)
    LATENS_ERRORF(LATENS_EDOM, "%s: n = %zu observations for p = %zu variables; needs n >= %zu",
                  fn, n, p, min_n);
  for (size_t j = 0; j < p; j++) {
    const double *x = X + j * ldx;
    size_t i = 1;
    while (i < n && x[i] == x[0]) i++;
    if (i == n) LATENS_ERRORF(LATENS_EDOM, "%s: column %zu is constant (%g)", fn, j + 1, x[0]);
  }
  return LATENS_OK;
}

void cs_center(const double *X, size_t n, size_t p, size_t ldx, double *Y, int scale) {
  for (size_t j = 0; j < p; j++) {
    const double *x = X + j * ldx;
    double *y = Y + j * n, m = 0.0, v = 0.0;
    for (size_t i = 0; i < n; i++) m += x[i];
    m /= (double)n;
    for (size_t i = 0; i < n; i++) y[i] = x[i] - m, v += y[i] * y[i];
    if (scale) {
      const double s = v > 0 ? 1.0 / sqrt(v / (double)n) : 1.0;
      for (size_t i = 0; i < n; i++) y[i] *= s;
    }
  }
}

void cs_cov(const double *Y, size_t n, size_t p, double *S) {
  latens_dense_mm(1, 0, p, p, n, 1.0 / (double)n, Y, n, Y, n, 0.0, S, p);
  latens_dense_symmetrize(S, p, p);
}

int cs_check_collinear(const char *fn, const double *S, size_t p) {
  double *L = malloc(p * p * sizeof *L);
  if (!L) LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory for a %zux%zu matrix", fn, p, p);
  for (size_t j = 0; j < p; j++)
    for (size_t i = 0; i < p; i++)
      L[i + j * p] = S[i + j * p] / sqrt(S[i + i * p] * S[j + j * p]);
  /* Unpivoted Cholesky of the correlation matrix: the pivot at column j is 1 - R^2 of column
   * j on the columns before it, so a tiny pivot names the column that is a combination. */
  for (size_t j = 0; j < p; j++) {
    double d = L[j + j * p];
    for (size_t k = 0; k < j; k++) d -= L[j + k * p] * L[j + k * p];
    if (!(d > 1e-10)) {
      free(L);
      LATENS_ERRORF(LATENS_ESING, "%s: column %zu is (numerically) a linear combination of "
                    "columns 1..%zu (1 - R^2 = %.3g)", fn, j + 1, j, d);
    }
    d = sqrt(d);
    L[j + j * p] = d;
    for (size_t i = j + 1; i < p; i++) {
      double s = L[i + j * p];
      for (size_t k = 0; k < j; k++) s -= L[i + k * p] * L[j + k * p];
      L[i + j * p] = s / d;
    }
  }
  free(L);
  return LATENS_OK;
}

double cs_regress_cov(const double *S, size_t p, size_t y, const size_t *idx, size_t k,
                      double *beta, double *work) {
  double *L = work, *b = work + k * k;
  for (size_t a = 0; a < k; a++) {
    b[a] = S[idx[a] + y * p];
    for (size_t c = 0; c < k; c++) L[a + c * k] = S[idx[a] + idx[c] * p];
  }
  for (size_t j = 0; j < k; j++) { /* Cholesky in place, lower */
    double d = L[j + j * k];
    for (size_t c = 0; c < j; c++) d -= L[j + c * k] * L[j + c * k];
    if (!(d > 1e-12 * S[idx[j] + idx[j] * p])) return -1.0;
    d = sqrt(d);
    L[j + j * k] = d;
    for (size_t i = j + 1; i < k; i++) {
      double s = L[i + j * k];
      for (size_t c = 0; c < j; c++) s -= L[i + c * k] * L[j + c * k];
      L[i + j * k] = s / d;
    }
  }
  for (size_t i = 0; i < k; i++) { /* forward */
    double s = b[i];
    for (size_t c = 0; c < i; c++) s -= L[i + c * k] * beta[c];
    beta[i] = s / L[i + i * k];
  }
  double rss = S[y + y * p];
  for (size_t i = 0; i < k; i++) rss -= beta[i] * beta[i];
  for (size_t i = k; i-- > 0;) { /* backward */
    double s = beta[i];
    for (size_t c = i + 1; c < k; c++) s -= L[c + i * k] * beta[c];
    beta[i] = s / L[i + i * k];
  }
  return rss > 0 ? rss : 0.0;
}

/* Diagonal of (S[idx,idx])^{-1} by solving against unit vectors: k is small. */
static int inv_diag(const double *S, size_t p, const size_t *idx, size_t k, double *diag) {
  gsl_matrix *A = gsl_matrix_alloc(k, k);
  double *e = malloc(k * sizeof *e);
  if (!A || !e) {
    gsl_matrix_free(A), free(e);
    return LATENS_ENOMEM;
  }
  for (size_t a = 0; a < k; a++)
    for (size_t c = 0; c < k; c++) gsl_matrix_set(A, a, c, S[idx[a] + idx[c] * p]);
  int bad = 0;
  for (size_t j = 0; j < k && !bad; j++) { /* Cholesky, checked before GSL could complain */
    double d = gsl_matrix_get(A, j, j);
    for (size_t c = 0; c < j; c++) d -= gsl_matrix_get(A, j, c) * gsl_matrix_get(A, j, c);
    if (!(d > 1e-12 * S[idx[j] + idx[j] * p])) bad = 1;
    else {
      d = sqrt(d);
      gsl_matrix_set(A, j, j, d);
      for (size_t i = j + 1; i < k; i++) {
        double s = gsl_matrix_get(A, i, j);
        for (size_t c = 0; c < j; c++) s -= gsl_matrix_get(A, i, c) * gsl_matrix_get(A, j, c);
        gsl_matrix_set(A, i, j, s / d);
      }
    }
  }
  if (!bad) /* diag of L^{-T} L^{-1}: sum of squares of the rows of L^{-1}'s columns */
    for (size_t j = 0; j < k; j++) {
      for (size_t i = 0; i < k; i++) e[i] = 0.0;
      e[j] = 1.0;
      for (size_t i = j; i < k; i++) {
        double s = e[i];
        for (size_t c = j; c < i; c++) s -= gsl_matrix_get(A, i, c) * e[c];
        e[i] = s / gsl_matrix_get(A, i, i);
      }
      double q = 0.0;
      for (size_t i = j; i < k; i++) q += e[i] * e[i];
      diag[j] = q;
    }
  gsl_matrix_free(A), free(e);
  return bad ? LATENS_ESING : LATENS_OK;
}

int cs_prune_ols(const double *S, size_t n, size_t p, const size_t *order, double alpha,
                 double *B, size_t ldb) {
  size_t *par = malloc(p * sizeof *par);
  double *beta = malloc(p * sizeof *beta), *work = malloc((p * p + p) * sizeof *work);
  double *dg = malloc(p * sizeof *dg);
  int status = LATENS_OK;
  if (!par || !beta || !work || !dg) status = LATENS_ENOMEM;
  for (size_t j = 0; j < p; j++)
    for (size_t i = 0; i < p; i++) B[i + j * ldb] = 0.0;
  for (size_t pos = 1; pos < p && status == LATENS_OK; pos++) {
    const size_t y = order[pos];
    size_t k = pos;
    for (size_t a = 0; a < k; a++) par[a] = order[a];
    /* Backward elimination: drop the least significant parent until all pass, so that the
     * kept coefficients are refitted without the dropped ones. */
    for (;;) {
      if (k == 0) break;
      const double rss = cs_regress_cov(S, p, y, par, k, beta, work);
      if (rss < 0 || inv_diag(S, p, par, k, dg) != LATENS_OK) { status = LATENS_ESING; break; }
      const double dof = (double)n - (double)k - 1.0;
      if (dof < 1) { status = LATENS_EDOM; break; }
      const double s2 = rss * (double)n / dof; /* S is 1/n; t uses the unbiased variance */
      size_t worst = k;
      double worst_p = -1.0;
      for (size_t a = 0; a < k; a++) {
        const double se = sqrt(s2 * dg[a] / (double)n);
        /* an exact fit (se 0) is significant; GSL never sees an infinite t */
        const double pv = se > 0 && isfinite(fabs(beta[a]) / se)
                              ? 2.0 * gsl_cdf_tdist_Q(fabs(beta[a]) / se, dof)
                              : 0.0;
        if (pv > worst_p) worst_p = pv, worst = a;
      }
      if (worst_p <= alpha) {
        for (size_t a = 0; a < k; a++) B[y + par[a] * ldb] = beta[a];
        break;
      }
      par[worst] = par[--k];
    }
  }
  free(par), free(beta), free(work), free(dg);
  return status;
}
