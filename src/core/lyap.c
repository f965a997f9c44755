/* core/lyap.c: the continuous Lyapunov equation F P + P F^T + C = 0 by Bartels-Stewart
 * (include/latens/lti.h): exact balancing shared with lti.c, the real Schur form from GSL,
 * then the quasi-triangular equation solved block by block (1x1 and 2x2 diagonal blocks). */
#include "lti_impl.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <latens/lti.h>

static const double U_ROUND = DBL_EPSILON / 2;

/* X <- solution of T11 X + X T22^T = R for p x p T11 and q x q T22 (p, q <= 2), R and X
 * p x q column-major, through the pq x pq Kronecker system I ⊗ T11 + T22 ⊗ I with partial
 * pivoting.  t11(r, c) = t1[r*ld1 + c] etc. (GSL's row-major T).  Returns non-zero if a pivot
 * is negligible against the system's largest entry. */
static int small_sylvester(size_t p, size_t q, const double *t1, const double *t2, size_t ld,
                           double *x) {
  double K[4][5];
  const size_t n = p * q;
  double scale = 0.0;
  for (size_t c = 0; c < q; c++)
    for (size_t r = 0; r < p; r++) {
      const size_t row = r + c * p;
      for (size_t c2 = 0; c2 < q; c2++)
        for (size_t r2 = 0; r2 < p; r2++)
          K[row][r2 + c2 * p] =
              (c == c2 ? t1[r * ld + r2] : 0.0) + (r == r2 ? t2[c * ld + c2] : 0.0);
      K[row][n] = x[row];
      for (size_t k = 0; k < n; k++) scale = fmax(scale, fabs(K[row][k]));
    }
  for (size_t j = 0; j < n; j++) {
    size_t piv = j;
    for (size_t i = j + 1; i < n; i++)
      if (fabs(K[i][j]) > fabs(K[piv][j])) piv = i;
    if (!(fabs(K[piv][j]) > 4.0 * U_ROUND * scale)) return 1;
    if (piv != j)
      for (size_t k = 0; k <= n; k++) {
        double tmp = K[j][k];
        K[j][k] = K[piv][k], K[piv][k] = tmp;
      }
    for (size_t i = j + 1; i < n; i++) {
      const double f = K[i][j] / K[j][j];
      for (size_t k = j; k <= n; k++) K[i][k] -= f * K[j][k];
    }
  }
  for (size_t j = n; j-- > 0;) {
    double s = K[j][n];
    for (size_t k = j + 1; k < n; k++) s -= K[j][k] * x[k];
    x[j] = s / K[j][j];
  }
  return 0;
}

/* Solve T Y + Y T^T = R in place (R, Y symmetric, d x d column-major) for quasi-upper-
 * triangular T stored row-major (GSL's Schur form; entries below the first subdiagonal are
 * ignored).  Blocks are taken bottom-up so that each block equation only needs blocks of Y
 * already known; Y is kept full so that those are plain reads.  start[] holds d + 1 slots. */
static int quasi_tri_lyap(size_t d, const double *T, double *Y, size_t *start) {
  size_t nb = 0;
  for (size_t i = 0; i < d; nb++) {
    start[nb] = i;
    i += i + 1 < d && T[(i + 1) * d + i] != 0.0 ? 2 : 1;
  }
  start[nb] = d;
  for (size_t kb = nb; kb-- > 0;)
    for (size_t lb = nb; lb-- > kb;) {
      const size_t k0 = start[kb], p = start[kb + 1] - k0, l0 = start[lb], q = start[lb + 1] - l0;
      double x[4];
      for (size_t c = 0; c < q; c++)
        for (size_t r = 0; r < p; r++) {
          const size_t i = k0 + r, j = l0 + c;
          double s = Y[i + j * d];
          for (size_t t = k0 + p; t < d; t++) s -= T[i * d + t] * Y[t + j * d];
          for (size_t t = l0 + q; t < d; t++) s -= Y[i + t * d] * T[j * d + t];
          x[r + c * p] = s;
        }
      if (small_sylvester(p, q, T + k0 * d + k0, T + l0 * d + l0, d, x)) return 1;
      for (size_t c = 0; c < q; c++)
        for (size_t r = 0; r < p; r++)
          Y[(k0 + r) + (l0 + c) * d] = Y[(l0 + c) + (k0 + r) * d] = x[r + c * p];
      if (kb == lb && p == 2) /* the diagonal block is symmetric: average its two solves */
        Y[k0 + (k0 + 1) * d] = Y[(k0 + 1) + k0 * d] = 0.5 * (x[1] + x[2]);
    }
  return 0;
}

/* The real Schur form F = Z T Z^T by GSL of f (d x d, ld d; T and Z row-major in t and z),
 * with the largest real part of an eigenvalue in *re_max. */
static int schur(size_t d, const double *f, double *t, double *z, double *ev, double *re_max) {
  for (size_t i = 0; i < d; i++)
    for (size_t j = 0; j < d; j++) t[i * d + j] = f[i + j * d];
  gsl_matrix_view T = gsl_matrix_view_array(t, d, d), Z = gsl_matrix_view_array(z, d, d);
  gsl_vector_complex_view e = gsl_vector_complex_view_array(ev, d);
  /* Sizes match by construction, so GSL can only fail by not converging (a return code) or
   * by running out of memory for its O(d) workspace, after our O(d^2) buffers succeeded. */
  gsl_eigen_nonsymm_workspace *ws = gsl_eigen_nonsymm_alloc(d);
  if (!ws) LATENS_ERROR("latens_lyap_solve: no memory for GSL's eigen workspace", LATENS_ENOMEM);
  gsl_eigen_nonsymm_params(1, 0, ws); /* full T; no balancing, which would make Z non-orthogonal */
  int s = gsl_eigen_nonsymm_Z(&T.matrix, &e.vector, &Z.matrix, ws);
  gsl_eigen_nonsymm_free(ws);
  if (s)
    LATENS_ERRORF(LATENS_EMAXITER, "latens_lyap_solve: Schur (Francis QR) of the %zux%zu F did not "
                  "converge (GSL status %d)", d, d, s);
  *re_max = -INFINITY;
  for (size_t i = 0; i < d; i++) *re_max = fmax(*re_max, ev[2 * i]);
  return LATENS_OK;
}

/* With F~ = D^{-1} F D from balancing, P~ = D^{-1} P D^{-1} solves F~ P~ + P~ F~^T + C~ = 0
 * for C~ = D^{-1} C D^{-1} (exact scalings): graded states (Matérn) keep the relative accuracy
 * of their small entries. */
int latens_lyap_solve(const latens_mat *F, const latens_mat *C, latens_mat *P) {
  static const char fn[] = "latens_lyap_solve";
  int status;
  if ((status = latens_check_square(fn, "F", F))) return status;
  const size_t d = F->nrow;
  if ((status = latens_check_mat(fn, "C", C, d, d)) ||
      (status = latens_check_mat(fn, "P", P, d, d)))
    return status;
  if (d == 0) return LATENS_OK;
  if ((status = latens_check_finite_mat(fn, "F", F)) ||
      (status = latens_check_finite_mat(fn, "C", C)))
    return status;
  const size_t dd = latens_mul_size(d, d);
  double *buf = dd && dd < SIZE_MAX / 64 ? malloc((4 * dd + 3 * d) * sizeof *buf) : NULL;
  size_t *start = buf ? malloc((d + 1) * sizeof *start) : NULL; /* Schur block starts */
  if (!start) {
    free(buf);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory for d = %zu", fn, d);
  }
  double *T = buf, *Z = T + dd, *Y = Z + dd, *W = Y + dd, *ev = W + dd, *ex = ev + 2 * d, re_max;
  double nf;
  int ef;
  const int bal = latens_lti_balance_kept(d, F->data, F->ld, W, ex, 0, &nf, &ef);
  const double tol = scale2((double)d * U_ROUND * nf, ef); /* stable to working precision */
  if ((status = schur(d, W, T, Z, ev, &re_max))) goto done;
  if (!(re_max < -tol)) {
    latens_errorf(__FILE__, __LINE__, LATENS_ESING,
                  "%s: F is not stable: an eigenvalue has real part %g (must be < -%g)", fn,
                  re_max, tol);
    status = LATENS_ESING;
    goto done;
  }
  for (size_t j = 0; j < d; j++)
    for (size_t i = 0; i < d; i++)
      Y[i + j * d] = bal ? scale2(LATENS_MAT(C, i, j), -(int)(ex[i] + ex[j])) : LATENS_MAT(C, i, j);
  /* Z is row-major, i.e. column-major Z^T.  R = -Z^T C Z, then Y solves T Y + Y T^T = R. */
  latens_dense_mm(0, 0, d, d, d, 1.0, Z, d, Y, d, 0.0, W, d);
  latens_dense_mm(0, 1, d, d, d, -1.0, W, d, Z, d, 0.0, Y, d);
  latens_dense_symmetrize(Y, d, d);
  if (quasi_tri_lyap(d, T, Y, start)) {
    latens_errorf(__FILE__, __LINE__, LATENS_ESING,
                  "%s: F P + P F^T is singular to working precision (eigenvalue real parts "
                  "up to %g)", fn, re_max);
    status = LATENS_ESING;
    goto done;
  }
  latens_dense_mm(0, 0, d, d, d, 1.0, Y, d, Z, d, 0.0, W, d);           /* Y Z^T */
  latens_dense_mm(1, 0, d, d, d, 1.0, Z, d, W, d, 0.0, P->data, P->ld); /* Z Y Z^T */
  if (bal)
    for (size_t j = 0; j < d; j++)
      for (size_t i = 0; i < d; i++)
        LATENS_MAT(P, i, j) = scale2(LATENS_MAT(P, i, j), (int)(ex[i] + ex[j]));
  latens_dense_symmetrize(P->data, d, P->ld);
  if (!latens_mat_all_finite(P)) {
    latens_errorf(__FILE__, __LINE__, LATENS_ERANGE,
                  "%s: P overflows (slowest eigenvalue real part %g)", fn, re_max);
    status = LATENS_ERANGE;
  }
done:
  free(start);
  free(buf);
  return status;
}
