/* latens/gp.h: one-dimensional Gaussian processes in linear time — stationary (Hida-)Matérn
 * kernels written as linear state-space models, exact Gaussian inference by Kalman filtering
 * and RTS smoothing, the exact log marginal likelihood and its gradient, the Whittle
 * likelihood on regular grids, and hyperparameter fitting.
 *
 * Kernels.  A kernel is a sum of terms; each term is one of
 *   Matérn ν = p + 1/2 (p = 0..3):  k(τ) = σ² m_p(|τ|; ℓ)
 *   Hida-Matérn of order p:          k(τ) = σ² m_p(|τ|; ℓ) cos(ω τ)
 * with m_0 = e^{-d/ℓ}, m_1 = (1 + √3 d/ℓ) e^{-√3 d/ℓ}, m_2 = (1 + √5 d/ℓ + 5d²/(3ℓ²))
 * e^{-√5 d/ℓ}, m_3 = (1 + √7 d/ℓ + 14d²/(5ℓ²) + 7√7 d³/(15ℓ³)) e^{-√7 d/ℓ}.
 * Units: variance σ² (> 0) in squared data units, lengthscale ℓ (> 0) in time units,
 * frequency ω (>= 0) in radians per time unit.  The Gaussian observation noise (`noise`) is a
 * variance.
 *
 * Hyperparameters are numbered term by term: variance, lengthscale, then frequency for
 * Hida-Matérn terms.  Their names (latens_gp_kernel_param_name) are "variance",
 * "lengthscale", "frequency" for a single term and "variance1", "lengthscale1", ... (1-based)
 * for sums; the CLI prints and reads exactly these.  Gradients are with respect to these
 * natural parameters (not their logs), followed by the noise variance.
 *
 * State space.  A term of order p has state dimension p + 1 (Matérn) or 2(p + 1)
 * (Hida-Matérn); a sum stacks the states (block-diagonal A, Q, P∞).  The state is scaled:
 * component k of a Matérn term is f^{(k)} / λ^k with λ = √(2p+1)/ℓ, so every entry of P∞, A
 * and Q is O(σ²) or O(1) whatever ℓ is; a Hida-Matérn term is the Matérn state ⊗ (cos, sin)
 * pair (index 2k + j), A = A_m ⊗ R(ωΔ), P∞ = P∞_m ⊗ I₂.  f(t) = H x(t) with H a 0/1 row
 * vector.  A(Δ) = exp(FΔ) is evaluated in closed form (F + λI is nilpotent) and
 * Q(Δ) = P∞ − A P∞ Aᵀ, for any Δ >= 0: Δ = 0 gives A = I, Q = 0 exactly, λΔ > 700 gives
 * A = 0, Q = P∞.
 *
 * Data.  Times must be finite and non-decreasing (duplicates allowed); unsorted times are
 * rejected with LATENS_EDOM naming the first offending index (sort first).  NaN values are
 * missing (no update).  An empty series is valid (log-likelihood 0).
 *
 * Threads: kernels are read-only during inference; any number of threads may use one kernel
 * at once.  latens_gp_loglik over several trials runs them in parallel (OpenMP) and sums in
 * trial order, so results do not depend on the thread count.
 */
#ifndef LATENS_GP_H
#define LATENS_GP_H

#include <stddef.h>
#include <latens/core.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- kernels */

typedef enum {
  LATENS_GP_MATERN12 = 0, /* p = 0 (exponential / Ornstein-Uhlenbeck) */
  LATENS_GP_MATERN32 = 1,
  LATENS_GP_MATERN52 = 2,
  LATENS_GP_MATERN72 = 3,
  LATENS_GP_HIDA12 = 4, /* σ² m_0 cos(ωτ) */
  LATENS_GP_HIDA32 = 5, /* σ² m_1 cos(ωτ); "hida-matern" */
  LATENS_GP_HIDA52 = 6,
  LATENS_GP_HIDA72 = 7,
  LATENS_GP_NKINDS = 8
} latens_gp_kind;

/* At most this many terms in a sum, and this state dimension in total. */
enum { LATENS_GP_MAX_TERMS = 8, LATENS_GP_MAX_DIM = 32 };

/* "matern12", "matern32", "matern52", "matern72", "hida-matern12", "hida-matern32",
 * "hida-matern52", "hida-matern72"; "unknown" out of range.  Never NULL. */
LATENS_EXPORT const char *latens_gp_kind_name(int kind);
/* Inverse of latens_gp_kind_name; also accepts "hida-matern" (= hida-matern32).
 * LATENS_EINVAL for NULL, LATENS_EDOM (message naming it) for an unknown name. */
LATENS_EXPORT int latens_gp_kind_from_name(const char *name, latens_gp_kind *kind);

/* One term.  frequency is ignored (kept 0) for Matérn kinds. */
typedef struct {
  latens_gp_kind kind;
  double variance;    /* σ² > 0 */
  double lengthscale; /* ℓ > 0 */
  double frequency;   /* ω >= 0, rad per time unit */
} latens_gp_term;

typedef struct latens_gp_kernel latens_gp_kernel;

/* A sum of nterms (1..LATENS_GP_MAX_TERMS) terms, copied.  NULL (error reported) for bad
 * kinds, non-finite or out-of-range parameters (LATENS_EDOM naming term and value), a total
 * state dimension above LATENS_GP_MAX_DIM, or no memory. */
LATENS_EXPORT latens_gp_kernel *latens_gp_kernel_alloc(const latens_gp_term *terms,
                                                      size_t nterms);
/* A comma-separated list of kind names ("matern32,hida-matern"), each term with variance 1,
 * lengthscale 1, frequency 1 (Hida) or 0.  NULL (error reported) on a bad spec. */
LATENS_EXPORT latens_gp_kernel *latens_gp_kernel_parse(const char *spec);
LATENS_EXPORT latens_gp_kernel *latens_gp_kernel_clone(const latens_gp_kernel *k);
LATENS_EXPORT void latens_gp_kernel_free(latens_gp_kernel *k); /* NULL-safe */

LATENS_EXPORT size_t latens_gp_kernel_nterms(const latens_gp_kernel *k);
/* Copy term i (0-based) into *term. */
LATENS_EXPORT int latens_gp_kernel_get_term(const latens_gp_kernel *k, size_t i,
                                            latens_gp_term *term);
/* State dimension d (sum over terms). */
LATENS_EXPORT size_t latens_gp_kernel_dim(const latens_gp_kernel *k);
/* First state index of term i (its block is [offset, offset + dim_i)). */
LATENS_EXPORT size_t latens_gp_kernel_term_offset(const latens_gp_kernel *k, size_t i);
/* Number of hyperparameters (noise excluded): 2 per Matérn term, 3 per Hida-Matérn term. */
LATENS_EXPORT size_t latens_gp_kernel_nparams(const latens_gp_kernel *k);
/* Name of hyperparameter i (see the top of this file); owned by k; NULL if i is out of
 * range. */
LATENS_EXPORT const char *latens_gp_kernel_param_name(const latens_gp_kernel *k, size_t i);
/* Index of the hyperparameter called name, or LATENS_EDOM if none. */
LATENS_EXPORT int latens_gp_kernel_param_index(const latens_gp_kernel *k, const char *name,
                                               size_t *index);
/* Hyperparameters (natural scale) out of / into theta[0..nparams).  set checks every value
 * first (LATENS_EDOM naming it) and changes nothing on error. */
LATENS_EXPORT int latens_gp_kernel_get_params(const latens_gp_kernel *k, double *theta);
LATENS_EXPORT int latens_gp_kernel_set_params(latens_gp_kernel *k, const double *theta);

/* k(τ) for any finite τ (even in τ). */
LATENS_EXPORT int latens_gp_kernel_eval(const latens_gp_kernel *k, double tau, double *value);
/* Two-sided spectral density S(w) at angular frequency w (rad per time unit), normalised
 * so that k(τ) = (1/2π) ∫ S(w) e^{iwτ} dw; hence ∫ S(w) dw / (2π) = k(0). */
LATENS_EXPORT int latens_gp_kernel_spectral_density(const latens_gp_kernel *k, double w,
                                                    double *S);

/* State-space pieces, into caller storage of the state dimension d:
 * H: d-vector (f = H x); Pinf: d x d stationary covariance; A, Q: d x d transition and
 * process-noise covariance over a step dt >= 0 (Q may be NULL).  Full matrices written
 * (zeros between blocks).  dt < 0 or non-finite: LATENS_EDOM / LATENS_ENOTFINITE. */
LATENS_EXPORT int latens_gp_kernel_H(const latens_gp_kernel *k, latens_vec *H);
LATENS_EXPORT int latens_gp_kernel_pinf(const latens_gp_kernel *k, latens_mat *Pinf);
LATENS_EXPORT int latens_gp_kernel_transition(const latens_gp_kernel *k, double dt,
                                              latens_mat *A, latens_mat *Q);
/* Derivatives with respect to hyperparameter `param` (natural scale): dPinf, and dA, dQ at
 * step dt (either may be NULL). */
LATENS_EXPORT int latens_gp_kernel_pinf_deriv(const latens_gp_kernel *k, size_t param,
                                              latens_mat *dPinf);
LATENS_EXPORT int latens_gp_kernel_transition_deriv(const latens_gp_kernel *k, double dt,
                                                    size_t param, latens_mat *dA,
                                                    latens_mat *dQ);

/* Exact draw of f at n non-decreasing times from the prior (state-space recursion, O(n d²)),
 * into f[0..n). */
LATENS_EXPORT int latens_gp_sample(const latens_gp_kernel *k, latens_rng *rng, const double *t,
                                   size_t n, double *f);

/* ---------------------------------------------------------------- Gaussian inference */

/* One series (trial).  y_i = f(t_i) + e_i, e_i ~ N(0, noise_i). */
typedef struct {
  size_t n;
  const double *t;         /* n finite, non-decreasing times */
  const double *y;         /* n values; NaN = missing */
  const double *noise_var; /* NULL: the scalar `noise` of the call for every point; else n
                              per-point variances > 0 (finite), and the scalar is ignored
                              (its gradient entry is then 0) */
} latens_gp_series;

/* Exact log marginal likelihood (nats) of ntrials independent series under kernel k and
 * noise variance noise > 0 (unless every series has noise_var), summed over trials.
 * grad (may be NULL): nparams + 1 entries, d loglik / d theta then d loglik / d noise.
 * Trials run in parallel (OpenMP), summed in trial order.
 * Cost O(n d³) per series, O(n n_θ d³) with the gradient (forward sensitivities); steps of
 * equal length reuse A and Q.  A single Matérn-1/2 or -3/2 term without gradient runs a
 * scalar loop (~15-25 ns per point measured by bench/gp/bench_gp).
 * Errors: LATENS_EINVAL (NULL pointers), LATENS_EDOM (unsorted times, noise <= 0),
 * LATENS_ENOTFINITE (Inf in y, NaN/Inf in t), LATENS_ENOTPOSDEF if an innovation variance is
 * not positive (cannot happen with noise > 0).  *loglik is NaN on error. */
LATENS_EXPORT int latens_gp_loglik(const latens_gp_kernel *k, double noise,
                                   const latens_gp_series *series, size_t ntrials,
                                   double *loglik, double *grad);

/* Posterior of the latent f (noise excluded) given one series: mean and variance at the nq
 * query times tq (any order, any values, duplicates and observed times allowed), or at the
 * series' own times when tq is NULL (then nq is ignored and mean/var have n entries).
 * var may be NULL.  O((n + nq) d³) time, O((n + nq) d²) memory. */
LATENS_EXPORT int latens_gp_posterior(const latens_gp_kernel *k, double noise,
                                      const latens_gp_series *series, const double *tq,
                                      size_t nq, double *mean, double *var);

/* The posterior of f at every trial's own times, trials in parallel (OpenMP; the result
 * does not depend on the thread count): mean[r] (and var[r], when var and var[r] are not
 * NULL) receive series[r].n values.  Errors as latens_gp_posterior, the first failing trial
 * in trial order deciding the status. */
LATENS_EXPORT int latens_gp_posterior_trials(const latens_gp_kernel *k, double noise,
                                             const latens_gp_series *series, size_t ntrials,
                                             double *const *mean, double *const *var);

/* Whittle approximation of the log marginal likelihood of n >= 2 values on a regular grid of
 * step dt > 0 (no missing values):
 *   -1/2 Σ_{j=0}^{n-1} [log s(θ_j) + I(θ_j)/s(θ_j)] - (n/2) log 2π,  θ_j = 2πj/n,
 * I the periodogram |Σ_t y_t e^{-iθ t}|²/n (GSL FFT) and s the exact spectral density of the
 * sampled process plus noise: s(θ) = Σ_h k(h dt) e^{-iθh} + noise, evaluated in closed form
 * from the state space (no truncated alias sum).  O(n log n + n d³). */
LATENS_EXPORT int latens_gp_whittle(const latens_gp_kernel *k, double noise, double dt,
                                    const double *y, size_t n, double *value);

/* ---------------------------------------------------------------- fitting */

typedef struct {
  int whittle;        /* 0 (default): exact marginal likelihood; 1: Whittle (one regular,
                         complete series; the final loglik is still the exact one) */
  int init_from_data; /* 1 (default): start from data heuristics (variance from var(y),
                         lengthscales spread over the time span, Hida frequencies from
                         periodogram peaks); 0: start from k's current parameters */
  double noise;       /* starting noise variance; NaN (default): mean(y²)/10 (the second
                         moment, as the model is zero-mean) */
  int fit_noise;      /* 1 (default) */
  size_t max_iter;    /* 300 */
  latens_progress progress; /* {NULL, NULL} */
} latens_gp_fit_options;
LATENS_EXPORT void latens_gp_fit_options_default(latens_gp_fit_options *opt);

typedef struct {
  double loglik;     /* exact log marginal likelihood at the result */
  double noise;      /* fitted noise variance */
  size_t iterations; /* optimiser iterations */
  int converged;     /* the optimiser's convergence flag */
} latens_gp_fit_result;

/* Maximise the log marginal likelihood (or Whittle's) over log-hyperparameters with the core
 * L-BFGS; k receives the fitted parameters.  ntrials series.  Returns LATENS_OK also when the
 * optimiser hit max_iter or stopped without progress (result->converged then says 0); the
 * core optimiser still reports that stop through the error handler (a warning: a default
 * handler prints it), so callers that treat any report as failure should check the status.
 * The model is zero-mean: subtract a known mean first (the fit then explains the mean by a
 * long-lengthscale, large-variance component; Whittle's zero frequency likewise). */
LATENS_EXPORT int latens_gp_fit(latens_gp_kernel *k, const latens_gp_series *series,
                                size_t ntrials, const latens_gp_fit_options *opt,
                                latens_gp_fit_result *result);

#ifdef __cplusplus
}
#endif
#endif
