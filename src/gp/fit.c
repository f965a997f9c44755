/* src/gp/fit.c: maximum-likelihood hyperparameters with the core L-BFGS, over the logs of
 * every parameter (variances, lengthscales, frequencies, noise), so the optimiser is
 * unconstrained and steps are relative.  Starting points come from the data: the variance
 * of y, lengthscales spread geometrically between ten sampling steps and half the span, and
 * Hida-Matérn frequencies from the peaks of a periodogram evaluated directly on the (possibly
 * irregular) times. */
#include "gp_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void latens_gp_fit_options_default(latens_gp_fit_options *opt) {
  if (!opt) return;
  opt->whittle = 0;
  opt->init_from_data = 1;
  opt->noise = NAN;
  opt->fit_noise = 1;
  opt->max_iter = 300;
  opt->progress.fn = NULL;
  opt->progress.user = NULL;
}

typedef struct {
  latens_gp_kernel *k;
  const latens_gp_series *s;
  size_t ntrials;
  int whittle, fit_noise;
  double noise0, dt;
  size_t nobs;
  double theta[3 * LATENS_GP_MAX_TERMS + 1];
  double *I; /* Whittle: the periodogram, computed once */
} ctx;

/* Map the optimiser's u = log(θ) (and log noise) to the kernel. */
static int apply(ctx *c, const double *u, double *noise) {
  size_t np = c->k->nparams;
  for (size_t q = 0; q < np; q++) {
    c->theta[q] = exp(u[q]);
    if (!(c->theta[q] > 0 && c->theta[q] < 1e300)) return LATENS_EDOM;
  }
  *noise = c->fit_noise ? exp(u[np]) : c->noise0;
  if (!(*noise > 0 && *noise < 1e300)) return LATENS_EDOM;
  return latens_gp_kernel_set_params(c->k, c->theta);
}

/* Whittle's objective has no analytic gradient here: central differences in u (step 1e-5:
 * truncation ~1e-10, rounding ~1e-11 relative for an O(n) sum), 2 n_u evaluations.
 * Objectives are silent: a non-finite value (a parameter combination the filter cannot
 * represent) is +Inf, which the line search treats as a step too long. */
static void whittle_f(ctx *c, const double *u, double *f) {
  double noise, v;
  if (apply(c, u, &noise) || gp_whittle_sum(c->k, noise, c->dt, c->I, c->s[0].n, &v))
    *f = INFINITY;
  else
    *f = -v / (double)c->nobs;
}

static int objective(const double *u, size_t n, void *user, double *f, double *g) {
  ctx *c = user;
  if (c->whittle) {
    whittle_f(c, u, f);
    if (!g || !isfinite(*f)) return LATENS_OK;
    double uu[3 * LATENS_GP_MAX_TERMS + 1];
    memcpy(uu, u, n * sizeof(double));
    for (size_t q = 0; q < n; q++) {
      double h = 1e-5, fp, fm;
      uu[q] = u[q] + h;
      whittle_f(c, uu, &fp);
      uu[q] = u[q] - h;
      whittle_f(c, uu, &fm);
      uu[q] = u[q];
      g[q] = (fp - fm) / (2 * h);
    }
    return LATENS_OK;
  }
  double noise, ll, gr[3 * LATENS_GP_MAX_TERMS + 1];
  if (apply(c, u, &noise) ||
      gp_loglik_sum(c->k, noise, c->s, c->ntrials, &ll, g ? gr : NULL) == LATENS_ENOTPOSDEF) {
    *f = INFINITY;
    return LATENS_OK;
  }
  /* per observation, so the optimiser's tolerances mean the same for any n */
  *f = -ll / (double)c->nobs;
  if (g) {
    size_t np = c->k->nparams;
    for (size_t q = 0; q < np; q++) g[q] = -gr[q] * c->theta[q] / (double)c->nobs;
    if (c->fit_noise) g[np] = -gr[np] * noise / (double)c->nobs;
  }
  return LATENS_OK;
}

/* Strongest peaks of a direct periodogram of the first trial on a log-spaced grid of angular
 * frequencies between 2π/span and π/step; writes up to m peak frequencies (strongest first)
 * and returns how many. */
static size_t periodogram_peaks(const latens_gp_series *s, double mean, double span, double step,
                                double *peaks, size_t m) {
  enum { NF = 600 };
  double w[NF], pw[NF];
  size_t n = s->n, stride = n > 20000 ? n / 20000 : 1;
  double wlo = 2 * M_PI / span, whi = M_PI / step;
  if (!(whi > wlo)) return 0;
  for (int f = 0; f < NF; f++) {
    w[f] = wlo * pow(whi / wlo, f / (NF - 1.0));
    double re = 0, im = 0;
    for (size_t i = 0; i < n; i += stride) {
      double y = s->y[i];
      if (isnan(y)) continue;
      re += (y - mean) * cos(w[f] * s->t[i]);
      im += (y - mean) * sin(w[f] * s->t[i]);
    }
    pw[f] = re * re + im * im;
  }
  size_t got = 0;
  while (got < m) {
    int best = -1;
    for (int f = 1; f < NF - 1; f++)
      if (pw[f] >= pw[f - 1] && pw[f] >= pw[f + 1] && pw[f] > 0 && (best < 0 || pw[f] > pw[best]))
        best = f;
    if (best < 0) break;
    peaks[got++] = w[best];
    /* suppress the neighbourhood (a factor 1.5 in frequency) of the chosen peak */
    for (int f = 0; f < NF; f++)
      if (w[f] > w[best] / 1.5 && w[f] < w[best] * 1.5) pw[f] = 0;
  }
  return got;
}

/* Data scales give the start (when init) and the box for every log-parameter, wide enough
 * never to bind in a sensible fit yet keeping the filter's numbers far from overflow:
 * variances within 1e-12..1e6 of the second moment, lengthscales 1e-3 step..1e4 span,
 * frequencies 1e-3 cycles per span..10 Nyquist. */
static void init_from_data(ctx *c, double *u, int init, double *lo, double *hi) {
  const latens_gp_series *s = c->s;
  double sum = 0, sum2 = 0, tmin = INFINITY, tmax = -INFINITY, dmin = INFINITY;
  size_t cnt = 0;
  for (size_t r = 0; r < c->ntrials; r++)
    for (size_t i = 0; i < s[r].n; i++) {
      if (i > 0 && s[r].t[i] > s[r].t[i - 1]) dmin = fmin(dmin, s[r].t[i] - s[r].t[i - 1]);
      tmin = fmin(tmin, s[r].t[i]), tmax = fmax(tmax, s[r].t[i]);
      if (isnan(s[r].y[i])) continue;
      sum += s[r].y[i], sum2 += s[r].y[i] * s[r].y[i], cnt++;
    }
  double mean = cnt ? sum / cnt : 0;
  double var = cnt > 1 ? (sum2 - cnt * mean * mean) / (cnt - 1) : 1;
  /* a zero-mean GP must explain the mean too: use the second moment */
  double m2 = cnt ? sum2 / cnt : 1;
  if (!(m2 > 0)) m2 = 1;
  if (!(var > 0)) var = m2;
  double span = tmax - tmin;
  if (!(span > 0)) span = 1;
  double step = isfinite(dmin) ? fmax(dmin, span * 1e-9) : span;
  /* typical step: span / n is closer than the minimum on irregular grids */
  double typ = span / fmax(1.0, (double)cnt);
  step = fmax(step, typ);
  size_t nt = c->k->nterms, nh = 0;
  for (size_t i = 0; i < nt; i++) nh += gp_is_hida(c->k->term[i].kind);
  double peaks[LATENS_GP_MAX_TERMS];
  size_t npk = init && nh && c->ntrials ? periodogram_peaks(&s[0], mean, span, step, peaks, nh) : 0;
  size_t nextpk = 0;
  double lo_l = log(10 * step), hi_l = log(span / 2);
  if (hi_l < lo_l) hi_l = lo_l;
  for (size_t i = 0; i < nt; i++) {
    size_t p0 = c->k->pfirst[i];
    lo[p0] = log(m2 * 1e-12), hi[p0] = log(m2 * 1e6);
    lo[p0 + 1] = log(step * 1e-3), hi[p0 + 1] = log(span * 1e4);
    if (gp_is_hida(c->k->term[i].kind))
      lo[p0 + 2] = log(1e-3 * 2 * M_PI / span), hi[p0 + 2] = log(10 * M_PI / step);
    if (c->fit_noise) lo[c->k->nparams] = log(m2 * 1e-12), hi[c->k->nparams] = log(m2 * 1e3);
    if (!init) continue;
    u[p0] = log(m2 / nt);
    u[p0 + 1] = lo_l + (i + 0.5) / nt * (hi_l - lo_l);
    if (gp_is_hida(c->k->term[i].kind)) {
      double w = nextpk < npk ? peaks[nextpk] : 2 * M_PI / (span / 4);
      nextpk++;
      u[p0 + 2] = log(w);
      u[p0 + 1] = log(2 * 2 * M_PI / w); /* coherent over about two periods */
    }
  }
  (void)var;
}

static int regular_step(const latens_gp_series *s, double *dt) {
  if (s->n < 2) return 0;
  double h = (s->t[s->n - 1] - s->t[0]) / (double)(s->n - 1);
  if (!(h > 0)) return 0;
  for (size_t i = 1; i < s->n; i++)
    if (fabs(s->t[i] - s->t[i - 1] - h) > 1e-6 * h) return 0;
  *dt = h;
  return 1;
}

int latens_gp_fit(latens_gp_kernel *k, const latens_gp_series *series, size_t ntrials,
                  const latens_gp_fit_options *opt, latens_gp_fit_result *result) {
  static const char fn[] = "latens_gp_fit";
  if (!k || !result) LATENS_ERROR("latens_gp_fit: NULL argument", LATENS_EINVAL);
  latens_gp_fit_options o;
  latens_gp_fit_options_default(&o);
  if (opt) o = *opt;
  memset(result, 0, sizeof *result);
  result->loglik = NAN;
  int st = gp_check_series(fn, series, ntrials, 1.0);
  if (st) return st;
  ctx c = {k, series, ntrials, o.whittle, o.fit_noise, o.noise, 0, 0, {0}, NULL};
  double sum2 = 0;
  for (size_t r = 0; r < ntrials; r++)
    for (size_t i = 0; i < series[r].n; i++)
      if (!isnan(series[r].y[i])) c.nobs++, sum2 += series[r].y[i] * series[r].y[i];
  if (c.nobs < 2) LATENS_ERRORF(LATENS_EINVAL, "%s: %zu observed values (need >= 2)", fn, c.nobs);
  if (isnan(c.noise0)) c.noise0 = sum2 / c.nobs / 10 + 1e-300;
  if (!(isfinite(c.noise0) && c.noise0 > 0))
    LATENS_ERRORF(LATENS_EDOM, "%s: starting noise %g must be > 0", fn, c.noise0);
  if (o.whittle) {
    if (ntrials != 1 || !regular_step(&series[0], &c.dt) || c.nobs != series[0].n)
      LATENS_ERRORF(LATENS_EDOM,
                    "%s: Whittle needs one complete series on a regular grid (%zu trials, %zu of "
                    "%zu values observed)",
                    fn, ntrials, c.nobs, ntrials ? series[0].n : 0);
  }
  size_t np = k->nparams, nu = np + (o.fit_noise ? 1 : 0);
  double u[3 * LATENS_GP_MAX_TERMS + 1], x[3 * LATENS_GP_MAX_TERMS + 1];
  double th[3 * LATENS_GP_MAX_TERMS];
  latens_gp_kernel_get_params(k, th);
  for (size_t q = 0; q < np; q++) u[q] = log(fmax(th[q], 1e-300));
  if (o.fit_noise) u[np] = log(c.noise0);
  double lo[3 * LATENS_GP_MAX_TERMS + 1], hi[3 * LATENS_GP_MAX_TERMS + 1];
  init_from_data(&c, u, o.init_from_data, lo, hi);
  for (size_t q = 0; q < nu; q++) { /* the start strictly inside the box */
    double m = 1e-6 * (hi[q] - lo[q]);
    if (!(u[q] > lo[q] + m)) u[q] = lo[q] + m; /* also a frequency of 0 (log = -Inf) */
    if (u[q] > hi[q] - m) u[q] = hi[q] - m;
  }
  if (o.whittle) {
    c.I = malloc((series[0].n / 2 + 1) * sizeof(double));
    if (!c.I || gp_periodogram(series[0].y, series[0].n, c.I)) {
      free(c.I);
      LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory for the periodogram", fn);
    }
  }
  latens_optim_options oo;
  latens_optim_options_default(&oo);
  oo.max_iter = o.max_iter;
  oo.progress = o.progress;
  oo.gtol = 1e-7;
  oo.step = 0.1;
  latens_optim_result res = {x, 0, 0, 0, 0, 0, 0, 0};
  st = latens_optim_minimize(objective, u, nu, &c, lo, hi, &oo, &res);
  free(c.I);
  if (st && st != LATENS_EMAXITER && st != LATENS_ENOPROG) {
    latens_gp_kernel_set_params(k, th); /* leave k as it came */
    LATENS_ERRORF(st, "%s: optimiser failed (%s)", fn, latens_strerror(st));
  }
  double noise;
  apply(&c, x, &noise);
  result->noise = noise;
  result->iterations = res.iterations;
  result->converged = res.converged;
  st = latens_gp_loglik(k, noise, series, ntrials, &result->loglik, NULL);
  return st;
}
