/* latens/sde_infer.h: inference for latent SDEs — observation models (Gaussian linear
 * readout, Poisson log link), exact Kalman filtering and smoothing of linear SDEs observed at
 * irregular times, moment equations (CVODES, with parameter sensitivities) and the extended /
 * unscented Kalman filter and smoother for any latens_sde_model, bootstrap particle filtering
 * with systematic resampling and two particle smoothers, maximum likelihood, and SDE
 * matching (Bartosh, Vetrov & Naesseth 2025) with a Gaussian spline posterior: closed form
 * for linear priors, Monte Carlo with reparameterisation for nonlinear ones.
 *
 * Conventions:
 * - Model matrices are column-major and tightly packed (leading dimension = number of rows):
 *   they are small (state dimension n, observation dimension p).  Data are column-major with
 *   their own leading dimension, one column per observation time.
 * - Times are in the model's time unit; observation times are non-decreasing and >= t0.
 *   Repeated times are allowed (two observations at the same instant).
 * - A NaN observation entry is missing; an all-NaN column contributes nothing.
 * - Log-likelihoods are in nats.  Statuses as everywhere in latens (latens/common.h).
 */
#ifndef LATENS_SDE_INFER_H
#define LATENS_SDE_INFER_H
#include <stddef.h>
#include <latens/core.h>
#include <latens/sde.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- models and data */

/* A linear time-invariant SDE prior dz = (A z + b) dt + G dW with Sigma = G G^T, and
 * z(t0) ~ N(m0, P0).  Arrays are owned by the caller and must outlive every use.
 * n >= 1; A, Sigma, P0: n x n (Sigma symmetric positive semi-definite per unit time, P0
 * symmetric positive definite); b: n or NULL (zero); m0: n. */
typedef struct {
  size_t n;
  double t0;
  const double *A;
  const double *b;
  const double *Sigma;
  const double *m0;
  const double *P0;
} latens_sde_lti;

typedef enum {
  LATENS_SDE_READOUT_GAUSSIAN = 0, /* x = C z + d + v, v ~ N(0, R) */
  LATENS_SDE_READOUT_POISSON = 1   /* x_i ~ Poisson(exp((C z + d)_i)), independent */
} latens_sde_readout_kind;

/* Observation model.  C: p x n; d: p or NULL (zero); R: p x p symmetric positive definite
 * (Gaussian only; ignored for Poisson).  Poisson counts must be non-negative integers. */
typedef struct {
  latens_sde_readout_kind kind;
  size_t p;
  const double *C;
  const double *d;
  const double *R;
} latens_sde_readout;

/* Observations: x(:, k) (p entries, NaN = missing) taken at time t[k], k < T.  ldx >= p. */
typedef struct {
  size_t T, p;
  const double *t;
  const double *x;
  size_t ldx;
} latens_sde_data;

/* Check a model, readout and data against each other (dimensions, finiteness, t[0] >= t0,
 * non-decreasing times, Poisson counts).  Any of M, ro may be NULL (not checked).  fn names
 * the caller in the message.  LATENS_EINVAL / EBADLEN / ENOTFINITE / EDOM. */
LATENS_EXPORT int latens_sde_check(const char *fn, const latens_sde_lti *M,
                                   const latens_sde_readout *ro, const latens_sde_data *y);

/* Log-density log p(x | z) of one observation column under the readout (missing entries
 * skipped; all missing gives 0).  z: n (n = the C's column count, passed as n). */
LATENS_EXPORT int latens_sde_readout_logpdf(const latens_sde_readout *ro, size_t n,
                                            const double *z, const double *x, double *logpdf);

/* ---------------------------------------------------------------- Kalman (exact, linear) */

/* Exact filtering of a linear SDE with a Gaussian readout: between observation times the
 * transition is discretised exactly (Van Loan, latens_lti_discretize, on the state augmented
 * with the constant so that b is integrated exactly too), then the core Kalman update.
 * Outputs (each may be NULL): mf (n x T, ld n) and Pf (n x n x T, packed) the filtered
 * moments at each t[k]; *loglik = log p(x_1..T) in nats.  A Poisson readout: LATENS_EUNIMPL
 * (use the particle filter). */
LATENS_EXPORT int latens_sde_lti_filter(const latens_sde_lti *M, const latens_sde_readout *ro,
                                        const latens_sde_data *y, double *mf, double *Pf,
                                        double *loglik);

/* Rauch-Tung-Striebel smoothing of the same: ms (n x T) and Ps (n x n x T) the marginals
 * of z(t[k]) given all observations; loglik as above.  Any output may be NULL. */
LATENS_EXPORT int latens_sde_lti_smooth(const latens_sde_lti *M, const latens_sde_readout *ro,
                                        const latens_sde_data *y, double *ms, double *Ps,
                                        double *loglik);

/* ---------------------------------------------------------------- moments and EKF */

/* Moment propagation for a latens_sde_model (latens/sde.h, Ito reading), solved with
 * SUNDIALS CVODES through core ode.h.  Two closures of the moment equations:
 *   LATENS_SDE_MOMENTS_LINEARISED (the EKF's; Särkkä & Solin 2019, sec. 9.1):
 *     dm/dt = f(m, t),  dP/dt = F P + P F^T + G G^T at m,  F = df/dz (the model's Jacobian,
 *     or its central differences, see latens_sde_model_drift_jacobian);
 *   LATENS_SDE_MOMENTS_UNSCENTED (the continuous-discrete UKF's; Särkkä 2007, IEEE TAC 52):
 *     the expectations E f(z), E f (z - m)^T and E G G^T under N(m, P) by sigma points
 *     m +- sqrt(d + k) chol(P)_i and m, k = max(3 - d, 0) (weights k/(d+k), 1/(2(d+k))):
 *     exact for linear f and for G G^T quadratic in z (geometric Brownian motion), where the
 *     linearised equations are not.
 * Both are exact for linear drift with additive noise.  Keeps a pointer to the model (which
 * must outlive it and not change dimension); one object per thread. */
typedef struct latens_sde_moments latens_sde_moments;

typedef enum {
  LATENS_SDE_MOMENTS_LINEARISED = 0,
  LATENS_SDE_MOMENTS_UNSCENTED = 1
} latens_sde_moments_kind;

/* opt may be NULL: BDF, rtol 1e-9, atol 1e-12 (the filter's accuracy is the ODE's).
 * d <= 64. */
LATENS_EXPORT latens_sde_moments *latens_sde_moments_alloc(const latens_sde_model *model,
                                                           latens_sde_moments_kind kind,
                                                           const latens_ode_options *opt);
LATENS_EXPORT void latens_sde_moments_free(latens_sde_moments *w); /* NULL-safe */

/* Propagate (m, P) from t0 to t1 >= t0 in place (m: d, P: d x d packed, symmetric). */
LATENS_EXPORT int latens_sde_moments_propagate(latens_sde_moments *w, double t0, double t1,
                                               double *m, double *P);

/* The same with forward sensitivities to the model's parameters (CVODES, difference
 * quotients of the moment right-hand side in the state and in theta; the model's theta is
 * the point).  S: (d + d^2) x ntheta, leading dimension lds >= d + d^2, column j holding
 * d(m, P)/d theta_j (rows 0..d-1 the mean, then P column-major): on entry at t0 (zeros for
 * a start independent of theta), on return at t1.  LATENS_EINVAL for a model without
 * parameters. */
LATENS_EXPORT int latens_sde_moments_propagate_sens(latens_sde_moments *w, double t0,
                                                    double t1, double *m, double *P,
                                                    double *S, size_t lds);

/* Gaussian filter over the moment equations: propagation between observation times, then
 * the core Kalman update with the linear Gaussian readout — the extended Kalman filter
 * (LINEARISED) or the unscented one (UNSCENTED).  z(t0) ~ N(m0, P0) (d and d x d).
 * Outputs as latens_sde_lti_filter (each may be NULL).  For a linear SDE with additive
 * noise it equals the exact filter up to the ODE tolerances. */
LATENS_EXPORT int latens_sde_moments_filter(latens_sde_moments *w, double t0, const double *m0,
                                            const double *P0, const latens_sde_readout *ro,
                                            const latens_sde_data *y, double *mf, double *Pf,
                                            double *loglik);

/* Gaussian (extended / unscented) RTS smoother over the same forward pass: the transition
 * matrix of each interval is the Jacobian of the mean's flow, integrated alongside the
 * moments (dPhi/dt = F(m) Phi), and the core RTS step combines it with the stored filtered
 * and predicted moments.  Outputs ms (d x T), Ps (d x d x T), loglik (each may be NULL).
 * For a linear SDE with additive noise it equals the exact RTS smoother. */
LATENS_EXPORT int latens_sde_moments_smooth(latens_sde_moments *w, double t0, const double *m0,
                                            const double *P0, const latens_sde_readout *ro,
                                            const latens_sde_data *y, double *ms, double *Ps,
                                            double *loglik);

/* The linear SDE of a model that has the `linear` callback (evaluated at t0, time-invariant
 * use): fills A (d x d), b (d) and Sigma = G G^T (d x d) for a latens_sde_lti.
 * LATENS_EUNIMPL for a model without it. */
LATENS_EXPORT int latens_sde_lti_from_model(const latens_sde_model *model, double t0,
                                            double *A, double *b, double *Sigma);

/* ---------------------------------------------------------------- particle filter */

/* Draw N particles of z(t0) into Z (n x N, ld n). */
typedef int latens_sde_pf_init_fn(double t0, double *Z, size_t n, size_t N, latens_rng *rng,
                                  void *user);
/* Move N particles (n x N, ld n) in place from time s to time t >= s, each by an independent
 * draw of the transition (exact, or a solver's steps). */
typedef int latens_sde_pf_propagate_fn(double s, double t, double *Z, size_t n, size_t N,
                                       latens_rng *rng, void *user);

/* log p(z(t) = zt | z(s) = zs), t > s, in nats (-INFINITY allowed): needed only by the
 * backward-simulation smoother. */
typedef double latens_sde_pf_logtrans_fn(double s, double t, const double *zs, const double *zt,
                                         size_t n, void *user);

typedef struct {
  size_t n;
  double t0;
  latens_sde_pf_init_fn *init;
  latens_sde_pf_propagate_fn *propagate;
  void *user;
  latens_sde_pf_logtrans_fn *logtrans; /* may be NULL (no backward simulation) */
} latens_sde_pf_model;

typedef struct {
  size_t particles;     /* 1000; >= 1 */
  double ess_threshold; /* 1.0: resample (systematic) when ESS < threshold * N, i.e. always;
                           in [0, 1] */
  int smooth;           /* 0: none; 1: genealogy (ancestral path) smoother; 2: forward
                           filtering backward simulation (FFBSi, Godsill, Doucet & West
                           2004), which needs model->logtrans */
  size_t backward;      /* 200; FFBSi trajectories (cost O(particles backward T)) */
  latens_progress progress; /* {NULL, NULL}: called once per observation time */
} latens_sde_pf_options;

LATENS_EXPORT void latens_sde_pf_options_default(latens_sde_pf_options *opt);

/* Outputs of latens_sde_pf_run (any pointer may be NULL):
 *   loglik: log of the unbiased likelihood estimate prod_k (mean of the weights at k); NaN
 *     when the run fails (e.g. LATENS_ERANGE: every particle has zero weight at some time);
 *   ess (T): effective sample size 1/sum w^2 after weighting at each time;
 *   mf (n x T), vf (n x T): filtered means and marginal variances;
 *   ms (n x T), vs (n x T): smoothed means and variances (requires opt->smooth): from the
 *     ancestral paths of the final particles (1: degenerates for long series as paths
 *     coalesce — use many particles), or from opt->backward trajectories drawn backwards
 *     through the stored filters (2: no degeneracy). */
typedef struct {
  double loglik;
  double *ess, *mf, *vf, *ms, *vs;
  size_t resamples; /* resampling steps taken */
} latens_sde_pf_result;

/* Bootstrap particle filter with systematic resampling (Kitagawa 1996): one uniform per
 * resampling, so the stream's use depends only on the data.  Runs on the calling thread.
 * opt may be NULL. */
LATENS_EXPORT int latens_sde_pf_run(const latens_sde_pf_model *model,
                                    const latens_sde_readout *ro, const latens_sde_data *y,
                                    const latens_sde_pf_options *opt, latens_rng *rng,
                                    latens_sde_pf_result *res);

/* Exact transition sampler (and transition density, for FFBSi) of a linear SDE, for the
 * particle filter.  Keeps a pointer to M (which must outlive it); not thread-safe (one per
 * thread). */
typedef struct latens_sde_lti_sampler latens_sde_lti_sampler;
LATENS_EXPORT latens_sde_lti_sampler *latens_sde_lti_sampler_alloc(const latens_sde_lti *M);
LATENS_EXPORT void latens_sde_lti_sampler_free(latens_sde_lti_sampler *s); /* NULL-safe */
LATENS_EXPORT latens_sde_pf_model latens_sde_lti_sampler_model(latens_sde_lti_sampler *s);

/* Transition sampler of any latens_sde_model through latens_sde_solve (per particle, from
 * the filter's stream, opt's scheme and step: the particle likelihood is then that of the
 * discretised model), with z(t0) ~ N(m0, P0).  Keeps pointers to model, m0 and P0 (which
 * must outlive it); holds scratch, so not thread-safe (one per thread). */
typedef struct latens_sde_path_sampler latens_sde_path_sampler;
LATENS_EXPORT latens_sde_path_sampler *latens_sde_path_sampler_alloc(
    const latens_sde_model *model, const latens_sde_options *opt, double t0, const double *m0,
    const double *P0);
LATENS_EXPORT void latens_sde_path_sampler_free(latens_sde_path_sampler *s); /* NULL-safe */
LATENS_EXPORT latens_sde_pf_model latens_sde_path_sampler_model(latens_sde_path_sampler *s);

/* ---------------------------------------------------------------- SDE matching */

/* Gradient of a loss with respect to the model's arrays, same shapes (each may be NULL: not
 * wanted).  Symmetric inputs (Sigma, P0, R) get the symmetric gradient. */
typedef struct {
  double *A, *b, *Sigma, *m0, *P0, *C, *d, *R;
} latens_sde_lti_grad;

typedef struct {
  size_t nsub;         /* 3; polynomial pieces between consecutive knot times (>= 1) */
  size_t nquad;        /* 8; Gauss-Legendre nodes per piece (>= 1) */
  double match_weight; /* 1; weight of the matching (path KL) term */
  double obs_weight;   /* 1; weight of the reconstruction sum (the paper's code uses one
                          random observation: a reweighted bound; 1 is the true bound) */
} latens_sde_match_options;

LATENS_EXPORT void latens_sde_match_options_default(latens_sde_match_options *opt);

/* SDE matching workspace for a linear prior with a Gaussian readout.  The posterior
 * marginals are q(z_t) = N(m(t), L(t) L(t)^T); m and the entries of the lower triangle of
 * L are continuous piecewise cubic polynomials in t (Lagrange form, 3 nsub + 1 coefficients
 * per interval's end, knots at t0 and every observation time where the exact smoother has
 * kinks), with the diagonal of L parameterised by its logarithm.  Coefficient layout:
 * [m (n x K) | log-Cholesky entries (n(n+1)/2 x K)], K = latens_sde_match_nbasis, each
 * block column-major with one row per component (lower triangle in column order).
 * The loss (an upper bound on -log p(x), in nats) is
 *   KL(q(z_t0) || N(m0, P0)) + match_weight * int_t0^tN E_q ½ |G^{-1}(f_q - h)|^2 dt
 *   + obs_weight * sum_k E_q[-log p(x_k | z_tk)],
 * with the posterior drift f_q = m' + L' e - ½ Sigma L^{-T} e (Sigma constant), all
 * expectations in closed form and the time integral by Gauss-Legendre per piece.  Sigma
 * must be positive definite.  Keeps a copy of the times; y's values are read by the calls.
 * The workspace holds scratch: one per thread. */
typedef struct latens_sde_match latens_sde_match;

LATENS_EXPORT latens_sde_match *latens_sde_match_alloc(size_t n, double t0,
                                                       const latens_sde_data *y,
                                                       const latens_sde_match_options *opt);
LATENS_EXPORT void latens_sde_match_free(latens_sde_match *w); /* NULL-safe */
/* K, the number of basis coefficients per component, and the total coefficient count. */
LATENS_EXPORT size_t latens_sde_match_nbasis(const latens_sde_match *w);
LATENS_EXPORT size_t latens_sde_match_ncoef(const latens_sde_match *w);

/* Loss at coefficients coef (ncoef) and its gradients: gcoef (ncoef, may be NULL) and the
 * model's (g may be NULL).  ro must be Gaussian with ro->p == y->p. */
LATENS_EXPORT int latens_sde_match_loss(latens_sde_match *w, const latens_sde_lti *M,
                                        const latens_sde_readout *ro, const latens_sde_data *y,
                                        const double *coef, double *loss, double *gcoef,
                                        latens_sde_lti_grad *g);

/* A starting point: m through the observed values mapped back by a least-squares inverse
 * of C (interpolated where missing), log-Cholesky at log sqrt of the readout noise scale. */
LATENS_EXPORT int latens_sde_match_init(latens_sde_match *w, const latens_sde_readout *ro,
                                        const latens_sde_data *y, double *coef);

/* Posterior marginals at nt times in [t0, t[T-1]]: m (n x nt) and S = L L^T (n x n x nt),
 * either may be NULL. */
LATENS_EXPORT int latens_sde_match_posterior(const latens_sde_match *w, const double *coef,
                                             size_t nt, const double *t, double *m, double *S);

/* Minimise the loss over the coefficients for a fixed model (L-BFGS from coef in place).
 * opt may be NULL; *loss receives the final loss, *iterations the count (either may be
 * NULL).  LATENS_EMAXITER leaves the best point in coef. */
LATENS_EXPORT int latens_sde_match_fit_posterior(latens_sde_match *w, const latens_sde_lti *M,
                                                 const latens_sde_readout *ro,
                                                 const latens_sde_data *y,
                                                 const latens_optim_options *opt, double *coef,
                                                 double *loss, size_t *iterations);

/* Monte Carlo SDE matching for a nonlinear prior: model (latens/sde.h, Ito) with additive
 * noise (G independent of z; Sigma = G G^T positive definite), z(t0) ~ N(m0, P0) with t0
 * the workspace's, the same Gaussian readout and spline posterior as above.  The matching
 * term at each Gauss-Legendre node is averaged over nsamples reparameterised draws
 * z = m + L e, e a Latin hypercube sample of N(0, I) (one draw per equiprobable stratum in
 * each component; each draw exactly N(0, I)) from stream (seed, node index): common random
 * numbers, so the estimate is a deterministic smooth function (its mean over seeds is the
 * exact loss).  Its minimum over coef (or theta) for one seed is biased low, since the fit
 * adapts to the draws: evaluate a fitted point with other seeds to estimate its bound.
 * gcoef (ncoef) is exact for the estimate (by hand, through the model's drift Jacobian);
 * gtheta (model->ntheta) by central differences of the estimate.  Either may be NULL.  The
 * model's theta is read (and restored after the differences). */
LATENS_EXPORT int latens_sde_match_loss_mc(latens_sde_match *w, latens_sde_model *model,
                                           const double *m0, const double *P0,
                                           const latens_sde_readout *ro,
                                           const latens_sde_data *y, size_t nsamples,
                                           uint64_t seed, const double *coef, double *loss,
                                           double *gcoef, double *gtheta);

/* Minimise the Monte Carlo loss by L-BFGS over the coefficients (coef, in place) and, when
 * fit_theta is non-zero, the model's parameters within their domains (written back to the
 * model).  opt may be NULL (max_iter 5000).  loss (the minimum for this seed's draws, biased
 * low: see above), iterations may be NULL. */
LATENS_EXPORT int latens_sde_match_fit_mc(latens_sde_match *w, latens_sde_model *model,
                                          const double *m0, const double *P0,
                                          const latens_sde_readout *ro,
                                          const latens_sde_data *y, size_t nsamples,
                                          uint64_t seed, int fit_theta,
                                          const latens_optim_options *opt, double *coef,
                                          double *loss, size_t *iterations);

/* ---------------------------------------------------------------- any model, one readout */

typedef enum {
  LATENS_SDE_FILTER_KALMAN = 0, /* exact: the model's `linear` callback, Gaussian readout */
  LATENS_SDE_FILTER_EKF = 1,    /* moment equations, LATENS_SDE_MOMENTS_LINEARISED */
  LATENS_SDE_FILTER_UKF = 2,    /* moment equations, LATENS_SDE_MOMENTS_UNSCENTED */
  LATENS_SDE_FILTER_PF = 3      /* bootstrap particle filter (exact transitions for linear
                                   models, latens_sde_solve paths otherwise) */
} latens_sde_filter_method;

/* "kalman", "ekf", "ukf", "pf" and back (-1 / NULL for unknown values). */
LATENS_EXPORT const char *latens_sde_filter_method_name(int method);
LATENS_EXPORT int latens_sde_filter_method_from_name(const char *name);

/* A latent SDE behind a linear readout (a state-space model):
 *   dz = f(z, t; theta) dt + g(z, t; theta) dW   (model, theta in model->theta),
 *   Gaussian:  x_k = C z(t_k) + v_k, v_k ~ N(0, r I);   Poisson: x_k,i ~ Poisson(exp((C z)_i)),
 *   z(t0) ~ N(m0, P0), or (stationary != 0) the stationary law of the linear model at theta
 *   (needs the `linear` callback and a stable A; it then moves with theta when fitting).
 * The parameter vector of the fitting functions is (model->theta, r): ntheta + 1 values. */
typedef struct {
  latens_sde_model *model;
  latens_sde_readout_kind kind; /* LATENS_SDE_READOUT_GAUSSIAN */
  size_t p;                     /* observed components, >= 1 */
  const double *C;              /* p x d, column-major, tightly packed */
  double r;                     /* Gaussian observation noise variance, > 0 */
  double t0;                    /* time of the prior, <= the first observation time */
  const double *m0, *P0;        /* d and d x d (unused when stationary) */
  int stationary;
  latens_sde_options solver;    /* PF on nonlinear models: scheme and step (dt); PF fits:
                                   threads for the re-estimate */
  size_t particles;             /* PF [1000] */
  uint64_t seed;                /* PF: the stream (common random numbers when fitting; the
                                   fit's re-estimate uses seed + j*golden, j = 1..8) [1] */
  size_t nsamples;              /* SDE matching: Monte Carlo draws per node [16] */
  latens_sde_match_options match;
} latens_sde_ssm;

/* Defaults as in brackets above; model set, C / m0 / P0 NULL (the caller sets them). */
LATENS_EXPORT void latens_sde_ssm_init(latens_sde_ssm *s, latens_sde_model *model);

/* Filtered (smooth = 0) or smoothed (smooth = 1) marginal means and variances of z at the
 * observation times, mean and var d x T (either may be NULL), and the method's
 * log-likelihood (exact for KALMAN, the Gaussian approximation for EKF / UKF, the unbiased
 * particle estimate for PF; loglik may be NULL).  PF smoothing uses backward simulation for
 * linear models and the genealogy (ancestral paths) otherwise.  KALMAN on a model without
 * the `linear` callback, and EKF / UKF / KALMAN with a Poisson readout: LATENS_EUNIMPL. */
LATENS_EXPORT int latens_sde_ssm_filter(const latens_sde_ssm *s, latens_sde_filter_method method,
                                        int smooth, const latens_sde_data *y, double *mean,
                                        double *var, double *loglik);

/* What a fit found.  se: NULL, or ntheta + 1 values receiving standard errors from a
 * central-difference Hessian of the Gaussian log-likelihood (KALMAN for linear models, else
 * the fit's EKF / UKF, EKF for PF and matching fits) over the estimated parameters; NaN for
 * fixed parameters or when the information is not positive definite. */
typedef struct {
  double loglik;      /* the fit method's log-likelihood at the estimate: KALMAN / EKF / UKF
                         their own; PF the log of the mean of 8 particle likelihood estimates
                         at the estimate on streams the fit never used (seed +
                         j*0x9E3779B97F4A7C15, j = 1..8), not the fit's own-stream value,
                         which is biased high; matching: the Gaussian log-likelihood used for
                         se */
  double objective;   /* what the optimiser maximised: KALMAN / EKF / UKF loglik; PF: equal
                         to loglik (what the fit maximised, re-estimated); matching: minus the
                         loss, a lower bound on log p(x) — for the Monte Carlo loss
                         re-estimated at the estimate with independent draws, since its
                         minimum over the fit's fixed draws is biased high as a bound) */
  double objective_se; /* Monte Carlo standard error of objective: PF: the standard deviation
                          of the 8 re-estimated log-likelihoods over sqrt 8, the standard
                          error of their mean (to first order in their spread also that of
                          loglik; +Inf when a filter lost all its particles); Monte Carlo
                          matching: of the 8 -loss estimates; 0 when exact (closed-form
                          matching); NaN when not estimated (mle) */
  size_t iterations;
  int converged;
  double *se;
} latens_sde_ssm_fit_result;

/* Maximum likelihood over the parameters with fit[k] != 0 (fit: ntheta + 1 flags, NULL: all
 * of theta and, for a Gaussian readout, r), starting from model->theta and s->r, within the
 * model's domains (r > 0).  KALMAN / EKF / UKF: L-BFGS on central-difference gradients;
 * PF: Nelder-Mead on the particle estimate with the same stream at every call (common random
 * numbers).  The estimate is written to model->theta and s->r.  LATENS_EMAXITER still
 * writes the best point (converged = 0).
 * PF: after the optimiser stops, loglik (= objective) and objective_se are re-estimated at
 * the estimate by 8 particle filters on fresh streams, run on s->solver.threads OpenMP
 * threads (0: the default; results do not depend on it).  A re-estimating filter that fails
 * (other than by losing every particle, which counts as a zero likelihood) leaves the three
 * NaN and its status is returned, with the estimate written. */
LATENS_EXPORT int latens_sde_ssm_fit(latens_sde_ssm *s, latens_sde_filter_method method,
                                     const int *fit, const latens_optim_options *opt,
                                     const latens_sde_data *y, latens_sde_ssm_fit_result *res);

/* SDE matching over the flagged parameters jointly with the spline posterior, Gaussian
 * readout: the closed-form loss (latens_sde_match_loss; Sigma positive definite) for models
 * with the `linear` callback, the Monte Carlo one (latens_sde_match_loss_mc, s->nsamples
 * draws, stream s->seed; additive noise) otherwise.  Gradients: exact in the coefficients;
 * theta through the linear form's central differences (closed form) or the loss's (Monte
 * Carlo); r by central differences of the loss.  The prior must be given (stationary = 0).
 * With no flag set (fit all zeros) only the posterior is fitted, for the current parameters.
 * Writes the estimate as above; when mean / var (d x T) are not NULL, the posterior marginals
 * at the observation times.  res->objective is -loss at the estimate: exact for the closed
 * form; for Monte Carlo the mean of 8 estimates with independent streams and 4 nsamples draws
 * each (objective_se its standard error), not the fit's own biased minimum. */
LATENS_EXPORT int latens_sde_ssm_fit_matching(latens_sde_ssm *s, const int *fit,
                                              const latens_optim_options *opt,
                                              const latens_sde_data *y,
                                              latens_sde_ssm_fit_result *res, double *mean,
                                              double *var);

/* ---------------------------------------------------------------- Ornstein-Uhlenbeck fits */

/* The 1-D latent OU model used by the CLI and the demo:
 *   dz = kappa (mu - z) dt + sigma dW,  z(t0) ~ N(mu, sigma^2 / (2 kappa)) (stationary),
 *   x_k = z(t_k) + v_k,  v_k ~ N(0, r).
 * theta = (kappa, mu, sigma, r), kappa, sigma, r > 0.  t0 is the first observation time. */
enum { LATENS_SDE_OU_NPARAM = 4 };

/* "kappa", "mu", "sigma", "r"; "unknown" otherwise.  Never NULL. */
LATENS_EXPORT const char *latens_sde_ou_param_name(int i);

/* Kalman log-likelihood of 1-D data (y->p == 1) under the OU model at theta. */
LATENS_EXPORT int latens_sde_ou_loglik(const double *theta, const latens_sde_data *y,
                                       double *loglik);

/* The same log-likelihood and its exact gradient d loglik / d theta (4 values), by forward
 * differentiation of the scalar filter (closed-form OU transitions).  latens_sde_ou_fit's
 * MLE uses it.  LATENS_EDOM for theta outside its domain. */
LATENS_EXPORT int latens_sde_ou_loglik_grad(const double *theta, const latens_sde_data *y,
                                            double *loglik, double *grad);

typedef enum {
  LATENS_SDE_FIT_MLE = 0,      /* exact Kalman likelihood, L-BFGS */
  LATENS_SDE_FIT_MATCHING = 1, /* SDE matching, theta jointly with the spline posterior */
  LATENS_SDE_FIT_PF = 2        /* particle likelihood with common random numbers, simplex */
} latens_sde_fit_method;

typedef struct {
  latens_sde_fit_method method; /* LATENS_SDE_FIT_MLE */
  latens_optim_options optim;   /* max_iter 5000, gtol 1e-6, else the core defaults */
  latens_sde_match_options match;
  latens_sde_pf_options pf;     /* particles 500 */
  unsigned long seed;           /* 1; PF only: its common random numbers (the objective's
                                   re-estimate uses seed + j*golden, j = 1..8) */
  const double *theta0;         /* NULL: a start from the data's moments */
} latens_sde_fit_options;

LATENS_EXPORT void latens_sde_fit_options_default(latens_sde_fit_options *opt);

typedef struct {
  double theta[LATENS_SDE_OU_NPARAM];
  double se[LATENS_SDE_OU_NPARAM]; /* standard errors from the observed information of the
                                      Kalman likelihood at theta (NaN when not available) */
  double loglik;    /* exact Kalman log-likelihood at theta (for every method) */
  double objective; /* the method's own: loglik (MLE), -loss (matching: a lower bound, in
                       closed form); PF: the log of the mean of 8 particle likelihood
                       estimates at theta on streams the fit never used (seed +
                       j*0x9E3779B97F4A7C15, j = 1..8), not the fit's own-stream value at its
                       optimum, which is biased high (on the Nile series by 0.6 nats on
                       average over seeds, often above even the MLE's maximum) */
  double objective_se; /* Monte Carlo standard error of objective: PF: the standard
                          deviation of the 8 re-estimated log-likelihoods over sqrt 8 (+Inf
                          when a filter lost all its particles); 0 for MLE and matching
                          (exact); NaN when not estimated (the fit failed) */
  size_t iterations;
  int converged;
} latens_sde_fit_result;

/* Fit the OU model to 1-D data.  The data are standardised internally (the optimisers see
 * unit-scale values) and the estimates mapped back, so series in any unit fit alike.
 * LATENS_EMAXITER still fills res with the best point (converged = 0).
 * PF: after the simplex stops, objective and objective_se are re-estimated at the estimate
 * by 8 particle filters (opt->pf, without its progress callback) on fresh streams, on the
 * default OpenMP team (omp_set_num_threads; results do not depend on it).  A re-estimating
 * filter that fails (other than by losing every particle, which counts as a zero
 * likelihood) leaves those two NaN and its status is returned, with theta, se and loglik
 * written. */
LATENS_EXPORT int latens_sde_ou_fit(const latens_sde_data *y, const latens_sde_fit_options *opt,
                                    latens_sde_fit_result *res);

/* Standard errors sqrt(diag(H^{-1})) of theta from a central-difference Hessian H of the
 * negative Kalman log-likelihood.  LATENS_ENOTPOSDEF when H is not positive definite. */
LATENS_EXPORT int latens_sde_ou_stderr(const double *theta, const latens_sde_data *y,
                                       double *se);

#ifdef __cplusplus
}
#endif
#endif
