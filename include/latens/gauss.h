/* latens/gauss.h: Gaussian algebra — Cholesky with a jitter ladder, solves with the factor,
 * Kalman predict/update and RTS smoothing steps (moment form), conditioning and log-densities.
 *
 * Conventions shared by every function here:
 * - Matrices are column-major latens_mat with a leading dimension (latens/matrix.h).
 * - "L" is a lower Cholesky factor as produced by latens_chol_decomp: only its lower triangle
 *   (diagonal included) is read.
 * - Covariances passed in (P, Q, R, Pf, ...) are stored in full (both triangles), and so are
 *   covariances written out; outputs are symmetrised exactly ((X + X^T)/2).
 * - Sizes beyond INT_MAX are refused (LATENS_EINVAL): CBLAS takes int dimensions.
 * - Unless a function says otherwise, outputs must not overlap inputs.
 */
#ifndef LATENS_GAUSS_H
#define LATENS_GAUSS_H

#include <stddef.h>
#include <latens/common.h>
#include <latens/matrix.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- Cholesky */

/* Options of latens_chol_decomp.  Start from latens_chol_options_default (or the static
 * initialiser LATENS_CHOL_OPTIONS_DEFAULT) and change fields.
 *
 * jitter_start: first jitter, relative to mean |diag(A)|; must be finite (else
 *   LATENS_ENOTFINITE) and > 0 (else LATENS_EDOM) when max_tries > 0.  Default 1e-10:
 *   rounding alone can leave a PSD matrix of order n with an eigenvalue near
 *   -n^2 u mean|diag| in the worst case (u = 1.1e-16), i.e. ~1e-12 for n = 100 and ~4e-10
 *   for n = 2000; the first rungs rescue such matrices while changing the model by far less
 *   than any statistical error.
 * max_tries: jittered retries after the plain attempt, each with 10 times the previous
 *   jitter.  Default 6, so the largest jitter is 1e-5 mean|diag|: beyond that the jitter is a
 *   change of model, not a numerical repair, and the caller should know.  0 turns the ladder
 *   off (then no backup is kept and nothing is allocated).
 * work, lwork: buffer of at least latens_chol_work_size(n) doubles for the backup of the lower
 *   triangle, or NULL: then orders n <= 32 use the stack and larger ones malloc (freed before
 *   returning).  Pass a buffer to keep large repeated factorisations allocation-free. */
typedef struct {
  double jitter_start;
  unsigned max_tries;
  double *work;
  size_t lwork;
} latens_chol_options;
#define LATENS_CHOL_OPTIONS_DEFAULT {1e-10, 6u, NULL, 0}

/* Fill *opt with the defaults above (NULL: nothing happens). */
LATENS_EXPORT void latens_chol_options_default(latens_chol_options *opt);

/* What latens_chol_decomp did. */
typedef struct {
  double jitter;  /* absolute value added to the diagonal of the factored matrix (0: none) */
  unsigned tries; /* factorisation attempts made, the plain one included */
  size_t minor;   /* on LATENS_ENOTPOSDEF: order (1-based) of the leading minor that failed in
                     the last attempt; 0 on success */
} latens_chol_info;

/* Doubles needed for the backup of the lower triangle of an n x n matrix: n(n+1)/2
 * (0 if that overflows size_t). */
LATENS_EXPORT size_t latens_chol_work_size(size_t n);

/* Lower Cholesky factorisation in place: A = L L^T, for symmetric positive-definite A.
 * Reads the lower triangle of A only; on success A holds L with its strict upper triangle set
 * to zero (so L can be used as a full matrix in gemm).  opt may be NULL (the defaults), info
 * may be NULL.
 * If the plain factorisation fails, the lower triangle is restored from the backup and
 * jitter*I is added, jitter = jitter_start * mean|diag(A)|, times 10 at each retry.  A zero
 * diagonal cannot be rescued (the jitter would be 0).  The ladder also stops early, before
 * a rung that would make the jitter or any diagonal entry plus jitter overflow (entries
 * near DBL_MAX; an infinite diagonal would factor into an infinite L) or that underflows to
 * 0 (a subnormal mean|diag|); the message says so.  L is finite whenever the status is
 * LATENS_OK.
 * Errors: NULL A or A->data: LATENS_EINVAL; non-square: LATENS_EBADLEN; ld > INT_MAX:
 * LATENS_EINVAL; bad jitter_start: see above; NaN/Inf in the lower triangle:
 * LATENS_ENOTFINITE (A untouched); no success after the ladder: LATENS_ENOTPOSDEF, message
 * naming the failed leading minor and the largest jitter tried (info->jitter), with A's
 * lower triangle restored (unspecified when max_tries == 0); backup allocation:
 * LATENS_ENOMEM; work too short: LATENS_EBADLEN.  n = 0 is a valid empty factorisation
 * (LATENS_OK).
 * Orders up to 32 run an unblocked kernel (no BLAS call, no allocation when n <= 32 or work is
 * given); larger ones a blocked right-looking algorithm on CBLAS dtrsm/dsyrk with 256-wide
 * panels, diagonal blocks factored recursively (threaded as the BLAS is). */
LATENS_EXPORT int latens_chol_decomp(latens_mat *A, const latens_chol_options *opt,
                                     latens_chol_info *info);

/* log det(A) = 2 sum log L_ii for the factor L of A.  0 for n = 0.  Returns NaN (and reports
 * LATENS_EINVAL / LATENS_EBADLEN) for a NULL or non-square L. */
LATENS_EXPORT double latens_chol_logdet(const latens_mat *L);

/* Triangular solve in place: x <- L^{-1} x (trans 'N') or x <- L^{-T} x (trans 'T'). */
LATENS_EXPORT int latens_chol_trsv(const latens_mat *L, char trans, latens_vec *x);
/* Triangular multiply in place: x <- L x ('N') or x <- L^T x ('T'); e.g. a draw m + L z. */
LATENS_EXPORT int latens_chol_trmv(const latens_mat *L, char trans, latens_vec *x);
/* Triangular solve, many right-hand sides, in place: B <- op(L)^{-1} B, B is n x k. */
LATENS_EXPORT int latens_chol_trsm(const latens_mat *L, char trans, latens_mat *B);
/* Solve A X = B in place (B <- A^{-1} B, B is n x k) and A x = b (b <- A^{-1} b). */
LATENS_EXPORT int latens_chol_solve(const latens_mat *L, latens_mat *B);
LATENS_EXPORT int latens_chol_solve_vec(const latens_mat *L, latens_vec *b);

/* A^{-1} (full, symmetric) from the factor L of A.  Ainv may be L itself (same data and ld:
 * in place, like LAPACK's dpotri); any other overlap is not allowed.  About n^3 flops, blocked
 * on CBLAS for large n.  A zero or non-finite diagonal entry of L: LATENS_ESING. */
LATENS_EXPORT int latens_chol_invert(const latens_mat *L, latens_mat *Ainv);

/* ---------------------------------------------------------------- Gaussian densities */

/* log N(x; mu, L L^T) = -(n log(2 pi) + log det + |L^{-1}(x - mu)|^2)/2, in nats.
 * mu may be NULL (zero mean).  work: NULL, or a vector of length n for the residual (then
 * nothing is allocated; for n > 64 a NULL work means one malloc).  NaN/Inf in x or mu:
 * LATENS_ENOTFINITE. */
LATENS_EXPORT int latens_gauss_logpdf(const latens_vec *x, const latens_vec *mu,
                                      const latens_mat *L, latens_vec *work, double *logpdf);

/* ---------------------------------------------------------------- Kalman filtering */

/* Scratch for the step functions below, for state dimension d >= 1 and at most p >= 0
 * observations per step: the steps then allocate nothing.  One workspace per thread.
 * When a step cannot factor S or P_p, the error handler hears twice: latens_chol_decomp's
 * details (minor, jitter), then the step naming the matrix; the latter is the last error. */
typedef struct latens_kalman_workspace latens_kalman_workspace;

LATENS_EXPORT latens_kalman_workspace *latens_kalman_workspace_alloc(size_t d, size_t p);
LATENS_EXPORT void latens_kalman_workspace_free(latens_kalman_workspace *w); /* NULL-safe */
/* The jitter ladder used for the Cholesky factors of S (update) and P_p (smoother); defaults
 * as LATENS_CHOL_OPTIONS_DEFAULT.  Same rules and statuses as latens_chol_options
 * (non-finite jitter_start: LATENS_ENOTFINITE; jitter_start <= 0: LATENS_EDOM). */
LATENS_EXPORT int latens_kalman_workspace_set_jitter(latens_kalman_workspace *w,
                                                     double jitter_start, unsigned max_tries);
/* The jitter (absolute) that the last step added to S or P_p: 0 when the plain factor held.
 * NaN (and LATENS_EINVAL reported) for a NULL w. */
LATENS_EXPORT double latens_kalman_workspace_jitter(const latens_kalman_workspace *w);

/* Predict: m <- A m + b, P <- A P A^T + Q (symmetrised), in place.  A, P, Q are d x d; b (d)
 * and Q may be NULL (zero).  A, b, Q must not overlap m or P. */
LATENS_EXPORT int latens_kalman_predict(const latens_mat *A, const latens_vec *b,
                                        const latens_mat *Q, latens_vec *m, latens_mat *P,
                                        latens_kalman_workspace *w);

/* Update N(m, P) with y = H x + e, e ~ N(0, R), in place on m (d) and P (d x d).
 * y: p-vector, p <= the workspace's p; NaN entries are missing and drop their rows of H, y,
 *   yhat and their rows/columns of R; all missing: nothing changes, *loglik = 0.
 * yhat: predicted observation (p), or NULL for H m.  Giving h(m) with H the Jacobian of h at
 *   m makes this the extended Kalman update.
 * H: p x d.  Exactly one of R (p x p, full) and R_diag (p variances) is non-NULL.
 * loglik (may be NULL): log N(y_obs; yhat_obs, S), S = H P H^T + R, in nats; if S needed
 *   jitter the jittered S is used.  On any error *loglik is NaN (not 0), so that a caller
 *   summing the increments of a filter pass cannot mistake a failed step for a neutral one.
 * The covariance update is Joseph's, P <- (I - K H) P (I - K H)^T + K R K^T, which stays
 * positive semi-definite in floating point even when the gain is slightly off.
 * Errors: LATENS_ENOTFINITE for Inf in y, NaN/Inf in m or P, and, at the observed entries
 * only, NaN/Inf in yhat, in the rows of H, in R (or R_diag), or an innovation y - yhat that
 * overflows; S not positive definite after the ladder: LATENS_ENOTPOSDEF; NULL pointers:
 * LATENS_EINVAL; dimensions: LATENS_EBADLEN.  m and P are unchanged on any error. */
LATENS_EXPORT int latens_kalman_update(const latens_vec *y, const latens_vec *yhat,
                                       const latens_mat *H, const latens_mat *R,
                                       const latens_vec *R_diag, latens_vec *m, latens_mat *P,
                                       double *loglik, latens_kalman_workspace *w);

/* Update from joint moments (the unscented/sigma-point form): given yhat = E[y],
 * C = Cov(x, y) (d x p) and S = Cov(y) (p x p, noise included), m <- m + K (y - yhat),
 * P <- P - K S K^T with K = C S^{-1}.  Missing entries (NaN in y) as in latens_kalman_update;
 * loglik likewise (NaN on any error).  Errors as latens_kalman_update, with C and S in place
 * of H and R: NaN/Inf in yhat at an observed entry, in the observed columns of C or in the
 * observed block of S (both triangles) is LATENS_ENOTFINITE; m and P are unchanged on any
 * error.  yhat is required (NULL: LATENS_EINVAL). */
LATENS_EXPORT int latens_kalman_update_moments(const latens_vec *y, const latens_vec *yhat,
                                               const latens_mat *C, const latens_mat *S,
                                               latens_vec *m, latens_mat *P, double *loglik,
                                               latens_kalman_workspace *w);

/* One Rauch–Tung–Striebel step, backwards from t+1 to t.
 * In: A (d x d) the transition from t to t+1; (mf, Pf) filtered at t; (mp, Pp) predicted at
 *   t+1 from (mf, Pf), i.e. A mf + b and A Pf A^T + Q; (ms1, Ps1) smoothed at t+1.
 * Out: (ms, Ps) smoothed at t; Pcross (may be NULL) = Cov(x_{t+1}, x_t | all data)
 *   = Ps1 G^T with the smoother gain G = Pf A^T Pp^{-1} (needed by EM).
 * ms may be mf and Ps may be Pf (overwrite the filtered moments); no other overlap.
 * Pp is factored with the workspace's jitter ladder: LATENS_ENOTPOSDEF if that fails. */
LATENS_EXPORT int latens_kalman_smooth(const latens_mat *A, const latens_vec *mf,
                                       const latens_mat *Pf, const latens_vec *mp,
                                       const latens_mat *Pp, const latens_vec *ms1,
                                       const latens_mat *Ps1, latens_vec *ms, latens_mat *Ps,
                                       latens_mat *Pcross, latens_kalman_workspace *w);

/* Condition N(m, P) on y = H x + e, e ~ N(0, R): latens_kalman_update with yhat = H m, under
 * its Gaussian-algebra name (same contract, same workspace). */
LATENS_EXPORT int latens_gauss_condition(const latens_vec *y, const latens_mat *H,
                                         const latens_mat *R, const latens_vec *R_diag,
                                         latens_vec *m, latens_mat *P, double *loglik,
                                         latens_kalman_workspace *w);

#ifdef __cplusplus
}
#endif
#endif
