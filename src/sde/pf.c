/* sde/pf.c: bootstrap particle filter (Gordon, Salmond & Smith 1993) with systematic
 * resampling (Kitagawa 1996), its unbiased likelihood estimate (Del Moral 2004), the
 * genealogy smoother, and transition samplers for linear SDEs (exact) and for any
 * latens_sde_model (through the sde solvers).
 *
 * The filter runs on the calling thread from one stream: the draws it makes depend only on
 * the data and the options, so a run is reproducible and independent of any thread count.
 * Weights are kept normalised (sum 1) after every step, the observation densities shifted
 * by their maximum before exponentiating: one exp per particle and step, and no underflow
 * of the likelihood however long the series. */
#include "infer_impl.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double LOG_2PI = 1.8378770664093454836;

void latens_sde_pf_options_default(latens_sde_pf_options *opt) {
  if (!opt) return;
  opt->particles = 1000, opt->ess_threshold = 1.0, opt->smooth = 0, opt->backward = 200;
  opt->progress = (latens_progress){NULL, NULL};
}

/* Per-time observation density for every particle: Gaussian through the Cholesky factor of
 * the observed block of R (factored once per time, not per particle). */
typedef struct {
  const latens_sde_readout *ro;
  size_t n, q, *idx;
  double *Lr, *r, logdet;
} obs_eval;

static int obs_prepare(obs_eval *e, const double *x) {
  const size_t p = e->ro->p;
  e->q = latens_sde_observed(x, p, e->idx);
  if (e->ro->kind != LATENS_SDE_READOUT_GAUSSIAN || e->q == 0) return LATENS_OK;
  const size_t q = e->q;
  for (size_t b = 0; b < q; b++)
    for (size_t a = 0; a < q; a++) e->Lr[a + b * q] = e->ro->R[e->idx[a] + e->idx[b] * p];
  latens_mat L = latens_mat_view(e->Lr, q, q, q);
  if (latens_chol_decomp(&L, NULL, NULL))
    LATENS_ERRORF(LATENS_ENOTPOSDEF,
                  "latens_sde_pf_run: readout noise R (observed block of "
                  "order %zu) is not positive definite",
                  q);
  e->logdet = latens_chol_logdet(&L);
  return LATENS_OK;
}

static double obs_logpdf(const obs_eval *e, const double *z, const double *x) {
  const latens_sde_readout *ro = e->ro;
  const size_t p = ro->p, n = e->n, q = e->q;
  double lp = 0;
  for (size_t a = 0; a < q; a++) {
    size_t i = e->idx[a];
    double eta = ro->d ? ro->d[i] : 0.0;
    for (size_t j = 0; j < n; j++) eta += ro->C[i + j * p] * z[j];
    if (ro->kind == LATENS_SDE_READOUT_POISSON)
      lp += latens_rng_poisson_logpmf((uint64_t)x[i], exp(eta));
    else
      e->r[a] = x[i] - eta;
  }
  if (ro->kind == LATENS_SDE_READOUT_GAUSSIAN && q) {
    double ss = 0; /* forward substitution with the lower factor */
    for (size_t a = 0; a < q; a++) {
      double v = e->r[a];
      for (size_t b = 0; b < a; b++) v -= e->Lr[a + b * q] * e->r[b];
      e->r[a] = v / e->Lr[a + a * q];
      ss += e->r[a] * e->r[a];
    }
    lp = -0.5 * ((double)q * LOG_2PI + e->logdet + ss);
  }
  return isnan(lp) ? -INFINITY : lp;
}

/* Systematic resampling: offspring of N equally spaced points u0 + i/N, u0 ~ U(0, 1/N). */
static void systematic(const double *W, size_t N, double u, size_t *anc) {
  double cum = 0, step = 1.0 / (double)N, pos = u * step;
  size_t j = 0;
  for (size_t i = 0; i < N; i++) {
    while (j < N - 1 && cum + W[j] < pos) cum += W[j], j++;
    anc[i] = j;
    pos += step;
  }
}

typedef struct {
  double *Z, *Zn, *lw, *ll, *Zs, *Ws;
  size_t *anc, *As;
} pf_buf;

static void pf_buf_free(pf_buf *b) {
  free(b->Z), free(b->Zn), free(b->lw), free(b->ll), free(b->Zs), free(b->anc), free(b->As);
  free(b->Ws);
}

static int pf_check(const char *fn, const latens_sde_pf_model *model, const latens_sde_readout *ro,
                    const latens_sde_data *y, const latens_sde_pf_options *o, latens_rng *rng) {
  if (!model || !ro || !y || !rng) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  if (!model->init || !model->propagate || model->n == 0)
    LATENS_ERRORF(LATENS_EINVAL, "%s: model needs init, propagate and n >= 1", fn);
  if (o->particles == 0 || o->particles > ((size_t)1 << 40))
    LATENS_ERRORF(LATENS_EINVAL, "%s: particles = %zu", fn, o->particles);
  if (o->smooth < 0 || o->smooth > 2 || (o->smooth == 2 && (!model->logtrans || !o->backward)))
    LATENS_ERRORF(LATENS_EINVAL,
                  "%s: smooth = %d (0, 1, or 2 with model->logtrans and "
                  "backward >= 1)",
                  fn, o->smooth);
  if (!(o->ess_threshold >= 0 && o->ess_threshold <= 1))
    LATENS_ERRORF(LATENS_EDOM, "%s: ess_threshold = %g (need [0, 1])", fn, o->ess_threshold);
  int s = latens_sde_check(fn, NULL, ro, y);
  if (s) return s;
  if (!latens_all_finite(ro->C, latens_mul_size(ro->p, model->n)))
    LATENS_ERRORF(LATENS_ENOTFINITE, "%s: NaN or Inf in the readout C", fn);
  if (y->t[0] < model->t0)
    LATENS_ERRORF(LATENS_EDOM, "%s: first time %g is before t0 = %g", fn, y->t[0], model->t0);
  return LATENS_OK;
}

/* Weighted mean and variance of the particles (or of the ancestral path values). */
static void moments(const double *Z, size_t n, size_t N, const double *W, const size_t *map,
                    double *mean, double *var) {
  if (!mean && !var) return;
  for (size_t j = 0; j < n; j++) {
    double m = 0, v = 0;
    for (size_t i = 0; i < N; i++) m += W[i] * Z[j + (map ? map[i] : i) * n];
    for (size_t i = 0; i < N; i++) {
      double d = Z[j + (map ? map[i] : i) * n] - m;
      v += W[i] * d * d;
    }
    if (mean) mean[j] = m;
    if (var) var[j] = v;
  }
}

static int smooth_paths(const pf_buf *b, size_t n, size_t N, size_t T, latens_sde_pf_result *res) {
  size_t *cur = malloc(N * sizeof *cur);
  if (!cur) LATENS_ERRORF(LATENS_ENOMEM, "latens_sde_pf_run: out of memory");
  for (size_t i = 0; i < N; i++) cur[i] = i;
  for (size_t k = T; k-- > 0;) {
    moments(b->Zs + k * n * N, n, N, b->lw, cur, res->ms ? res->ms + k * n : NULL,
            res->vs ? res->vs + k * n : NULL);
    if (k > 0)
      for (size_t i = 0; i < N; i++) cur[i] = b->As[cur[i] + (k - 1) * N];
  }
  free(cur);
  return LATENS_OK;
}

/* Backward simulation: each trajectory starts from the final filter and steps back by
 * drawing z_k from the filter at k reweighted by p(z_{k+1} | z_k); moments over the
 * trajectories (Welford's running sums). */
static int ffbsi(const latens_sde_pf_model *model, const latens_sde_data *y, const pf_buf *b,
                 size_t N, size_t M, latens_rng *rng, latens_sde_pf_result *res) {
  const size_t n = model->n, T = y->T;
  double *lw = malloc((N + 2 * n * T) * sizeof *lw), *mean = lw + N, *m2 = mean + n * T;
  if (!lw) LATENS_ERRORF(LATENS_ENOMEM, "latens_sde_pf_run: out of memory");
  memset(mean, 0, 2 * n * T * sizeof *mean);
  int s = LATENS_OK;
  for (size_t j = 0; j < M && !s; j++) {
    size_t cur;
    for (size_t i = 0; i < N; i++) lw[i] = log(b->Ws[i + (T - 1) * N]);
    s = latens_rng_categorical_log(rng, lw, N, &cur);
    for (size_t k = T; k-- > 0 && !s;) {
      const double *z1 = b->Zs + k * n * N + cur * n;
      for (size_t a = 0; a < n; a++) { /* Welford update with the trajectory's value */
        double d = z1[a] - mean[a + k * n];
        mean[a + k * n] += d / (double)(j + 1);
        m2[a + k * n] += d * (z1[a] - mean[a + k * n]);
      }
      if (k == 0) break;
      if (y->t[k] == y->t[k - 1]) { /* same instant: no transition, follow the ancestry */
        cur = b->As[cur + (k - 1) * N];
        continue;
      }
      const double *Zk = b->Zs + (k - 1) * n * N, *W = b->Ws + (k - 1) * N;
      for (size_t i = 0; i < N; i++)
        lw[i] = W[i] > 0 ? log(W[i]) +
                               model->logtrans(y->t[k - 1], y->t[k], Zk + i * n, z1, n, model->user)
                         : -INFINITY;
      s = latens_rng_categorical_log(rng, lw, N, &cur);
    }
  }
  if (!s) {
    if (res->ms) memcpy(res->ms, mean, n * T * sizeof *mean);
    for (size_t q = 0; q < n * T && res->vs; q++) res->vs[q] = m2[q] / (double)M;
  }
  free(lw);
  return s;
}

/* Systematic resampling of the particles (ancestors in b->anc), weights back to 1/N. */
static void resample(pf_buf *b, size_t n, size_t N, latens_rng *rng) {
  systematic(b->lw, N, latens_rng_uniform(rng), b->anc);
  for (size_t i = 0; i < N; i++) memcpy(b->Zn + i * n, b->Z + b->anc[i] * n, n * sizeof *b->Z);
  double *t = b->Z;
  b->Z = b->Zn, b->Zn = t;
  for (size_t i = 0; i < N; i++) b->lw[i] = 1.0 / (double)N;
}

/* Buffers of one run; byte counts go through latens_mul_size (0 on overflow, and a 0-byte
 * request is treated as a failure), so a huge n * N * T cannot wrap into a short buffer. */
static int pf_alloc(pf_buf *b, obs_eval *e, size_t n, size_t N, size_t T, size_t p, int smooth) {
  const size_t zb = latens_mul_size(latens_mul_size(n, N), sizeof(double));
  b->Z = zb ? malloc(zb) : NULL, b->Zn = zb ? malloc(zb) : NULL;
  b->lw = malloc(N * sizeof *b->lw), b->ll = malloc(N * sizeof *b->ll);
  b->anc = malloc(N * sizeof *b->anc);
  e->idx = malloc(p * sizeof *e->idx), e->Lr = malloc((p * p + p) * sizeof *e->Lr);
  if (smooth) {
    size_t tb = latens_mul_size(zb, T), nt = latens_mul_size(N, T);
    b->Zs = tb ? malloc(tb) : NULL;
    b->As = latens_mul_size(nt, sizeof(size_t)) ? malloc(nt * sizeof *b->As) : NULL;
    b->Ws = latens_mul_size(nt, sizeof(double)) ? malloc(nt * sizeof *b->Ws) : NULL;
  }
  if (!b->Z || !b->lw || !b->ll || !b->anc || !b->Zn || !e->idx || !e->Lr ||
      (smooth && (!b->Zs || !b->As || !b->Ws))) {
    pf_buf_free(b), free(e->idx), free(e->Lr);
    LATENS_ERRORF(LATENS_ENOMEM, "latens_sde_pf_run: out of memory (%zu particles, n = %zu, T = %zu)",
                  N, n, T);
  }
  e->r = e->Lr + p * p;
  return LATENS_OK;
}

int latens_sde_pf_run(const latens_sde_pf_model *model, const latens_sde_readout *ro,
                      const latens_sde_data *y, const latens_sde_pf_options *opt, latens_rng *rng,
                      latens_sde_pf_result *res) {
  static const char fn[] = "latens_sde_pf_run";
  latens_sde_pf_options o;
  latens_sde_pf_options_default(&o);
  if (opt) o = *opt;
  int s = pf_check(fn, model, ro, y, &o, rng);
  if (s) return s;
  if (!res) LATENS_ERRORF(LATENS_EINVAL, "%s: res is NULL", fn);
  res->loglik = NAN, res->resamples = 0;
  if ((res->ms || res->vs) && !o.smooth)
    LATENS_ERRORF(LATENS_EINVAL, "%s: smoothed moments asked without options.smooth", fn);
  const size_t n = model->n, N = o.particles, T = y->T, p = ro->p, nN = latens_mul_size(n, N);
  pf_buf b = {0};
  obs_eval e = {ro, n, 0, NULL, NULL, NULL, 0};
  if ((s = pf_alloc(&b, &e, n, N, T, p, o.smooth))) return s;
  double loglik = 0, tprev = model->t0;
  if ((s = model->init(model->t0, b.Z, n, N, rng, model->user))) goto done;
  for (size_t i = 0; i < N; i++) b.lw[i] = 1.0 / (double)N; /* lw: normalised weights */
  for (size_t k = 0; k < T; k++) {
    const double *x = y->x + k * y->ldx;
    if (y->t[k] > tprev && (s = model->propagate(tprev, y->t[k], b.Z, n, N, rng, model->user)))
      goto done;
    tprev = y->t[k];
    if ((s = obs_prepare(&e, x))) goto done;
    double mx = -INFINITY;
    for (size_t i = 0; i < N; i++) {
      b.ll[i] = e.q ? obs_logpdf(&e, b.Z + i * n, x) : 0.0;
      if (b.ll[i] > mx && b.lw[i] > 0) mx = b.ll[i];
    }
    if (!isfinite(mx)) {
      s = LATENS_ERANGE;
      latens_errorf(__FILE__, __LINE__, s,
                    "%s: every particle has zero weight at time %g "
                    "(t[%zu]): more particles, or a wider observation model",
                    fn, y->t[k], k);
      goto done;
    }
    double sum = 0, ss = 0;
    for (size_t i = 0; i < N; i++) b.lw[i] *= exp(b.ll[i] - mx), sum += b.lw[i];
    loglik += mx + log(sum);
    for (size_t i = 0; i < N; i++) b.lw[i] /= sum, ss += b.lw[i] * b.lw[i];
    if (res->ess) res->ess[k] = 1.0 / ss;
    moments(b.Z, n, N, b.lw, NULL, res->mf ? res->mf + k * n : NULL,
            res->vf ? res->vf + k * n : NULL);
    if (o.smooth)
      memcpy(b.Zs + k * nN, b.Z, nN * sizeof *b.Z), memcpy(b.Ws + k * N, b.lw, N * sizeof *b.lw);
    if (k + 1 == T) break;
    if (1.0 / ss < o.ess_threshold * (double)N) {
      resample(&b, n, N, rng);
      res->resamples++;
    } else {
      for (size_t i = 0; i < N; i++) b.anc[i] = i;
    }
    if (o.smooth) memcpy(b.As + k * N, b.anc, N * sizeof *b.anc);
    if ((s = latens_progress_report(&o.progress, "particle filter", (double)(k + 1), (double)T)))
      goto done;
  }
  if (o.smooth == 1) s = smooth_paths(&b, n, N, T, res);
  if (o.smooth == 2) s = ffbsi(model, y, &b, N, o.backward, rng, res);
done:
  if (!s) res->loglik = loglik;
  pf_buf_free(&b), free(e.idx), free(e.Lr);
  return s;
}

/* ---------------------------------------------------------------- exact linear sampler */

struct latens_sde_lti_sampler {
  const latens_sde_lti *M;
  latens_lti_workspace *lw;
  double dt; /* step of the cached transition (NaN: none) */
  double *Ad, *bd, *Lq, *L0, *tmp;
  double *eps; /* n x cap normals drawn in one fill per move */
  size_t cap;
};

void latens_sde_lti_sampler_free(latens_sde_lti_sampler *s) {
  if (!s) return;
  latens_lti_workspace_free(s->lw);
  free(s->Ad), free(s->eps), free(s);
}

static int chol_copy(const double *S, size_t n, double *L, const char *what) {
  memcpy(L, S, n * n * sizeof *L);
  latens_mat Lm = latens_mat_view(L, n, n, n);
  if (latens_chol_decomp(&Lm, NULL, NULL))
    LATENS_ERRORF(LATENS_ENOTPOSDEF, "latens_sde_lti_sampler: %s is not positive definite", what);
  return LATENS_OK;
}

latens_sde_lti_sampler *latens_sde_lti_sampler_alloc(const latens_sde_lti *M) {
  static const char fn[] = "latens_sde_lti_sampler_alloc";
  if (!M) {
    latens_errorf(__FILE__, __LINE__, LATENS_EINVAL, "%s: model is NULL", fn);
    return NULL;
  }
  double t = M->t0;
  latens_sde_data probe = {1, 1, &t, &t, 1};
  if (latens_sde_check(fn, M, NULL, &probe)) return NULL;
  const size_t n = M->n;
  latens_sde_lti_sampler *s = calloc(1, sizeof *s);
  if (s) s->Ad = malloc((4 * n * n + 2 * n) * sizeof *s->Ad);
  if (s) s->lw = latens_lti_workspace_alloc(n + 1);
  if (!s || !s->Ad || !s->lw) {
    latens_sde_lti_sampler_free(s);
    latens_errorf(__FILE__, __LINE__, LATENS_ENOMEM, "%s: out of memory", fn);
    return NULL;
  }
  s->M = M, s->dt = NAN;
  s->Lq = s->Ad + n * n, s->L0 = s->Lq + n * n, s->bd = s->L0 + n * n, s->tmp = s->bd + n;
  if (chol_copy(M->P0, n, s->L0, "P0")) {
    latens_sde_lti_sampler_free(s);
    return NULL;
  }
  return s;
}

/* z <- mean + L e for each particle, e ~ N(0, I). */
static void gauss_move(const double *L, size_t n, double *z, double *e, latens_rng *rng) {
  latens_rng_fill_normal(rng, e, n, 0.0, 1.0);
  for (size_t i = n; i-- > 0;) {
    double v = 0;
    for (size_t j = 0; j <= i; j++) v += L[i + j * n] * e[j];
    z[i] += v;
  }
}

static int lti_init(double t0, double *Z, size_t n, size_t N, latens_rng *rng, void *user) {
  latens_sde_lti_sampler *s = user;
  (void)t0;
  for (size_t i = 0; i < N; i++) {
    memcpy(Z + i * n, s->M->m0, n * sizeof *Z);
    gauss_move(s->L0, n, Z + i * n, s->tmp, rng);
  }
  return LATENS_OK;
}

static int lti_set_step(latens_sde_lti_sampler *s, double dt) {
  const size_t n = s->M->n;
  double *Q = malloc(n * n * sizeof *Q);
  if (!Q) LATENS_ERRORF(LATENS_ENOMEM, "latens_sde_lti_sampler: out of memory");
  int st = latens_sde_lti_transition(s->M, dt, s->Ad, s->bd, Q, s->lw);
  if (!st) st = chol_copy(Q, n, s->Lq, "the transition covariance");
  free(Q);
  s->dt = st ? NAN : dt;
  return st;
}

static int lti_propagate(double t0, double t1, double *Z, size_t n, size_t N, latens_rng *rng,
                         void *user) {
  latens_sde_lti_sampler *s = user;
  const double dt = t1 - t0;
  /* Equally spaced data reuse one transition (steps equal up to the rounding of t1 - t0). */
  if (!(fabs(dt - s->dt) <= 8 * DBL_EPSILON * fmax(fabs(t1), fabs(dt)))) {
    int st = lti_set_step(s, dt);
    if (st) return st;
  }
  if (N > s->cap) { /* one bulk fill of the normals: the generator, not the call, is the cost */
    double *e = realloc(s->eps, latens_mul_size(N, n) * sizeof *e);
    if (!e)
      LATENS_ERRORF(LATENS_ENOMEM, "latens_sde_lti_sampler: out of memory (%zu particles)", N);
    s->eps = e, s->cap = N;
  }
  latens_rng_fill_normal(rng, s->eps, N * n, 0.0, 1.0);
  if (n == 1) {
    const double a = s->Ad[0], b = s->bd[0], l = s->Lq[0];
    const double *restrict e = s->eps;
    for (size_t i = 0; i < N; i++) Z[i] = b + a * Z[i] + l * e[i];
    return LATENS_OK;
  }
  for (size_t i = 0; i < N; i++) {
    double *z = Z + i * n, *zc = s->tmp, *e = s->eps + i * n;
    memcpy(zc, z, n * sizeof *z);
    for (size_t a = 0; a < n; a++) {
      double v = s->bd[a];
      for (size_t c = 0; c < n; c++) v += s->Ad[a + c * n] * zc[c];
      for (size_t c = 0; c <= a; c++) v += s->Lq[a + c * n] * e[c];
      z[a] = v;
    }
  }
  return LATENS_OK;
}

/* log N(zt; Ad zs + bd, Lq Lq^T) with the cached transition (a failure to discretise gives
 * NaN, which the categorical draw reports). */
static double lti_logtrans(double t0, double t1, const double *zs, const double *zt, size_t n,
                           void *user) {
  latens_sde_lti_sampler *s = user;
  const double dt = t1 - t0;
  if (!(fabs(dt - s->dt) <= 8 * DBL_EPSILON * fmax(fabs(t1), fabs(dt))) && lti_set_step(s, dt))
    return NAN;
  double *r = s->tmp, ss = 0, ld = 0;
  for (size_t a = 0; a < n; a++) {
    double v = zt[a] - s->bd[a];
    for (size_t c = 0; c < n; c++) v -= s->Ad[a + c * n] * zs[c];
    for (size_t c = 0; c < a; c++) v -= s->Lq[a + c * n] * r[c];
    r[a] = v / s->Lq[a + a * n];
    ss += r[a] * r[a], ld += log(s->Lq[a + a * n]);
  }
  return -0.5 * ((double)n * LOG_2PI + ss) - ld;
}

latens_sde_pf_model latens_sde_lti_sampler_model(latens_sde_lti_sampler *s) {
  latens_sde_pf_model m = {0, 0.0, NULL, NULL, NULL, NULL};
  if (!s) return m;
  m.n = s->M->n, m.t0 = s->M->t0, m.init = lti_init, m.propagate = lti_propagate, m.user = s;
  m.logtrans = lti_logtrans;
  return m;
}
