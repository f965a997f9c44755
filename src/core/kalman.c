/* core/kalman.c: Kalman predict/update and RTS smoothing steps in moment form.
 *
 * These run once per time point over series of 10^5..10^6 points with a small state, so each
 * step works in a preallocated workspace and multiplies small matrices with plain loops: a
 * CBLAS call costs more than a 4x4 product.  Products past SMALL_MNK multiply-adds go to
 * CBLAS. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h>
#include <latens/gauss.h>

/* m*n*k above which a product (or m*n*n for a solve) goes to CBLAS.  Measured on the
 * development machine (this file built without -march=native, OpenBLAS with AVX2): the loops
 * below take ~40 ns for 4x4x4 where dgemm takes ~160 ns, break even near 7x7x7, and lose 2-3x
 * at 12..16 cubed. */
enum { SMALL_MNK = 7 * 7 * 7 };

static const double LOG_2PI = 1.8378770664093454836;

struct latens_kalman_workspace {
  size_t d, p, ldp;             /* ldp = max(p, 1): leading dimension of the p-row arrays */
  latens_chol_options chol;     /* ladder settings; chol.work is the backup buffer below */
  double jitter;                /* jitter of the last factorisation */
  double *G, *Lp, *D, *T1, *T2; /* d x d, ld d */
  double *PHt, *K;              /* d x p, ld d */
  double *S, *Rq, *Hq;          /* p x p, p x p, p x d, ld ldp */
  double *v, *z, *u, *u2;       /* p, p, d, d */
  size_t *idx;                  /* observed rows of y */
  double *buf;
};

/* C <- alpha A op(B) + beta C (op(B) = B^T if tb) through the shared kernel with this file's
 * own measured cutoff, so that every product stays on the path it was validated on. */
static void mm(int tb, size_t m, size_t n, size_t k, double alpha, const double *A, size_t lda,
               const double *B, size_t ldb, double beta, double *C, size_t ldc) {
  latens_dense_mm_cut(SMALL_MNK, 0, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* X <- X L^{-T} (m x n X, n x n lower L): column j of X L^T is sum_{k<=j} X_k L_jk. */
static void rsolve_lt(const double *L, size_t n, size_t ldl, double *X, size_t m, size_t ldx) {
  if (m * n * n > SMALL_MNK) {
    cblas_dtrsm(CblasColMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, (int)m, (int)n,
                1.0, L, (int)ldl, X, (int)ldx);
    return;
  }
  for (size_t j = 0; j < n; j++) {
    double *restrict xj = X + j * ldx;
    for (size_t k = 0; k < j; k++) {
      const double *restrict xk = X + k * ldx;
      const double ljk = L[j + k * ldl];
      for (size_t i = 0; i < m; i++) xj[i] -= xk[i] * ljk;
    }
    const double inv = 1.0 / L[j + j * ldl];
    for (size_t i = 0; i < m; i++) xj[i] *= inv;
  }
}

/* X <- X L^{-1}: column j of X L is sum_{k>=j} X_k L_kj, so go right to left. */
static void rsolve_l(const double *L, size_t n, size_t ldl, double *X, size_t m, size_t ldx) {
  if (m * n * n > SMALL_MNK) {
    cblas_dtrsm(CblasColMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, (int)m, (int)n,
                1.0, L, (int)ldl, X, (int)ldx);
    return;
  }
  for (size_t j = n; j-- > 0;) {
    double *restrict xj = X + j * ldx;
    for (size_t k = j + 1; k < n; k++) {
      const double *restrict xk = X + k * ldx;
      const double lkj = L[k + j * ldl];
      for (size_t i = 0; i < m; i++) xj[i] -= xk[i] * lkj;
    }
    const double inv = 1.0 / L[j + j * ldl];
    for (size_t i = 0; i < m; i++) xj[i] *= inv;
  }
}

latens_kalman_workspace *latens_kalman_workspace_alloc(size_t d, size_t p) {
  if (d == 0)
    LATENS_ERROR_NULL("latens_kalman_workspace_alloc: state dimension d = 0", LATENS_EINVAL);
  if (d > 46340 || p > 46340) /* keeps every product below INT_MAX for CBLAS */
    LATENS_ERROR_NULL("latens_kalman_workspace_alloc: d or p too large for CBLAS", LATENS_EINVAL);
  size_t ldp = p ? p : 1, big = d > p ? d : p;
  size_t counts[] = {d * d,   d * d,   d * d,     d * d,     d * d,
                     d * ldp, d * ldp, ldp * ldp, ldp * ldp, ldp * d,
                     ldp,     ldp,     d,         d,         latens_chol_work_size(big)};
  size_t total = 0;
  for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) total += counts[i];
  latens_kalman_workspace *w = total < SIZE_MAX / sizeof(double) ? calloc(1, sizeof *w) : NULL;
  double *buf = w ? malloc(total * sizeof *buf) : NULL;
  size_t *idx = buf ? malloc(ldp * sizeof *idx) : NULL;
  if (!idx) {
    free(buf), free(w);
    latens_errorf(__FILE__, __LINE__, LATENS_ENOMEM,
                  "latens_kalman_workspace_alloc: no memory for d = %zu, p = %zu", d, p);
    return NULL;
  }
  double **slots[] = {&w->G,  &w->Lp, &w->D, &w->T1, &w->T2, &w->PHt, &w->K,        &w->S,
                      &w->Rq, &w->Hq, &w->v, &w->z,  &w->u,  &w->u2,  &w->chol.work};
  double *at = buf;
  for (size_t i = 0; i < sizeof slots / sizeof *slots; i++) *slots[i] = at, at += counts[i];
  w->d = d, w->p = p, w->ldp = ldp, w->buf = buf, w->idx = idx;
  double *backup = w->chol.work;
  latens_chol_options_default(&w->chol); /* the ladder's defaults, then our own buffer */
  w->chol.work = backup, w->chol.lwork = counts[14];
  return w;
}

void latens_kalman_workspace_free(latens_kalman_workspace *w) {
  if (!w) return;
  free(w->buf);
  free(w->idx);
  free(w);
}

int latens_kalman_workspace_set_jitter(latens_kalman_workspace *w, double jitter_start,
                                       unsigned max_tries) {
  if (!w) LATENS_ERROR("latens_kalman_workspace_set_jitter: w is NULL", LATENS_EINVAL);
  if (max_tries && !isfinite(jitter_start))
    LATENS_ERRORF(LATENS_ENOTFINITE, "latens_kalman_workspace_set_jitter: jitter_start is %g",
                  jitter_start);
  if (max_tries && !(jitter_start > 0.0))
    LATENS_ERRORF(LATENS_EDOM,
                  "latens_kalman_workspace_set_jitter: jitter_start %g is not positive",
                  jitter_start);
  w->chol.jitter_start = jitter_start, w->chol.max_tries = max_tries;
  return LATENS_OK;
}

double latens_kalman_workspace_jitter(const latens_kalman_workspace *w) {
  if (!w) LATENS_ERROR_VAL("latens_kalman_workspace_jitter: w is NULL", LATENS_EINVAL, NAN);
  return w->jitter;
}

/* Checks shared by the updates: the workspace, the state and the observation vector(s), then
 * the finite state, the list of observed (non-NaN) entries of y into w->idx, and a finite
 * yhat at those entries (an infinite innovation would pass the factorisation of S and turn
 * m into Inf/NaN). */
static int update_setup(const char *fn, latens_kalman_workspace *w, const latens_vec *y,
                        const latens_vec *yhat, const latens_vec *m, const latens_mat *P,
                        size_t *q) {
  int s;
  if (!w) LATENS_ERRORF(LATENS_EINVAL, "%s: workspace is NULL", fn);
  if (!y) LATENS_ERRORF(LATENS_EINVAL, "%s: y is NULL", fn);
  if (y->n > w->p)
    LATENS_ERRORF(LATENS_EBADLEN, "%s: y has length %zu, the workspace was made for p = %zu", fn,
                  y->n, w->p);
  if ((s = latens_check_vec(fn, "y", y, LATENS_ANY)) ||
      (yhat && (s = latens_check_vec(fn, "yhat", yhat, y->n))) ||
      (s = latens_check_vec(fn, "m", m, w->d)) || (s = latens_check_mat(fn, "P", P, w->d, w->d)))
    return s;
  if (!latens_vec_all_finite(m) || !latens_mat_all_finite(P))
    LATENS_ERRORF(LATENS_ENOTFINITE, "%s: NaN or Inf in m or P (d = %zu)", fn, w->d);
  size_t n = 0;
  for (size_t i = 0; i < y->n; i++) {
    double yi = LATENS_VEC(y, i);
    if (isnan(yi)) continue;
    if (isinf(yi)) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: y[%zu] = %g", fn, i, yi);
    if (yhat && !isfinite(LATENS_VEC(yhat, i)))
      LATENS_ERRORF(LATENS_ENOTFINITE, "%s: yhat[%zu] = %g at an observed entry", fn, i,
                    LATENS_VEC(yhat, i));
    w->idx[n++] = i;
  }
  *q = n;
  return LATENS_OK;
}

/* Factors an n x n matrix in the workspace with the ladder.  On failure the factorisation
 * has reported its details (which minor, which jitter); a second report says which matrix
 * of which step it was, and becomes the thread's last error. */
static int factor(latens_kalman_workspace *w, double *a, size_t n, size_t ld, const char *fn,
                  const char *what) {
  latens_mat M = latens_mat_view(a, n, n, ld);
  latens_chol_info info;
  int s = latens_chol_decomp(&M, &w->chol, &info);
  w->jitter = info.jitter;
  if (s)
    LATENS_ERRORF(s, "%s: %s (%zux%zu) could not be factored (%s)", fn, what, n, n,
                  latens_strerror(s));
  return LATENS_OK;
}

/* Factors w->S (q x q) with the ladder and forms z = L^{-1} v and the log-likelihood. */
static int factor_innovation(latens_kalman_workspace *w, size_t q, double *loglik, const char *fn) {
  int s = factor(w, w->S, q, w->ldp, fn, "innovation covariance S");
  if (s) return s;
  const double *L = w->S;
  const size_t ld = w->ldp;
  double *z = w->z, quad = 0.0, logdet = 0.0;
  memcpy(z, w->v, q * sizeof *z);
  for (size_t j = 0; j < q; j++) {
    z[j] /= L[j + j * ld];
    for (size_t i = j + 1; i < q; i++) z[i] -= L[i + j * ld] * z[j];
    quad += z[j] * z[j];
    logdet += log(L[j + j * ld]);
  }
  if (loglik) *loglik = -0.5 * ((double)q * LOG_2PI + quad) - logdet;
  return LATENS_OK;
}

static int update_linear(const char *fn, const latens_vec *y, const latens_vec *yhat,
                         const latens_mat *H, const latens_mat *R, const latens_vec *R_diag,
                         latens_vec *m, latens_mat *P, double *loglik, latens_kalman_workspace *w) {
  size_t q;
  if (loglik) *loglik = NAN; /* until the step succeeds: a sum of increments shows the failure */
  int s = update_setup(fn, w, y, yhat, m, P, &q);
  if (s) return s;
  const size_t d = w->d, py = y->n, ldp = w->ldp, ldP = P->ld;
  if ((s = latens_check_mat(fn, "H", H, py, d))) return s;
  if (!R == !R_diag) LATENS_ERRORF(LATENS_EINVAL, "%s: give exactly one of R and R_diag", fn);
  if ((R && (s = latens_check_mat(fn, "R", R, py, py))) ||
      (R_diag && (s = latens_check_vec(fn, "R_diag", R_diag, py))))
    return s;
  w->jitter = 0.0;
  if (q == 0) {
    if (loglik) *loglik = 0.0;
    return LATENS_OK;
  }
  double *Hq = w->Hq, *Rq = w->Rq, *S = w->S, *PHt = w->PHt, *K = w->K, *v = w->v;
  for (size_t a = 0; a < q; a++) {
    const size_t i = w->idx[a];
    double yh = 0.0;
    for (size_t c = 0; c < d; c++) {
      const double h = LATENS_MAT(H, i, c);
      if (!isfinite(h)) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: H(%zu,%zu) = %g", fn, i, c, h);
      Hq[a + c * ldp] = h, yh += h * LATENS_VEC(m, c);
    }
    for (size_t b = 0; b < q; b++) {
      const size_t j = w->idx[b];
      const double r = R ? LATENS_MAT(R, i, j) : a == b ? LATENS_VEC(R_diag, i) : 0.0;
      if (!isfinite(r)) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: R(%zu,%zu) = %g", fn, i, j, r);
      Rq[a + b * ldp] = r;
    }
    v[a] = LATENS_VEC(y, i) - (yhat ? LATENS_VEC(yhat, i) : yh);
    if (!isfinite(v[a]))
      LATENS_ERRORF(LATENS_ENOTFINITE, "%s: the innovation of y[%zu] overflows (%g)", fn, i, v[a]);
  }
  mm(1, d, q, d, 1.0, P->data, ldP, Hq, ldp, 0.0, PHt, d);
  for (size_t b = 0; b < q; b++) memcpy(S + b * ldp, Rq + b * ldp, q * sizeof *S);
  mm(0, q, q, d, 1.0, Hq, ldp, PHt, d, 1.0, S, ldp);
  if ((s = factor_innovation(w, q, loglik, fn))) return s;

  memcpy(K, PHt, d * q * sizeof *K); /* K = P H^T S^{-1} */
  rsolve_lt(S, q, ldp, K, d, d);
  rsolve_l(S, q, ldp, K, d, d);
  for (size_t i = 0; i < d; i++) {
    double dm = 0.0;
    for (size_t a = 0; a < q; a++) dm += K[i + a * d] * v[a];
    LATENS_VEC(m, i) += dm;
  }
  /* Joseph: M = I - K H, P <- M P M^T + (K R) K^T. */
  double *M = w->T1, *MP = w->T2;
  mm(0, d, d, q, -1.0, K, d, Hq, ldp, 0.0, M, d);
  for (size_t i = 0; i < d; i++) M[i + i * d] += 1.0;
  mm(0, d, d, d, 1.0, M, d, P->data, ldP, 0.0, MP, d);
  mm(0, d, q, q, 1.0, K, d, Rq, ldp, 0.0, PHt, d);
  mm(1, d, d, d, 1.0, MP, d, M, d, 0.0, P->data, ldP);
  mm(1, d, d, q, 1.0, PHt, d, K, d, 1.0, P->data, ldP);
  latens_dense_symmetrize(P->data, d, ldP);
  return LATENS_OK;
}

int latens_kalman_update(const latens_vec *y, const latens_vec *yhat, const latens_mat *H,
                         const latens_mat *R, const latens_vec *R_diag, latens_vec *m,
                         latens_mat *P, double *loglik, latens_kalman_workspace *w) {
  return update_linear("latens_kalman_update", y, yhat, H, R, R_diag, m, P, loglik, w);
}

int latens_gauss_condition(const latens_vec *y, const latens_mat *H, const latens_mat *R,
                           const latens_vec *R_diag, latens_vec *m, latens_mat *P, double *loglik,
                           latens_kalman_workspace *w) {
  return update_linear("latens_gauss_condition", y, NULL, H, R, R_diag, m, P, loglik, w);
}

int latens_kalman_update_moments(const latens_vec *y, const latens_vec *yhat, const latens_mat *C,
                                 const latens_mat *S, latens_vec *m, latens_mat *P, double *loglik,
                                 latens_kalman_workspace *w) {
  const char *fn = "latens_kalman_update_moments";
  size_t q;
  if (loglik) *loglik = NAN; /* until the step succeeds */
  int s = update_setup(fn, w, y, yhat, m, P, &q);
  if (s) return s;
  const size_t d = w->d, py = y->n, ldp = w->ldp;
  if (!yhat) LATENS_ERRORF(LATENS_EINVAL, "%s: yhat is NULL", fn);
  if ((s = latens_check_mat(fn, "C", C, d, py)) || (s = latens_check_mat(fn, "S", S, py, py)))
    return s;
  w->jitter = 0.0;
  if (q == 0) {
    if (loglik) *loglik = 0.0;
    return LATENS_OK;
  }
  double *W = w->PHt, *Sq = w->S;
  /* Only the observed columns of C and the observed block of S are read, and checked. */
  for (size_t a = 0; a < q; a++) {
    const size_t i = w->idx[a];
    for (size_t c = 0; c < d; c++) {
      const double x = LATENS_MAT(C, c, i);
      if (!isfinite(x)) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: C(%zu,%zu) = %g", fn, c, i, x);
      W[c + a * d] = x;
    }
    for (size_t b = 0; b < q; b++) {
      const size_t j = w->idx[b];
      const double x = LATENS_MAT(S, j, i);
      if (!isfinite(x)) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: S(%zu,%zu) = %g", fn, j, i, x);
      Sq[b + a * ldp] = x;
    }
    w->v[a] = LATENS_VEC(y, i) - LATENS_VEC(yhat, i);
    if (!isfinite(w->v[a]))
      LATENS_ERRORF(LATENS_ENOTFINITE, "%s: the innovation of y[%zu] overflows (%g)", fn, i,
                    w->v[a]);
  }
  if ((s = factor_innovation(w, q, loglik, fn))) return s;
  /* With W = C L^{-T}: K v = W (L^{-1} v) = W z and K S K^T = W W^T, so K is never formed. */
  rsolve_lt(Sq, q, ldp, W, d, d);
  for (size_t i = 0; i < d; i++) {
    double dm = 0.0;
    for (size_t a = 0; a < q; a++) dm += W[i + a * d] * w->z[a];
    LATENS_VEC(m, i) += dm;
  }
  mm(1, d, d, q, -1.0, W, d, W, d, 1.0, P->data, P->ld);
  latens_dense_symmetrize(P->data, d, P->ld);
  return LATENS_OK;
}

int latens_kalman_predict(const latens_mat *A, const latens_vec *b, const latens_mat *Q,
                          latens_vec *m, latens_mat *P, latens_kalman_workspace *w) {
  const char *fn = "latens_kalman_predict";
  int s;
  if (!w) LATENS_ERROR("latens_kalman_predict: workspace is NULL", LATENS_EINVAL);
  const size_t d = w->d;
  if ((s = latens_check_mat(fn, "A", A, d, d)) || (b && (s = latens_check_vec(fn, "b", b, d))) ||
      (Q && (s = latens_check_mat(fn, "Q", Q, d, d))) || (s = latens_check_vec(fn, "m", m, d)) ||
      (s = latens_check_mat(fn, "P", P, d, d)))
    return s;
  const size_t ldP = P->ld;
  mm(0, d, d, d, 1.0, A->data, A->ld, P->data, ldP, 0.0, w->T1, d);
  for (size_t j = 0; j < d; j++)
    for (size_t i = 0; i < d; i++) P->data[i + j * ldP] = Q ? LATENS_MAT(Q, i, j) : 0.0;
  mm(1, d, d, d, 1.0, w->T1, d, A->data, A->ld, 1.0, P->data, ldP);
  latens_dense_symmetrize(P->data, d, ldP);
  for (size_t i = 0; i < d; i++) {
    double s2 = b ? LATENS_VEC(b, i) : 0.0;
    for (size_t j = 0; j < d; j++) s2 += LATENS_MAT(A, i, j) * LATENS_VEC(m, j);
    w->u[i] = s2;
  }
  for (size_t i = 0; i < d; i++) LATENS_VEC(m, i) = w->u[i];
  return LATENS_OK;
}

int latens_kalman_smooth(const latens_mat *A, const latens_vec *mf, const latens_mat *Pf,
                         const latens_vec *mp, const latens_mat *Pp, const latens_vec *ms1,
                         const latens_mat *Ps1, latens_vec *ms, latens_mat *Ps, latens_mat *Pcross,
                         latens_kalman_workspace *w) {
  const char *fn = "latens_kalman_smooth";
  int s;
  if (!w) LATENS_ERROR("latens_kalman_smooth: workspace is NULL", LATENS_EINVAL);
  const size_t d = w->d;
  if ((s = latens_check_mat(fn, "A", A, d, d)) || (s = latens_check_vec(fn, "mf", mf, d)) ||
      (s = latens_check_mat(fn, "Pf", Pf, d, d)) || (s = latens_check_vec(fn, "mp", mp, d)) ||
      (s = latens_check_mat(fn, "Pp", Pp, d, d)) || (s = latens_check_vec(fn, "ms1", ms1, d)) ||
      (s = latens_check_mat(fn, "Ps1", Ps1, d, d)) || (s = latens_check_vec(fn, "ms", ms, d)) ||
      (s = latens_check_mat(fn, "Ps", Ps, d, d)) ||
      (Pcross && (s = latens_check_mat(fn, "Pcross", Pcross, d, d))))
    return s;
  double *G = w->G, *Lp = w->Lp, *D = w->D, *GD = w->T1, *GDG = w->T2;
  for (size_t j = 0; j < d; j++)
    for (size_t i = 0; i < d; i++) {
      Lp[i + j * d] = LATENS_MAT(Pp, i, j);
      D[i + j * d] = LATENS_MAT(Ps1, i, j) - LATENS_MAT(Pp, i, j);
    }
  if ((s = factor(w, Lp, d, d, fn, "predicted covariance Pp"))) return s;
  /* G = Pf A^T Pp^{-1} */
  mm(1, d, d, d, 1.0, Pf->data, Pf->ld, A->data, A->ld, 0.0, G, d);
  rsolve_lt(Lp, d, d, G, d, d);
  rsolve_l(Lp, d, d, G, d, d);
  for (size_t i = 0; i < d; i++) w->u[i] = LATENS_VEC(ms1, i) - LATENS_VEC(mp, i);
  for (size_t i = 0; i < d; i++) {
    double g = 0.0;
    for (size_t j = 0; j < d; j++) g += G[i + j * d] * w->u[j];
    w->u2[i] = g;
  }
  mm(0, d, d, d, 1.0, G, d, D, d, 0.0, GD, d);
  mm(1, d, d, d, 1.0, GD, d, G, d, 0.0, GDG, d);
  if (Pcross) mm(1, d, d, d, 1.0, Ps1->data, Ps1->ld, G, d, 0.0, Pcross->data, Pcross->ld);
  for (size_t i = 0; i < d; i++) LATENS_VEC(ms, i) = LATENS_VEC(mf, i) + w->u2[i];
  for (size_t j = 0; j < d; j++)
    for (size_t i = 0; i < d; i++) LATENS_MAT(Ps, i, j) = LATENS_MAT(Pf, i, j) + GDG[i + j * d];
  latens_dense_symmetrize(Ps->data, d, Ps->ld);
  return LATENS_OK;
}
