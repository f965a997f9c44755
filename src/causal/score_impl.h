/* causal/score_impl.h: helpers shared by the score-based and non-Gaussian methods
 * (causal_score part); not installed. */
#ifndef LATENS_CAUSAL_SCORE_IMPL_H
#define LATENS_CAUSAL_SCORE_IMPL_H

#include "../core/internal.h"
#include <latens/causal_score.h>

/* Checks every method's continuous data the same way, naming fn: NULL / n or p zero /
 * ldx < n -> EINVAL; NaN or Inf -> ENOTFINITE naming row and column (1-based); n < min_n ->
 * EDOM; a constant column -> EDOM naming it.  Collinearity is found later (cs_center_cov). */
LATENS_INTERNAL int cs_check_data(const char *fn, const double *X, size_t n, size_t p, size_t ldx,
                                  size_t min_n);
/* Copies X into the n x p (ld n) array Y with every column centred; scale != 0 also divides
 * by the standard deviation (1/n convention). */
LATENS_INTERNAL void cs_center(const double *X, size_t n, size_t p, size_t ldx, double *Y,
                               int scale);
/* S <- Y^T Y / n (p x p, ld p) for centred Y (n x p, ld n). */
LATENS_INTERNAL void cs_cov(const double *Y, size_t n, size_t p, double *S);
/* Cholesky test of the correlation matrix built from S: ESING naming the first column that
 * is (numerically, 1 - R^2 < 1e-10) a linear combination of the previous ones. */
LATENS_INTERNAL int cs_check_collinear(const char *fn, const double *S, size_t p);
/* Least-squares regression of column y on the columns idx[0..k) of the covariance S (p x p):
 * beta (k) solves S[idx,idx] beta = S[idx,y]; returns the residual variance, or -1 when the
 * system is singular.  work: k*k + k doubles. */
LATENS_INTERNAL double cs_regress_cov(const double *S, size_t p, size_t y, const size_t *idx,
                                      size_t k, double *beta, double *work);
/* Prune B (p x p, ld ldb; B[i + j ldb] = effect of j on i) by OLS of each variable on its
 * predecessors in order with t-tests at level alpha (two-sided) against the residual
 * variance with n - k - 1 degrees of freedom; removed coefficients become 0 and the
 * remaining ones are refitted on the kept parents.  S: covariance (1/n) of the data. */
LATENS_INTERNAL int cs_prune_ols(const double *S, size_t n, size_t p, const size_t *order,
                                 double alpha, double *B, size_t ldb);

/* Continuous data of d as a column-major array: checks (discrete -> EINVAL, n < p + 2 ->
 * EDOM since pruning regressions need residual degrees of freedom) and hands back the
 * matrix.  fn names the caller. */
LATENS_INTERNAL int cs_data_continuous(const char *fn, const latens_causal_data *d,
                                       const double **X, size_t *n, size_t *p, size_t *ldx);
/* A new graph on d's column names with i --> j wherever B[j + i p] != 0 (LiNGAM convention,
 * transpose != 0: wherever B[i + j p] != 0, the NOTEARS convention). */
LATENS_INTERNAL int cs_graph_from_matrix(const latens_causal_data *d, const double *B, size_t p,
                                         int transpose, latens_causal_graph **out);
/* The data set's column names in a new array (pointers owned by d), or NULL on no memory. */
LATENS_INTERNAL const char **cs_names(const latens_causal_data *d);
/* Shared tail of the LiNGAM methods: prune on the covariance of X (cs_prune_ols), copy B
 * (may be NULL) and build *out (may be NULL). */
LATENS_INTERNAL int cs_lingam_finish(const char *fn, const latens_causal_data *d,
                                     const double *X, size_t n, size_t p, size_t ldx,
                                     const size_t *ord, double prune_alpha, double *B,
                                     latens_causal_graph **out);
/* latens_causal_fastica with the EMAXITER report optional: ICA-LiNGAM uses the last iterate
 * of a run that did not converge and must then return LATENS_OK without an error report. */
LATENS_INTERNAL int cs_fastica(const double *X, size_t n, size_t p, size_t ldx,
                               const latens_causal_lingam_options *opt, latens_rng *rng,
                               double *W, double *A, int report_maxiter);
/* The common start of the LiNGAM methods, reporting as fn: *o = opt or the defaults, checked;
 * *out cleared; the continuous data matrix of d. */
LATENS_INTERNAL int cs_lingam_begin(const char *fn, const latens_causal_data *d,
                                    const latens_causal_lingam_options *opt,
                                    latens_causal_lingam_options *o, latens_causal_graph **out,
                                    const double **X, size_t *n, size_t *p, size_t *ldx);

#ifdef _OPENMP
#include <omp.h>
#define CS_NTHREADS(t) ((t) > 0 ? (t) : omp_get_max_threads())
#else
#define CS_NTHREADS(t) 1
#endif
#endif
