/* gp/gpfa.c: Gaussian-process factor analysis over state-space latents.  E steps are CVI runs
 * (exact in one undamped step for Gaussian data, so the Gaussian case is plain EM); M steps
 * update the readout unit by unit: closed-form regression for Gaussian data, Newton on the
 * concave expected log-likelihood for Poisson counts.  Trials run in parallel; every sum
 * over trials is taken in trial order afterwards, so results do not depend on the threads. */
#include "cvi_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_linalg.h>
#ifdef _OPENMP
#include <omp.h>
#endif

struct latens_gp_gpfa {
  size_t K, N, R, iter;
  int lik;
  double *C, *d, *noise; /* N x K (ld N), N, N */
  double *trace;         /* max_iter */
  size_t *T;
  double **mean, **var;  /* per trial: T_r x K (ld T_r) */
};

void latens_gp_gpfa_options_default(latens_gp_gpfa_options *opt) {
  if (!opt) return;
  opt->lik = LATENS_GP_CVI_GAUSSIAN;
  opt->max_iter = 50;
  opt->tol = 1e-6;
  opt->cvi_iter = 5;
  opt->ridge = 1e-3;
  opt->min_noise = 1e-4;
  latens_gp_cvi_options_default(&opt->cvi);
}

void latens_gp_gpfa_free(latens_gp_gpfa *g) {
  if (!g) return;
  for (size_t r = 0; r < g->R; r++) {
    if (g->mean) free(g->mean[r]);
    if (g->var) free(g->var[r]);
  }
  free(g->mean), free(g->var), free(g->T), free(g->C), free(g->d), free(g->noise), free(g->trace);
  free(g);
}

static latens_gp_gpfa *gpfa_alloc(size_t K, size_t N, size_t R, size_t max_iter,
                                  const latens_gp_ssm *const *priors) {
  latens_gp_gpfa *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  g->K = K, g->N = N, g->R = R;
  g->C = calloc(N * K, sizeof *g->C), g->d = calloc(N, sizeof *g->d);
  g->noise = calloc(N, sizeof *g->noise), g->trace = calloc(max_iter, sizeof *g->trace);
  g->T = calloc(R, sizeof *g->T);
  g->mean = calloc(R, sizeof *g->mean), g->var = calloc(R, sizeof *g->var);
  int bad = !g->C || !g->d || !g->noise || !g->trace || !g->T || !g->mean || !g->var;
  for (size_t r = 0; !bad && r < R; r++) {
    g->T[r] = priors[r]->T;
    g->mean[r] = calloc(K * g->T[r], sizeof **g->mean);
    g->var[r] = calloc(K * g->T[r], sizeof **g->var);
    bad = !g->mean[r] || !g->var[r];
  }
  if (bad) latens_gp_gpfa_free(g), g = NULL;
  return g;
}

/* ---------------------------------------------------------------- initialisation */

/* Principal components of z = y (Gaussian) or log(y + 1/2) (counts), pooled over trials and
 * times, missing entries at the unit's mean: C = U_K sqrt(lam_K - s2) (probabilistic PCA, s2
 * the mean of the discarded eigenvalues), offsets from the means. */
static int init_pca(latens_gp_gpfa *g, const double *const *Y, const size_t *ldy) {
  const size_t N = g->N, K = g->K;
  double *mu = calloc(N, sizeof *mu), *cnt = calloc(N, sizeof *cnt), *raw = calloc(N, sizeof *raw);
  double *diagS = calloc(N, sizeof *diagS);
  gsl_matrix *S = gsl_matrix_calloc(N, N), *U = gsl_matrix_alloc(N, N);
  gsl_vector *lam = gsl_vector_alloc(N), *z = gsl_vector_alloc(N);
  gsl_eigen_symmv_workspace *ew = gsl_eigen_symmv_alloc(N);
  int st = LATENS_OK;
  if (!mu || !cnt || !raw || !diagS || !S || !U || !lam || !z || !ew) {
    st = LATENS_ENOMEM;
    goto done;
  }
  const int counts = g->lik != LATENS_GP_CVI_GAUSSIAN;
  for (size_t r = 0; r < g->R; r++)
    for (size_t n = 0; n < N; n++)
      for (size_t t = 0; t < g->T[r]; t++) {
        double y = Y[r][t + n * ldy[r]];
        if (isnan(y)) continue;
        mu[n] += counts ? log(y + 0.5) : y, raw[n] += y, cnt[n] += 1;
      }
  for (size_t n = 0; n < N; n++) {
    if (cnt[n] == 0) {
      latens_errorf(__FILE__, __LINE__, st = LATENS_EDOM,
                    "latens_gp_gpfa_fit: unit %zu has no observation in any trial", n);
      goto done;
    }
    mu[n] /= cnt[n], raw[n] /= cnt[n];
  }
  double M = 0;
  for (size_t r = 0; r < g->R; r++)
    for (size_t t = 0; t < g->T[r]; t++, M += 1) {
      for (size_t n = 0; n < N; n++) {
        double y = Y[r][t + n * ldy[r]];
        gsl_vector_set(z, n, isnan(y) ? 0.0 : (counts ? log(y + 0.5) : y) - mu[n]);
      }
      gsl_blas_dsyr(CblasLower, 1.0, z, S);
    }
  for (size_t a = 0; a < N; a++)
    for (size_t b = 0; b <= a; b++) {
      double v = gsl_matrix_get(S, a, b) / M;
      gsl_matrix_set(S, a, b, v), gsl_matrix_set(S, b, a, v);
    }
  for (size_t n = 0; n < N; n++) diagS[n] = gsl_matrix_get(S, n, n);
  gsl_eigen_symmv(S, lam, U, ew);
  gsl_eigen_symmv_sort(lam, U, GSL_EIGEN_SORT_VAL_DESC);
  double s2 = 0;
  for (size_t i = K; i < N; i++) s2 += gsl_vector_get(lam, i);
  s2 = N > K ? s2 / (double)(N - K) : 0;
  for (size_t k = 0; k < K; k++) {
    double l = gsl_vector_get(lam, k) - s2;
    double sc = sqrt(fmax(l, 1e-6 * fmax(gsl_vector_get(lam, 0), 1e-300)));
    for (size_t n = 0; n < N; n++) g->C[n + k * N] = sc * gsl_matrix_get(U, n, k);
  }
  for (size_t n = 0; n < N; n++) {
    double cc = 0;
    for (size_t k = 0; k < K; k++) cc += g->C[n + k * N] * g->C[n + k * N];
    if (counts) { /* E exp(c^T x + d) = exp(d + |c|^2/2) under the unit prior */
      g->d[n] = log(fmax(raw[n], 1e-3)) - 0.5 * cc;
      g->noise[n] = NAN;
    } else {
      g->d[n] = mu[n];
      double sn = diagS[n];
      g->noise[n] = fmax(sn - cc, fmax(sn, 1e-300) * 1e-2);
    }
  }
done:
  free(mu), free(cnt), free(raw), free(diagS);
  if (S) gsl_matrix_free(S);
  if (U) gsl_matrix_free(U);
  if (lam) gsl_vector_free(lam);
  if (z) gsl_vector_free(z);
  if (ew) gsl_eigen_symmv_free(ew);
  if (st == LATENS_ENOMEM) LATENS_ERROR("latens_gp_gpfa_fit: out of memory", st);
  return st;
}

/* ---------------------------------------------------------------- M steps */

/* Small symmetric positive definite solve A x = b (order n <= 65), in place on b; A is
 * overwritten by its factor. */
static int spd_solve(double *A, size_t n, double *b) {
  latens_mat Am = latens_mat_view(A, n, n, n);
  latens_vec bv = latens_vec_view(b, n, 1);
  int st = latens_chol_decomp(&Am, NULL, NULL);
  return st ? st : latens_chol_solve_vec(&Am, &bv);
}

/* Gaussian: exact regression of y_n on [E x; 1] with the posterior second moments, then the
 * noise variance from the expected squared residual. */
static int mstep_gauss_unit(latens_gp_gpfa *g, size_t n, latens_gp_cvi *const *w,
                            const double *const *Y, const size_t *ldy, double floor_var) {
  const size_t K = g->K, P = K + 1;
  double A[65 * 65], b[65], c[64];
  memset(A, 0, P * P * sizeof *A), memset(b, 0, P * sizeof *b);
  double nobs = 0;
  for (size_t r = 0; r < g->R; r++)
    for (size_t t = 0; t < g->T[r]; t++) {
      double y = Y[r][t + n * ldy[r]];
      if (isnan(y)) continue;
      const double *m = w[r]->m + t * K, *V = w[r]->V + t * K * K;
      for (size_t a = 0; a < K; a++) {
        for (size_t e = 0; e < K; e++) A[a + e * P] += V[a + e * K] + m[a] * m[e];
        A[a + K * P] += m[a], A[K + a * P] += m[a], b[a] += y * m[a];
      }
      A[K + K * P] += 1, b[K] += y, nobs += 1;
    }
  int st = spd_solve(A, P, b);
  if (st) return st;
  for (size_t a = 0; a < K; a++) c[a] = b[a];
  double ss = 0;
  for (size_t r = 0; r < g->R; r++)
    for (size_t t = 0; t < g->T[r]; t++) {
      double y = Y[r][t + n * ldy[r]];
      if (isnan(y)) continue;
      const double *m = w[r]->m + t * K, *V = w[r]->V + t * K * K;
      double e = y - b[K], q = 0;
      for (size_t a = 0; a < K; a++) {
        e -= c[a] * m[a];
        for (size_t f = 0; f < K; f++) q += c[a] * V[a + f * K] * c[f];
      }
      ss += e * e + q;
    }
  for (size_t a = 0; a < K; a++) g->C[n + a * g->N] = c[a];
  g->d[n] = b[K];
  g->noise[n] = fmax(ss / nobs, floor_var);
  return LATENS_OK;
}

/* Poisson: the expected log-likelihood of unit n in (c, d),
 *   sum_rt y (c^T m + d) - exp(c^T m + d + c^T V c / 2) - ridge |c|^2 / 2,
 * is concave; Newton steps with step halving until it stops rising. */
static double pois_obj(const latens_gp_gpfa *g, size_t n, latens_gp_cvi *const *w,
                       const double *const *Y, const size_t *ldy, const double *x, double ridge,
                       double *grad, double *H) {
  const size_t K = g->K, P = K + 1;
  double f = 0, u[65];
  if (grad) memset(grad, 0, P * sizeof *grad), memset(H, 0, P * P * sizeof *H);
  for (size_t r = 0; r < g->R; r++)
    for (size_t t = 0; t < g->T[r]; t++) {
      double y = Y[r][t + n * ldy[r]];
      if (isnan(y)) continue;
      const double *m = w[r]->m + t * K, *V = w[r]->V + t * K * K;
      double eta = x[K], q = 0;
      for (size_t a = 0; a < K; a++) {
        double vc = 0;
        for (size_t e = 0; e < K; e++) vc += V[a + e * K] * x[e];
        eta += x[a] * m[a], q += x[a] * vc;
        u[a] = m[a] + vc; /* d(eta + q/2)/dc */
      }
      u[K] = 1;
      double lam = exp(fmin(eta + 0.5 * q, 50.0));
      f += y * eta - lam;
      if (!grad) continue;
      for (size_t a = 0; a < K; a++) grad[a] += y * m[a] - lam * u[a];
      grad[K] += y - lam;
      for (size_t a = 0; a < P; a++)
        for (size_t e = 0; e < P; e++)
          H[a + e * P] += lam * (u[a] * u[e] + (a < K && e < K ? V[a + e * K] : 0));
    }
  for (size_t a = 0; a < K; a++) {
    f -= 0.5 * ridge * x[a] * x[a];
    if (grad) grad[a] -= ridge * x[a], H[a + a * P] += ridge;
  }
  return f; /* H holds the negated Hessian */
}

static int mstep_pois_unit(latens_gp_gpfa *g, size_t n, latens_gp_cvi *const *w,
                           const double *const *Y, const size_t *ldy, double ridge) {
  const size_t K = g->K, P = K + 1;
  double x[65], xn[65], gr[65], H[65 * 65], total = 0, nobs = 0;
  for (size_t r = 0; r < g->R; r++)
    for (size_t t = 0; t < g->T[r]; t++) {
      double y = Y[r][t + n * ldy[r]];
      if (!isnan(y)) total += y, nobs += 1;
    }
  if (total == 0) { /* silent unit: the MLE offset is -Inf; keep half a count's worth */
    for (size_t a = 0; a < K; a++) g->C[n + a * g->N] = 0;
    g->d[n] = log(0.5 / fmax(nobs, 1));
    return LATENS_OK;
  }
  for (size_t a = 0; a < K; a++) x[a] = g->C[n + a * g->N];
  x[K] = g->d[n];
  double f = pois_obj(g, n, w, Y, ldy, x, ridge, gr, H);
  for (int it = 0; it < 20; it++) { /* quadratic convergence: a handful suffice */
    int st = spd_solve(H, P, gr); /* Newton direction: (-Hess)^{-1} grad */
    if (st) return st;
    double step = 1, fn = -INFINITY, dec = 0;
    for (size_t a = 0; a < P; a++) dec = fmax(dec, fabs(gr[a]));
    for (int h = 0; h < 40; h++, step *= 0.5) {
      for (size_t a = 0; a < P; a++) xn[a] = x[a] + step * gr[a];
      fn = pois_obj(g, n, w, Y, ldy, xn, ridge, NULL, NULL);
      if (fn >= f) break;
    }
    if (!(fn >= f)) break; /* no ascent left at rounding level */
    memcpy(x, xn, P * sizeof *x);
    f = pois_obj(g, n, w, Y, ldy, x, ridge, gr, H);
    if (step * dec < 1e-9 * (1 + fabs(x[K]))) break;
  }
  for (size_t a = 0; a < K; a++) g->C[n + a * g->N] = x[a];
  g->d[n] = x[K];
  return LATENS_OK;
}

/* ---------------------------------------------------------------- the fit */

static int check_fit_args(const char *fn, const latens_gp_ssm *const *priors, const double *const *Y,
                          const size_t *ldy, size_t R, size_t N, const latens_gp_gpfa_options *o) {
  if (!priors || !Y || !ldy) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  if (R == 0 || N == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: %zu trials, %zu units", fn, R, N);
  if (o->lik != LATENS_GP_CVI_GAUSSIAN && o->lik != LATENS_GP_CVI_POISSON)
    LATENS_ERRORF(LATENS_EUNIMPL, "%s: likelihood %s (gaussian or poisson)", fn,
                  latens_gp_cvi_lik_name(o->lik));
  if (o->max_iter == 0 || o->cvi_iter == 0)
    LATENS_ERRORF(LATENS_EINVAL, "%s: max_iter %zu, cvi_iter %zu", fn, o->max_iter, o->cvi_iter);
  if (!(o->tol >= 0) || !(o->ridge >= 0) || !(o->min_noise > 0) || isinf(o->ridge))
    LATENS_ERRORF(LATENS_EDOM, "%s: tol %g, ridge %g, min_noise %g", fn, o->tol, o->ridge,
                  o->min_noise);
  /* the inner options once here, not once per trial inside the parallel E step */
  int st = latens_gp_cvi_check_options(fn, &o->cvi);
  if (st) return st;
  for (size_t r = 0; r < R; r++) {
    if (!priors[r]) LATENS_ERRORF(LATENS_EINVAL, "%s: prior of trial %zu is NULL", fn, r);
    if (priors[r]->K != priors[0]->K)
      LATENS_ERRORF(LATENS_EBADLEN, "%s: trial %zu has %zu latents, trial 0 has %zu", fn, r,
                    priors[r]->K, priors[0]->K);
    if ((st = latens_gp_cvi_check_data(fn, o->lik, Y[r], ldy[r], priors[r]->T, N))) return st;
  }
  if (priors[0]->K > 64 || N < priors[0]->K)
    LATENS_ERRORF(LATENS_EDOM, "%s: %zu latents need at least as many units (%zu) and at most 64",
                  fn, priors[0]->K, N);
  return LATENS_OK;
}

/* Per-unit variance floors for the Gaussian M step. */
static void noise_floor(const latens_gp_gpfa *g, const double *const *Y, const size_t *ldy,
                        double rel, double *fl) {
  for (size_t n = 0; n < g->N; n++) {
    double s = 0, s2 = 0, c = 0;
    for (size_t r = 0; r < g->R; r++)
      for (size_t t = 0; t < g->T[r]; t++) {
        double y = Y[r][t + n * ldy[r]];
        if (!isnan(y)) s += y, s2 += y * y, c += 1;
      }
    double mean = c > 0 ? s / c : 0, v = c > 0 ? s2 / c - mean * mean : 1;
    /* a constant unit has no variance to be relative to: keep its noise off zero, where its
     * likelihood would grow without bound */
    fl[n] = fmax(rel * fmax(v, 0), fmax(1e-12 * mean * mean, 1e-300));
  }
}

/* The first failure (lowest index) of a parallel loop.  A worker's error is recorded on the
 * worker's thread, where the caller's latens_last_error (and the CLI) cannot see it: it is
 * reported again, with its index, on the calling thread by par_err_report. */
typedef struct {
  size_t first;
  int status;
  char msg[512];
} par_err;

static void par_err_note(par_err *e, size_t i, int st) {
  const char *why = NULL;
  latens_last_error(&why);
#pragma omp critical(latens_gp_gpfa_par_err)
  if (i < e->first) {
    e->first = i, e->status = st;
    snprintf(e->msg, sizeof e->msg, "%s", why && *why ? why : latens_strerror(st));
  }
}

static int par_err_report(const par_err *e, const char *what) {
  if (!e->status) return LATENS_OK;
  latens_errorf(__FILE__, __LINE__, e->status, "latens_gp_gpfa_fit: %s %zu failed: %s", what,
                e->first, e->msg);
  return e->status;
}

static int estep(latens_gp_gpfa *g, latens_gp_cvi **w, const double *const *Y, const size_t *ldy,
                 const latens_gp_gpfa_options *o, double *obj) {
  latens_gp_cvi_readout ro = {g->lik, g->N, g->C, g->N, g->d,
                              g->lik == LATENS_GP_CVI_GAUSSIAN ? g->noise : NULL};
  latens_gp_cvi_options co = o->cvi;
  if (g->lik == LATENS_GP_CVI_GAUSSIAN) co.damping = 1, co.max_iter = 1; /* exact */
  else co.max_iter = o->cvi_iter;
  par_err e = {(size_t)-1, LATENS_OK, ""};
#pragma omp parallel for schedule(dynamic)
  for (size_t r = 0; r < g->R; r++) {
    int s = latens_gp_cvi_run(w[r], &ro, Y[r], ldy[r], &co, NULL);
    if (s != LATENS_OK && s != LATENS_EMAXITER) par_err_note(&e, r, s);
  }
  int st = par_err_report(&e, "E step (CVI) of trial");
  double sum = 0;
  for (size_t r = 0; r < g->R; r++) sum += w[r]->elbo; /* trial order */
  *obj = sum;
  return st;
}

static int mstep(latens_gp_gpfa *g, latens_gp_cvi *const *w, const double *const *Y,
                 const size_t *ldy, const latens_gp_gpfa_options *o, const double *floor_var) {
  par_err e = {(size_t)-1, LATENS_OK, ""};
#pragma omp parallel for schedule(dynamic)
  for (size_t n = 0; n < g->N; n++) {
    int s = g->lik == LATENS_GP_CVI_GAUSSIAN ? mstep_gauss_unit(g, n, w, Y, ldy, floor_var[n])
                                            : mstep_pois_unit(g, n, w, Y, ldy, o->ridge);
    if (s) par_err_note(&e, n, s);
  }
  return par_err_report(&e, "readout update (M step) of unit");
}

/* Kernel learning (latens_gp_gpfa_fit_timescales): the kernels, the trial times and the
 * priors built from them, owned by the caller of gpfa_run. */
typedef struct {
  latens_gp_kernel *const *kern;
  const double *const *times;
  latens_gp_ssm **ssm;
  size_t max_evals;
  /* per evaluation */
  latens_gp_gpfa *g;
  latens_gp_cvi **w;
  const double *const *Y;
  const size_t *ldy;
  const latens_gp_gpfa_options *o;
  size_t k, np, idx[LATENS_GP_MAX_TERMS];
  double th[3 * LATENS_GP_MAX_TERMS];
  int failed;
} hyp_job;

static const double LOGL_MAX = 46.0; /* e^46 ~ 1e20: beyond it no sensible timescale */

/* Latent k's kernel with log-lengthscales x into every trial's prior. */
static int hyp_set(hyp_job *h, const double *x) {
  double th[3 * LATENS_GP_MAX_TERMS];
  memcpy(th, h->th, sizeof th);
  for (size_t i = 0; i < h->np; i++) th[h->idx[i]] = exp(x[i]);
  int st = latens_gp_kernel_set_params(h->kern[h->k], th);
  for (size_t r = 0; !st && r < h->g->R; r++)
    st = latens_gp_ssm_set_kernel(h->ssm[r], h->k, h->kern[h->k], h->times[r]);
  return st;
}

/* -objective (Gaussian: exact log-likelihood, as an E step computes it) at log-lengthscales
 * x; points the kernel or the E step rejects count as +Inf, so the simplex moves away. */
static int hyp_negobj(const double *x, size_t dim, void *user, double *f, double *grad) {
  hyp_job *h = user;
  (void)grad;
  *f = INFINITY;
  for (size_t i = 0; i < dim; i++)
    if (!(fabs(x[i]) <= LOGL_MAX)) return LATENS_OK;
  double obj = NAN;
  int st = hyp_set(h, x);
  if (!st) st = estep(h->g, h->w, h->Y, h->ldy, h->o, &obj);
  if (!st && isfinite(obj)) *f = -obj;
  return LATENS_OK;
}

/* Each latent's lengthscales in turn by Nelder-Mead on log scale, the readout fixed.  The
 * simplex returns its best point, never worse than the start it evaluated first, so the
 * Gaussian log-likelihood does not decrease; on any failure the start is restored. */
static int hyp_update(hyp_job *h) {
  for (size_t k = 0; k < h->g->K; k++) {
    latens_gp_kernel *kk = h->kern[k];
    h->k = k, h->np = 0;
    int st = latens_gp_kernel_get_params(kk, h->th);
    if (st) return st;
    size_t P = latens_gp_kernel_nparams(kk);
    for (size_t i = 0; i < P; i++)
      if (!strncmp(latens_gp_kernel_param_name(kk, i), "lengthscale", 11)) h->idx[h->np++] = i;
    double x0[LATENS_GP_MAX_TERMS], x[LATENS_GP_MAX_TERMS];
    for (size_t i = 0; i < h->np; i++) x0[i] = log(h->th[h->idx[i]]);
    latens_optim_options oo;
    latens_optim_options_default(&oo);
    oo.method = LATENS_OPTIM_SIMPLEX, oo.max_iter = h->max_evals, oo.step = 0.3;
    oo.ftol = 1e-9, oo.xtol = 1e-3;
    latens_optim_result res = {.x = x};
      st = latens_optim_minimize(hyp_negobj, x0, h->np, h, NULL, NULL, &oo, &res);
      int ok = (st == LATENS_OK || st == LATENS_EMAXITER || st == LATENS_ENOPROG) &&
             isfinite(res.f);
    if ((st = hyp_set(h, ok ? x : x0))) return st;
  }
  return LATENS_OK;
}

static int gpfa_run(const latens_gp_ssm *const *priors, const double *const *Y,
                    const size_t *ldy, size_t R, size_t N, const latens_gp_gpfa_options *o,
                    const latens_progress *progress, hyp_job *hyp, latens_gp_gpfa **out) {
  const size_t K = priors[0]->K;
  latens_gp_gpfa *g = gpfa_alloc(K, N, R, o->max_iter, priors);
  latens_gp_cvi **w = calloc(R, sizeof *w);
  double *fl = calloc(N, sizeof *fl);
  if (!g || !w || !fl) {
    latens_gp_gpfa_free(g), free(w), free(fl);
    LATENS_ERROR("latens_gp_gpfa_fit: out of memory", LATENS_ENOMEM);
  }
  int st = LATENS_OK;
  g->lik = o->lik;
  for (size_t r = 0; r < R && !st; r++)
    if (!(w[r] = latens_gp_cvi_alloc(priors[r]))) st = LATENS_ENOMEM;
  if (!st) st = init_pca(g, Y, ldy);
  noise_floor(g, Y, ldy, o->min_noise, fl);
  if (hyp) hyp->g = g, hyp->w = w, hyp->Y = Y, hyp->ldy = ldy, hyp->o = o;
  int converged = 0;
  for (size_t it = 0; !st && it < o->max_iter; it++) {
    double obj;
    if ((st = estep(g, w, Y, ldy, o, &obj))) break;
    g->trace[it] = obj, g->iter = it + 1;
    if (it > 0 && fabs(obj - g->trace[it - 1]) <= o->tol * fmax(1.0, fabs(obj))) {
      converged = 1;
      break;
    }
    if (it + 1 == o->max_iter) break;
    if ((st = latens_progress_report(progress, "gpfa", (double)it, (double)o->max_iter))) break;
    if ((st = mstep(g, w, Y, ldy, o, fl))) break;
    if (hyp && (st = hyp_update(hyp))) break;
  }
  for (size_t r = 0; r < R && !st; r++) latens_gp_cvi_latents(w[r], g->mean[r], g->T[r], g->var[r], g->T[r]);
  for (size_t r = 0; r < R; r++) latens_gp_cvi_free(w[r]);
  free(w), free(fl);
  if (st) {
    latens_gp_gpfa_free(g);
    return st;
  }
  *out = g;
  return converged ? LATENS_OK : LATENS_EMAXITER;
}

int latens_gp_gpfa_fit(const latens_gp_ssm *const *priors, const double *const *Y,
                       const size_t *ldy, size_t R, size_t N, const latens_gp_gpfa_options *opt,
                       const latens_progress *progress, latens_gp_gpfa **out) {
  static const char fn[] = "latens_gp_gpfa_fit";
  if (!out) LATENS_ERRORF(LATENS_EINVAL, "%s: out is NULL", fn);
  *out = NULL;
  latens_gp_gpfa_options o;
  latens_gp_gpfa_options_default(&o);
  if (opt) o = *opt;
  int st = check_fit_args(fn, priors, Y, ldy, R, N, &o);
  return st ? st : gpfa_run(priors, Y, ldy, R, N, &o, progress, NULL, out);
}

int latens_gp_gpfa_fit_timescales(latens_gp_kernel *const *kernels, size_t K,
                                  const double *const *times, const size_t *T,
                                  const double *const *Y, const size_t *ldy, size_t R, size_t N,
                                  const latens_gp_gpfa_options *opt, size_t max_evals,
                                  const latens_progress *progress, latens_gp_gpfa **out) {
  static const char fn[] = "latens_gp_gpfa_fit_timescales";
  if (!out) LATENS_ERRORF(LATENS_EINVAL, "%s: out is NULL", fn);
  *out = NULL;
  if (!kernels || !times || !T || !Y || !ldy) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  if (K == 0 || K > 64 || R == 0 || max_evals == 0)
    LATENS_ERRORF(LATENS_EINVAL, "%s: K %zu (1..64), R %zu, max_evals %zu", fn, K, R, max_evals);
  for (size_t k = 0; k < K; k++)
    if (!kernels[k]) LATENS_ERRORF(LATENS_EINVAL, "%s: kernel %zu is NULL", fn, k);
  for (size_t r = 0; r < R; r++)
    if (!times[r] || T[r] == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: trial %zu has no times", fn, r);
  latens_gp_gpfa_options o;
  latens_gp_gpfa_options_default(&o);
  if (opt) o = *opt;
  size_t dims[64];
  for (size_t k = 0; k < K; k++) dims[k] = latens_gp_kernel_dim(kernels[k]);
  latens_gp_ssm **ssm = calloc(R, sizeof *ssm);
  if (!ssm) LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn);
  int st = LATENS_OK;
  for (size_t r = 0; r < R && !st; r++) {
    if (!(ssm[r] = latens_gp_ssm_alloc(K, dims, T[r], 0))) st = LATENS_ENOMEM;
    for (size_t k = 0; k < K && !st; k++) st = latens_gp_ssm_set_kernel(ssm[r], k, kernels[k], times[r]);
  }
  if (!st) st = check_fit_args(fn, (const latens_gp_ssm *const *)ssm, Y, ldy, R, N, &o);
  if (!st) {
    hyp_job h;
    memset(&h, 0, sizeof h);
    h.kern = kernels, h.times = times, h.ssm = ssm, h.max_evals = max_evals;
    st = gpfa_run((const latens_gp_ssm *const *)ssm, Y, ldy, R, N, &o, progress, &h, out);
  }
  for (size_t r = 0; r < R; r++) latens_gp_ssm_free(ssm[r]);
  free(ssm);
  return st;
}

/* ---------------------------------------------------------------- getters */

size_t latens_gp_gpfa_nlatents(const latens_gp_gpfa *g) { return g ? g->K : 0; }
size_t latens_gp_gpfa_nunits(const latens_gp_gpfa *g) { return g ? g->N : 0; }
size_t latens_gp_gpfa_ntrials(const latens_gp_gpfa *g) { return g ? g->R : 0; }
size_t latens_gp_gpfa_iterations(const latens_gp_gpfa *g) { return g ? g->iter : 0; }
const double *latens_gp_gpfa_trace(const latens_gp_gpfa *g) { return g ? g->trace : NULL; }

int latens_gp_gpfa_readout(const latens_gp_gpfa *g, double *C, size_t ldc, double *d,
                           double *noise) {
  if (!g) LATENS_ERROR("latens_gp_gpfa_readout: g is NULL", LATENS_EINVAL);
  if (C && ldc < g->N) LATENS_ERRORF(LATENS_EINVAL, "latens_gp_gpfa_readout: ldc %zu < N %zu", ldc, g->N);
  for (size_t n = 0; n < g->N; n++) {
    for (size_t k = 0; C && k < g->K; k++) C[n + k * ldc] = g->C[n + k * g->N];
    if (d) d[n] = g->d[n];
    if (noise) noise[n] = g->lik == LATENS_GP_CVI_GAUSSIAN ? g->noise[n] : NAN;
  }
  return LATENS_OK;
}

int latens_gp_gpfa_latents(const latens_gp_gpfa *g, size_t r, double *mean, size_t ldm,
                           double *var, size_t ldv) {
  if (!g || r >= g->R)
    LATENS_ERRORF(LATENS_EINVAL, "latens_gp_gpfa_latents: trial %zu of %zu", r, g ? g->R : 0);
  const size_t T = g->T[r];
  if ((mean && ldm < T) || (var && ldv < T))
    LATENS_ERRORF(LATENS_EINVAL, "latens_gp_gpfa_latents: leading dimension below T = %zu", T);
  for (size_t k = 0; k < g->K; k++)
    for (size_t t = 0; t < T; t++) {
      if (mean) mean[t + k * ldm] = g->mean[r][t + k * T];
      if (var) var[t + k * ldv] = g->var[r][t + k * T];
    }
  return LATENS_OK;
}

int latens_gp_gpfa_orthonormal(const latens_gp_gpfa *g, size_t r, double *mean, size_t ldm,
                               double *U, size_t ldu) {
  if (!g || r >= g->R || !mean)
    LATENS_ERROR("latens_gp_gpfa_orthonormal: NULL argument or trial out of range", LATENS_EINVAL);
  const size_t K = g->K, N = g->N, T = g->T[r];
  if (ldm < T || (U && ldu < N))
    LATENS_ERROR("latens_gp_gpfa_orthonormal: leading dimension too small", LATENS_EINVAL);
  if (!latens_all_finite(g->C, N * K)) /* GSL's SVD must not see a NaN */
    LATENS_ERROR("latens_gp_gpfa_orthonormal: loadings not finite", LATENS_ENOTFINITE);
  gsl_matrix *A = gsl_matrix_alloc(N, K), *V = gsl_matrix_alloc(K, K);
  gsl_vector *S = gsl_vector_alloc(K), *wk = gsl_vector_alloc(K);
  if (!A || !V || !S || !wk) {
    if (A) gsl_matrix_free(A);
    if (V) gsl_matrix_free(V);
    if (S) gsl_vector_free(S);
    if (wk) gsl_vector_free(wk);
    LATENS_ERROR("latens_gp_gpfa_orthonormal: out of memory", LATENS_ENOMEM);
  }
  for (size_t n = 0; n < N; n++)
    for (size_t k = 0; k < K; k++) gsl_matrix_set(A, n, k, g->C[n + k * N]);
  gsl_linalg_SV_decomp(A, V, S, wk); /* C = U S V^T, U in A; finite C (checked by the fit) */
  for (size_t t = 0; t < T; t++) {
    double x[64];
    for (size_t k = 0; k < K; k++) x[k] = g->mean[r][t + k * T];
    for (size_t i = 0; i < K; i++) {
      double acc = 0;
      for (size_t k = 0; k < K; k++) acc += gsl_matrix_get(V, k, i) * x[k];
      mean[t + i * ldm] = gsl_vector_get(S, i) * acc;
    }
  }
  for (size_t n = 0; U && n < N; n++)
    for (size_t i = 0; i < K; i++) U[n + i * ldu] = gsl_matrix_get(A, n, i);
  gsl_matrix_free(A), gsl_matrix_free(V), gsl_vector_free(S), gsl_vector_free(wk);
  return LATENS_OK;
}

int latens_gp_affine_r2(const double *x, size_t ldx, size_t p, const double *y, size_t ldy,
                        size_t q, size_t n, double *r2) {
  static const char fn[] = "latens_gp_affine_r2";
  if (!x || !y || !r2) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  if (p == 0 || q == 0 || p > 64 || ldx < n || ldy < n)
    LATENS_ERRORF(LATENS_EINVAL, "%s: p %zu (1..64), q %zu, n %zu, ldx %zu, ldy %zu", fn, p, q,
                  n, ldx, ldy);
  if (n <= p + 1) LATENS_ERRORF(LATENS_EDOM, "%s: %zu rows for %zu regressors", fn, n, p);
  for (size_t j = 0; j < p; j++)
    if (!latens_all_finite(x + j * ldx, n)) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: x not finite", fn);
  for (size_t j = 0; j < q; j++)
    if (!latens_all_finite(y + j * ldy, n)) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: y not finite", fn);
  double mx[64], A[64 * 64], b[64];
  for (size_t j = 0; j < p; j++) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += x[i + j * ldx];
    mx[j] = s / (double)n;
  }
  for (size_t a = 0; a < p; a++)
    for (size_t c = 0; c <= a; c++) {
      double s = 0;
      for (size_t i = 0; i < n; i++) s += (x[i + a * ldx] - mx[a]) * (x[i + c * ldx] - mx[c]);
      A[a + c * p] = A[c + a * p] = s;
    }
  latens_mat Am = latens_mat_view(A, p, p, p);
  int st = latens_chol_decomp(&Am, NULL, NULL);
  if (st) return st;
  double ssr = 0, sst = 0;
  for (size_t j = 0; j < q; j++) {
    double my = 0;
    for (size_t i = 0; i < n; i++) my += y[i + j * ldy];
    my /= (double)n;
    for (size_t a = 0; a < p; a++) {
      double s = 0;
      for (size_t i = 0; i < n; i++) s += (x[i + a * ldx] - mx[a]) * (y[i + j * ldy] - my);
      b[a] = s;
    }
    latens_vec bv = latens_vec_view(b, p, 1);
    latens_chol_solve_vec(&Am, &bv);
    for (size_t i = 0; i < n; i++) {
      double e = y[i + j * ldy] - my, yc = e;
      for (size_t a = 0; a < p; a++) e -= b[a] * (x[i + a * ldx] - mx[a]);
      ssr += e * e, sst += yc * yc;
    }
  }
  if (!(sst > 0)) LATENS_ERRORF(LATENS_EDOM, "%s: y is constant", fn);
  *r2 = 1.0 - ssr / sst;
  return LATENS_OK;
}
