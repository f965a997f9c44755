/* sde/infer_ou.c: the 1-D latent Ornstein-Uhlenbeck model of the CLI and the demo, fitted by
 * exact Kalman maximum likelihood, by SDE matching, or by particle likelihood.
 *
 * Every fit works on standardised data (x - mean) / sd: the optimisers then see parameters
 * of order one whatever the series' unit (the Nile flows are ~1000 with variance ~3e4), and
 * the estimates map back exactly since the model is closed under affine changes of x
 * (mu -> mean + sd mu, sigma -> sd sigma, r -> sd^2 r; the log-likelihood shifts by
 * -n_obs log sd). */
#include "infer_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NP = LATENS_SDE_OU_NPARAM };

const char *latens_sde_ou_param_name(int i) {
  static const char *const names[NP] = {"kappa", "mu", "sigma", "r"};
  return i >= 0 && i < NP ? names[i] : "unknown";
}

/* The model's arrays for theta: A, b, Sigma, m0, P0, C, R. */
typedef struct {
  double A, b, Sigma, m0, P0, C, R;
  latens_sde_lti M;
  latens_sde_readout ro;
} ou_model;

static void ou_set(ou_model *o, const double *th, double t0) {
  o->A = -th[0], o->b = th[0] * th[1], o->Sigma = th[2] * th[2], o->m0 = th[1];
  o->P0 = th[2] * th[2] / (2.0 * th[0]), o->C = 1.0, o->R = th[3];
  o->M = (latens_sde_lti){1, t0, &o->A, &o->b, &o->Sigma, &o->m0, &o->P0};
  o->ro = (latens_sde_readout){LATENS_SDE_READOUT_GAUSSIAN, 1, &o->C, NULL, &o->R};
}

static int check_theta(const char *fn, const double *th) {
  if (!th) LATENS_ERRORF(LATENS_EINVAL, "%s: theta is NULL", fn);
  for (int i = 0; i < NP; i++) {
    if (!isfinite(th[i]))
      LATENS_ERRORF(LATENS_ENOTFINITE, "%s: %s = %g is not finite", fn, latens_sde_ou_param_name(i),
                    th[i]);
    if (i != 1 && !(th[i] > 0))
      LATENS_ERRORF(LATENS_EDOM, "%s: %s = %g must be > 0", fn, latens_sde_ou_param_name(i), th[i]);
  }
  return LATENS_OK;
}

int latens_sde_ou_loglik(const double *theta, const latens_sde_data *y, double *loglik) {
  static const char fn[] = "latens_sde_ou_loglik";
  int s;
  if (!y || !loglik) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL data or loglik", fn);
  if ((s = check_theta(fn, theta))) return s;
  if (y->p != 1)
    LATENS_ERRORF(LATENS_EBADLEN, "%s: the OU model needs 1-D data (p = %zu)", fn, y->p);
  if (!y->t || y->T == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: no observation times", fn);
  ou_model o;
  ou_set(&o, theta, y->t[0]);
  return latens_sde_lti_filter(&o.M, &o.ro, y, NULL, NULL, loglik);
}

/* Standardised copy of 1-D data. */
typedef struct {
  double mean, sd;
  size_t nobs;
  double *x;
  latens_sde_data y;
} stdata;

static int standardise(const char *fn, const latens_sde_data *y, stdata *d) {
  int s;
  if (!y) LATENS_ERRORF(LATENS_EINVAL, "%s: data is NULL", fn);
  if ((s = latens_sde_check(fn, NULL, NULL, y))) return s;
  if (y->p != 1)
    LATENS_ERRORF(LATENS_EBADLEN, "%s: the OU model needs 1-D data (p = %zu)", fn, y->p);
  double s1 = 0, s2 = 0;
  size_t n = 0;
  for (size_t k = 0; k < y->T; k++) {
    double v = y->x[k * y->ldx];
    if (!isnan(v)) s1 += v, n++;
  }
  if (n < 3) LATENS_ERRORF(LATENS_EDOM, "%s: %zu observed values (need >= 3)", fn, n);
  d->mean = s1 / (double)n;
  for (size_t k = 0; k < y->T; k++) {
    double v = y->x[k * y->ldx] - d->mean;
    if (!isnan(v)) s2 += v * v;
  }
  d->sd = sqrt(s2 / (double)(n - 1));
  if (!(d->sd > 0) || !isfinite(d->sd))
    LATENS_ERRORF(LATENS_EDOM, "%s: the observed values have standard deviation %g", fn, d->sd);
  d->nobs = n;
  if (!(d->x = malloc(y->T * sizeof *d->x))) LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn);
  for (size_t k = 0; k < y->T; k++) d->x[k] = (y->x[k * y->ldx] - d->mean) / d->sd;
  d->y = (latens_sde_data){y->T, 1, y->t, d->x, 1};
  return LATENS_OK;
}

static void to_std(const stdata *d, const double *th, double *ts) {
  ts[0] = th[0], ts[1] = (th[1] - d->mean) / d->sd, ts[2] = th[2] / d->sd,
  ts[3] = th[3] / (d->sd * d->sd);
}
static void from_std(const stdata *d, const double *ts, double *th) {
  th[0] = ts[0], th[1] = d->mean + d->sd * ts[1], th[2] = ts[2] * d->sd,
  th[3] = ts[3] * d->sd * d->sd;
}

/* A start from the standardised series: a fifth of the variance as noise, kappa from the
 * lag-one autocorrelation at the median spacing (clipped), stationary variance the rest. */
static void start(const stdata *d, double *ts) {
  double num = 0, den = 0, dtsum = 0;
  size_t m = 0;
  for (size_t k = 1; k < d->y.T; k++) {
    if (isnan(d->x[k]) || isnan(d->x[k - 1]) || !(d->y.t[k] > d->y.t[k - 1])) continue;
    num += d->x[k] * d->x[k - 1], den += d->x[k] * d->x[k], dtsum += d->y.t[k] - d->y.t[k - 1], m++;
  }
  double rho = m && den > 0 ? num / den / 0.8 : 0.5, dt = m ? dtsum / (double)m : 1.0;
  rho = rho < 0.05 ? 0.05 : rho > 0.95 ? 0.95 : rho;
  ts[0] = -log(rho) / dt, ts[1] = 0.0, ts[2] = sqrt(2.0 * ts[0] * 0.8), ts[3] = 0.2;
}

static int negll_std(const double *x, const stdata *d, double *f) {
  double ll;
  ou_model o;
  *f = NAN; /* callers difference trial points that may leave the domain: never unset */
  for (int i = 0; i < NP; i++)
    if (!isfinite(x[i]) || (i != 1 && !(x[i] > 0))) return LATENS_EDOM;
  ou_set(&o, x, d->y.t[0]);
  latens_error_quiet_begin(); /* trial points may fail */
  int s = latens_sde_lti_filter(&o.M, &o.ro, &d->y, NULL, NULL, &ll);
  latens_error_quiet_end();
  *f = s ? NAN : -ll;
  return LATENS_OK;
}

static int mle_fdf(const double *x, size_t n, void *user, double *f, double *grad) {
  const stdata *d = user;
  (void)n;
  /* Off the domain (a bound at 0 reached exactly): *f is NaN, which the optimiser treats as
   * a step too long, not as a failure of the whole fit. */
  if (!grad) return negll_std(x, d, f);
  double ll, g[NP];
  *f = NAN;
  for (int i = 0; i < NP; i++)
    if (!isfinite(x[i]) || (i != 1 && !(x[i] > 0))) return LATENS_OK;
  latens_error_quiet_begin(); /* trial points may fail */
  int s = latens_sde_ou_loglik_grad(x, &d->y, &ll, g); /* exact gradient (infer_ou_grad.c) */
  latens_error_quiet_end();
  if (s) return LATENS_OK;
  *f = -ll;
  for (int i = 0; i < NP; i++) grad[i] = -g[i];
  return LATENS_OK;
}

/* Hessian of the negative log-likelihood in standardised parameters, then its inverse. */
static int stderr_std(const stdata *d, const double *ts, double *se) {
  double H[NP * NP], h[NP], f0, x[NP];
  int s = negll_std(ts, d, &f0);
  if (s || !isfinite(f0))
    LATENS_ERRORF(LATENS_EDOM, "latens_sde_ou_stderr: likelihood not finite at theta");
  for (int i = 0; i < NP; i++) h[i] = 1e-4 * fmax(fabs(ts[i]), 1e-2);
  /* The stencil reaches 2h: a rate or variance that close to 0 is on the boundary, where
   * the information matrix does not give a standard error (say so rather than "not PD"). */
  for (int i = 0; i < NP; i++)
    if (i != 1 && !(ts[i] > 2 * h[i]))
      LATENS_ERRORF(LATENS_EDOM,
                    "latens_sde_ou_stderr: %s = %g (standardised) is on the boundary 0: "
                    "no standard error",
                    latens_sde_ou_param_name(i), ts[i]);
  for (int i = 0; i < NP; i++)
    for (int j = 0; j <= i; j++) {
      double f[4];
      for (int c = 0; c < 4; c++) {
        memcpy(x, ts, sizeof x);
        x[i] += (c & 1 ? -1 : 1) * h[i];
        x[j] += (c & 2 ? -1 : 1) * h[j];
        if (i == j) x[i] = ts[i] + (c == 0 ? 2 : c == 3 ? -2 : 0) * h[i];
        negll_std(x, d, &f[c]);
      }
      H[i + j * NP] = H[j + i * NP] = i == j ? (f[0] - 2 * f0 + f[3]) / (4 * h[i] * h[i])
                                             : (f[0] - f[1] - f[2] + f[3]) / (4 * h[i] * h[j]);
    }
  latens_mat Hm = latens_mat_view(H, NP, NP, NP);
  latens_chol_options o;
  latens_chol_options_default(&o);
  o.max_tries = 0;
  if (!latens_all_finite(H, NP * NP) || latens_chol_decomp(&Hm, &o, NULL))
    LATENS_ERRORF(LATENS_ENOTPOSDEF,
                  "latens_sde_ou_stderr: the observed information is not "
                  "positive definite (theta is not a local maximum of the likelihood)");
  if ((s = latens_chol_invert(&Hm, &Hm))) return s;
  for (int i = 0; i < NP; i++) se[i] = sqrt(H[i + i * NP]);
  return LATENS_OK;
}

int latens_sde_ou_stderr(const double *theta, const latens_sde_data *y, double *se) {
  static const char fn[] = "latens_sde_ou_stderr";
  int s;
  stdata d = {0};
  if (!se) LATENS_ERRORF(LATENS_EINVAL, "%s: se is NULL", fn);
  if ((s = check_theta(fn, theta)) || (s = standardise(fn, y, &d))) return s;
  double ts[NP], ses[NP];
  to_std(&d, theta, ts);
  if (!(s = stderr_std(&d, ts, ses))) {
    se[0] = ses[0], se[1] = ses[1] * d.sd, se[2] = ses[2] * d.sd, se[3] = ses[3] * d.sd * d.sd;
  }
  free(d.x);
  return s;
}

void latens_sde_fit_options_default(latens_sde_fit_options *opt) {
  if (!opt) return;
  memset(opt, 0, sizeof *opt);
  opt->method = LATENS_SDE_FIT_MLE;
  latens_optim_options_default(&opt->optim);
  opt->optim.max_iter = 5000;
  latens_sde_match_options_default(&opt->match);
  latens_sde_pf_options_default(&opt->pf);
  opt->pf.particles = 500;
  opt->seed = 1;
  opt->theta0 = NULL;
}

/* ---------------------------------------------------------------- SDE matching objective */

typedef struct {
  const stdata *d;
  latens_sde_match *w;
} match_ctx;

/* Variables: (log kappa, mu, log sigma, log r, spline coefficients). */
static int match_fdf(const double *v, size_t nv, void *user, double *f, double *grad) {
  match_ctx *c = user;
  double th[NP] = {exp(v[0]), v[1], exp(v[2]), exp(v[3])};
  (void)nv;
  *f = NAN; /* exp() over- or underflowed at a trial point: NaN shortens the step (as below) */
  if (!latens_all_finite(th, NP) || !(th[0] > 0 && th[2] > 0 && th[3] > 0)) return LATENS_OK;
  ou_model o;
  ou_set(&o, th, c->d->y.t[0]);
  double gA = 0, gb = 0, gS = 0, gm0 = 0, gP0 = 0, gR = 0;
  latens_sde_lti_grad g = {&gA, &gb, &gS, &gm0, &gP0, NULL, NULL, &gR};
  latens_error_quiet_begin();
  int s = latens_sde_match_loss(c->w, &o.M, &o.ro, &c->d->y, v + NP, f, grad ? grad + NP : NULL,
                                grad ? &g : NULL);
  latens_error_quiet_end();
  if (s) {
    *f = NAN; /* a trial point outside the domain: the line search shortens the step */
    return LATENS_OK;
  }
  if (grad) { /* A = -k, b = k mu, Sigma = s^2, m0 = mu, P0 = s^2 / (2k), R = r */
    const double k = th[0], mu = th[1], sg = th[2];
    grad[0] = k * (-gA + mu * gb - sg * sg / (2 * k * k) * gP0);
    grad[1] = k * gb + gm0;
    grad[2] = sg * (2 * sg * gS + sg / k * gP0);
    grad[3] = th[3] * gR;
  }
  return LATENS_OK;
}

static int fit_matching(const stdata *d, const latens_sde_fit_options *opt, double *ts,
                        double *objective, size_t *iterations) {
  latens_sde_match *w = latens_sde_match_alloc(1, d->y.t[0], &d->y, &opt->match);
  if (!w) { /* the allocator reported why (options, times, memory) */
    int st = latens_last_error(NULL);
    return st ? st : LATENS_ENOMEM;
  }
  const size_t nc = latens_sde_match_ncoef(w), nv = NP + nc;
  double *v = malloc(nv * sizeof *v);
  if (!v) {
    latens_sde_match_free(w);
    LATENS_ERRORF(LATENS_ENOMEM, "latens_sde_ou_fit: out of memory (%zu coefficients)", nc);
  }
  ou_model o;
  ou_set(&o, ts, d->y.t[0]);
  int s = latens_sde_match_init(w, &o.ro, &d->y, v + NP);
  v[0] = log(ts[0]), v[1] = ts[1], v[2] = log(ts[2]), v[3] = log(ts[3]);
  match_ctx c = {d, w};
  latens_optim_result r = {.x = v};
  if (!s) s = latens_optim_minimize(match_fdf, v, nv, &c, NULL, NULL, &opt->optim, &r);
  if (s == LATENS_ENOPROG && r.grad_norm <= 1e-4 * fmax(1.0, fabs(r.f))) {
    latens_clear_error(); /* flat to rounding at a stationary point: converged */
    s = LATENS_OK;
  }
  if (!s || s == LATENS_EMAXITER) {
    ts[0] = exp(v[0]), ts[1] = v[1], ts[2] = exp(v[2]), ts[3] = exp(v[3]);
    *objective = -r.f;
    *iterations = r.iterations;
  }
  free(v);
  latens_sde_match_free(w);
  return s;
}

/* ---------------------------------------------------------------- particle likelihood */

typedef struct {
  const stdata *d;
  const latens_sde_fit_options *opt;
  double pf_loglik;
} pf_ctx;

/* -log of the particle likelihood estimate at (log kappa, mu, log sigma, log r), with the
 * same stream at every call (common random numbers), so the objective is a deterministic,
 * if piecewise-continuous, function that the simplex can descend. */
static int pf_f(const double *v, size_t nv, void *user, double *f, double *grad) {
  pf_ctx *c = user;
  double th[NP] = {exp(v[0]), v[1], exp(v[2]), exp(v[3])};
  (void)nv, (void)grad;
  *f = NAN;
  if (!latens_all_finite(th, NP) || !(th[0] > 0 && th[2] > 0 && th[3] > 0)) return LATENS_OK;
  ou_model o;
  ou_set(&o, th, c->d->y.t[0]);
  latens_error_quiet_begin();
  latens_sde_lti_sampler *smp = latens_sde_lti_sampler_alloc(&o.M);
  latens_sde_pf_model pm = latens_sde_lti_sampler_model(smp);
  latens_rng rng;
  latens_rng_init(&rng, c->opt->seed, 0);
  latens_sde_pf_options po = c->opt->pf;
  po.smooth = 0;
  latens_sde_pf_result r = {0};
  int s = smp ? latens_sde_pf_run(&pm, &o.ro, &c->d->y, &po, &rng, &r) : LATENS_ENOMEM;
  latens_sde_lti_sampler_free(smp);
  latens_error_quiet_end();
  if (s == LATENS_ENOMEM)
    LATENS_ERRORF(s, "latens_sde_ou_fit: out of memory in the particle filter");
  if (!s) *f = -r.loglik;
  return LATENS_OK;
}

static int fit_pf(const stdata *d, const latens_sde_fit_options *opt, double *ts, double *objective,
                  size_t *iterations) {
  double v[NP] = {log(ts[0]), ts[1], log(ts[2]), log(ts[3])};
  pf_ctx c = {d, opt, NAN};
  latens_optim_options o = opt->optim;
  o.method = LATENS_OPTIM_SIMPLEX;
  if (o.max_iter > 2000) o.max_iter = 2000;
  o.step = 0.5, o.xtol = 1e-3, o.ftol = 0; /* the f rule stops early on a noisy surface */
  latens_optim_result r = {.x = v};
  int s = latens_optim_minimize(pf_f, v, NP, &c, NULL, NULL, &o, &r);
  if (!s || s == LATENS_EMAXITER) {
    ts[0] = exp(v[0]), ts[1] = v[1], ts[2] = exp(v[2]), ts[3] = exp(v[3]);
    *objective = -r.f, *iterations = r.iterations;
  }
  return s;
}

/* The OU particle fit's objective, re-estimated at the estimate (infer_rerun.c says why:
 * on the Nile series with 500 particles the fit's own-stream value read -636.89 against the
 * exact -637.31 at the same point, above even the MLE's maximum -637.04).  One run of the
 * filter on stream j at standardised ts. */
typedef struct {
  const stdata *d;
  const latens_sde_fit_options *opt;
  const double *ts;
} pf_rerun_ctx;

static int pf_rerun(void *ctx, int j, double *ll, char *why, size_t nwhy) {
  const pf_rerun_ctx *c = ctx;
  ou_model o;
  ou_set(&o, c->ts, c->d->y.t[0]);
  latens_sde_pf_options po = c->opt->pf;
  po.smooth = 0;
  po.progress = (latens_progress){NULL, NULL}; /* it would be called from worker threads */
  latens_rng rng;
  latens_rng_init(&rng, sde_pf_rerun_seed((uint64_t)c->opt->seed, j), 0);
  latens_sde_pf_result r = {0};
  const char *msg = NULL;
  latens_error_quiet_begin();
  latens_sde_lti_sampler *smp = latens_sde_lti_sampler_alloc(&o.M);
  latens_sde_pf_model pm = latens_sde_lti_sampler_model(smp);
  int st = smp ? latens_sde_pf_run(&pm, &o.ro, &c->d->y, &po, &rng, &r) : latens_last_error(NULL);
  if (!smp && !st) st = LATENS_ENOMEM;
  if (st) latens_last_error(&msg);
  latens_sde_lti_sampler_free(smp);
  latens_error_quiet_end();
  *ll = r.loglik;
  if (st == LATENS_ERANGE) *ll = -INFINITY, st = LATENS_OK;
  if (st) snprintf(why, nwhy, "%s", msg ? msg : latens_strerror(st));
  return st;
}

/* Over the default OpenMP team (the CLI's --threads): the same values for any count. */
static int pf_reestimate(const stdata *d, const latens_sde_fit_options *opt, const double *ts,
                         double *ll, double *se) {
  pf_rerun_ctx c = {d, opt, ts};
  return sde_pf_pool("latens_sde_ou_fit", pf_rerun, &c, 0, ll, se);
}

int latens_sde_ou_fit(const latens_sde_data *y, const latens_sde_fit_options *opt,
                      latens_sde_fit_result *res) {
  static const char fn[] = "latens_sde_ou_fit";
  latens_sde_fit_options o;
  latens_sde_fit_options_default(&o);
  if (opt) o = *opt;
  if (!res) LATENS_ERRORF(LATENS_EINVAL, "%s: res is NULL", fn);
  for (int i = 0; i < NP; i++) res->theta[i] = res->se[i] = NAN;
  res->loglik = res->objective = res->objective_se = NAN, res->iterations = 0;
  res->converged = 0;
  if (o.method != LATENS_SDE_FIT_MLE && o.method != LATENS_SDE_FIT_MATCHING &&
      o.method != LATENS_SDE_FIT_PF)
    LATENS_ERRORF(LATENS_EINVAL, "%s: unknown method %d", fn, (int)o.method);
  int s;
  if (o.theta0 && (s = check_theta(fn, o.theta0))) return s;
  stdata d = {0};
  if ((s = standardise(fn, y, &d))) return s;
  double ts[NP], obj = NAN;
  size_t it = 0;
  if (o.theta0)
    to_std(&d, o.theta0, ts);
  else
    start(&d, ts);
  if (o.method == LATENS_SDE_FIT_MLE) {
    static const double lo[NP] = {0, -INFINITY, 0, 0},
                        hi[NP] = {INFINITY, INFINITY, INFINITY, INFINITY};
    latens_optim_result r = {.x = ts};
    s = latens_optim_minimize(mle_fdf, ts, NP, &d, lo, hi, &o.optim, &r);
    if (s == LATENS_ENOPROG && r.grad_norm <= 1e-4 * fmax(1.0, fabs(r.f))) {
      latens_clear_error(); /* finite-difference gradient flat to its own noise */
      s = LATENS_OK;
    }
    obj = -r.f, it = r.iterations;
  } else if (o.method == LATENS_SDE_FIT_MATCHING) {
    s = fit_matching(&d, &o, ts, &obj, &it);
  } else {
    s = fit_pf(&d, &o, ts, &obj, &it);
  }
  if (!s || s == LATENS_EMAXITER) {
    const double shift = (double)d.nobs * log(d.sd);
    double f, ses[NP];
    from_std(&d, ts, res->theta);
    res->objective = obj - shift, res->iterations = it, res->converged = !s;
    res->objective_se = 0.0; /* MLE and (closed-form) matching: exact */
    int s2 = negll_std(ts, &d, &f);
    res->loglik = s2 ? NAN : -f - shift;
    latens_error_quiet_begin();
    if (!stderr_std(&d, ts, ses)) {
      res->se[0] = ses[0], res->se[1] = ses[1] * d.sd, res->se[2] = ses[2] * d.sd;
      res->se[3] = ses[3] * d.sd * d.sd;
    }
    latens_error_quiet_end();
    if (o.method == LATENS_SDE_FIT_PF) {
      double ll = NAN, se = NAN;
      int s3 = pf_reestimate(&d, &o, ts, &ll, &se);
      /* Last, so that its failure is the last error: then NaN (never the fit's own-stream
       * value) and its status, with the estimate written. */
      res->objective = s3 ? NAN : ll - shift, res->objective_se = s3 ? NAN : se;
      if (s3) s = s3;
    }
  }
  free(d.x);
  return s;
}
