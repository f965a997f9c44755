/* core/lti_impl.h: what the exponential and discretisation (lti.c) share with the Lyapunov
 * solver (lyap.c): exact scaling by powers of 2 and balancing.  Argument checks and small
 * products are the core's own (internal.h).  Not installed. */
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

/* s <- a (n x n, ld lda) balanced by an exact D = diag(2^ex) (Parlett-Reinsch by powers of
 * 2), or a itself if balancing does not reduce ||.||_1 (inf_too: max(||.||_1, ||.||_inf)):
 * on matrices that balancing does not help it can increase the error.  s has ld n, ex n
 * slots.  Returns 1 if the balanced copy is kept; *nrm 2^*e is the norm of s, computed
 * without overflow for any finite a. */
LATENS_INTERNAL int latens_lti_balance_kept(size_t n, const double *a, size_t lda, double *s,
                                            double *ex, int inf_too, double *nrm, int *e);

#endif
