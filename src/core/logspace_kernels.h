/* core/logspace_kernels.h: the vectorised inner loops behind logspace.c (not installed).
 * Arguments are trusted here: logspace.c validates them first. */
#ifndef LATENS_CORE_LOGSPACE_KERNELS_H
#define LATENS_CORE_LOGSPACE_KERNELS_H

#include <stddef.h>
#include "internal.h"

/* log(sum_i exp(x[i*xs] + w[i*ws])), i < n; w may be NULL (no weights). */
LATENS_INTERNAL double latens_lse_kernel(const double *x, size_t xs, const double *w, size_t ws,
                                         size_t n);
/* out[i*os] = log(sum_j exp(X[i + j*ld] + w[j*ws])) for i < nrow; w may be NULL. */
LATENS_INTERNAL void latens_lse_rows_kernel(const double *X, size_t ld, size_t nrow, size_t ncol,
                                            const double *w, size_t ws, double *out, size_t os);
/* ra[i] = max_k A[i + k*lda] (NaN if the row holds a NaN, -Inf if k == 0). */
LATENS_INTERNAL void latens_rowmax_kernel(const double *A, size_t lda, size_t m, size_t k,
                                          double *ra);
/* max_i x[i], NaN if any x[i] is NaN, -Inf if n == 0. */
LATENS_INTERNAL double latens_max_kernel(const double *x, size_t n);
/* E[i + k*lde] = exp(A[i + k*lda] - shift[i]) for i < m, k < K. */
LATENS_INTERNAL void latens_exp_rowshift_kernel(const double *A, size_t lda, size_t m, size_t k,
                                                const double *shift, double *E, size_t lde);
/* e[i] = exp(x[i] - shift), i < n. */
LATENS_INTERNAL void latens_exp_shift_kernel(const double *x, size_t n, double shift, double *e);
/* If c[i] >= thr for every row i whose maximum ra[i] is finite, replace every c[i] by
 * rs[i] + cs + log(c[i]) and return 1 (entries of non-finite rows are then garbage for the
 * caller to overwrite); otherwise leave c untouched and return 0. */
LATENS_INTERNAL int latens_log_shift_kernel(double *c, size_t m, const double *ra, const double *rs,
                                            double cs, double thr);

#endif
