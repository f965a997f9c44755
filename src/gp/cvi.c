/* gp/cvi.c: conjugate-computation variational inference (Khan & Lin 2017) over a stacked
 * state-space prior: Gaussian sites per time point, damped natural-parameter steps, the
 * ELBO, and the checks of the data against each likelihood. */
#include "cvi_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double LOG_2PI = 1.8378770664093454836;

/* Poisson log-rates are clipped here (as cvhmax does): exp(50) ~ 5e21 counts per bin is
 * beyond any data, and keeps a bad early iterate from overflowing the site precisions. */
static const double ETA_MAX = 50.0;

static const char *const lik_names[] = {"gaussian", "poisson", "bernoulli"};

const char *latens_gp_cvi_lik_name(int lik) {
  return lik >= 0 && lik < LATENS_GP_CVI_NLIK ? lik_names[lik] : "unknown";
}

int latens_gp_cvi_lik_parse(const char *name, int *lik) {
  if (!name || !lik) LATENS_ERROR("latens_gp_cvi_lik_parse: NULL argument", LATENS_EINVAL);
  for (int i = 0; i < LATENS_GP_CVI_NLIK; i++)
    if (!strcmp(name, lik_names[i])) return *lik = i, LATENS_OK;
  LATENS_ERRORF(LATENS_EINVAL,
                "latens_gp_cvi_lik_parse: unknown likelihood \"%.40s\" (gaussian, poisson, "
                "bernoulli)", name);
}

void latens_gp_cvi_options_default(latens_gp_cvi_options *opt) {
  if (!opt) return;
  opt->damping = 0.7;
  opt->max_iter = 200;
  opt->tol = 1e-8;
  opt->smoother = LATENS_GP_CVI_RTS;
  opt->gh_nodes = 32;
}

/* ---------------------------------------------------------------- expectations */

int latens_gp_gh_init(latens_gp_gh *gh, size_t n) {
  gh->n = n;
  gh->z = malloc(n * sizeof *gh->z), gh->wts = malloc(n * sizeof *gh->wts);
  if (!gh->z || !gh->wts) {
    latens_gp_gh_free(gh);
    LATENS_ERROR("latens_gp_cvi: out of memory", LATENS_ENOMEM);
  }
  int st = latens_quad_rule(LATENS_QUAD_GAUSS_HERMITE, n, 0.0, 1.0, gh->z, gh->wts);
  if (st) {
    latens_gp_gh_free(gh);
    return st;
  }
  for (size_t i = 0; i < n; i++) gh->wts[i] = exp(gh->wts[i]);
  return LATENS_OK;
}

void latens_gp_gh_free(latens_gp_gh *gh) {
  free(gh->z), free(gh->wts);
  gh->z = gh->wts = NULL;
}

static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}

double latens_gp_cvi_expect(int lik, double y, double mu, double s2, double noise,
                            const latens_gp_gh *gh, double *alpha, double *beta) {
  if (s2 < 0) s2 = 0;
  switch (lik) {
  case LATENS_GP_CVI_GAUSSIAN: {
    double r = y - mu;
    *alpha = r / noise, *beta = 1.0 / noise;
    return -0.5 * (LOG_2PI + log(noise) + (r * r + s2) / noise);
  }
  case LATENS_GP_CVI_POISSON: {
    double e = mu + 0.5 * s2;
    double lam = exp(e < ETA_MAX ? e : ETA_MAX);
    *alpha = y - lam, *beta = lam;
    return y * mu - lam; /* - log y!, a constant added once per run (lgamma is costly) */
  }
  default: { /* Bernoulli-logit: Stein's lemma turns dE/dmu, dE/ds2 into E sigma, E sigma' */
    double sd = sqrt(s2), a = 0, b = 0, sp = 0;
    for (size_t i = 0; i < gh->n; i++) {
      double x = mu + sd * gh->z[i], sg = sigmoid(x);
      a += gh->wts[i] * sg, b += gh->wts[i] * sg * (1.0 - sg), sp += gh->wts[i] * softplus(x);
    }
    *alpha = y - a, *beta = b;
    return y * mu - sp;
  }
  }
}

/* ---------------------------------------------------------------- checks */

int latens_gp_cvi_check_data(const char *fn, int lik, const double *Y, size_t ldy, size_t T,
                             size_t N) {
  if (!Y) LATENS_ERRORF(LATENS_EINVAL, "%s: Y is NULL", fn);
  if (ldy < T) LATENS_ERRORF(LATENS_EINVAL, "%s: ldy %zu < T %zu", fn, ldy, T);
  for (size_t n = 0; n < N; n++)
    for (size_t t = 0; t < T; t++) {
      double y = Y[t + n * ldy];
      if (isnan(y)) continue;
      if (isinf(y))
        LATENS_ERRORF(LATENS_ENOTFINITE, "%s: observation (time %zu, unit %zu) is infinite", fn, t, n);
      if (lik == LATENS_GP_CVI_POISSON && !(y >= 0 && y == floor(y)))
        LATENS_ERRORF(LATENS_EDOM, "%s: Poisson count (time %zu, unit %zu) is %g, not a "
                      "non-negative integer", fn, t, n, y);
      if (lik == LATENS_GP_CVI_BERNOULLI && y != 0 && y != 1)
        LATENS_ERRORF(LATENS_EDOM, "%s: Bernoulli observation (time %zu, unit %zu) is %g, not 0 "
                      "or 1", fn, t, n, y);
    }
  return LATENS_OK;
}

int latens_gp_cvi_check_readout(const char *fn, const latens_gp_cvi_readout *ro, size_t K) {
  if (!ro || !ro->C) LATENS_ERRORF(LATENS_EINVAL, "%s: readout or its C is NULL", fn);
  if (ro->lik < 0 || ro->lik >= LATENS_GP_CVI_NLIK)
    LATENS_ERRORF(LATENS_EINVAL, "%s: unknown likelihood %d", fn, ro->lik);
  if (ro->N == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: no units (N = 0)", fn);
  if (ro->ldc < ro->N) LATENS_ERRORF(LATENS_EINVAL, "%s: ldc %zu < N %zu", fn, ro->ldc, ro->N);
  for (size_t n = 0; n < ro->N; n++) {
    for (size_t k = 0; k < K; k++)
      if (!isfinite(ro->C[n + k * ro->ldc]))
        LATENS_ERRORF(LATENS_ENOTFINITE, "%s: C[%zu][%zu] is not finite", fn, n, k);
    if (ro->d && !isfinite(ro->d[n]))
      LATENS_ERRORF(LATENS_ENOTFINITE, "%s: offset d[%zu] is not finite", fn, n);
    if (ro->lik == LATENS_GP_CVI_GAUSSIAN) {
      if (!ro->noise) LATENS_ERRORF(LATENS_EINVAL, "%s: Gaussian readout without noise", fn);
      if (!(ro->noise[n] > 0) || isinf(ro->noise[n]))
        LATENS_ERRORF(LATENS_EDOM, "%s: noise variance of unit %zu is %g, expected finite > 0",
                      fn, n, ro->noise[n]);
    }
  }
  return LATENS_OK;
}

/* ---------------------------------------------------------------- the object */

latens_gp_cvi *latens_gp_cvi_alloc(const latens_gp_ssm *s) {
  if (!s) LATENS_ERROR_NULL("latens_gp_cvi_alloc: prior is NULL", LATENS_EINVAL);
  latens_gp_cvi *w = calloc(1, sizeof *w);
  if (!w) LATENS_ERROR_NULL("latens_gp_cvi_alloc: out of memory", LATENS_ENOMEM);
  const size_t K = s->K, D = s->D, T = s->T;
  w->s = s, w->K = K, w->D = D, w->T = T;
  size_t kk = latens_mul_size(K * K, T), dd = latens_mul_size(D * D, T);
  int bad = !kk || !dd;
  if (!bad) {
    w->j = calloc(K * T, sizeof *w->j), w->J = calloc(kk, sizeof *w->J);
    w->m = calloc(K * T, sizeof *w->m), w->V = calloc(kk, sizeof *w->V);
    w->jt = calloc(K * T, sizeof *w->jt), w->Jt = calloc(kk, sizeof *w->Jt);
    w->mprev = calloc(K * T, sizeof *w->mprev), w->Et = calloc(T, sizeof *w->Et);
    w->mf = calloc(D * T, sizeof *w->mf), w->mp = calloc(D * T, sizeof *w->mp);
    w->Pf = calloc(dd, sizeof *w->Pf), w->Pp = calloc(dd, sizeof *w->Pp);
    bad = !w->j || !w->J || !w->m || !w->V || !w->jt || !w->Jt || !w->mprev || !w->Et ||
          !w->mf || !w->mp || !w->Pf || !w->Pp;
  }
  if (bad) {
    latens_gp_cvi_free(w);
    LATENS_ERROR_NULL("latens_gp_cvi_alloc: out of memory", LATENS_ENOMEM);
  }
  latens_gp_cvi_reset(w);
  return w;
}

void latens_gp_cvi_free(latens_gp_cvi *w) {
  if (!w) return;
  free(w->j), free(w->J), free(w->m), free(w->V), free(w->jt), free(w->Jt), free(w->mprev);
  free(w->Et), free(w->mf), free(w->mp), free(w->Pf), free(w->Pp), free(w);
}

void latens_gp_cvi_reset(latens_gp_cvi *w) {
  if (!w) return;
  const size_t K = w->K, T = w->T, D = w->D;
  memset(w->j, 0, K * T * sizeof *w->j);
  memset(w->J, 0, K * K * T * sizeof *w->J);
  memset(w->m, 0, K * T * sizeof *w->m);
  /* Before any run the posterior is the prior: V_t = H Pinf H^T. */
  for (size_t t = 0; t < T; t++)
    for (size_t a = 0; a < K; a++)
      for (size_t b = 0; b < K; b++) {
        double acc = 0;
        for (size_t c = 0; c < D; c++)
          for (size_t e = 0; e < D; e++)
            acc += w->s->H[a + c * K] * w->s->Pinf[c + e * D] * w->s->H[b + e * K];
        w->V[a + b * K + t * K * K] = acc;
      }
  w->logZ = 0, w->elbo = NAN, w->iter = 0, w->converged = 0, w->fresh = 1;
}

/* First Poisson sites from the data: the Gaussian approximation of each count's likelihood
 * in eta at its saturated point, eta ~ N(log(y + 1/2), 1/(y + 1/2)), read back through C.
 * Starting from the prior instead can take thousands of damped steps when the offsets are
 * far off (a Newton step on exp moves by about one unit of eta from above). */
static void poisson_start(latens_gp_cvi *w, const latens_gp_cvi_readout *ro, const double *Y,
                          size_t ldy) {
  const size_t K = w->K;
  for (size_t t = 0; t < w->T; t++) {
    double *j = w->j + t * K, *J = w->J + t * K * K;
    for (size_t n = 0; n < ro->N; n++) {
      double y = Y[t + n * ldy];
      if (isnan(y)) continue;
      double p = y + 0.5, e = log(p) - (ro->d ? ro->d[n] : 0);
      for (size_t a = 0; a < K; a++) {
        double ca = ro->C[n + a * ro->ldc];
        j[a] += p * e * ca;
        for (size_t b = 0; b < K; b++) J[a + b * K] += p * ca * ro->C[n + b * ro->ldc];
      }
    }
  }
}

/* One pass over time: E_q log p(y_t | f_t), E_q log site_t and the natural-gradient
 * targets; returns the ELBO. */
static double targets(latens_gp_cvi *w, const latens_gp_cvi_readout *ro, const double *Y,
                      size_t ldy, const latens_gp_gh *gh) {
  const size_t K = w->K, N = ro->N;
  double elbo_sites = 0, E = 0;
  double c[64];
  for (size_t t = 0; t < w->T; t++) {
    const double *m = w->m + t * K, *V = w->V + t * K * K;
    const double *j = w->j + t * K, *J = w->J + t * K * K;
    double *jt = w->jt + t * K, *Jt = w->Jt + t * K * K, Esum = 0;
    memset(jt, 0, K * sizeof *jt);
    memset(Jt, 0, K * K * sizeof *Jt);
    for (size_t n = 0; n < N; n++) {
      double y = Y[t + n * ldy];
      if (isnan(y)) continue;
      double mu = ro->d ? ro->d[n] : 0, s2 = 0;
      for (size_t a = 0; a < K; a++) c[a] = ro->C[n + a * ro->ldc], mu += c[a] * m[a];
      for (size_t a = 0; a < K; a++)
        for (size_t b = 0; b < K; b++) s2 += c[a] * V[a + b * K] * c[b];
      double al, be;
      Esum += latens_gp_cvi_expect(ro->lik, y, mu, s2, ro->noise ? ro->noise[n] : 1.0, gh, &al, &be);
      for (size_t a = 0; a < K; a++) {
        jt[a] += al * c[a];
        for (size_t b = 0; b < K; b++) Jt[a + b * K] += be * c[a] * c[b];
      }
    }
    for (size_t a = 0; a < K; a++)
      for (size_t b = 0; b < K; b++) jt[a] += Jt[a + b * K] * m[b];
    /* E_q log site = j^T m - (m^T J m + tr(J V)) / 2 */
    double lt = 0;
    for (size_t a = 0; a < K; a++) {
      lt += j[a] * m[a];
      for (size_t b = 0; b < K; b++) lt -= 0.5 * J[a + b * K] * (m[a] * m[b] + V[b + a * K]);
    }
    w->Et[t] = Esum;
    E += Esum, elbo_sites += lt;
  }
  return E - elbo_sites + w->logZ;
}

/* sum over observed counts of -log y!, the part of the Poisson log-likelihood that does not
 * depend on the latents. */
static double poisson_const(const double *Y, size_t ldy, size_t T, size_t N) {
  double c = 0;
  for (size_t n = 0; n < N; n++)
    for (size_t t = 0; t < T; t++) {
      double y = Y[t + n * ldy];
      if (!isnan(y) && y > 1) c -= lgamma(y + 1.0);
    }
  return c;
}

static double max_change(const latens_gp_cvi *w) {
  double worst = 0;
  for (size_t i = 0; i < w->K * w->T; i++) {
    double d = fabs(w->m[i] - w->mprev[i]) / (1.0 + fabs(w->m[i]));
    if (!(d <= worst)) worst = d;
  }
  return worst;
}

/* max over sites of |target - site| / (1 + |target|), for j and J. */
static double site_residual(const latens_gp_cvi *w) {
  double worst = 0;
  const size_t KT = w->K * w->T, KKT = KT * w->K;
  for (size_t i = 0; i < KT; i++) worst = fmax(worst, fabs(w->jt[i] - w->j[i]) / (1 + fabs(w->jt[i])));
  for (size_t i = 0; i < KKT; i++) worst = fmax(worst, fabs(w->Jt[i] - w->J[i]) / (1 + fabs(w->Jt[i])));
  return worst;
}

int latens_gp_cvi_check_options(const char *fn, const latens_gp_cvi_options *o) {
  if (!(o->damping > 0 && o->damping <= 1))
    LATENS_ERRORF(LATENS_EDOM, "%s: damping %g outside (0, 1]", fn, o->damping);
  if (o->max_iter == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: max_iter is 0", fn);
  if (!(o->tol >= 0) || isinf(o->tol)) LATENS_ERRORF(LATENS_EDOM, "%s: tol %g", fn, o->tol);
  if (o->smoother != LATENS_GP_CVI_RTS && o->smoother != LATENS_GP_CVI_INFO)
    LATENS_ERRORF(LATENS_EINVAL, "%s: unknown smoother %d", fn, o->smoother);
  if (o->gh_nodes < 2 || o->gh_nodes > 200)
    LATENS_ERRORF(LATENS_EDOM, "%s: gh_nodes %zu outside 2..200", fn, o->gh_nodes);
  return LATENS_OK;
}

int latens_gp_cvi_run(latens_gp_cvi *w, const latens_gp_cvi_readout *ro, const double *Y,
                      size_t ldy, const latens_gp_cvi_options *opt,
                      const latens_progress *progress) {
  static const char fn[] = "latens_gp_cvi_run";
  if (!w) LATENS_ERRORF(LATENS_EINVAL, "%s: w is NULL", fn);
  latens_gp_cvi_options o;
  latens_gp_cvi_options_default(&o);
  if (opt) o = *opt;
  int st;
  if ((st = latens_gp_cvi_check_options(fn, &o)) || (st = latens_gp_cvi_check_readout(fn, ro, w->K)) ||
      (st = latens_gp_cvi_check_data(fn, ro->lik, Y, ldy, w->T, ro->N)))
    return st;
  if (w->K > 64) LATENS_ERRORF(LATENS_EINVAL, "%s: %zu latents, at most 64", fn, w->K);
  latens_gp_gh gh = {0, NULL, NULL};
  if (ro->lik == LATENS_GP_CVI_BERNOULLI && (st = latens_gp_gh_init(&gh, o.gh_nodes))) return st;
  const size_t KT = w->K * w->T, KKT = KT * w->K;
  const double cst = ro->lik == LATENS_GP_CVI_POISSON ? poisson_const(Y, ldy, w->T, ro->N) : 0;
  double prev = NAN;
  w->converged = 0, w->iter = 0;
  if (w->fresh && ro->lik == LATENS_GP_CVI_POISSON) poisson_start(w, ro, Y, ldy);
  w->fresh = 0;
  for (size_t it = 0;; it++) {
    memcpy(w->mprev, w->m, KT * sizeof *w->m);
    st = o.smoother == LATENS_GP_CVI_INFO ? latens_gp_cvi_smooth_info(w, &w->logZ)
                                          : latens_gp_cvi_smooth_rts(w, &w->logZ);
    if (st) break;
    w->elbo = targets(w, ro, Y, ldy, &gh) + cst;
    if (!isfinite(w->elbo)) {
      latens_errorf(__FILE__, __LINE__, st = LATENS_ENOTFINITE,
                    "%s: %s ELBO not finite at iteration %zu (extreme prior variance or "
                    "offsets?)", fn, latens_gp_cvi_lik_name(ro->lik), it);
      break;
    }
    /* The fixed point of CVI is sites = targets; small changes of m and the ELBO alone can
     * be a stall (damped steps against overwhelming sites), so the residual counts too. */
    if (it > 0 && max_change(w) <= o.tol && site_residual(w) <= sqrt(o.tol) &&
        fabs(w->elbo - prev) <= o.tol * fmax(1.0, fabs(w->elbo))) {
      w->converged = 1;
      break;
    }
    if (it == o.max_iter) {
      st = LATENS_EMAXITER; /* not reported: the caller decides (GPFA runs few steps) */
      break;
    }
    if ((st = latens_progress_report(progress, "cvi", (double)it, (double)o.max_iter))) break;
    const double b = o.damping, a = 1.0 - b;
    for (size_t i = 0; i < KT; i++) w->j[i] = a * w->j[i] + b * w->jt[i];
    for (size_t i = 0; i < KKT; i++) w->J[i] = a * w->J[i] + b * w->Jt[i];
    prev = w->elbo;
    w->iter = it + 1;
  }
  latens_gp_gh_free(&gh);
  return st;
}

/* ---------------------------------------------------------------- getters */

int latens_gp_cvi_latents(const latens_gp_cvi *w, double *mean, size_t ldm, double *var,
                          size_t ldv) {
  if (!w) LATENS_ERROR("latens_gp_cvi_latents: w is NULL", LATENS_EINVAL);
  if ((mean && ldm < w->T) || (var && ldv < w->T))
    LATENS_ERRORF(LATENS_EINVAL, "latens_gp_cvi_latents: leading dimension below T = %zu", w->T);
  const size_t K = w->K;
  for (size_t t = 0; t < w->T; t++)
    for (size_t k = 0; k < K; k++) {
      if (mean) mean[t + k * ldm] = w->m[k + t * K];
      if (var) var[t + k * ldv] = w->V[k + k * K + t * K * K];
    }
  return LATENS_OK;
}

int latens_gp_cvi_latent_cov(const latens_gp_cvi *w, size_t t, double *V, size_t ldv) {
  if (!w || !V) LATENS_ERROR("latens_gp_cvi_latent_cov: NULL argument", LATENS_EINVAL);
  if (t >= w->T || ldv < w->K)
    LATENS_ERRORF(LATENS_EINVAL, "latens_gp_cvi_latent_cov: t %zu of %zu, ldv %zu < K %zu", t,
                  w->T, ldv, w->K);
  for (size_t b = 0; b < w->K; b++)
    for (size_t a = 0; a < w->K; a++) V[a + b * ldv] = w->V[a + b * w->K + t * w->K * w->K];
  return LATENS_OK;
}

double latens_gp_cvi_elbo(const latens_gp_cvi *w) { return w ? w->elbo : NAN; }
size_t latens_gp_cvi_iterations(const latens_gp_cvi *w) { return w ? w->iter : 0; }
int latens_gp_cvi_converged(const latens_gp_cvi *w) { return w ? w->converged : 0; }
