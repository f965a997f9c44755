/* gp/cvi_series.c: CVI on one series under one kernel of latens/gp.h, and its hyperparameters
 * by the ELBO — the entry points `latens gp fit/smooth --likelihood poisson|bernoulli` use. */
#include "cvi_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const fn_series = "latens_gp_cvi_series";

/* Prior of kernel k on the times, ready for CVI.  *s_out NULL (reported) on failure. */
static int make_prior(const latens_gp_kernel *k, const double *t, size_t n, latens_gp_ssm **s_out) {
  size_t d = latens_gp_kernel_dim(k);
  *s_out = NULL;
  latens_gp_ssm *s = latens_gp_ssm_alloc(1, &d, n, 0);
  if (!s) return latens_last_error(NULL) ? latens_last_error(NULL) : LATENS_ENOMEM;
  int st = latens_gp_ssm_set_kernel(s, 0, k, t);
  if (st) {
    latens_gp_ssm_free(s);
    return st;
  }
  *s_out = s;
  return LATENS_OK;
}

/* Posterior mean of each observation's mean.  Fails (reported) only when the Bernoulli rule
 * cannot be set up: a NaN rate must never stand in for an error. */
static int fill_rate(int lik, const double *m, const double *v, size_t n, double offset,
                     const latens_gp_cvi_options *o, double *rate) {
  latens_gp_gh gh = {0, NULL, NULL};
  int st = lik == LATENS_GP_CVI_BERNOULLI ? latens_gp_gh_init(&gh, o->gh_nodes) : LATENS_OK;
  if (st) return st;
  for (size_t i = 0; i < n; i++) {
    double mu = m[i] + offset, s2 = v[i] > 0 ? v[i] : 0;
    if (lik == LATENS_GP_CVI_POISSON) rate[i] = exp(mu + 0.5 * s2);
    else if (lik == LATENS_GP_CVI_GAUSSIAN) rate[i] = mu;
    else {
      double a = 0, sd = sqrt(s2);
      for (size_t q = 0; q < gh.n; q++) {
        double x = mu + sd * gh.z[q];
        a += gh.wts[q] * (x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)));
      }
      rate[i] = a;
    }
  }
  latens_gp_gh_free(&gh);
  return LATENS_OK;
}

int latens_gp_cvi_series(const latens_gp_kernel *k, int lik, const double *t, const double *y,
                         size_t n, double offset, double noise, const latens_gp_cvi_options *opt,
                         double *mean, double *var, double *rate, latens_gp_cvi_result *res) {
  if (res) res->elbo = NAN, res->iterations = 0, res->converged = 0;
  if (!k || (n && (!t || !y || !mean)))
    LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn_series);
  if (!isfinite(offset)) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: offset %g", fn_series, offset);
  if (n == 0) {
    if (res) res->elbo = 0, res->converged = 1;
    return LATENS_OK;
  }
  latens_gp_cvi_options o;
  latens_gp_cvi_options_default(&o);
  if (opt) o = *opt;
  if (lik == LATENS_GP_CVI_GAUSSIAN) o.damping = 1.0; /* exact in one step */
  latens_gp_ssm *s;
  int st = make_prior(k, t, n, &s);
  if (st) return st;
  double *v = var ? var : malloc(n * sizeof *v);
  latens_gp_cvi *w = v ? latens_gp_cvi_alloc(s) : NULL;
  if (!w) {
    if (!var) free(v);
    latens_gp_ssm_free(s);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn_series);
  }
  double one = 1.0;
  latens_gp_cvi_readout ro = {lik, 1, &one, 1, &offset, &noise};
  st = latens_gp_cvi_run(w, &ro, y, n, &o, NULL);
  if (st == LATENS_OK || st == LATENS_EMAXITER) {
    latens_gp_cvi_latents(w, mean, n, v, n);
    int rst = rate ? fill_rate(lik, mean, v, n, offset, &o, rate) : LATENS_OK;
    if (rst) st = rst;
    else if (res) res->elbo = w->elbo, res->iterations = w->iter, res->converged = w->converged;
  }
  latens_gp_cvi_free(w);
  latens_gp_ssm_free(s);
  if (!var) free(v);
  return st;
}

typedef struct {
  double t;
  size_t src; /* index into the observations (< n) or n + query index */
} stamp;

static int stamp_cmp(const void *a, const void *b) {
  const stamp *x = a, *y = b;
  if (x->t != y->t) return x->t < y->t ? -1 : 1;
  return (x->src > y->src) - (x->src < y->src); /* stable: observations keep their order */
}

int latens_gp_cvi_predict(const latens_gp_kernel *k, int lik, const double *t, const double *y,
                          size_t n, double offset, double noise, const latens_gp_cvi_options *opt,
                          const double *tq, size_t nq, double *mean, double *var, double *rate,
                          latens_gp_cvi_result *res) {
  static const char fn[] = "latens_gp_cvi_predict";
  if (res) res->elbo = NAN, res->iterations = 0, res->converged = 0;
  if (!k || (n && (!t || !y)) || (nq && (!tq || !mean)))
    LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  for (size_t i = 0; i < nq; i++)
    if (!isfinite(tq[i])) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: query time %zu is not finite", fn, i);
  for (size_t i = 1; i < n; i++)
    if (!(t[i] >= t[i - 1]))
      LATENS_ERRORF(LATENS_EDOM, "%s: times not sorted: t[%zu] = %g < t[%zu] = %g", fn, i, t[i],
                    i - 1, t[i - 1]);
  const size_t m = n + nq;
  stamp *st_ = malloc((m ? m : 1) * sizeof *st_);
  double *ta = malloc((m ? m : 1) * 5 * sizeof *ta);
  if (!st_ || !ta) {
    free(st_), free(ta);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn);
  }
  double *ya = ta + m, *ma = ya + m, *va = ma + m, *ra = va + m;
  for (size_t i = 0; i < n; i++) st_[i] = (stamp){t[i], i};
  for (size_t i = 0; i < nq; i++) st_[n + i] = (stamp){tq[i], n + i};
  qsort(st_, m, sizeof *st_, stamp_cmp);
  for (size_t i = 0; i < m; i++) ta[i] = st_[i].t, ya[i] = st_[i].src < n ? y[st_[i].src] : NAN;
  int status = latens_gp_cvi_series(k, lik, ta, ya, m, offset, noise, opt, ma, va, ra, res);
  if (status == LATENS_OK || status == LATENS_EMAXITER)
    for (size_t i = 0; i < m; i++) {
      if (st_[i].src < n) continue;
      size_t q = st_[i].src - n;
      mean[q] = ma[i];
      if (var) var[q] = va[i];
      if (rate) rate[q] = ra[i];
    }
  free(st_), free(ta);
  return status;
}

/* ---------------------------------------------------------------- ELBO hyperparameters */

typedef struct {
  latens_gp_kernel *k;
  latens_gp_ssm *s;
  latens_gp_cvi *w;
  const double *t, *y;
  size_t n, np;
  int lik;
  double offset, noise;
  latens_gp_cvi_options o;
} elbo_job;

static const double LOGPAR_MAX = 46.0; /* e^46 ~ 1e20 */

/* -ELBO at log-parameters x (kernel parameters, then log noise for Gaussian data).  Sites
 * carry over between evaluations: a warm start, as the likelihood terms change little. */
static int neg_elbo(const double *x, size_t dim, void *user, double *f, double *grad) {
  elbo_job *j = user;
  (void)grad;
  double th[3 * LATENS_GP_MAX_TERMS + 1];
  *f = INFINITY;
  /* Beyond e^{+-LOGPAR_MAX} the simplex has left every sensible scale; answering +Inf here
   * keeps the kernel's own range errors (reported, so printed by the default handler) from
   * firing at every such probe. */
  for (size_t i = 0; i < dim; i++)
    if (!(fabs(x[i]) <= LOGPAR_MAX)) return LATENS_OK;
  for (size_t i = 0; i < j->np; i++) th[i] = exp(x[i]);
  if (latens_gp_kernel_set_params(j->k, th)) return LATENS_OK; /* outside: infinite */
  if (latens_gp_ssm_set_kernel(j->s, 0, j->k, j->t)) return LATENS_OK;
  double noise = j->lik == LATENS_GP_CVI_GAUSSIAN ? exp(x[j->np]) : j->noise, one = 1.0;
  latens_gp_cvi_readout ro = {j->lik, 1, &one, 1, &j->offset, &noise};
  int st = latens_gp_cvi_run(j->w, &ro, j->y, j->n, &j->o, NULL);
  if (st == LATENS_OK || st == LATENS_EMAXITER) *f = -j->w->elbo;
  else latens_gp_cvi_reset(j->w); /* a failed point must not poison the next start */
  if (!isfinite(*f)) *f = INFINITY;
  return LATENS_OK;
}

int latens_gp_cvi_fit(latens_gp_kernel *k, int lik, const double *t, const double *y, size_t n,
                      double offset, double *noise, const latens_gp_cvi_options *opt,
                      size_t max_evals, latens_gp_cvi_result *res) {
  static const char fn[] = "latens_gp_cvi_fit";
  if (res) res->elbo = NAN, res->iterations = 0, res->converged = 0;
  if (!k || !t || !y) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  if (n < 2) LATENS_ERRORF(LATENS_EDOM, "%s: %zu points, need at least 2", fn, n);
  if (max_evals == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: max_evals is 0", fn);
  if (lik < 0 || lik >= LATENS_GP_CVI_NLIK)
    LATENS_ERRORF(LATENS_EINVAL, "%s: unknown likelihood %d", fn, lik);
  if (lik == LATENS_GP_CVI_GAUSSIAN && (!noise || !(*noise > 0) || isinf(*noise)))
    LATENS_ERRORF(LATENS_EDOM, "%s: Gaussian data need a starting noise variance > 0", fn);
  if (!isfinite(offset)) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: offset %g", fn, offset);
  /* Bad data would make every evaluation +Inf and surface, after the whole simplex run, as
   * "ELBO not finite": name the offending value before starting instead. */
  int st = latens_gp_cvi_check_data(fn, lik, y, n, n, 1);
  if (st) return st;
  elbo_job j;
  memset(&j, 0, sizeof j);
  j.k = k, j.t = t, j.y = y, j.n = n, j.np = latens_gp_kernel_nparams(k), j.lik = lik;
  j.offset = offset, j.noise = noise ? *noise : 1.0;
  latens_gp_cvi_options_default(&j.o);
  if (opt) j.o = *opt;
  if (lik == LATENS_GP_CVI_GAUSSIAN) j.o.damping = 1.0;
  double th[3 * LATENS_GP_MAX_TERMS + 1], x[3 * LATENS_GP_MAX_TERMS + 2], x0[3 * LATENS_GP_MAX_TERMS + 2];
  if ((st = latens_gp_kernel_get_params(k, th))) return st;
  /* a Hida frequency of exactly 0 has no logarithm: start it just above */
  for (size_t i = 0; i < j.np; i++) x0[i] = log(th[i] > 0 ? th[i] : 1e-6);
  const size_t dim = j.np + (lik == LATENS_GP_CVI_GAUSSIAN);
  if (lik == LATENS_GP_CVI_GAUSSIAN) x0[j.np] = log(*noise);
  if ((st = make_prior(k, t, n, &j.s))) return st;
  if (!(j.w = latens_gp_cvi_alloc(j.s))) {
    latens_gp_ssm_free(j.s);
    return LATENS_ENOMEM;
  }
  latens_optim_options oo;
  latens_optim_options_default(&oo);
  oo.method = LATENS_OPTIM_SIMPLEX, oo.max_iter = max_evals, oo.step = 0.5;
  oo.ftol = 1e-7, oo.xtol = 1e-4;
  latens_optim_result r = {.x = x};
  st = latens_optim_minimize(neg_elbo, x0, dim, &j, NULL, NULL, &oo, &r);
  int conv = st == LATENS_OK;
  if (st == LATENS_EMAXITER || st == LATENS_ENOPROG) st = LATENS_OK;
  if (!st) {
    for (size_t i = 0; i < j.np; i++) th[i] = exp(x[i]);
    double f;
    latens_gp_cvi_reset(j.w); /* the final ELBO from a clean start, not a warm one */
    if (!(st = latens_gp_kernel_set_params(k, th))) st = neg_elbo(x, dim, &j, &f, NULL);
    if (!st && lik == LATENS_GP_CVI_GAUSSIAN) *noise = exp(x[j.np]);
    if (!st && res) res->elbo = -f, res->iterations = r.iterations, res->converged = conv;
    if (!st && !isfinite(f))
      latens_errorf(__FILE__, __LINE__, st = LATENS_EFAILED, "%s: ELBO not finite at the result", fn);
  }
  latens_gp_cvi_free(j.w);
  latens_gp_ssm_free(j.s);
  return st;
}
