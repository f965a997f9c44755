/* latens/gp_cvi.h: non-Gaussian likelihoods for state-space Gaussian processes by
 * conjugate-computation variational inference (CVI, Khan & Lin, AISTATS 2017), the
 * bidirectional information filter of cvHM (Dowling, Zhao & Park, ICML 2023), and Gaussian
 * process factor analysis (GPFA, Yu et al. 2009) for many observed units.
 *
 * Model.  K independent latent processes f_k(t), each the first output of a linear Gaussian
 * state-space model (a Matérn / Hida-Matérn kernel in state-space form, see latens/gp.h),
 * stacked into one state x_t of dimension D = sum_k d_k, observed on T time points:
 *     x_0 ~ N(0, Pinf),  x_{t+1} = A_t x_t + N(0, Q_t),  f_t = H x_t  (K values).
 * Unit n at time t sees eta_tn = c_n^T f_t + d_n (C is N x K, d the offsets) through
 *     gaussian   y ~ N(eta, r_n)                  (r_n the noise variance)
 *     poisson    y ~ Poisson(exp(eta))            (log link; put log(bin width) in d_n)
 *     bernoulli  y ~ Bernoulli(1/(1+exp(-eta)))   (logit link; y is 0 or 1)
 * NaN observations are missing: they contribute no site term.
 *
 * CVI keeps one Gaussian site per time point, exp(j_t^T f_t - f_t^T J_t f_t / 2), and
 * alternates a smoothing pass over the sites (the exact posterior of the conjugate model)
 * with damped natural-parameter steps towards the gradients of the expected log-likelihood:
 *     J <- (1-b) J + b (-2 dE/dV),   j <- (1-b) j + b (dE/dm - 2 dE/dV m).
 * With b = 1 and a Gaussian likelihood one step is exact.  The ELBO reported is
 *     sum_t E_q log p(y_t | f_t) - KL(q || prior),
 * which for the Gaussian likelihood equals the exact log marginal likelihood.  Poisson
 * expectations are closed form; Bernoulli ones use Gauss-Hermite quadrature (latens/quad.h).
 *
 * Arrays are column-major with leading dimensions; latent outputs are T x K (ld >= T),
 * observations T x N (ld >= T), loadings N x K.  All values in nats.
 */
#ifndef LATENS_GP_CVI_H
#define LATENS_GP_CVI_H
#include <stddef.h>
#include <latens/core.h>
#include <latens/gp.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- likelihoods */

typedef enum {
  LATENS_GP_CVI_GAUSSIAN = 0,
  LATENS_GP_CVI_POISSON = 1,
  LATENS_GP_CVI_BERNOULLI = 2,
  LATENS_GP_CVI_NLIK = 3
} latens_gp_cvi_lik;

/* "gaussian", "poisson", "bernoulli"; "unknown" otherwise (never NULL). */
LATENS_EXPORT const char *latens_gp_cvi_lik_name(int lik);
/* The inverse of latens_gp_cvi_lik_name: LATENS_OK, or LATENS_EINVAL naming the word. */
LATENS_EXPORT int latens_gp_cvi_lik_parse(const char *name, int *lik);

/* ---------------------------------------------------------------- the prior */

/* A stacked state-space prior of K latents on T time points (see the top of this file).
 * Steps are stored per latent as d_k x d_k blocks; `regular` (non-zero) stores one step
 * shared by every t (an equally spaced grid), otherwise T - 1 steps (t -> t+1). */
typedef struct latens_gp_ssm latens_gp_ssm;

/* dims: the K state dimensions, each 1..64, at most 4096 in total.  T >= 1.  NULL (error
 * reported) on bad sizes or no memory.  Everything starts zero: set every latent and every step before use. */
LATENS_EXPORT latens_gp_ssm *latens_gp_ssm_alloc(size_t K, const size_t *dims, size_t T,
                                                 int regular);
LATENS_EXPORT void latens_gp_ssm_free(latens_gp_ssm *s); /* NULL-safe */
LATENS_EXPORT size_t latens_gp_ssm_nlatents(const latens_gp_ssm *s);
LATENS_EXPORT size_t latens_gp_ssm_ntimes(const latens_gp_ssm *s);
LATENS_EXPORT size_t latens_gp_ssm_state_dim(const latens_gp_ssm *s); /* D = sum d_k */

/* Latent k: H (1 x d_k, f_k = H x_k) and the stationary covariance Pinf (d_k x d_k, full,
 * symmetric positive definite: the process starts from N(0, Pinf)).  Copied. */
LATENS_EXPORT int latens_gp_ssm_set_latent(latens_gp_ssm *s, size_t k, const latens_mat *H,
                                           const latens_mat *Pinf);
/* Transition of latent k from time t to t+1 (t < T-1; t = 0 on a regular grid): A and Q are
 * d_k x d_k, Q symmetric positive semi-definite.  Copied.  NaN/Inf: LATENS_ENOTFINITE. */
LATENS_EXPORT int latens_gp_ssm_set_step(latens_gp_ssm *s, size_t k, size_t t,
                                         const latens_mat *A, const latens_mat *Q);

/* Latent k from a kernel of latens/gp.h on the T non-decreasing times (duplicates allowed:
 * a zero step is exact): H, Pinf and every step A(dt), Q(dt).  The latent must have been
 * allocated with d_k = latens_gp_kernel_dim(kern).  On a regular prior the mean step
 * (t[T-1] - t[0]) / (T - 1) is used and every step must equal it to 1e-9 relative
 * times the number of points (else LATENS_EDOM, naming the first step that differs).
 * Unsorted or non-finite times: LATENS_EDOM / LATENS_ENOTFINITE. */
LATENS_EXPORT int latens_gp_ssm_set_kernel(latens_gp_ssm *s, size_t k,
                                           const latens_gp_kernel *kern, const double *times);

/* ---------------------------------------------------------------- CVI */

/* Smoother used inside CVI. */
enum {
  LATENS_GP_CVI_RTS = 0, /* moment-form Kalman filter + Rauch-Tung-Striebel (default) */
  LATENS_GP_CVI_INFO = 1 /* bidirectional information filter (cvHM); predicts in moment form
                            where A_t or Q_t is near singular (long gaps, zero steps) or the
                            information form loses definiteness.  The backward pass runs the
                            reversed stationary chain, so it requires
                            Q_t = Pinf - A_t Pinf A_t^T, as latens_gp_ssm_set_kernel sets */
};

typedef struct {
  double damping;  /* b in (0, 1]; 1 is CVI's natural-gradient step.  Default 0.7: Poisson
                      counts of a few per bin with b = 1 can overshoot in the first steps */
  size_t max_iter; /* >= 1, default 200 */
  double tol;      /* converged when the largest change of a latent mean is at most
                      tol * (1 + |mean|), the ELBO changed by at most tol * max(1, |ELBO|)
                      and every site is within sqrt(tol) (relative) of its target (CVI's
                      fixed point); default 1e-8 */
  int smoother;    /* LATENS_GP_CVI_RTS or LATENS_GP_CVI_INFO */
  size_t gh_nodes; /* Gauss-Hermite nodes for Bernoulli expectations, 2..200, default 32 */
} latens_gp_cvi_options;

LATENS_EXPORT void latens_gp_cvi_options_default(latens_gp_cvi_options *opt);

/* The observation model: N units read out from the K latents. */
typedef struct {
  int lik;              /* latens_gp_cvi_lik */
  size_t N;             /* units, >= 1 */
  const double *C;      /* N x K loadings, column-major, leading dimension ldc >= N */
  size_t ldc;
  const double *d;      /* N offsets, or NULL (zero) */
  const double *noise;  /* N noise variances > 0, Gaussian only (ignored otherwise) */
} latens_gp_cvi_readout;

/* A CVI posterior over one series: sites, smoothed latent moments, ELBO.  Keeps its prior
 * by pointer (the prior must outlive it and not change during a run). */
typedef struct latens_gp_cvi latens_gp_cvi;

LATENS_EXPORT latens_gp_cvi *latens_gp_cvi_alloc(const latens_gp_ssm *prior);
LATENS_EXPORT void latens_gp_cvi_free(latens_gp_cvi *w); /* NULL-safe */
/* Forget the sites (back to the prior); the next run starts afresh (Poisson: from sites
 * fitted to log(y + 1/2), the saturated point; other likelihoods: from the prior).  A run
 * otherwise starts from the sites of the previous one (warm start, as GPFA's outer loop
 * does). */
LATENS_EXPORT void latens_gp_cvi_reset(latens_gp_cvi *w);

/* Run CVI on Y (T x N, ld ldy >= T; NaN = missing) under the readout ro.  opt may be NULL
 * (defaults), progress may be NULL.  On LATENS_OK or LATENS_EMAXITER the posterior is
 * available from the getters below (EMAXITER: the last iterate).  Errors: bad sizes
 * (LATENS_EBADLEN / LATENS_EINVAL; at most 64 latents), bad options (LATENS_EDOM /
 * LATENS_EINVAL), an Inf observation, a negative or non-integer count
 * (Poisson), a value other than 0 or 1 (Bernoulli), a non-finite C or d, a noise variance
 * <= 0 (LATENS_EDOM / LATENS_ENOTFINITE, naming row and column), a smoother failure
 * (LATENS_ENOTPOSDEF), LATENS_EINTERRUPTED. */
LATENS_EXPORT int latens_gp_cvi_run(latens_gp_cvi *w, const latens_gp_cvi_readout *ro,
                                    const double *Y, size_t ldy, const latens_gp_cvi_options *opt,
                                    const latens_progress *progress);

/* Smoothed latent means (T x K, ld ldm >= T) and variances (T x K, ld ldv), either may be
 * NULL.  Before any run: the prior (mean 0). */
LATENS_EXPORT int latens_gp_cvi_latents(const latens_gp_cvi *w, double *mean, size_t ldm,
                                        double *var, size_t ldv);
/* Posterior covariance of the K latents at time t (K x K, ld ldv >= K). */
LATENS_EXPORT int latens_gp_cvi_latent_cov(const latens_gp_cvi *w, size_t t, double *V,
                                           size_t ldv);
LATENS_EXPORT double latens_gp_cvi_elbo(const latens_gp_cvi *w);   /* NaN before a run */
LATENS_EXPORT size_t latens_gp_cvi_iterations(const latens_gp_cvi *w);
LATENS_EXPORT int latens_gp_cvi_converged(const latens_gp_cvi *w); /* 1 when tol was met */

/* ---------------------------------------------------------------- one series, one kernel */

typedef struct {
  double elbo;       /* the ELBO at the result (Gaussian: the exact log marginal likelihood) */
  size_t iterations; /* CVI site updates (latens_gp_cvi_fit: simplex iterations) */
  int converged;
} latens_gp_cvi_result;

/* The simple entry point: one latent f ~ GP(0, k) at the n non-decreasing times t, one
 * observation per time (NaN = missing) with eta = f(t) + offset (Poisson: offset = log bin
 * width, rate = exp(eta); Bernoulli: P(y = 1) = 1/(1 + exp(-eta)); Gaussian: y ~ N(eta,
 * noise), noise > 0, ignored otherwise).  Writes the posterior mean and variance of f (n each;
 * var may be NULL) and, when rate is not NULL, the posterior mean of the observation's mean:
 * Poisson E exp(eta) = exp(m + offset + v/2), Bernoulli E sigmoid(eta) (Gauss-Hermite),
 * Gaussian m + offset (Gaussian data take one undamped, exact step whatever opt->damping
 * says).  n = 0 is valid (ELBO 0).  res may be NULL.  LATENS_EMAXITER when CVI
 * did not meet tol (the outputs are then the last iterate); other errors as
 * latens_gp_cvi_run and latens_gp_ssm_set_kernel. */
LATENS_EXPORT int latens_gp_cvi_series(const latens_gp_kernel *k, int lik, const double *t,
                                       const double *y, size_t n, double offset, double noise,
                                       const latens_gp_cvi_options *opt, double *mean,
                                       double *var, double *rate, latens_gp_cvi_result *res);

/* As latens_gp_cvi_series, with the posterior read at nq query times tq (any order, any
 * finite values, duplicates and observed times allowed) into mean, var and rate (nq each;
 * var and rate may be NULL): the queries join the series as missing observations, so they
 * do not change the posterior.  Non-finite tq: LATENS_ENOTFINITE. */
LATENS_EXPORT int latens_gp_cvi_predict(const latens_gp_kernel *k, int lik, const double *t,
                                        const double *y, size_t n, double offset, double noise,
                                        const latens_gp_cvi_options *opt, const double *tq,
                                        size_t nq, double *mean, double *var, double *rate,
                                        latens_gp_cvi_result *res);

/* Hyperparameters by the CVI ELBO: maximise the converged ELBO of latens_gp_cvi_series over
 * the logarithms of k's parameters (variance, lengthscale, frequency; and, for Gaussian
 * data, of *noise) with the core's Nelder-Mead simplex; each evaluation warm-starts CVI from
 * the previous sites.  k (and *noise, Gaussian only; may be NULL otherwise) receive the
 * result; k's current parameters are the start.  max_evals >= 1 bounds the simplex
 * iterations (default suggestion 200).  res->iterations counts simplex iterations.
 * Returns LATENS_OK also when max_evals was reached (res->converged then 0).  The data,
 * likelihood and offset are checked before the search (errors as latens_gp_cvi_run); n >= 2.
 * Log-parameters beyond +-46 (e^46 ~ 1e20) count as an infinitely bad ELBO. */
LATENS_EXPORT int latens_gp_cvi_fit(latens_gp_kernel *k, int lik, const double *t, const double *y,
                                    size_t n, double offset, double *noise,
                                    const latens_gp_cvi_options *opt, size_t max_evals,
                                    latens_gp_cvi_result *res);

/* ---------------------------------------------------------------- GPFA */

typedef struct {
  int lik;                /* LATENS_GP_CVI_GAUSSIAN (EM) or LATENS_GP_CVI_POISSON */
  size_t max_iter;        /* outer iterations (E step + readout update), >= 1; default 50 */
  double tol;             /* stop when the objective (Gaussian: log-likelihood; Poisson: ELBO)
                             rises by less than tol * max(1, |objective|); default 1e-6 */
  size_t cvi_iter;        /* CVI iterations per outer iteration (Poisson), default 5 */
  double ridge;           /* Poisson readout: penalty ridge/2 * |c_n|^2 per unit, >= 0;
                             default 1e-3 */
  double min_noise;       /* Gaussian: floor of the noise variances, relative to each unit's
                             sample variance; default 1e-4 */
  latens_gp_cvi_options cvi; /* inner CVI options */
} latens_gp_gpfa_options;

LATENS_EXPORT void latens_gp_gpfa_options_default(latens_gp_gpfa_options *opt);

/* The fitted readout and per-trial posteriors of GPFA. */
typedef struct latens_gp_gpfa latens_gp_gpfa;

/* Fit GPFA to R trials.  Trial r has prior priors[r] (K latents, T_r times; the K must agree)
 * and observations Y[r] (T_r x N, ld ldy[r] >= T_r; NaN = missing).  The readout (C, d and,
 * for Gaussian data, the noise variances) is initialised by principal components of the
 * (log-)data and then learnt: by exact EM for Gaussian data, by CVI E steps and per-unit
 * Newton M steps on the expected log-likelihood for Poisson counts.  Trials run in parallel
 * (OpenMP); the result does not depend on the thread count.  *out receives a new object
 * (free with latens_gp_gpfa_free), also on LATENS_EMAXITER.  opt may be NULL.  Errors: as
 * latens_gp_cvi_run (data, options, including opt->cvi), 1 <= K <= min(64, N) else
 * LATENS_EDOM, a unit never observed in any trial (LATENS_EDOM), a failed E or M step (the
 * message names the trial or unit); *out is then NULL. */
LATENS_EXPORT int latens_gp_gpfa_fit(const latens_gp_ssm *const *priors, const double *const *Y,
                                     const size_t *ldy, size_t R, size_t N,
                                     const latens_gp_gpfa_options *opt,
                                     const latens_progress *progress, latens_gp_gpfa **out);
/* GPFA with each latent's timescales learnt as well (Yu et al. 2009; Elephant's GPFA).
 * kernels[0..K) (one per latent, in/out: their current parameters are the start and they
 * receive the result) give the priors on each trial's times times[r][0..T[r]) (non-decreasing,
 * any spacing); every outer iteration follows the readout update of latens_gp_gpfa_fit with,
 * latent by latent, a Nelder-Mead search (at most max_evals iterations, suggestion 30) over
 * the logarithms of that kernel's lengthscales, the readout fixed, maximising the same
 * objective (Gaussian: the exact log marginal likelihood of all trials, so the trace never
 * decreases; Poisson: the ELBO after opt->cvi_iter warm-started CVI iterations, which is not
 * guaranteed monotone).  Variances and frequencies stay as given: with the readout free, the
 * variance only rescales C, so keep it at 1 for identifiability.  Each search evaluation is a
 * full E step over the trials.  Returns and errors as latens_gp_gpfa_fit (the prior checks
 * as latens_gp_ssm_set_kernel), LATENS_EINVAL for NULLs, K outside 1..64, R = 0, an empty
 * trial or max_evals = 0; the kernels hold the last accepted values also on error. */
LATENS_EXPORT int latens_gp_gpfa_fit_timescales(latens_gp_kernel *const *kernels, size_t K,
                                                const double *const *times, const size_t *T,
                                                const double *const *Y, const size_t *ldy,
                                                size_t R, size_t N,
                                                const latens_gp_gpfa_options *opt,
                                                size_t max_evals,
                                                const latens_progress *progress,
                                                latens_gp_gpfa **out);
LATENS_EXPORT void latens_gp_gpfa_free(latens_gp_gpfa *g); /* NULL-safe */

LATENS_EXPORT size_t latens_gp_gpfa_nlatents(const latens_gp_gpfa *g);
LATENS_EXPORT size_t latens_gp_gpfa_nunits(const latens_gp_gpfa *g);
LATENS_EXPORT size_t latens_gp_gpfa_ntrials(const latens_gp_gpfa *g);
LATENS_EXPORT size_t latens_gp_gpfa_iterations(const latens_gp_gpfa *g);
/* The objective after each outer iteration (Gaussian: exact log marginal likelihood of all
 * trials; Poisson: the summed ELBO): trace[0..iterations).  Pointer owned by g. */
LATENS_EXPORT const double *latens_gp_gpfa_trace(const latens_gp_gpfa *g);
/* Readout: C (N x K, ld ldc >= N), d (N) and noise (N, Gaussian; NaN for Poisson), any of
 * them NULL to skip. */
LATENS_EXPORT int latens_gp_gpfa_readout(const latens_gp_gpfa *g, double *C, size_t ldc,
                                         double *d, double *noise);
/* Posterior latent means and variances of trial r (T_r x K each, either may be NULL). */
LATENS_EXPORT int latens_gp_gpfa_latents(const latens_gp_gpfa *g, size_t r, double *mean,
                                         size_t ldm, double *var, size_t ldv);
/* Orthonormalised latents of trial r for reporting (Yu et al. 2009): with C = U S V^T
 * (thin SVD), x_orth = S V^T x, so that C x = U x_orth with orthonormal U; the columns are
 * ordered by decreasing singular value.  mean: T_r x K, ld ldm.  U (N x K, ld ldu) may be
 * NULL. */
LATENS_EXPORT int latens_gp_gpfa_orthonormal(const latens_gp_gpfa *g, size_t r, double *mean,
                                             size_t ldm, double *U, size_t ldu);

/* ---------------------------------------------------------------- helpers */

/* R^2 of y (n x q) explained by an affine function of x (n x p), least squares over all
 * rows, pooled over the q columns: 1 - sum |residual|^2 / sum |y - mean(y)|^2.  NaN rows are
 * not allowed.  Used to score recovered latents (they are identified up to an affine map).
 * LATENS_EDOM when n <= p + 1 or y is constant. */
LATENS_EXPORT int latens_gp_affine_r2(const double *x, size_t ldx, size_t p, const double *y,
                                      size_t ldy, size_t q, size_t n, double *r2);

#ifdef __cplusplus
}
#endif
#endif
