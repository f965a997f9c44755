/* sde/infer_ssm.c: any latens_sde_model behind a linear readout — filtering, smoothing and
 * parameter estimation through one front end (latens_sde_ssm), dispatching to the exact
 * Kalman filter (linear models), the moment-equation EKF / UKF, the particle filter, and
 * Monte Carlo SDE matching.  The parameter vector is (model->theta, r). */
#include "infer_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const method_names[] = {"kalman", "ekf", "ukf", "pf"};
enum { NMETHODS = 4 };

const char *latens_sde_filter_method_name(int method) {
  return method >= 0 && method < NMETHODS ? method_names[method] : NULL;
}

int latens_sde_filter_method_from_name(const char *name) {
  for (int i = 0; name && i < NMETHODS; i++)
    if (!strcmp(name, method_names[i])) return i;
  return -1;
}

void latens_sde_ssm_init(latens_sde_ssm *s, latens_sde_model *model) {
  if (!s) return;
  memset(s, 0, sizeof *s);
  s->model = model;
  s->kind = LATENS_SDE_READOUT_GAUSSIAN;
  s->p = 1, s->r = 1.0;
  latens_sde_options_default(&s->solver);
  s->particles = 1000, s->seed = 1, s->nsamples = 16;
  latens_sde_match_options_default(&s->match);
}

/* Per-evaluation arrays: the prior, the readout noise, the linear form. */
typedef struct {
  double *m0, *P0, *R, *A, *b, *Sg;
  latens_sde_readout ro;
  latens_sde_lti M;
} ssm_work;

static int ssm_check(const char *fn, const latens_sde_ssm *s, const latens_sde_data *y) {
  if (!s || !s->model || !y) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL model or data", fn);
  if (!s->C || s->p == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: no readout matrix C (p = %zu)", fn, s->p);
  if (y->p != s->p)
    LATENS_ERRORF(LATENS_EBADLEN, "%s: the data have %zu components, the readout %zu", fn, y->p,
                  s->p);
  if (s->kind == LATENS_SDE_READOUT_GAUSSIAN && (!isfinite(s->r) || !(s->r > 0)))
    LATENS_ERRORF(LATENS_EDOM, "%s: observation noise r = %g must be finite and > 0", fn, s->r);
  if (!s->stationary && (!s->m0 || !s->P0))
    LATENS_ERRORF(LATENS_EINVAL, "%s: no prior (m0, P0) and stationary = 0", fn);
  if (s->stationary && !s->model->linear)
    LATENS_ERRORF(LATENS_EUNIMPL, "%s: a stationary prior needs a linear model ('%s' is not)", fn,
                  s->model->name);
  return latens_sde_model_check(s->model);
}

static void work_free(ssm_work *w) { free(w->m0); }

/* Solve A x = v in place (n small) by Gaussian elimination with partial pivoting. */
static int small_solve(const double *A, size_t n, double *v) {
  double *a = malloc(n * n * sizeof *a);
  if (!a) LATENS_ERRORF(LATENS_ENOMEM, "latens_sde_ssm: out of memory");
  memcpy(a, A, n * n * sizeof *a);
  for (size_t k = 0; k < n; k++) {
    size_t piv = k;
    for (size_t i = k + 1; i < n; i++)
      if (fabs(a[i + k * n]) > fabs(a[piv + k * n])) piv = i;
    if (!(fabs(a[piv + k * n]) > 0)) {
      free(a);
      LATENS_ERRORF(LATENS_ESING, "latens_sde_ssm: the drift matrix A is singular (no stationary "
                    "mean)");
    }
    for (size_t j = 0; j < n; j++) {
      double t = a[k + j * n];
      a[k + j * n] = a[piv + j * n], a[piv + j * n] = t;
    }
    double t = v[k];
    v[k] = v[piv], v[piv] = t;
    for (size_t i = k + 1; i < n; i++) {
      double l = a[i + k * n] / a[k + k * n];
      for (size_t j = k; j < n; j++) a[i + j * n] -= l * a[k + j * n];
      v[i] -= l * v[k];
    }
  }
  for (size_t k = n; k-- > 0;) {
    for (size_t j = k + 1; j < n; j++) v[k] -= a[k + j * n] * v[j];
    v[k] /= a[k + k * n];
  }
  free(a);
  return LATENS_OK;
}

/* Fill the work arrays for the current theta and r. */
static int work_set(const char *fn, const latens_sde_ssm *s, ssm_work *w) {
  const size_t n = s->model->d, p = s->p, nn = n * n;
  memset(w, 0, sizeof *w);
  if (!(w->m0 = malloc((n + 3 * nn + p * p + n) * sizeof *w->m0)))
    LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn);
  w->P0 = w->m0 + n, w->A = w->P0 + nn, w->Sg = w->A + nn, w->R = w->Sg + nn, w->b = w->R + p * p;
  for (size_t i = 0; i < p * p; i++) w->R[i] = i % (p + 1) ? 0.0 : s->r;
  w->ro = (latens_sde_readout){s->kind, p, s->C, NULL, w->R};
  int st = LATENS_OK;
  if (s->model->linear) st = latens_sde_lti_from_model(s->model, s->t0, w->A, w->b, w->Sg);
  if (!st && s->stationary) {
    latens_mat F = latens_mat_view(w->A, n, n, n), Q = latens_mat_view(w->Sg, n, n, n),
               P = latens_mat_view(w->P0, n, n, n);
    for (size_t i = 0; i < n; i++) w->m0[i] = -w->b[i];
    st = latens_lyap_solve(&F, &Q, &P);
    if (!st) st = small_solve(w->A, n, w->m0);
  } else if (!st) {
    memcpy(w->m0, s->m0, n * sizeof *w->m0), memcpy(w->P0, s->P0, nn * sizeof *w->P0);
  }
  w->M = (latens_sde_lti){n, s->t0, w->A, w->b, w->Sg, w->m0, w->P0};
  if (st) work_free(w);
  return st;
}

static int run_pf(const latens_sde_ssm *s, ssm_work *w, int smooth, const latens_sde_data *y,
                  double *mean, double *var, double *loglik) {
  latens_sde_lti_sampler *ls = NULL;
  latens_sde_path_sampler *ps = NULL;
  latens_sde_pf_model pm;
  latens_sde_pf_options o;
  latens_sde_pf_options_default(&o);
  o.particles = s->particles;
  if (s->model->linear) { /* exact transitions, and their density for backward simulation */
    ls = latens_sde_lti_sampler_alloc(&w->M);
    pm = latens_sde_lti_sampler_model(ls);
    o.smooth = smooth ? 2 : 0;
  } else {
    ps = latens_sde_path_sampler_alloc(s->model, &s->solver, s->t0, w->m0, w->P0);
    pm = latens_sde_path_sampler_model(ps);
    o.smooth = smooth ? 1 : 0;
  }
  if (!ls && !ps) return latens_last_error(NULL);
  latens_rng rng;
  latens_rng_init(&rng, s->seed, 0);
  latens_sde_pf_result r = {0};
  r.mf = smooth ? NULL : mean, r.vf = smooth ? NULL : var;
  r.ms = smooth ? mean : NULL, r.vs = smooth ? var : NULL;
  int st = latens_sde_pf_run(&pm, &w->ro, y, &o, &rng, &r);
  latens_sde_lti_sampler_free(ls), latens_sde_path_sampler_free(ps);
  if (loglik) *loglik = st ? NAN : r.loglik;
  return st;
}

/* The Gaussian methods write full covariances: keep their diagonals. */
static int run_gauss(const latens_sde_ssm *s, ssm_work *w, int method, int smooth,
                     const latens_sde_data *y, double *mean, double *var, double *loglik) {
  static const char fn[] = "latens_sde_ssm_filter";
  const size_t n = s->model->d, T = y->T;
  const size_t tot = latens_mul_size(T, n * n);
  double *P = var && tot ? malloc(tot * sizeof *P) : NULL;
  if (var && !P) LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory (T = %zu)", fn, T);
  int st;
  if (method == LATENS_SDE_FILTER_KALMAN) {
    if (!s->model->linear) {
      free(P);
      LATENS_ERRORF(LATENS_EUNIMPL, "%s: the exact Kalman filter needs a linear model ('%s' is "
                    "not: use ekf, ukf or pf)", fn, s->model->name);
    }
    st = smooth ? latens_sde_lti_smooth(&w->M, &w->ro, y, mean, P, loglik)
                : latens_sde_lti_filter(&w->M, &w->ro, y, mean, P, loglik);
  } else {
    latens_sde_moments *mw = latens_sde_moments_alloc(
        s->model, method == LATENS_SDE_FILTER_UKF ? LATENS_SDE_MOMENTS_UNSCENTED
                                                  : LATENS_SDE_MOMENTS_LINEARISED, NULL);
    st = !mw       ? latens_last_error(NULL)
         : smooth ? latens_sde_moments_smooth(mw, s->t0, w->m0, w->P0, &w->ro, y, mean, P, loglik)
                  : latens_sde_moments_filter(mw, s->t0, w->m0, w->P0, &w->ro, y, mean, P, loglik);
    latens_sde_moments_free(mw);
  }
  for (size_t k = 0; !st && var && k < T; k++)
    for (size_t i = 0; i < n; i++) var[i + k * n] = P[k * n * n + i * (n + 1)];
  free(P);
  return st;
}

int latens_sde_ssm_filter(const latens_sde_ssm *s, latens_sde_filter_method method, int smooth,
                          const latens_sde_data *y, double *mean, double *var, double *loglik) {
  static const char fn[] = "latens_sde_ssm_filter";
  if (loglik) *loglik = NAN;
  int st = ssm_check(fn, s, y);
  if (st) return st;
  if ((int)method < 0 || (int)method >= NMETHODS)
    LATENS_ERRORF(LATENS_EINVAL, "%s: unknown method %d", fn, (int)method);
  ssm_work w;
  if ((st = work_set(fn, s, &w))) return st;
  st = method == LATENS_SDE_FILTER_PF ? run_pf(s, &w, smooth, y, mean, var, loglik)
                                      : run_gauss(s, &w, method, smooth, y, mean, var, loglik);
  work_free(&w);
  return st;
}
