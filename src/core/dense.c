/* core/dense.c: the small dense kernels behind the Kalman steps, the matrix exponential and
 * the Lyapunov solver.  Their matrices are d x d with d = 2..12, used once per time point,
 * where a CBLAS call costs more than the product: plain loops up to a measured size, CBLAS
 * past it. */
#include "internal.h"

#include <string.h>
#include <gsl/gsl_cblas.h>

/* LATENS_DENSE_SMALL_MNK (internal.h) was measured against OpenBLAS 0.3.21 (one thread, a
 * shared 2-core machine, so +-30%) with the one-column loop: square products of order 2..5
 * took 30-120 ns in the loops against 130-200 ns in dgemm, order 6 was even and from 8 on
 * dgemm was 2-2.5x faster.  kalman.c measured its own break-even with the four-column loop
 * near 7x7x7 and passes that through latens_dense_mm_cut. */

/* C <- beta C, C never read when beta == 0 (it may hold NaN). */
static void scale_c(size_t m, size_t n, double beta, double *C, size_t ldc) {
  for (size_t j = 0; j < n; j++) {
    double *c = C + j * ldc;
    if (beta == 0.0) memset(c, 0, m * sizeof *c);
    else if (beta != 1.0)
      for (size_t i = 0; i < m; i++) c[i] *= beta;
  }
}

/* C += alpha A op(B) with A not transposed.  Four columns of C at once, so that each column of
 * A, once loaded, feeds four multiply-adds: 2-2.5x faster than one column at a time for 4x4
 * .. 8x8.  Every c(i, j) still sums over l in order, so the result is the one-column loop's
 * bit for bit. */
static void mm_n(size_t m, size_t n, size_t k, double alpha, const double *A, size_t lda,
                 const double *B, size_t sl, size_t sj, double *C, size_t ldc) {
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    double *restrict c0 = C + j * ldc, *restrict c1 = c0 + ldc, *restrict c2 = c1 + ldc,
                     *restrict c3 = c2 + ldc;
    for (size_t l = 0; l < k; l++) {
      const double *restrict a = A + l * lda, *bl = B + l * sl + j * sj;
      const double b0 = alpha * bl[0], b1 = alpha * bl[sj], b2 = alpha * bl[2 * sj],
                   b3 = alpha * bl[3 * sj];
      for (size_t i = 0; i < m; i++) {
        const double ai = a[i];
        c0[i] += ai * b0, c1[i] += ai * b1, c2[i] += ai * b2, c3[i] += ai * b3;
      }
    }
  }
  for (; j < n; j++) {
    double *restrict c = C + j * ldc;
    for (size_t l = 0; l < k; l++) {
      const double *restrict a = A + l * lda;
      const double b = alpha * B[l * sl + j * sj];
      for (size_t i = 0; i < m; i++) c[i] += a[i] * b;
    }
  }
}

void latens_dense_mm_cut(size_t small_mnk, int ta, int tb, size_t m, size_t n, size_t k,
                         double alpha, const double *A, size_t lda, const double *B, size_t ldb,
                         double beta, double *C, size_t ldc) {
  if (m == 0 || n == 0) return;
  if (m * n * k > small_mnk) {
    cblas_dgemm(CblasColMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)m, (int)n, (int)k, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
    return;
  }
  const size_t sl = tb ? ldb : 1, sj = tb ? 1 : ldb; /* op(B)(l, j) = B[l*sl + j*sj] */
  scale_c(m, n, beta, C, ldc);
  if (!ta) {
    mm_n(m, n, k, alpha, A, lda, B, sl, sj, C, ldc);
    return;
  }
  for (size_t j = 0; j < n; j++) { /* op(A)(i, l) = A[i*lda + l]: rare, kept simple */
    double *restrict c = C + j * ldc;
    for (size_t l = 0; l < k; l++) {
      const double b = alpha * B[l * sl + j * sj];
      for (size_t i = 0; i < m; i++) c[i] += A[l + i * lda] * b;
    }
  }
}

void latens_dense_mm(int ta, int tb, size_t m, size_t n, size_t k, double alpha, const double *A,
                     size_t lda, const double *B, size_t ldb, double beta, double *C, size_t ldc) {
  latens_dense_mm_cut(LATENS_DENSE_SMALL_MNK, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C,
                      ldc);
}

void latens_dense_symmetrize(double *a, size_t n, size_t ld) {
  for (size_t j = 0; j < n; j++)
    for (size_t i = j + 1; i < n; i++) {
      double s = 0.5 * (a[i + j * ld] + a[j + i * ld]);
      a[i + j * ld] = a[j + i * ld] = s;
    }
}
