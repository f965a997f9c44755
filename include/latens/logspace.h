/* latens/logspace.h: arithmetic on log-probabilities.
 *
 * Probabilistic circuits, mixtures and HMM-like recursions add probabilities that are stored
 * as logarithms.  Everything here is stable over the whole double range: sums are shifted by
 * their maximum before exponentiating, so no intermediate overflows and the largest term is
 * never lost to underflow.
 *
 * IEEE conventions, chosen so that log 0 = -Inf is an ordinary value:
 *   - an empty sum, or a sum whose terms are all -Inf, is -Inf (log of 0);
 *   - any +Inf term makes the sum +Inf;
 *   - NaN anywhere gives NaN (never silently dropped).
 * A NaN that comes in goes out without a report (it was made elsewhere); a NaN that a scalar
 * function makes from a bad argument (a NULL array, log1mexp of x > 0, logsubexp of a < b)
 * is also reported through the error handler, as every latens function reports bad input.
 * The vectorised kernels evaluate exp/log through glibc's libmvec (a few ulp, like the scalar
 * libm) and sum in a vector-width-dependent order: results agree with a scalar evaluation to
 * a few ulp, not bit for bit.
 */
#ifndef LATENS_LOGSPACE_H
#define LATENS_LOGSPACE_H

#include <stddef.h>
#include <latens/common.h>
#include <latens/matrix.h>

#ifdef __cplusplus
extern "C" {
#endif

/* log(sum_i exp(x[i*stride])), i < n.  n == 0 gives -Inf.  x NULL (with n > 0) or stride 0
 * report LATENS_EINVAL and return NaN. */
LATENS_EXPORT double latens_logsumexp(const double *x, size_t n, size_t stride);
/* log(sum_i exp(x[i] + w[i])), i < n, for contiguous arrays: a log-space dot product with
 * log-weights w (quadrature, mixture weights).  -Inf + +Inf terms are NaN (0 * Inf). */
LATENS_EXPORT double latens_logsumexp_weighted(const double *x, const double *w, size_t n);

/* log(exp(a) + exp(b)). */
LATENS_EXPORT double latens_logaddexp(double a, double b);
/* log(1 + exp(x)) (softplus), relative error of a few ulp over the whole range, using the
 * thresholds of Maechler (2012), "Accurately computing log(1 - exp(-|a|))", Rmpfr vignette. */
LATENS_EXPORT double latens_log1pexp(double x);
/* log(1 - exp(x)) for x <= 0: log(-expm1(x)) for x > -ln 2, log1p(-exp(x)) below (Maechler
 * 2012).  x == 0 gives -Inf, x == -Inf gives 0, x > 0 (outside the domain) gives NaN and
 * reports LATENS_EDOM. */
LATENS_EXPORT double latens_log1mexp(double x);
/* log(exp(a) - exp(b)) for a >= b.  a == b gives -Inf (also for a == b == -Inf); a < b (the
 * difference is negative) and a == b == +Inf (Inf - Inf) give NaN and report LATENS_EDOM. */
LATENS_EXPORT double latens_logsubexp(double a, double b);

/* Row-wise: out[i] = log(sum_j exp(X[i,j] + w[j])), one entry per row of X (out->n ==
 * X->nrow); column-wise: out[j] = log(sum_i exp(X[i,j] + w[i])), one per column (out->n ==
 * X->ncol).  w is optional (NULL: no weights); when given it has one entry per term (length
 * X->ncol for rows, X->nrow for columns).  out must not overlap X or w.  Empty reductions give
 * -Inf.  These are the hot loops of circuit evaluation: they vectorise across rows (row-wise)
 * or along the column (column-wise).  Statuses: LATENS_EINVAL (NULL, ld < nrow),
 * LATENS_EBADLEN (lengths). */
LATENS_EXPORT int latens_logsumexp_rows(const latens_mat *X, const latens_vec *w, latens_vec *out);
LATENS_EXPORT int latens_logsumexp_cols(const latens_mat *X, const latens_vec *w, latens_vec *out);

/* Log-space matrix product: C[i,j] = log(sum_k exp(A[i,k] + B[k,j])), A m x K, B K x n,
 * C m x n, all column-major with their own ld.
 *
 * Computed as exp(A - rowmax A) * exp(B - colmax B) by cblas_dgemm, then log and the shifts
 * added back.  Entries where that product is too small to be accurate (the row of A and the
 * column of B peak at different k, more than ~700 nats apart) are recomputed directly as
 * log-sum-exps; rows or columns that are entirely -Inf give -Inf, NaN propagates to its
 * whole row (from A) or column (from B), and +Inf meets -Inf as NaN.
 *
 * Accuracy is absolute, not relative: |error in C[i,j]| is about
 * eps (|rowmax_i A| + |colmax_j B| + |C[i,j]|) + K eps (eps = 2^-52; K eps is the dgemm's
 * worst case, typically nearer sqrt(K) eps).  Why: the dgemm adds nonnegative terms, so
 * its relative error is at most ~K eps (plus the exp kernels' few ulp), which the log turns
 * into an absolute error of that size; the shifted exponents of the dominant terms (they
 * add up to about C - rowmax - colmax) and the final rowmax + colmax + log each round at
 * the scale of those three magnitudes.  So with rows near +1e6 and columns near -1e6 an entry
 * near 0 is good to only ~1e6 eps ~ 2e-10.  A direct evaluation forms A[i,k] + B[k,j] and
 * rounds at the same scale; the recomputed entries obey the same bound.
 *
 * work: latens_logmatmul_work_size(m, K, n) doubles (0 when that count overflows size_t), or
 * NULL to allocate internally (pass a buffer when calling in a loop).  C must not overlap A,
 * B or work.  K == 0 gives -Inf.  Threads: only the BLAS's own (OpenBLAS may use several);
 * callers parallelise over independent batches.
 * Statuses: LATENS_EINVAL (NULL, ld < nrow, or a dimension or ld beyond INT_MAX, the BLAS
 * int), LATENS_EBADLEN, LATENS_ENOMEM. */
LATENS_EXPORT size_t latens_logmatmul_work_size(size_t m, size_t k, size_t n);
LATENS_EXPORT int latens_logmatmul(const latens_mat *A, const latens_mat *B, latens_mat *C,
                                   double *work);

#ifdef __cplusplus
}
#endif
#endif
