/* latens/sde.h: stochastic differential equations — problem definition, built-in models,
 * plug-in models, fixed-step and adaptive solvers, ensembles.
 *
 *   dX = f(t, X; theta) dt + g(t, X; theta) dW(t),   X in R^d, W an m-dimensional Brownian
 *   motion, read in the Ito or the Stratonovich sense (model->calculus).
 *
 * Layout.  States are d doubles; the diffusion g is returned as
 *   LATENS_SDE_NOISE_DIAGONAL  m = d, d values: component i is driven by dW_i alone;
 *   LATENS_SDE_NOISE_SCALAR    m = 1, d values: one column, every component driven by dW_1;
 *   LATENS_SDE_NOISE_ADDITIVE  any m, d x m column-major (g[i + k d]); g must not depend on X;
 *   LATENS_SDE_NOISE_GENERAL   any m, d x m column-major (g[i + k d]).
 * Brownian increments are m-vectors; paths and grids are column-major with one column per
 * time (x_i(t_k) at X[i + k ld]).
 *
 * Schemes and where they apply (order = strong order in the step h):
 *   EM        Euler-Maruyama, every noise kind, Ito (0.5; 1.0 for additive noise).  Refused
 *             (LATENS_EINVAL) for Stratonovich models with non-additive noise: use HEUN.
 *   MILSTEIN  Ito or Stratonovich, diagonal or scalar noise (1.0); derivative-free
 *             (Kloeden & Platen's Runge-Kutta form) unless model->diffusion_deriv is set.
 *             Diagonal noise must also be commutative: g_i may depend on x_i only (the
 *             cross terms d g_i / d x_j, j != i, multiply Levy areas the scheme does not
 *             draw; the derivative-free form would pick them up as if they were g_i g_i').
 *   SRI       Rossler's SRIW1 (SIAM J. Numer. Anal. 48, 2010), Ito, diagonal or scalar (1.5).
 *   SRA       Rossler's SRA1, additive noise (1.5; 2.0 on smooth additive problems).
 *   HEUN      stochastic Heun (trapezoidal in f and g), Stratonovich, any noise (1.0 for
 *             commutative noise); refused for Ito models with non-additive noise.
 *   IMPLICIT_EM  drift-implicit Euler: X' = X + f(t+h, X') h + g(t, X) dW, solved by Newton
 *             with model->drift_jac (finite differences when NULL), for stiff drift (0.5);
 *             Ito (or additive noise) as EM.
 * Adaptive stepping (options.adaptive) is available for SRI and SRA: Rossler's embedded error
 * estimate (deterministic part delta*h*sum(f) plus the order-1.5 stochastic terms), dyadic
 * steps on a Brownian tree (see latens_sde_solve) so the Brownian path is a function of the
 * random stream only, never of the accepted or rejected steps.
 */
#ifndef LATENS_SDE_H
#define LATENS_SDE_H

#include <stddef.h>
#include <stdint.h>
#include <latens/core.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  LATENS_SDE_NOISE_DIAGONAL = 0,
  LATENS_SDE_NOISE_SCALAR = 1,
  LATENS_SDE_NOISE_ADDITIVE = 2,
  LATENS_SDE_NOISE_GENERAL = 3
} latens_sde_noise;

typedef enum { LATENS_SDE_ITO = 0, LATENS_SDE_STRATONOVICH = 1 } latens_sde_calculus;

/* Callbacks.  Each gets the time t, the state x (d values), the parameter vector theta
 * (model->ntheta values, model->theta at the time of the call) and model->user; it writes its
 * output and returns 0, or non-zero to stop the solver (which then returns LATENS_EFAILED,
 * or that status if it is a LATENS_ code, naming t).  They must be reentrant: ensembles call
 * them from several threads at once with different x. */
/* f: d values. */
typedef int latens_sde_drift_fn(double t, const double *x, const double *theta, void *user,
                                double *f);
/* g: the layout of model->noise (d values, or d x m column-major). */
typedef int latens_sde_diffusion_fn(double t, const double *x, const double *theta, void *user,
                                    double *g);
/* Both at once (shares work such as exp(x)); either output pointer may be NULL (skip it). */
typedef int latens_sde_both_fn(double t, const double *x, const double *theta, void *user,
                               double *f, double *g);
/* Drift Jacobian, d x d column-major: J[i + j d] = d f_i / d x_j. */
typedef int latens_sde_jacobian_fn(double t, const double *x, const double *theta, void *user,
                                   double *J);
/* Milstein's derivative term, d values: for diagonal noise dg[i] = d g_i / d x_i; for scalar
 * noise dg = (d g / d x) g, the derivative of the column along itself. */
typedef int latens_sde_diffusion_deriv_fn(double t, const double *x, const double *theta,
                                          void *user, double *dg);
/* For models that are linear, dX = (A X + b) dt + G dW with A d x d, b d values, G d x m
 * (column-major, ld d): fills them for the current theta at time t.  Inference (Kalman,
 * moment equations, SDE matching) uses it when present. */
typedef int latens_sde_linear_fn(double t, const double *theta, void *user, double *A, double *b,
                                 double *G);

/* The model.  Allocate with latens_sde_model_alloc (or a built-in / plug-in constructor),
 * then set the callbacks and parameters through the fields; the arrays are owned by the
 * model.  Solvers read the model and never change it: one model may be shared by threads
 * as long as nobody writes theta meanwhile.  Either `both`, or `drift` and `diffusion`, must
 * be set (when all are set, `both` is used). */
typedef struct latens_sde_model {
  size_t d;                   /* state dimension, >= 1 */
  size_t m;                   /* Brownian dimension (d for diagonal, 1 for scalar), >= 1 */
  latens_sde_noise noise;
  latens_sde_calculus calculus;
  size_t ntheta;              /* number of parameters (may be 0) */
  double *theta;              /* ntheta values */
  double *theta_lo, *theta_hi;/* domain of each parameter (-Inf/+Inf when free); checked by
                                 latens_sde_model_check, used as bounds by fitting */
  char **theta_name;          /* ntheta names ("theta0", ... unless set) */
  double *x0;                 /* default initial state, d values (zeros unless set) */
  latens_sde_drift_fn *drift;
  latens_sde_diffusion_fn *diffusion;
  latens_sde_both_fn *both;
  latens_sde_jacobian_fn *drift_jac;           /* optional */
  latens_sde_diffusion_deriv_fn *diffusion_deriv; /* optional */
  latens_sde_linear_fn *linear;                /* optional: set only for linear models */
  void *user;                 /* handed to every callback */
  char name[64];              /* "ou", "gbm", a plug-in's name, ... */
  /* Private: storage owned by built-in and plug-in models, released by free. */
  void *priv_;
  void (*priv_free_)(void *);
} latens_sde_model;

/* A model with no callbacks yet: dimensions d, m (m is forced to d for diagonal and must be 1
 * for scalar noise), Ito, ntheta parameters set to 0 with free domains.  NULL (reported) for
 * d = 0, m = 0 or a bad noise kind. */
LATENS_EXPORT latens_sde_model *latens_sde_model_alloc(size_t d, size_t m, latens_sde_noise noise,
                                                       size_t ntheta);
LATENS_EXPORT void latens_sde_model_free(latens_sde_model *model); /* NULL-safe */
/* Name parameter k (copied) and set its domain [lo, hi]. */
LATENS_EXPORT int latens_sde_model_set_param(latens_sde_model *model, size_t k, const char *name,
                                             double value, double lo, double hi);
/* Index of the parameter called `name`, or -1. */
LATENS_EXPORT long latens_sde_model_param_index(const latens_sde_model *model, const char *name);
/* Copy theta[0..ntheta) into the model after checking each is finite and inside its domain
 * (LATENS_ENOTFINITE / LATENS_EDOM naming the parameter). */
LATENS_EXPORT int latens_sde_model_set_params(latens_sde_model *model, const double *theta,
                                              size_t ntheta);
/* Consistency of a model before solving: dimensions, callbacks present, theta finite and in
 * its domain, x0 finite.  Solvers call it; LATENS_EINVAL / LATENS_ENOTFINITE / LATENS_EDOM. */
LATENS_EXPORT int latens_sde_model_check(const latens_sde_model *model);

/* Evaluation through whatever callbacks the model has (inference code uses these). */
LATENS_EXPORT int latens_sde_model_drift(const latens_sde_model *model, double t, const double *x,
                                         double *f);
/* g in the layout of model->noise (d or d*m values). */
LATENS_EXPORT int latens_sde_model_diffusion(const latens_sde_model *model, double t,
                                             const double *x, double *g);
/* g as a full d x m column-major matrix (diagonal and scalar layouts expanded). */
LATENS_EXPORT int latens_sde_model_diffusion_matrix(const latens_sde_model *model, double t,
                                                    const double *x, double *G);
/* Drift Jacobian d x d (column-major): model->drift_jac, else central differences with steps
 * 1e-6 * max(1, |x_j|) (2d drift calls, relative accuracy ~1e-10 for smooth f). */
LATENS_EXPORT int latens_sde_model_drift_jacobian(const latens_sde_model *model, double t,
                                                  const double *x, double *J);

/* Built-in models.  `theta` gives ntheta values in the order listed (NULL: the defaults in
 * brackets); x0 defaults as listed.  Parameter names are those shown.
 *   "ou"              dX = theta (mu - X) dt + sigma dW;           d = 1; theta=[1] mu=[0]
 *                     sigma=[1] (> 0); x0 = 1.  Linear.
 *   "gbm"             dX = mu X dt + sigma X dW;                   d = 1; mu=[1.01] sigma=[0.87];
 *                     x0 = 0.5 (the test problem).
 *   "cir"             dX = kappa (theta - X) dt + sigma sqrt(max(X,0)) dW; d = 1;
 *                     kappa=[1] theta=[1] sigma=[0.5]; x0 = 1.
 *   "double-well"     dX = (X - X^3) dt + sigma dW;                d = 1; sigma=[0.5]; x0 = -1.
 *   "lotka-volterra"  dx = (a x - b x y) dt + s1 x dW1, dy = (c x y - e y) dt + s2 y dW2;
 *                     d = 2, diagonal; a=[1] b=[0.5] c=[0.5] e=[1] s1=[0.1] s2=[0.1];
 *                     x0 = (2, 1).
 *   "lorenz"          Lorenz drift (sigma=[10] rho=[28] beta=[8/3]) with diagonal diffusion
 *                     alpha X_i (alpha=[0.15]), as in the SDE-matching notebook; d = 3;
 *                     x0 = (1, 1, 1).
 *   "additive"        du = (b/sqrt(1+t) - u/(2(1+t))) dt + a b/sqrt(1+t) dW; d = 1;
 *                     a=[0.1] b=[0.05]; x0 = 1 (the additive test problem).
 * NULL (reported, LATENS_EINVAL) for an unknown name or ntheta not matching. */
LATENS_EXPORT latens_sde_model *latens_sde_model_builtin(const char *name, const double *theta,
                                                         size_t ntheta);
/* Names of the built-ins, NULL-terminated. */
LATENS_EXPORT const char *const *latens_sde_model_builtin_names(void);
/* Description of a built-in model (latens_sde_model_builtin's table) for front ends that parse
 * parameters by name: dimensions, noise kind, whether it is linear, and each parameter's
 * name, default and domain [lo, hi].  Filled from the model the constructor builds, so it
 * never disagrees with it. */
enum { LATENS_SDE_INFO_MAXPARAM = 16, LATENS_SDE_INFO_MAXDIM = 8 };
typedef struct {
  char name[64];
  size_t d, m, ntheta;
  latens_sde_noise noise;
  int linear; /* the model has the `linear` callback (exact Kalman applies) */
  char theta_name[LATENS_SDE_INFO_MAXPARAM][32];
  double theta_default[LATENS_SDE_INFO_MAXPARAM];
  double theta_lo[LATENS_SDE_INFO_MAXPARAM], theta_hi[LATENS_SDE_INFO_MAXPARAM];
  double x0[LATENS_SDE_INFO_MAXDIM];
} latens_sde_model_info;

/* Fill *info for the built-in `name` (one of latens_sde_model_builtin_names()).
 * LATENS_EINVAL for an unknown name (the message lists the known ones). */
LATENS_EXPORT int latens_sde_model_info_get(const char *name, latens_sde_model_info *info);
/* The linear SDE dX = (A X + b) dt + G dW (A d x d, b d values or NULL for 0, G d x m).
 * Parameters are the entries of A (column-major, names "A11", "A21", ...), then b ("b1"...),
 * then G ("G11", ...): ntheta = d*d + d + d*m, all free.  Additive noise; x0 = 0.
 * The `linear` callback is set. */
LATENS_EXPORT latens_sde_model *latens_sde_model_linear_alloc(const latens_mat *A,
                                                              const latens_vec *b,
                                                              const latens_mat *G);

/* Plug-in models: a shared object exporting
 *   int latens_sde_plugin_init(latens_sde_model *model);   (required)
 * called on a model allocated with d = 1, m = 1, diagonal noise and no parameters.  It may
 * call latens_sde_model_resize to set the dimensions, noise kind and parameter count, then
 * fill in the callbacks, parameters (names, defaults, domains), x0 and name, and returns 0
 * (non-zero: the load fails with that status; fini is then not called, so init releases
 * what it allocated itself).  Optional:
 *   void latens_sde_plugin_fini(latens_sde_model *model);  (called by latens_sde_model_free)
 * The shared object stays loaded until the model is freed.  Build it with
 *   cc -shared -fPIC -I<prefix>/include model.c -o model.so
 * A path without '/' names a file in the working directory (it is not searched for in the
 * library path as dlopen would).  LATENS_EIO when dlopen or dlsym fails (the message quotes
 * dlerror); NULL (LATENS_EINVAL) for a NULL or empty path. */
LATENS_EXPORT latens_sde_model *latens_sde_model_plugin(const char *path);
/* Re-dimension a model (arrays reallocated, parameters reset to 0 with free domains, names
 * reset, x0 zero).  For plug-in init functions and callers building models in steps. */
LATENS_EXPORT int latens_sde_model_resize(latens_sde_model *model, size_t d, size_t m,
                                          latens_sde_noise noise, size_t ntheta);

/* ------------------------------------------------------------------ solvers */
typedef enum {
  LATENS_SDE_EM = 0,
  LATENS_SDE_MILSTEIN = 1,
  LATENS_SDE_SRI = 2,
  LATENS_SDE_SRA = 3,
  LATENS_SDE_HEUN = 4,
  LATENS_SDE_IMPLICIT_EM = 5
} latens_sde_scheme;

/* "em", "milstein", "sri", "sra", "heun", "implicit-em"; NULL for a bad value. */
LATENS_EXPORT const char *latens_sde_scheme_name(latens_sde_scheme s);
/* Inverse of latens_sde_scheme_name; -1 for an unknown name. */
LATENS_EXPORT int latens_sde_scheme_from_name(const char *name);

/* The normal generator of ensemble paths (latens_sde_options.rng; include/latens/rng.h). */
typedef enum { LATENS_SDE_RNG_PHILOX = 0, LATENS_SDE_RNG_FAST = 1 } latens_sde_rng;
/* "philox", "fast"; NULL for a bad value. */
LATENS_EXPORT const char *latens_sde_rng_name(latens_sde_rng r);
/* Inverse of latens_sde_rng_name; -1 for an unknown name. */
LATENS_EXPORT int latens_sde_rng_from_name(const char *name);

typedef struct {
  latens_sde_scheme scheme; /* [EM] */
  double dt;                /* fixed step (> 0), or the first trial step when adaptive [1e-3] */
  int adaptive;             /* [0] SRI and SRA only */
  double abstol, reltol;    /* adaptive error tolerances [1e-3, 1e-3] */
  double delta;             /* weight of the deterministic error part [1/6] */
  double dtmax;             /* adaptive: largest step [Inf: the whole span] */
  int max_depth;            /* adaptive: smallest step = span / 2^max_depth, 1..48 [40] */
  size_t max_steps;         /* adaptive, per path: accepted + rejected steps [10^7] */
  double newton_tol;        /* IMPLICIT_EM: Newton stops at |dx| <= tol (1 + |x|) [1e-10] */
  int newton_maxiter;       /* [20] */
  int threads;              /* ensembles: OpenMP threads (0: the OpenMP default) [0] */
  int rng;                  /* ensembles: LATENS_SDE_RNG_PHILOX [0] or LATENS_SDE_RNG_FAST: path
                               p draws the normals of latens_rng_lane p mod 16 of fast
                               stream (seed, p / 16) (latens/rng.h: single-precision
                               Box-Muller, |z| <= 6.56) instead of latens_rng (seed, p),
                               so sixteen paths make their normals together in vector
                               registers; fixed steps only (LATENS_EINVAL with adaptive: the
                               Brownian tree needs addressable draws).  latens_sde_solve
                               draws from the caller's latens_rng and refuses FAST
                               (LATENS_EINVAL); latens_sde_solve_increments draws nothing
                               and ignores it. */
} latens_sde_options;
LATENS_EXPORT void latens_sde_options_default(latens_sde_options *opt);

/* What a solve did (summed over paths for ensembles). */
typedef struct {
  size_t steps;       /* accepted steps */
  size_t rejected;    /* adaptive: rejected trial steps */
  size_t f_evals, g_evals;
  double min_step, max_step; /* accepted step sizes */
} latens_sde_stats;

/* One path with GIVEN Brownian increments: n fixed steps of size h from (t0, x0).
 * dW: m x n (column k is W(t0 + (k+1)h) - W(t0 + kh)), leading dimension ldw >= m.
 * dZ: NULL, or m x n (ld ldw) space-time integrals dZ_k = int_{t_k}^{t_k+h} (W(s) - W(t_k)) ds,
 *   needed by SRI and SRA (LATENS_EINVAL without them); see latens_sde_brownian_draw.
 * X: NULL or d x (n+1) (ld >= d) receives the path including x0; xend: NULL or d values,
 *   the final state.  This is the entry point for convergence studies: the exact solution
 *   can be evaluated on the same W. */
LATENS_EXPORT int latens_sde_solve_increments(const latens_sde_model *model,
                                              const latens_sde_options *opt, double t0,
                                              const double *x0, size_t n, double h,
                                              const double *dW, const double *dZ, size_t ldw,
                                              latens_mat *X, double *xend,
                                              latens_sde_stats *stats);
/* Draw n steps of increments (dW, dZ as above, ld ldw) of a Brownian motion with step h from
 * rng: per step and component, dW = sqrt(h) z1, dZ = h (dW + sqrt(h) z2 / sqrt 3) / 2 with
 * z1, z2 independent N(0,1) (dZ may be NULL: then only z1 is drawn). */
LATENS_EXPORT int latens_sde_brownian_draw(latens_rng *rng, size_t m, size_t n, double h,
                                           double *dW, double *dZ, size_t ldw);
/* Aggregate k consecutive steps of fine increments (m x n, ld ldw, step h) into n/k coarse
 * ones (ld ldc): sums of dW, and the exact space-time integrals of the coarse steps (dZ and
 * cdZ may both be NULL).  n must be a multiple of k. */
LATENS_EXPORT int latens_sde_brownian_coarsen(size_t m, size_t n, double h, const double *dW,
                                              const double *dZ, size_t ldw, size_t k,
                                              double *cdW, double *cdZ, size_t ldc);

/* One path on the output grid t[0] < t[1] < ... < t[nt-1] (nt >= 1; the path starts at t[0]
 * from x0, NULL: model->x0), drawing from rng.
 *   Fixed steps: steps of opt->dt, the last one before each output time shortened to land
 *   on it; increments drawn in order from rng (z1 and, for SRI/SRA, z2 per component).
 *   (t[nt-1] - t[0]) / dt must be below 2^52 (LATENS_EDOM).
 *   Adaptive: the Brownian motion on [t[0], t[nt-1]] is a Brownian tree (Levy's midpoint
 *   construction with the space-time integral): each dyadic interval's (dW, dZ) is split
 *   into its halves with two normals read at a counter position fixed by the interval, so
 *   W on any dyadic interval is a function of the stream alone.  Steps are dyadic intervals
 *   (halved on rejection, doubled after an easy step); output times are rounded to the
 *   finest dyadic level (span / 2^max_depth).  m must be <= 2^(63 - max_depth) so that
 *   tree nodes never share normals (LATENS_EDOM).
 * X: d x nt (ld >= d), the state at each output time.  W: NULL or m x nt, W(t_k) - W(t_0).
 * Returns LATENS_EMAXITER when the adaptive step budget runs out, LATENS_ENOTFINITE when the
 * state stops being finite (naming the time). */
LATENS_EXPORT int latens_sde_solve(const latens_sde_model *model, const latens_sde_options *opt,
                                   const double *x0, const double *t, size_t nt, latens_rng *rng,
                                   latens_mat *X, latens_mat *W, latens_sde_stats *stats);

/* Ensembles: npaths paths, path p driven by the stream latens_rng_init(seed, p) exactly as
 * latens_sde_solve would be, so each path is the same for any thread count and equals a
 * single solve with that stream (opt->rng = FAST: path p's lane, as options.rng says, the
 * same normals in the same order for any thread count and output grid).  Paths run in
 * parallel with OpenMP (opt->threads).  A
 * failing path stops the ensemble with its status; the error is reported by the thread that
 * met it and again, naming the lowest failing path, on the calling thread (where
 * latens_last_error sees it).  Paths above a failed one may be skipped (their X columns are
 * then unspecified); every path below it runs, so the path named is the same for any
 * thread count.
 * X: (d*nt) x npaths, column p = path p with x_i(t_k) at row i + k d; W: NULL or
 * (m*nt) x npaths likewise.  x0: NULL (model->x0) or d values shared by every path. */
LATENS_EXPORT int latens_sde_ensemble(const latens_sde_model *model, const latens_sde_options *opt,
                                      const double *x0, const double *t, size_t nt,
                                      size_t npaths, uint64_t seed, latens_mat *X, latens_mat *W,
                                      latens_sde_stats *stats, const latens_progress *progress);
/* Summary statistics over an ensemble without storing paths (memory O(npaths (d + m));
 * adaptive ensembles also keep each path's Brownian-tree cache, O(npaths m max_depth)): at each
 * output time the mean, the variance (divisor npaths - 1; 0 for one path) and the quantiles
 * at probabilities prob[0..nq) (type-7 interpolation as R's default) of each component.
 * mean, var: d x nt (NULL to skip); quant: (d*nq) x nt with component i, probability q at row
 * i + q d (NULL when nq = 0).  Same paths as latens_sde_ensemble with the same seed. */
LATENS_EXPORT int latens_sde_ensemble_summary(const latens_sde_model *model,
                                              const latens_sde_options *opt, const double *x0,
                                              const double *t, size_t nt, size_t npaths,
                                              uint64_t seed, const double *prob, size_t nq,
                                              latens_mat *mean, latens_mat *var,
                                              latens_mat *quant, latens_sde_stats *stats,
                                              const latens_progress *progress);

#ifdef __cplusplus
}
#endif
#endif
