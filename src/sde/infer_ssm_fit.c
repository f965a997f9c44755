/* sde/infer_ssm_fit.c: parameter estimation for latens_sde_ssm — maximum likelihood through
 * the exact Kalman, EKF or UKF likelihood, particle likelihood with common random numbers,
 * and Monte Carlo SDE matching; standard errors from the observed information of the
 * Gaussian likelihood.  Monte Carlo objectives are reported re-estimated on fresh streams.
 * Parameters are (model->theta, r); only the flagged ones move. */
#include "infer_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  latens_sde_ssm *s;
  int method;
  const latens_sde_data *y;
  size_t nf;      /* free parameters */
  size_t *idx;    /* their indices in (theta, r) */
  double *full;   /* ntheta + 1 */
  double *lo, *hi;
} fit_ctx;

/* Write the free values x into the model and r; a value outside its domain fails. */
static int set_free(fit_ctx *c, const double *x) {
  const size_t k = c->s->model->ntheta;
  for (size_t i = 0; i < c->nf; i++) c->full[c->idx[i]] = x[i];
  if (!isfinite(c->full[k]) || !(c->full[k] > 0)) return LATENS_EDOM;
  int st = k ? latens_sde_model_set_params(c->s->model, c->full, k) : LATENS_OK;
  if (!st) c->s->r = c->full[k];
  return st;
}

/* -loglik at x by `method`; NaN (not a failure) where the trial point is not admissible. */
static int negll(fit_ctx *c, int method, const double *x, double *f) {
  double ll = NAN;
  *f = NAN;
  latens_error_quiet_begin();
  int st = set_free(c, x);
  if (!st) st = latens_sde_ssm_filter(c->s, method, 0, c->y, NULL, NULL, &ll);
  latens_error_quiet_end();
  if (st == LATENS_ENOMEM) return st;
  if (!st && isfinite(ll)) *f = -ll;
  return LATENS_OK;
}

static int mle_fdf(const double *x, size_t n, void *user, double *f, double *grad) {
  fit_ctx *c = user;
  int st = negll(c, c->method, x, f);
  if (st || !grad || !isfinite(*f)) return st;
  double *xp = c->full + c->s->model->ntheta + 1; /* scratch of nf values */
  for (size_t i = 0; i < n; i++) {
    /* f carries the ODE's ~1e-10 relative noise: h ~ 1e-4 keeps its share of the gradient
     * near 1e-6 |f| / |x| while the O(h^2) truncation stays below it. */
    double h = 1e-4 * fmax(fabs(x[i]), 1e-2), fp, fm;
    memcpy(xp, x, n * sizeof *xp);
    xp[i] = x[i] + h;
    if ((st = negll(c, c->method, xp, &fp))) return st;
    xp[i] = x[i] - h;
    if ((st = negll(c, c->method, xp, &fm))) return st;
    /* Next to a domain bound one side is not admissible: one-sided there. */
    grad[i] = isfinite(fp) && isfinite(fm) ? (fp - fm) / (2 * h)
              : isfinite(fp)               ? (fp - *f) / h
                                           : (*f - fm) / h;
  }
  return LATENS_OK;
}

static int pf_f(const double *x, size_t n, void *user, double *f, double *grad) {
  (void)n, (void)grad;
  return negll(user, LATENS_SDE_FILTER_PF, x, f);
}

/* Standard errors over the free parameters from a central-difference Hessian of -loglik by
 * `method` at x; se (nf) left NaN when the stencil leaves the domain or H is not PD. */
static void hessian_se(fit_ctx *c, int method, const double *x, double *se) {
  const size_t n = c->nf;
  double *H = malloc((n * n + 3 * n) * sizeof *H), *h = H + n * n, *xp = h + n, f0, f[4];
  for (size_t i = 0; i < n; i++) se[i] = NAN;
  if (!H || negll(c, method, x, &f0) || !isfinite(f0)) goto done;
  for (size_t i = 0; i < n; i++) {
    h[i] = 1e-4 * fmax(fabs(x[i]), 1e-2);
    if (!(x[i] - 2 * h[i] > c->lo[i]) || !(x[i] + 2 * h[i] < c->hi[i])) goto done;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j <= i; j++) {
      for (int q = 0; q < 4; q++) {
        memcpy(xp, x, n * sizeof *xp);
        if (i == j) {
          xp[i] += (q == 0 ? 2 : q == 3 ? -2 : 0) * h[i];
        } else {
          xp[i] += (q & 1 ? -1 : 1) * h[i];
          xp[j] += (q & 2 ? -1 : 1) * h[j];
        }
        if (negll(c, method, xp, &f[q])) goto done;
      }
      H[i + j * n] = H[j + i * n] = i == j ? (f[0] - 2 * f0 + f[3]) / (4 * h[i] * h[i])
                                           : (f[0] - f[1] - f[2] + f[3]) / (4 * h[i] * h[j]);
    }
  latens_mat Hm = latens_mat_view(H, n, n, n);
  latens_chol_options o;
  latens_chol_options_default(&o);
  o.max_tries = 0;
  latens_error_quiet_begin();
  int st = !latens_all_finite(H, n * n) || latens_chol_decomp(&Hm, &o, NULL) ||
           latens_chol_invert(&Hm, &Hm);
  latens_error_quiet_end();
  for (size_t i = 0; !st && i < n; i++) se[i] = sqrt(H[i + i * n]);
done:
  free(H);
}

static void ctx_free(fit_ctx *c) { free(c->idx), free(c->full); }

static int ctx_init(const char *fn, latens_sde_ssm *s, int method, const int *fit,
                    int allow_none, const latens_sde_data *y, fit_ctx *c) {
  memset(c, 0, sizeof *c);
  if (!s || !s->model || !y) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  const size_t k = s->model->ntheta, np = k + 1;
  c->s = s, c->method = method, c->y = y;
  c->idx = malloc(np * sizeof *c->idx);
  c->full = malloc(4 * np * sizeof *c->full);
  if (!c->idx || !c->full) {
    ctx_free(c);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn);
  }
  c->lo = c->full + 2 * np, c->hi = c->lo + np;
  memcpy(c->full, s->model->theta, k * sizeof *c->full);
  c->full[k] = s->r;
  for (size_t i = 0; i < np; i++) {
    int on = fit ? fit[i] != 0 : (i < k || s->kind == LATENS_SDE_READOUT_GAUSSIAN);
    if (!on) continue;
    if (i == k && s->kind != LATENS_SDE_READOUT_GAUSSIAN) {
      ctx_free(c);
      LATENS_ERRORF(LATENS_EINVAL, "%s: r is not a parameter of a Poisson readout", fn);
    }
    c->lo[c->nf] = i < k ? s->model->theta_lo[i] : 0.0;
    c->hi[c->nf] = i < k ? s->model->theta_hi[i] : INFINITY;
    c->idx[c->nf++] = i;
  }
  if (c->nf == 0 && !allow_none) {
    ctx_free(c);
    LATENS_ERRORF(LATENS_EINVAL, "%s: no parameter to estimate", fn);
  }
  for (size_t i = 0; i < c->nf; i++) {
    double v = c->full[c->idx[i]];
    if (!(v > c->lo[i] && v < c->hi[i])) {
      const char *nm = c->idx[i] < k ? s->model->theta_name[c->idx[i]] : "r";
      ctx_free(c);
      LATENS_ERRORF(LATENS_EDOM, "%s: the start %s = %g is not strictly inside its domain (%g, %g)",
                    fn, nm, v, c->lo[i], c->hi[i]);
    }
  }
  return LATENS_OK;
}

/* Write the estimate and the standard errors (over the Gaussian likelihood `semethod`). */
static void finish(fit_ctx *c, const double *x, int semethod, latens_sde_ssm_fit_result *res) {
  const size_t k = c->s->model->ntheta;
  if (res->se) {
    for (size_t i = 0; i <= k; i++) res->se[i] = NAN;
  }
  if (res->se && c->nf) {
    double *sef = malloc(c->nf * sizeof *sef);
    for (size_t i = 0; i <= k; i++) res->se[i] = NAN;
    if (sef) {
      hessian_se(c, semethod, x, sef);
      for (size_t i = 0; i < c->nf; i++) res->se[c->idx[i]] = sef[i];
    }
    free(sef);
  }
  set_free(c, x); /* the hessian stencil moved them */
}

static int gauss_method(const latens_sde_ssm *s, int method) {
  if (s->model->linear) return LATENS_SDE_FILTER_KALMAN;
  return method == LATENS_SDE_FILTER_UKF ? LATENS_SDE_FILTER_UKF : LATENS_SDE_FILTER_EKF;
}

/* A PF fit's log-likelihood, re-estimated at the estimate (infer_rerun.c says why): one run
 * of the particle filter on stream j. */
typedef struct {
  const latens_sde_ssm *s;
  const latens_sde_data *y;
} pf_rerun_ctx;

static int pf_rerun(void *ctx, int j, double *ll, char *why, size_t nwhy) {
  const pf_rerun_ctx *c = ctx;
  latens_sde_ssm sj = *c->s; /* shallow: the filter reads the model and never writes it */
  sj.seed = sde_pf_rerun_seed(c->s->seed, j);
  latens_error_quiet_begin();
  int st = latens_sde_ssm_filter(&sj, LATENS_SDE_FILTER_PF, 0, c->y, NULL, NULL, ll);
  const char *msg = NULL;
  if (st) latens_last_error(&msg);
  latens_error_quiet_end();
  if (st == LATENS_ERANGE) *ll = -INFINITY, st = LATENS_OK;
  if (st) snprintf(why, nwhy, "%s", msg ? msg : latens_strerror(st));
  return st;
}

static int pf_reestimate(const latens_sde_ssm *s, const latens_sde_data *y, double *ll,
                         double *se) {
  pf_rerun_ctx c = {s, y};
  return sde_pf_pool("latens_sde_ssm_fit", pf_rerun, &c, s->solver.threads, ll, se);
}

int latens_sde_ssm_fit(latens_sde_ssm *s, latens_sde_filter_method method, const int *fit,
                       const latens_optim_options *opt, const latens_sde_data *y,
                       latens_sde_ssm_fit_result *res) {
  static const char fn[] = "latens_sde_ssm_fit";
  if (!res) LATENS_ERRORF(LATENS_EINVAL, "%s: res is NULL", fn);
  res->loglik = res->objective = res->objective_se = NAN, res->iterations = 0;
  res->converged = 0;
  if ((int)method < 0 || (int)method > LATENS_SDE_FILTER_PF)
    LATENS_ERRORF(LATENS_EINVAL, "%s: unknown method %d", fn, (int)method);
  double ll0;
  int st = latens_sde_ssm_filter(s, method, 0, y, NULL, NULL, &ll0); /* reports bad input */
  if (st) return st;
  fit_ctx c;
  if ((st = ctx_init(fn, s, method, fit, 0, y, &c))) return st;
  double *x = malloc(2 * c.nf * sizeof *x);
  if (!x) {
    ctx_free(&c);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn);
  }
  for (size_t i = 0; i < c.nf; i++) x[i] = x[c.nf + i] = c.full[c.idx[i]];
  latens_optim_options o;
  latens_optim_options_default(&o);
  if (opt) o = *opt;
  latens_optim_result r = {.x = x};
  if (method == LATENS_SDE_FILTER_PF) {
    o.method = LATENS_OPTIM_SIMPLEX;
    if (o.max_iter > 2000) o.max_iter = 2000;
    o.step = 0.5, o.xtol = 1e-3, o.ftol = 0; /* the f rule stops early on a noisy surface */
    st = latens_optim_minimize(pf_f, x, c.nf, &c, c.lo, c.hi, &o, &r);
  } else {
    /* The likelihood is an ODE solution (rtol 1e-9) differenced in theta: below ~1e-10 in
     * relative f the line search only chases that noise, evaluating the same points. */
    if (o.ftol < 1e-10) o.ftol = 1e-10;
    if (o.gtol < 1e-5) o.gtol = 1e-5;
    st = latens_optim_minimize(mle_fdf, x, c.nf, &c, c.lo, c.hi, &o, &r);
    if (st == LATENS_ENOPROG && r.grad_norm <= 1e-4 * fmax(1.0, fabs(r.f))) {
      latens_clear_error(); /* finite-difference gradient flat to its own noise */
      st = LATENS_OK;
    }
  }
  if (!st || st == LATENS_EMAXITER) {
    res->objective = -r.f, res->loglik = -r.f;
    res->iterations = r.iterations, res->converged = !st;
    finish(&c, x, gauss_method(s, method), res);
    if (method == LATENS_SDE_FILTER_PF) {
      int s2 = pf_reestimate(s, y, &res->loglik, &res->objective_se);
      if (s2) res->loglik = res->objective_se = NAN, st = s2; /* never the fit's own value */
      res->objective = res->loglik;
    }
  } else {
    set_free(&c, x + c.nf); /* leave the start in place */
  }
  free(x);
  ctx_free(&c);
  return st;
}

/* ---------------------------------------------------------------- SDE matching */

typedef struct {
  fit_ctx *c;
  latens_sde_match *w;
  double *R, *gth; /* p x p readout noise; ntheta gradient */
  double *lin;     /* linear models: A, b, Sigma, their gradients and two difference sets */
} match_ctx;

/* Gradient in theta of the closed-form loss: the loss's gradient in (A, b, Sigma) against
 * central differences of the model's linear form (exact to rounding for forms quadratic in
 * theta, such as OU's b = theta mu and Sigma = sigma^2). */
static int linear_theta_grad(match_ctx *m, const double *gA, const double *gb, const double *gS,
                             double *gth) {
  latens_sde_model *md = m->c->s->model;
  const size_t n = md->d, nn = n * n;
  double *Ap = m->lin + 6 * nn + 3 * n, *bp = Ap + nn, *Sp = bp + n, *Am = Sp + nn, *bm = Am + nn,
         *Sm = bm + n;
  int st = LATENS_OK;
  for (size_t j = 0; j < md->ntheta && !st; j++) {
    const double save = md->theta[j], h = 1e-6 * fmax(1.0, fabs(save));
    md->theta[j] = save + h;
    st = latens_sde_lti_from_model(md, m->c->s->t0, Ap, bp, Sp);
    md->theta[j] = save - h;
    if (!st) st = latens_sde_lti_from_model(md, m->c->s->t0, Am, bm, Sm);
    md->theta[j] = save;
    double v = 0;
    for (size_t i = 0; i < nn; i++) v += gA[i] * (Ap[i] - Am[i]) + gS[i] * (Sp[i] - Sm[i]);
    for (size_t i = 0; i < n; i++) v += gb[i] * (bp[i] - bm[i]);
    gth[j] = v / (2 * h);
  }
  return st;
}

/* The matching loss at coef for the current theta and observation noise r: closed form for
 * models with a linear form, Monte Carlo otherwise. */
static int match_loss(match_ctx *m, const double *coef, double r, double *f, double *gcoef,
                      double *gth) {
  const latens_sde_ssm *s = m->c->s;
  for (size_t i = 0; i < s->p * s->p; i++) m->R[i] = i % (s->p + 1) ? 0.0 : r;
  latens_sde_readout ro = {LATENS_SDE_READOUT_GAUSSIAN, s->p, s->C, NULL, m->R};
  if (!s->model->linear)
    return latens_sde_match_loss_mc(m->w, s->model, s->m0, s->P0, &ro, m->c->y, s->nsamples,
                                    s->seed, coef, f, gcoef, gth);
  const size_t n = s->model->d, nn = n * n;
  double *A = m->lin, *b = A + nn, *Sg = b + n, *gA = Sg + nn, *gb = gA + nn, *gS = gb + n;
  int st = latens_sde_lti_from_model(s->model, s->t0, A, b, Sg);
  latens_sde_lti M = {n, s->t0, A, b, Sg, s->m0, s->P0};
  latens_sde_lti_grad g = {gA, gb, gS, NULL, NULL, NULL, NULL, NULL};
  if (!st) st = latens_sde_match_loss(m->w, &M, &ro, m->c->y, coef, f, gcoef, gth ? &g : NULL);
  if (!st && gth) st = linear_theta_grad(m, gA, gb, gS, gth);
  return st;
}

/* Variables: the free parameters, then the spline coefficients. */
static int match_fdf(const double *v, size_t nv, void *user, double *f, double *grad) {
  match_ctx *m = user;
  fit_ctx *c = m->c;
  const size_t k = c->s->model->ntheta, nf = c->nf;
  int wantth = 0;
  (void)nv;
  for (size_t i = 0; grad && i < nf; i++) wantth |= c->idx[i] < k;
  *f = NAN;
  latens_error_quiet_begin(); /* trial points may leave the domain */
  int st = set_free(c, v);
  if (!st)
    st = match_loss(m, v + nf, c->s->r, f, grad ? grad + nf : NULL, wantth ? m->gth : NULL);
  for (size_t i = 0; !st && grad && i < nf; i++) {
    if (c->idx[i] < k) {
      grad[i] = m->gth[c->idx[i]];
      continue;
    }
    double r = c->s->r, h = 1e-5 * r, fp, fm; /* r by central differences of the estimate */
    st = match_loss(m, v + nf, r + h, &fp, NULL, NULL);
    if (!st) st = match_loss(m, v + nf, r - h, &fm, NULL, NULL);
    grad[i] = (fp - fm) / (2 * h);
  }
  latens_error_quiet_end();
  if (st == LATENS_ENOMEM) return st;
  if (st) *f = NAN; /* outside the domain: the line search shortens the step */
  return LATENS_OK;
}

/* The Monte Carlo loss the optimiser minimised averages fixed draws (common random numbers),
 * and its minimum over the coefficients and theta is biased low: the fit bends the posterior
 * to those particular draws.  On a 101-point double-well with 16 independent normal draws
 * per node that bias was 10 nats, putting -loss 5 nats above a 1e5-particle log-likelihood
 * (-25.3 against -30.2); with the Latin hypercube draws of match_mc.c it is still 1.7 nats
 * (-29.2, fresh draws -30.8).  The objective reported is therefore re-estimated at the
 * estimate with MC_NREP independent estimates (streams the fit never used, 4 nsamples draws
 * each): an unbiased estimate of -loss at the fitted q, which is a lower bound on log p(x). */
enum { MC_NREP = 8 };
static int mc_objective(match_ctx *m, const double *coef, double *obj, double *se) {
  const latens_sde_ssm *s = m->c->s;
  for (size_t i = 0; i < s->p * s->p; i++) m->R[i] = i % (s->p + 1) ? 0.0 : s->r;
  latens_sde_readout ro = {LATENS_SDE_READOUT_GAUSSIAN, s->p, s->C, NULL, m->R};
  size_t ns = s->nsamples > 25000 ? 100000 : 4 * s->nsamples;
  double s1 = 0, s2 = 0;
  for (int j = 0; j < MC_NREP; j++) {
    double f;
    uint64_t sd = s->seed + (uint64_t)(j + 1) * UINT64_C(0x9E3779B97F4A7C15);
    int st = latens_sde_match_loss_mc(m->w, s->model, s->m0, s->P0, &ro, m->c->y, ns, sd, coef,
                                      &f, NULL, NULL);
    if (st) return st;
    s1 += f, s2 += f * f;
  }
  const double mean = s1 / MC_NREP, var = (s2 - MC_NREP * mean * mean) / (MC_NREP - 1);
  *obj = -mean, *se = sqrt(fmax(var, 0.0) / MC_NREP);
  return LATENS_OK;
}

static int match_outputs(const match_ctx *m, const double *coef, double *mean, double *var) {
  const size_t n = m->c->s->model->d, T = m->c->y->T;
  double *S = var ? malloc(latens_mul_size(T, n * n) * sizeof *S) : NULL;
  if (var && !S) LATENS_ERRORF(LATENS_ENOMEM, "latens_sde_ssm_fit_matching: out of memory");
  int st = latens_sde_match_posterior(m->w, coef, T, m->c->y->t, mean, S);
  for (size_t q = 0; !st && var && q < T; q++)
    for (size_t i = 0; i < n; i++) var[i + q * n] = S[q * n * n + i * (n + 1)];
  free(S);
  return st;
}

int latens_sde_ssm_fit_matching(latens_sde_ssm *s, const int *fit, const latens_optim_options *opt,
                                const latens_sde_data *y, latens_sde_ssm_fit_result *res,
                                double *mean, double *var) {
  static const char fn[] = "latens_sde_ssm_fit_matching";
  if (!res) LATENS_ERRORF(LATENS_EINVAL, "%s: res is NULL", fn);
  res->loglik = res->objective = res->objective_se = NAN, res->iterations = 0;
  res->converged = 0;
  if (s && (s->stationary || s->kind != LATENS_SDE_READOUT_GAUSSIAN))
    LATENS_ERRORF(LATENS_EUNIMPL, "%s: SDE matching needs a given prior (stationary = 0) and a "
                  "Gaussian readout", fn);
  int st = latens_sde_ssm_filter(s, LATENS_SDE_FILTER_EKF, 0, y, NULL, NULL, NULL);
  if (st) return st;
  fit_ctx c;
  if ((st = ctx_init(fn, s, LATENS_SDE_FILTER_EKF, fit, 1, y, &c))) return st;
  const size_t dd = s->model->d;
  match_ctx m = {&c, latens_sde_match_alloc(dd, s->t0, y, &s->match), NULL, NULL,
                 malloc((12 * dd * dd + 6 * dd) * sizeof(double))};
  const size_t nc = m.w ? latens_sde_match_ncoef(m.w) : 0, nv = c.nf + nc;
  double *v = m.w && m.lin ? malloc((2 * nv + s->p * s->p + s->model->ntheta + 1) * sizeof *v)
                           : NULL;
  if (!v) {
    st = m.w ? LATENS_ENOMEM : latens_last_error(NULL);
    if (m.w) latens_errorf(__FILE__, __LINE__, st, "%s: out of memory", fn);
    goto out;
  }
  double *lo, *hi;
  m.R = v + 2 * nv, m.gth = m.R + s->p * s->p;
  double *box = malloc(2 * nv * sizeof *box);
  if (!box) {
    st = LATENS_ENOMEM;
    latens_errorf(__FILE__, __LINE__, st, "%s: out of memory", fn);
    goto out;
  }
  lo = box, hi = box + nv;
  for (size_t i = 0; i < nv; i++) lo[i] = -INFINITY, hi[i] = INFINITY;
  for (size_t i = 0; i < c.nf; i++) v[i] = c.full[c.idx[i]], lo[i] = c.lo[i], hi[i] = c.hi[i];
  for (size_t i = 0; i < s->p * s->p; i++) m.R[i] = i % (s->p + 1) ? 0.0 : s->r;
  latens_sde_readout ro = {LATENS_SDE_READOUT_GAUSSIAN, s->p, s->C, NULL, m.R};
  st = latens_sde_match_init(m.w, &ro, y, v + c.nf);
  double f0;
  if (!st) st = match_loss(&m, v + c.nf, s->r, &f0, NULL, NULL); /* reports why it cannot */
  latens_optim_options o;
  latens_optim_options_default(&o);
  if (opt) o = *opt;
  latens_optim_result r = {.x = v};
  double *start = malloc((c.nf + 1) * sizeof *start);
  if (!start && !st) st = LATENS_ENOMEM;
  if (!st) memcpy(start, v, c.nf * sizeof *v);
  if (!st) st = latens_optim_minimize(match_fdf, v, nv, &m, lo, hi, &o, &r);
  if (st == LATENS_ENOPROG && r.grad_norm <= 1e-4 * fmax(1.0, fabs(r.f))) {
    latens_clear_error(); /* flat to rounding at a stationary point */
    st = LATENS_OK;
  }
  if (!st || st == LATENS_EMAXITER) {
    res->objective = -r.f, res->objective_se = 0.0;
    res->iterations = r.iterations, res->converged = !st;
    set_free(&c, v);
    int s2 = match_outputs(&m, v + c.nf, mean, var);
    if (!s2 && !s->model->linear)
      s2 = mc_objective(&m, v + c.nf, &res->objective, &res->objective_se);
    finish(&c, v, gauss_method(s, LATENS_SDE_FILTER_EKF), res);
    latens_error_quiet_begin();
    latens_sde_ssm_filter(s, gauss_method(s, LATENS_SDE_FILTER_EKF), 0, y, NULL, NULL,
                          &res->loglik);
    latens_error_quiet_end();
    if (s2 && !st) st = s2;
  } else if (start) {
    set_free(&c, start);
  }
  free(start), free(box);
out:
  free(v), free(m.lin);
  latens_sde_match_free(m.w);
  ctx_free(&c);
  return st;
}
