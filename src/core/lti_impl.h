/* core/lti_impl.h: what the exponential and discretisation (lti.c) share with the Lyapunov
 * solver (lyap.c): argument checks, small products and the exact balancing.  Not installed. */
#ifndef LATENS_CORE_LTI_IMPL_H
#define LATENS_CORE_LTI_IMPL_H

#include "internal.h"

#include <math.h>
#include <stdint.h>
#include <string.h>
#include <latens/matrix.h>

/* x 2^k.  A multiplication by a normal power of 2 rounds as ldexp does (once, and only on
 * underflow or overflow) at a fraction of the cost of the libm call: ldexp and scalbn were
 * 14% of the instructions of a d = 2 discretisation (callgrind), as the loops here scale
 * every entry of a matrix. */
static inline double scale2(double x, int k) {
  if (k < -1022 || k > 1023) return ldexp(x, k);
  const uint64_t bits = (uint64_t)(k + 1023) << 52;
  double p;
  memcpy(&p, &bits, sizeof p);
  return x * p;
}

/* A NULL matrix or failed view is an error; so is an ld CBLAS cannot take. */
LATENS_INTERNAL int latens_lti_mat_bad(const latens_mat *m);

/* LATENS_OK if m is r x c, else reports LATENS_EBADLEN naming fn, name and both shapes. */
LATENS_INTERNAL int latens_lti_shape_is(const char *fn, const char *name, const latens_mat *m,
                                        size_t r, size_t c);

/* LATENS_OK if every entry is finite, else reports LATENS_ENOTFINITE naming the first. */
LATENS_INTERNAL int latens_lti_all_finite(const char *fn, const char *name, const latens_mat *m);

/* 1 if every entry of m is finite (no report). */
LATENS_INTERNAL int latens_lti_buf_finite_mat(const latens_mat *m);

/* C <- alpha op(A) op(B) + beta C for column-major blocks; ta/tb non-zero for transposes.
 * beta == 0 never reads C.  C must not overlap A or B.  Small products use plain loops. */
LATENS_INTERNAL void latens_lti_mm(int ta, int tb, size_t m, size_t n, size_t k, double alpha,
                                   const double *A, size_t lda, const double *B, size_t ldb,
                                   double beta, double *C, size_t ldc);

/* a <- (a + a^T) / 2 (n x n, ld ld). */
LATENS_INTERNAL void latens_lti_symmetrize(double *a, size_t n, size_t ld);

/* s <- a (n x n, ld lda) balanced by an exact D = diag(2^ex) (Parlett-Reinsch by powers of
 * 2), or a itself if balancing does not reduce ||.||_1 (inf_too: max(||.||_1, ||.||_inf)):
 * on matrices that balancing does not help it can increase the error.  s has ld n, ex n
 * slots.  Returns 1 if the balanced copy is kept; *nrm 2^*e is the norm of s, computed
 * without overflow for any finite a. */
LATENS_INTERNAL int latens_lti_balance_kept(size_t n, const double *a, size_t lda, double *s,
                                            double *ex, int inf_too, double *nrm, int *e);

#endif
