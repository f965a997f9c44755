/* sde/moments.c: mean and covariance ODEs of the linearised SDE through core ode.h (CVODES),
 * the extended Kalman filter built on them, and the solver-driven particle sampler for any
 * latens_sde_model. */
#include "infer_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct latens_sde_moments {
  const latens_sde_model *model;
  const latens_sde_model *cur; /* what the right-hand side evaluates: model, or &shadow */
  latens_sde_model shadow;     /* sensitivities: the model with theta read from CVODES' p */
  latens_ode *ode_p;           /* the parameterised problem, made on first use */
  latens_ode *ode_phi;         /* moments and the mean's transition matrix (smoother) */
  double *yphi;                /* n + 2 n^2 */
  latens_sde_moments_kind kind;
  size_t n, nm;        /* state and Brownian dimensions */
  double *Ls, *X, *fX; /* unscented: factor of P (n x n), a sigma point and its drift (n) */
  latens_ode *ode;
  double *F, *G, *y; /* n x n, n x nm, n + n^2 */
  latens_ode_options opt;
};

void latens_sde_moments_free(latens_sde_moments *w) {
  if (!w) return;
  latens_ode_free(w->ode), latens_ode_free(w->ode_p), latens_ode_free(w->ode_phi);
  free(w->F), free(w->shadow.theta), free(w->yphi), free(w);
}

/* Unscented closure: dm = sum W_i f(X_i), dP = sum W_i [f_i (X_i - m)^T + (X_i - m) f_i^T
 * + G G^T(X_i)].  A P that stopped being positive definite is a recoverable failure (CVODE
 * retries with a smaller step). */
static int unscented_rhs(latens_sde_moments *w, double t, const double *y, double *dy) {
  const size_t n = w->n, nm = w->nm;
  const double *m = y, *P = y + n;
  double *dP = dy + n;
  const double k = n < 3 ? 3.0 - (double)n : 0.0, c = sqrt((double)n + k);
  memcpy(w->Ls, P, n * n * sizeof *P);
  latens_mat L = latens_mat_view(w->Ls, n, n, n);
  latens_error_quiet_begin();
  int s = latens_chol_decomp(&L, NULL, NULL);
  latens_error_quiet_end();
  if (s) return 1;
  memset(dy, 0, (n + n * n) * sizeof *dy);
  for (size_t pt = 0; pt < 2 * n + 1; pt++) {
    const double wt = pt == 0 ? k / ((double)n + k) : 0.5 / ((double)n + k);
    if (wt == 0) continue;
    const double sg = pt == 0 ? 0 : pt <= n ? c : -c;
    const size_t col = pt == 0 ? 0 : (pt - 1) % n;
    for (size_t i = 0; i < n; i++) w->X[i] = m[i] + sg * w->Ls[i + col * n];
    if ((s = latens_sde_model_drift(w->cur, t, w->X, w->fX)) ||
        (s = latens_sde_model_diffusion_matrix(w->cur, t, w->X, w->G)))
      return -s;
    for (size_t j = 0; j < n; j++) {
      dy[j] += wt * w->fX[j];
      for (size_t i = 0; i < n; i++) {
        double v = w->fX[i] * (w->X[j] - m[j]) + (w->X[i] - m[i]) * w->fX[j];
        for (size_t q = 0; q < nm; q++) v += w->G[i + q * n] * w->G[j + q * n];
        dP[i + j * n] += wt * v;
      }
    }
  }
  return 0;
}

/* y = [m; P]: dm = f(m), dP = F P + P F^T + G G^T.  A callback failure is fatal (-status). */
static int moments_rhs(double t, const double *y, double *dy, void *user) {
  latens_sde_moments *w = user;
  if (w->kind == LATENS_SDE_MOMENTS_UNSCENTED) return unscented_rhs(w, t, y, dy);
  const size_t n = w->n, nm = w->nm;
  const double *P = y + n;
  double *dP = dy + n;
  int s;
  if ((s = latens_sde_model_drift(w->cur, t, y, dy)) ||
      (s = latens_sde_model_drift_jacobian(w->cur, t, y, w->F)) ||
      (s = latens_sde_model_diffusion_matrix(w->cur, t, y, w->G)))
    return -s;
  for (size_t j = 0; j < n; j++)
    for (size_t i = 0; i < n; i++) {
      double v = 0;
      for (size_t k = 0; k < n; k++)
        v += w->F[i + k * n] * P[k + j * n] + P[i + k * n] * w->F[j + k * n];
      for (size_t k = 0; k < nm; k++) v += w->G[i + k * n] * w->G[j + k * n];
      dP[i + j * n] = v;
    }
  return 0;
}

latens_sde_moments *latens_sde_moments_alloc(const latens_sde_model *model,
                                             latens_sde_moments_kind kind,
                                             const latens_ode_options *opt) {
  static const char fn[] = "latens_sde_moments_alloc";
  if (!model) {
    latens_errorf(__FILE__, __LINE__, LATENS_EINVAL, "%s: model is NULL", fn);
    return NULL;
  }
  if (latens_sde_model_check(model)) return NULL;
  if (kind != LATENS_SDE_MOMENTS_LINEARISED && kind != LATENS_SDE_MOMENTS_UNSCENTED) {
    latens_errorf(__FILE__, __LINE__, LATENS_EINVAL, "%s: unknown kind %d", fn, (int)kind);
    return NULL;
  }
  const size_t n = model->d, nm = model->m;
  if (n > 64) {
    latens_errorf(__FILE__, __LINE__, LATENS_EINVAL, "%s: d = %zu > 64", fn, n);
    return NULL;
  }
  latens_ode_options o;
  latens_ode_options_default(&o);
  o.rtol = 1e-9, o.atol = 1e-12;
  if (opt) o = *opt;
  latens_sde_moments *w = calloc(1, sizeof *w);
  if (w) w->F = malloc((2 * n * n + n * nm + 3 * n + n * n) * sizeof *w->F);
  if (!w || !w->F) {
    latens_sde_moments_free(w);
    latens_errorf(__FILE__, __LINE__, LATENS_ENOMEM, "%s: out of memory", fn);
    return NULL;
  }
  w->model = w->cur = model, w->kind = kind, w->n = n, w->nm = nm;
  w->opt = o;
  w->G = w->F + n * n, w->y = w->G + n * nm, w->Ls = w->y + n + n * n, w->X = w->Ls + n * n;
  w->fX = w->X + n;
  if (!(w->ode = latens_ode_alloc(n + n * n, moments_rhs, NULL, w, &o))) {
    latens_sde_moments_free(w);
    return NULL;
  }
  return w;
}

int latens_sde_moments_propagate(latens_sde_moments *w, double t0, double t1, double *m,
                                 double *P) {
  static const char fn[] = "latens_sde_moments_propagate";
  if (!w || !m || !P) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  if (!isfinite(t0) || !isfinite(t1))
    LATENS_ERRORF(LATENS_ENOTFINITE, "%s: t0 = %g, t1 = %g", fn, t0, t1);
  if (t1 < t0) LATENS_ERRORF(LATENS_EDOM, "%s: t1 = %g < t0 = %g", fn, t1, t0);
  const size_t n = w->n;
  if (!latens_all_finite(m, n) || !latens_all_finite(P, n * n))
    LATENS_ERRORF(LATENS_ENOTFINITE, "%s: NaN or Inf in m or P", fn);
  if (t1 == t0) return LATENS_OK;
  memcpy(w->y, m, n * sizeof *m), memcpy(w->y + n, P, n * n * sizeof *P);
  int s = latens_ode_solve(w->ode, t0, w->y, 1, &t1, w->y, n + n * n, NULL);
  if (s) return s;
  memcpy(m, w->y, n * sizeof *m), memcpy(P, w->y + n, n * n * sizeof *P);
  latens_dense_symmetrize(P, n, n);
  return LATENS_OK;
}

static int moments_rhs_p(double t, const double *y, const double *p, double *dy, void *user) {
  latens_sde_moments *w = user;
  memcpy(w->shadow.theta, p, w->shadow.ntheta * sizeof *p);
  return moments_rhs(t, y, dy, w);
}

int latens_sde_moments_propagate_sens(latens_sde_moments *w, double t0, double t1, double *m,
                                      double *P, double *S, size_t lds) {
  static const char fn[] = "latens_sde_moments_propagate_sens";
  if (!w || !m || !P || !S) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  const size_t n = w->n, ny = n + n * n, np = w->model->ntheta;
  if (np == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: model '%s' has no parameters", fn, w->model->name);
  if (lds < ny) LATENS_ERRORF(LATENS_EINVAL, "%s: lds = %zu < d + d^2 = %zu", fn, lds, ny);
  if (!isfinite(t0) || !isfinite(t1) || !(t1 >= t0))
    LATENS_ERRORF(LATENS_EDOM, "%s: need finite t0 <= t1 (t0 = %g, t1 = %g)", fn, t0, t1);
  if (!latens_all_finite(m, n) || !latens_all_finite(P, n * n))
    LATENS_ERRORF(LATENS_ENOTFINITE, "%s: NaN or Inf in m or P", fn);
  if (t1 == t0) return LATENS_OK;
  if (!w->ode_p) {
    if (!(w->shadow.theta = malloc(np * sizeof(double))))
      LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn);
    if (!(w->ode_p = latens_ode_alloc_param(ny, np, moments_rhs_p, NULL, NULL, w, &w->opt)))
      return LATENS_ENOMEM;
  }
  double *th = w->shadow.theta;
  w->shadow = *w->model, w->shadow.theta = th; /* a shallow copy reading theta from p */
  memcpy(th, w->model->theta, np * sizeof *th);
  double *buf = malloc((ny + ny * np) * sizeof *buf);
  if (!buf) LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn);
  memcpy(buf, m, n * sizeof *m), memcpy(buf + n, P, n * n * sizeof *P);
  w->cur = &w->shadow;
  int s = latens_ode_solve_param(w->ode_p, w->model->theta, t0, buf, S, lds, 1, &t1, buf, ny,
                                 buf + ny, ny, NULL);
  w->cur = w->model;
  if (!s) {
    memcpy(m, buf, n * sizeof *m), memcpy(P, buf + n, n * n * sizeof *P);
    latens_dense_symmetrize(P, n, n);
    for (size_t j = 0; j < np; j++) memcpy(S + j * lds, buf + ny + j * ny, ny * sizeof *S);
  }
  free(buf);
  return s;
}

/* [m; P; Phi]: the moments and dPhi/dt = F(m) Phi, Phi(t0) = I, the Jacobian of the mean's
 * flow, which is the transition matrix the RTS recursion needs (exp(A dt) when linear). */
static int phi_rhs(double t, const double *y, double *dy, void *user) {
  latens_sde_moments *w = user;
  const size_t n = w->n, nn = n * n;
  int s = moments_rhs(t, y, dy, w);
  if (s) return s;
  if ((s = latens_sde_model_drift_jacobian(w->cur, t, y, w->F))) return -s;
  for (size_t j = 0; j < n; j++)
    for (size_t i = 0; i < n; i++) {
      double v = 0;
      for (size_t k = 0; k < n; k++) v += w->F[i + k * n] * y[n + nn + k + j * n];
      dy[n + nn + i + j * n] = v;
    }
  return 0;
}

static int propagate_phi(latens_sde_moments *w, double t0, double t1, double *m, double *P,
                         double *Phi) {
  const size_t n = w->n, nn = n * n, ny = n + 2 * nn;
  for (size_t q = 0; q < nn; q++) Phi[q] = q % (n + 1) == 0;
  if (t1 == t0) return LATENS_OK;
  if (!w->ode_phi) {
    if (!(w->yphi = malloc(ny * sizeof *w->yphi)))
      LATENS_ERRORF(LATENS_ENOMEM, "latens_sde_moments_smooth: out of memory");
    if (!(w->ode_phi = latens_ode_alloc(ny, phi_rhs, NULL, w, &w->opt))) return LATENS_ENOMEM;
  }
  double *y = w->yphi;
  memcpy(y, m, n * sizeof *m), memcpy(y + n, P, nn * sizeof *P),
      memcpy(y + n + nn, Phi, nn * sizeof *P);
  int s = latens_ode_solve(w->ode_phi, t0, y, 1, &t1, y, ny, NULL);
  if (s) return s;
  memcpy(m, y, n * sizeof *m), memcpy(P, y + n, nn * sizeof *P),
      memcpy(Phi, y + n + nn, nn * sizeof *P);
  latens_dense_symmetrize(P, n, n);
  return LATENS_OK;
}

/* Forward pass; with mp, Pp, Phi (per time) stored for the smoother when they are given. */
static int gauss_pass(const char *fn, latens_sde_moments *w, double t0, const double *m0,
                      const double *P0, const latens_sde_readout *ro, const latens_sde_data *y,
                      double *mf, double *Pf, double *mp, double *Pp, double *Phi, double *loglik) {
  if (loglik) *loglik = NAN;
  if (!w || !m0 || !P0 || !ro || !y) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  const size_t n = w->n, nn = n * n, p = y->p;
  /* The model's own arrays are checked by its callbacks; reuse the linear checks for the
   * rest with a dummy linear model carrying m0, P0 and t0. */
  latens_sde_lti probe = {n, t0, P0, NULL, P0, m0, P0};
  int s = latens_sde_check(fn, &probe, ro, y);
  if (s) return s;
  if (ro->kind != LATENS_SDE_READOUT_GAUSSIAN)
    LATENS_ERRORF(LATENS_EUNIMPL, "%s: the Gaussian filters need a Gaussian readout", fn);
  latens_kalman_workspace *kw = latens_kalman_workspace_alloc(n, p);
  double *buf = malloc((nn + n + p) * sizeof *buf);
  if (!kw || !buf) {
    latens_kalman_workspace_free(kw), free(buf);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn);
  }
  double *P = buf, *m = P + nn, *yhat = m + n, ll = 0, tprev = t0;
  memcpy(m, m0, n * sizeof *m), memcpy(P, P0, nn * sizeof *P);
  latens_vec mv = latens_vec_view(m, n, 1), yh = latens_vec_view(yhat, p, 1);
  latens_mat Pm = latens_mat_view(P, n, n, n);
  latens_mat H = latens_mat_view((double *)ro->C, p, n, p),
             R = latens_mat_view((double *)ro->R, p, p, p);
  for (size_t k = 0; k < y->T && !s; k++) {
    double llk = 0;
    s = Phi ? propagate_phi(w, tprev, y->t[k], m, P, Phi + k * nn)
            : latens_sde_moments_propagate(w, tprev, y->t[k], m, P);
    if (s) break;
    tprev = y->t[k];
    if (mp) memcpy(mp + k * n, m, n * sizeof *m), memcpy(Pp + k * nn, P, nn * sizeof *P);
    for (size_t i = 0; i < p && ro->d; i++) {
      double e = ro->d[i];
      for (size_t j = 0; j < n; j++) e += ro->C[i + j * p] * m[j];
      yhat[i] = e;
    }
    latens_vec yk = latens_vec_view((double *)y->x + k * y->ldx, p, 1);
    if ((s = latens_kalman_update(&yk, ro->d ? &yh : NULL, &H, &R, NULL, &mv, &Pm, &llk, kw)))
      break;
    ll += llk;
    if (mf) memcpy(mf + k * n, m, n * sizeof *m);
    if (Pf) memcpy(Pf + k * nn, P, nn * sizeof *P);
  }
  latens_kalman_workspace_free(kw), free(buf);
  if (s) return s;
  if (loglik) *loglik = ll;
  return LATENS_OK;
}

int latens_sde_moments_filter(latens_sde_moments *w, double t0, const double *m0, const double *P0,
                              const latens_sde_readout *ro, const latens_sde_data *y, double *mf,
                              double *Pf, double *loglik) {
  return gauss_pass("latens_sde_moments_filter", w, t0, m0, P0, ro, y, mf, Pf, NULL, NULL, NULL,
                    loglik);
}

int latens_sde_moments_smooth(latens_sde_moments *w, double t0, const double *m0, const double *P0,
                              const latens_sde_readout *ro, const latens_sde_data *y, double *ms,
                              double *Ps, double *loglik) {
  static const char fn[] = "latens_sde_moments_smooth";
  if (!w || !y) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  const size_t n = w->n, nn = n * n, T = y->T, tot = latens_mul_size(T, 2 * n + 3 * nn);
  double *buf = tot ? malloc(tot * sizeof *buf) : NULL;
  if (!buf) LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory (T = %zu)", fn, T);
  double *mf = buf, *mp = mf + T * n, *Pf = mp + T * n, *Pp = Pf + T * nn, *Phi = Pp + T * nn;
  int s = gauss_pass(fn, w, t0, m0, P0, ro, y, mf, Pf, mp, Pp, Phi, loglik);
  if (!s) s = sde_rts_inplace(n, T, Phi, mf, Pf, mp, Pp);
  if (!s) {
    if (ms) memcpy(ms, mf, T * n * sizeof *ms);
    if (Ps) memcpy(Ps, Pf, T * nn * sizeof *Ps);
  } else if (loglik) {
    *loglik = NAN;
  }
  free(buf);
  return s;
}

int latens_sde_lti_from_model(const latens_sde_model *model, double t0, double *A, double *b,
                              double *Sigma) {
  static const char fn[] = "latens_sde_lti_from_model";
  if (!model || !A || !b || !Sigma) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  if (!model->linear)
    LATENS_ERRORF(LATENS_EUNIMPL, "%s: model '%s' has no linear form", fn, model->name);
  const size_t n = model->d, nm = model->m;
  double *G = malloc(n * nm * sizeof *G);
  if (!G) LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn);
  int s = model->linear(t0, model->theta, model->user, A, b, G);
  if (s) {
    free(G);
    LATENS_ERRORF(s > 0 && s < LATENS_NSTATUS ? s : LATENS_EFAILED,
                  "%s: the model's linear "
                  "callback failed (%d)",
                  fn, s);
  }
  for (size_t j = 0; j < n; j++)
    for (size_t i = 0; i < n; i++) {
      double v = 0;
      for (size_t k = 0; k < nm; k++) v += G[i + k * n] * G[j + k * n];
      Sigma[i + j * n] = v;
    }
  free(G);
  return LATENS_OK;
}

/* ---------------------------------------------------------------- solver-driven sampler */

struct latens_sde_path_sampler {
  const latens_sde_model *model;
  latens_sde_options opt;
  double t0;
  const double *m0;
  double *L0, *X, *e; /* d x d factor of P0, d x 2 path, d normals */
};

void latens_sde_path_sampler_free(latens_sde_path_sampler *s) {
  if (!s) return;
  free(s->L0), free(s);
}

latens_sde_path_sampler *latens_sde_path_sampler_alloc(const latens_sde_model *model,
                                                       const latens_sde_options *opt, double t0,
                                                       const double *m0, const double *P0) {
  static const char fn[] = "latens_sde_path_sampler_alloc";
  if (!model || !m0 || !P0) {
    latens_errorf(__FILE__, __LINE__, LATENS_EINVAL, "%s: NULL argument", fn);
    return NULL;
  }
  if (latens_sde_model_check(model)) return NULL;
  const size_t n = model->d;
  if (!isfinite(t0) || !latens_all_finite(m0, n) || !latens_all_finite(P0, n * n)) {
    latens_errorf(__FILE__, __LINE__, LATENS_ENOTFINITE, "%s: NaN or Inf in t0, m0 or P0", fn);
    return NULL;
  }
  latens_sde_path_sampler *s = calloc(1, sizeof *s);
  if (s) s->L0 = malloc((n * n + 3 * n) * sizeof *s->L0);
  if (!s || !s->L0) {
    latens_sde_path_sampler_free(s);
    latens_errorf(__FILE__, __LINE__, LATENS_ENOMEM, "%s: out of memory", fn);
    return NULL;
  }
  s->model = model, s->t0 = t0, s->m0 = m0, s->X = s->L0 + n * n, s->e = s->X + 2 * n;
  latens_sde_options_default(&s->opt);
  if (opt) s->opt = *opt;
  memcpy(s->L0, P0, n * n * sizeof *P0);
  latens_mat L = latens_mat_view(s->L0, n, n, n);
  if (latens_chol_decomp(&L, NULL, NULL)) {
    latens_sde_path_sampler_free(s);
    latens_errorf(__FILE__, __LINE__, LATENS_ENOTPOSDEF, "%s: P0 is not positive definite", fn);
    return NULL;
  }
  return s;
}

static int model_init(double t0, double *Z, size_t n, size_t N, latens_rng *rng, void *user) {
  latens_sde_path_sampler *s = user;
  (void)t0;
  for (size_t i = 0; i < N; i++) {
    latens_rng_fill_normal(rng, s->e, n, 0.0, 1.0);
    for (size_t a = 0; a < n; a++) {
      double v = s->m0[a];
      for (size_t c = 0; c <= a; c++) v += s->L0[a + c * n] * s->e[c];
      Z[a + i * n] = v;
    }
  }
  return LATENS_OK;
}

static int model_propagate(double t0, double t1, double *Z, size_t n, size_t N, latens_rng *rng,
                           void *user) {
  latens_sde_path_sampler *s = user;
  const double t[2] = {t0, t1};
  latens_mat X = latens_mat_view(s->X, n, 2, n);
  for (size_t i = 0; i < N; i++) {
    int st = latens_sde_solve(s->model, &s->opt, Z + i * n, t, 2, rng, &X, NULL, NULL);
    if (st) return st;
    memcpy(Z + i * n, s->X + n, n * sizeof *Z);
  }
  return LATENS_OK;
}

latens_sde_pf_model latens_sde_path_sampler_model(latens_sde_path_sampler *s) {
  latens_sde_pf_model m = {0, 0.0, NULL, NULL, NULL, NULL};
  if (!s) return m;
  m.n = s->model->d, m.t0 = s->t0, m.init = model_init, m.propagate = model_propagate, m.user = s;
  return m;
}
