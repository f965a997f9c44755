/* causal/fastica.c: FastICA (Hyvarinen, IEEE TNN 1999), symmetric (parallel) version, as
 * scikit-learn's fastica(algorithm="parallel", whiten="unit-variance") computes it.
 *
 * Whitening uses the covariance's eigen-decomposition S = E D E^T: z = D^{-1/2} E^T x, so
 * the whitened data have identity covariance.  The fixed point for the rows w_k of the
 * orthogonal W is w_k <- E[z g(w_k^T z)] - E[g'(w_k^T z)] w_k, for all k at once (two
 * GEMMs), then W <- (W W^T)^{-1/2} W. */
#include "score_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_eigen.h>

/* Symmetric p x p A (column-major): eigenvalues ev (ascending not guaranteed), vectors V
 * (columns).  A is copied. */
static int sym_eigen(const double *A, size_t p, double *ev, double *V) {
  gsl_matrix *M = gsl_matrix_alloc(p, p), *Vg = gsl_matrix_alloc(p, p);
  gsl_vector *e = gsl_vector_alloc(p);
  gsl_eigen_symmv_workspace *w = gsl_eigen_symmv_alloc(p);
  int status = LATENS_ENOMEM;
  if (M && Vg && e && w) {
    for (size_t i = 0; i < p; i++)
      for (size_t j = 0; j < p; j++) gsl_matrix_set(M, i, j, 0.5 * (A[i + j * p] + A[j + i * p]));
    gsl_eigen_symmv(M, e, Vg, w);
    for (size_t j = 0; j < p; j++) {
      ev[j] = gsl_vector_get(e, j);
      for (size_t i = 0; i < p; i++) V[i + j * p] = gsl_matrix_get(Vg, i, j);
    }
    status = LATENS_OK;
  }
  gsl_matrix_free(M), gsl_matrix_free(Vg), gsl_vector_free(e), gsl_eigen_symmv_free(w);
  return status;
}

/* W <- (W W^T)^{-1/2} W (p x p); T: 3 p^2 scratch. */
static int sym_decorrelate(double *W, size_t p, double *T, double *ev) {
  double *C = T, *V = T + p * p, *R = T + 2 * p * p;
  latens_dense_mm(0, 1, p, p, p, 1.0, W, p, W, p, 0.0, C, p);
  int status = sym_eigen(C, p, ev, V);
  if (status != LATENS_OK) return status;
  for (size_t j = 0; j < p; j++) { /* R = V diag(ev^-1/2) V^T */
    const double s = ev[j] > 1e-300 ? 1.0 / sqrt(ev[j]) : 0.0;
    for (size_t i = 0; i < p; i++) C[i + j * p] = V[i + j * p] * s;
  }
  latens_dense_mm(0, 1, p, p, p, 1.0, C, p, V, p, 0.0, R, p);
  latens_dense_mm(0, 0, p, p, p, 1.0, R, p, W, p, 0.0, C, p);
  memcpy(W, C, p * p * sizeof *W);
  return LATENS_OK;
}

/* One fixed-point update of W (p x p) on whitened Z (n x p); Y, G: n x p scratch. */
static void fastica_step(const double *Z, size_t n, size_t p, int nonlin, const double *W,
                         double *Wn, double *Y, double *gp) {
  latens_dense_mm(0, 1, n, p, p, 1.0, Z, n, W, p, 0.0, Y, n); /* Y = Z W^T */
  for (size_t k = 0; k < p; k++) {
    double *y = Y + k * n, s = 0.0;
    for (size_t t = 0; t < n; t++) {
      const double u = y[t];
      if (nonlin == LATENS_CAUSAL_ICA_EXP) {
        const double e = exp(-0.5 * u * u);
        y[t] = u * e, s += (1.0 - u * u) * e;
      } else {
        const double th = tanh(u);
        y[t] = th, s += 1.0 - th * th;
      }
    }
    gp[k] = s / (double)n;
  }
  latens_dense_mm(1, 0, p, p, n, 1.0 / (double)n, Y, n, Z, n, 0.0, Wn, p); /* g(Y)^T Z / n */
  for (size_t j = 0; j < p; j++)
    for (size_t k = 0; k < p; k++) Wn[k + j * p] -= gp[k] * W[k + j * p];
}

int cs_fastica(const double *X, size_t n, size_t p, size_t ldx,
               const latens_causal_lingam_options *opt, latens_rng *rng, double *W, double *A,
               int report_maxiter) {
  static const char fn[] = "latens_causal_fastica";
  latens_causal_lingam_options o;
  latens_causal_lingam_options_default(&o);
  if (opt) o = *opt;
  if (!rng) LATENS_ERRORF(LATENS_EINVAL, "%s: rng is NULL", fn);
  if (o.ica_nonlinearity != LATENS_CAUSAL_ICA_LOGCOSH && o.ica_nonlinearity != LATENS_CAUSAL_ICA_EXP)
    LATENS_ERRORF(LATENS_EINVAL, "%s: unknown nonlinearity %d", fn, o.ica_nonlinearity);
  if (o.ica_max_iter == 0 || !(o.ica_tol > 0))
    LATENS_ERRORF(LATENS_EDOM, "%s: ica_max_iter = %zu and ica_tol = %g must be positive", fn,
                  o.ica_max_iter, o.ica_tol);
  int status = cs_check_data(fn, X, n, p, ldx, p + 1);
  if (status != LATENS_OK) return status;
  const size_t pp = p * p;
  double *Z = malloc(latens_mul_size(n, p) * sizeof *Z), *Y = malloc(latens_mul_size(n, p) * sizeof *Y);
  double *buf = malloc((8 * pp + 3 * p) * sizeof *buf);
  if (!Z || !Y || !buf) {
    free(Z), free(Y), free(buf);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory for n = %zu, p = %zu", fn, n, p);
  }
  double *S = buf, *E = buf + pp, *K = buf + 2 * pp, *Wc = buf + 3 * pp, *Wn = buf + 4 * pp;
  double *T = buf + 5 * pp, *ev = buf + 8 * pp, *gp = ev + p, *dv = gp + p;
  cs_center(X, n, p, ldx, Y, 0);
  cs_cov(Y, n, p, S);
  status = cs_check_collinear(fn, S, p);
  if (status == LATENS_OK) status = sym_eigen(S, p, dv, E);
  if (status == LATENS_OK) {
    for (size_t j = 0; j < p; j++) /* K = D^{-1/2} E^T: row j is e_j / sqrt(d_j) */
      for (size_t i = 0; i < p; i++) K[j + i * p] = E[i + j * p] / sqrt(dv[j]);
    latens_dense_mm(0, 1, n, p, p, 1.0, Y, n, K, p, 0.0, Z, n); /* Z = Y K^T */
    for (size_t k = 0; k < pp; k++) Wc[k] = latens_rng_normal(rng);
    status = sym_decorrelate(Wc, p, T, ev);
  }
  int converged = 0;
  for (size_t it = 0; it < o.ica_max_iter && status == LATENS_OK && !converged; it++) {
    fastica_step(Z, n, p, o.ica_nonlinearity, Wc, Wn, Y, gp);
    status = sym_decorrelate(Wn, p, T, ev);
    double lim = 0.0;
    for (size_t k = 0; k < p; k++) {
      double dot = 0.0;
      for (size_t j = 0; j < p; j++) dot += Wn[k + j * p] * Wc[k + j * p];
      lim = fmax(lim, fabs(fabs(dot) - 1.0));
    }
    memcpy(Wc, Wn, pp * sizeof *Wc);
    converged = lim < o.ica_tol;
  }
  if (status == LATENS_OK) {
    if (W) latens_dense_mm(0, 0, p, p, p, 1.0, Wc, p, K, p, 0.0, W, p); /* W K */
    if (A) { /* K^{-1} W^T = E D^{1/2} W^T */
      for (size_t j = 0; j < p; j++)
        for (size_t i = 0; i < p; i++) T[i + j * p] = E[i + j * p] * sqrt(dv[j]);
      latens_dense_mm(0, 1, p, p, p, 1.0, T, p, Wc, p, 0.0, A, p);
    }
    if (!converged) {
      status = LATENS_EMAXITER;
      if (report_maxiter)
        latens_errorf(__FILE__, __LINE__, status, "%s: no convergence in %zu iterations (tol %g)",
                      fn, o.ica_max_iter, o.ica_tol);
    }
  } else if (status == LATENS_ENOMEM) {
    latens_errorf(__FILE__, __LINE__, status, "%s: no memory for the eigen-decomposition", fn);
  }
  free(Z), free(Y), free(buf);
  return status;
}

int latens_causal_fastica(const double *X, size_t n, size_t p, size_t ldx,
                          const latens_causal_lingam_options *opt, latens_rng *rng, double *W,
                          double *A) {
  return cs_fastica(X, n, p, ldx, opt, rng, W, A, 1);
}
