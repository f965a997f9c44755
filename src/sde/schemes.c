/* sde/schemes.c: one step of each scheme on a general model (callbacks, any d and m).
 *
 * SRIW1 and SRA1 are Rossler's (SIAM J. Numer. Anal. 48(3), 2010) in the form of Rackauckas &
 * Nie (2017), with chi1 = I_(1,1)/sqrt(h), chi2 = I_(1,0)/h = dZ/h, chi3 = I_(1,1,1)/h, and
 * their embedded error estimate (delta E1 + E2).  Their orders are checked by the tests, not
 * assumed. */
#include "sde_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int sde_eval_f(sde_ws *w, double t, const double *x, double *f) {
  const latens_sde_model *md = w->model;
  w->nf++;
  int rc = md->both ? md->both(t, x, md->theta, md->user, f, NULL)
                    : md->drift(t, x, md->theta, md->user, f);
  return rc ? sde_callback_failed(rc, "drift", t) : LATENS_OK;
}

int sde_eval_g(sde_ws *w, double t, const double *x, double *g) {
  const latens_sde_model *md = w->model;
  w->ng++;
  int rc = md->both ? md->both(t, x, md->theta, md->user, NULL, g)
                    : md->diffusion(t, x, md->theta, md->user, g);
  return rc ? sde_callback_failed(rc, "diffusion", t) : LATENS_OK;
}

int sde_eval_fg(sde_ws *w, double t, const double *x, double *f, double *g) {
  const latens_sde_model *md = w->model;
  if (!md->both) {
    int s = sde_eval_f(w, t, x, f);
    return s ? s : sde_eval_g(w, t, x, g);
  }
  w->nf++, w->ng++;
  int rc = md->both(t, x, md->theta, md->user, f, g);
  return rc ? sde_callback_failed(rc, "drift/diffusion", t) : LATENS_OK;
}

int sde_options_check(const latens_sde_options *o, const char *fn) {
  if (!o) LATENS_ERRORF(LATENS_EINVAL, "%s: options are NULL", fn);
  if ((unsigned)o->scheme > LATENS_SDE_IMPLICIT_EM)
    LATENS_ERRORF(LATENS_EINVAL, "%s: unknown scheme %d", fn, (int)o->scheme);
  if (!(o->dt > 0) || !isfinite(o->dt))
    LATENS_ERRORF(LATENS_EDOM, "%s: step dt = %g must be finite and > 0", fn, o->dt);
  if (o->adaptive) {
    if (!(o->abstol >= 0) || !(o->reltol >= 0) || !(o->abstol + o->reltol > 0) ||
        !isfinite(o->abstol + o->reltol))
      LATENS_ERRORF(LATENS_EDOM, "%s: tolerances abstol = %g, reltol = %g must be >= 0, not both 0",
                    fn, o->abstol, o->reltol);
    if (!(o->delta >= 0) || !isfinite(o->delta))
      LATENS_ERRORF(LATENS_EDOM, "%s: delta = %g must be finite and >= 0", fn, o->delta);
    if (!(o->dtmax > 0))
      LATENS_ERRORF(LATENS_EDOM, "%s: dtmax = %g must be > 0", fn, o->dtmax);
    if (o->max_depth < 1 || o->max_depth > 48)
      LATENS_ERRORF(LATENS_EDOM, "%s: max_depth = %d outside 1..48", fn, o->max_depth);
    if (o->max_steps == 0) LATENS_ERRORF(LATENS_EDOM, "%s: max_steps is 0", fn);
  }
  if (o->scheme == LATENS_SDE_IMPLICIT_EM && (!(o->newton_tol > 0) || o->newton_maxiter < 1))
    LATENS_ERRORF(LATENS_EDOM, "%s: newton_tol = %g and newton_maxiter = %d must be positive", fn,
                  o->newton_tol, o->newton_maxiter);
  if (o->threads < 0) LATENS_ERRORF(LATENS_EDOM, "%s: threads = %d < 0", fn, o->threads);
  if ((unsigned)o->rng > LATENS_SDE_RNG_FAST)
    LATENS_ERRORF(LATENS_EINVAL, "%s: unknown rng %d (0 philox, 1 fast)", fn, o->rng);
  if (o->rng == LATENS_SDE_RNG_FAST && o->adaptive)
    LATENS_ERRORF(LATENS_EINVAL, "%s: rng = fast with adaptive steps: the adaptive Brownian tree "
                  "needs addressable draws: use rng = philox", fn);
  return LATENS_OK;
}

static int is_diag(const latens_sde_model *md) {
  return md->noise == LATENS_SDE_NOISE_DIAGONAL || md->noise == LATENS_SDE_NOISE_SCALAR ||
         (md->d == 1 && md->m == 1);
}

int sde_scheme_check(const latens_sde_model *md, const latens_sde_options *o, const char *fn,
                     int *need_dz) {
  const char *nm = latens_sde_scheme_name(o->scheme);
  *need_dz = o->scheme == LATENS_SDE_SRI || o->scheme == LATENS_SDE_SRA;
  switch (o->scheme) {
  case LATENS_SDE_MILSTEIN:
  case LATENS_SDE_SRI:
    if (!is_diag(md))
      LATENS_ERRORF(LATENS_EINVAL, "%s: scheme %s needs diagonal or scalar noise (model '%s' has "
                    "a %zux%zu diffusion)", fn, nm, md->name, md->d, md->m);
    if (o->scheme == LATENS_SDE_SRI && md->calculus != LATENS_SDE_ITO)
      LATENS_ERRORF(LATENS_EINVAL, "%s: scheme sri is for Ito models; '%s' is Stratonovich (use "
                    "heun or milstein)", fn, md->name);
    break;
  case LATENS_SDE_EM:
  case LATENS_SDE_IMPLICIT_EM:
    /* Ito and Stratonovich agree only for additive noise; otherwise these schemes would
     * silently solve the Ito reading of a Stratonovich model */
    if (md->calculus != LATENS_SDE_ITO && md->noise != LATENS_SDE_NOISE_ADDITIVE)
      LATENS_ERRORF(LATENS_EINVAL, "%s: scheme %s is for Ito models; '%s' is Stratonovich with "
                    "state-dependent noise (use heun or milstein)", fn, nm, md->name);
    break;
  case LATENS_SDE_HEUN:
    if (md->calculus != LATENS_SDE_STRATONOVICH && md->noise != LATENS_SDE_NOISE_ADDITIVE)
      LATENS_ERRORF(LATENS_EINVAL, "%s: scheme heun solves Stratonovich SDEs; '%s' is Ito with "
                    "state-dependent noise (set the Stratonovich reading, or use em, milstein or "
                    "sri)", fn, md->name);
    break;
  case LATENS_SDE_SRA:
    if (md->noise != LATENS_SDE_NOISE_ADDITIVE)
      LATENS_ERRORF(LATENS_EINVAL, "%s: scheme sra needs additive noise (model '%s')", fn,
                    md->name);
    break;
  default: break;
  }
  if (o->adaptive && !*need_dz)
    LATENS_ERRORF(LATENS_EUNIMPL, "%s: adaptive steps need scheme sri or sra, not %s", fn, nm);
  return LATENS_OK;
}

int sde_ws_init(sde_ws *w, const latens_sde_model *md, const latens_sde_options *opt,
                const char *fn) {
  memset(w, 0, sizeof *w);
  w->model = md, w->opt = opt, w->d = md->d, w->m = md->m;
  w->diag = is_diag(md);
  w->scalar = md->noise == LATENS_SDE_NOISE_SCALAR;
  w->glen = w->diag ? md->d : md->d * md->m;
  size_t d = w->d, n = 6 * d + 4 * w->glen + d * d + 3 * w->m + SDE_ZBUF;
  w->buf = malloc(n * sizeof *w->buf);
  w->piv = malloc(d * sizeof *w->piv);
  if (!w->buf || !w->piv) {
    sde_ws_free(w);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory for a workspace of %zu doubles", fn, n);
  }
  double *p = w->buf;
  w->f1 = p, p += d;
  w->f2 = p, p += d;
  w->y1 = p, p += d;
  w->y2 = p, p += d;
  w->y3 = p, p += d;
  w->y4 = p, p += d;
  w->g1 = p, p += w->glen;
  w->g2 = p, p += w->glen;
  w->g3 = p, p += w->glen;
  w->g4 = p, p += w->glen;
  w->J = p, p += d * d;
  w->ch = p, p += 3 * w->m;
  w->zbuf = p;
  return LATENS_OK;
}

void sde_ws_free(sde_ws *w) {
  free(w->buf), free(w->piv);
  w->buf = NULL, w->piv = NULL;
}

/* out += a * g v, v an m-vector (dW or chi). */
static void gmul(const sde_ws *w, const double *g, const double *v, double a, double *out) {
  size_t d = w->d;
  if (w->diag) {
    if (w->scalar)
      for (size_t i = 0; i < d; i++) out[i] += a * g[i] * v[0];
    else
      for (size_t i = 0; i < d; i++) out[i] += a * g[i] * v[i];
    return;
  }
  for (size_t k = 0; k < w->m; k++) {
    double s = a * v[k];
    const double *gk = g + k * d;
    for (size_t i = 0; i < d; i++) out[i] += gk[i] * s;
  }
}

static int step_em(sde_ws *w, double t, double h, double *x, const double *dW) {
  int s = sde_eval_fg(w, t, x, w->f1, w->g1);
  if (s) return s;
  for (size_t i = 0; i < w->d; i++) x[i] += w->f1[i] * h;
  gmul(w, w->g1, dW, 1.0, x);
  return LATENS_OK;
}

static int step_heun(sde_ws *w, double t, double h, double *x, const double *dW) {
  size_t d = w->d;
  int s = sde_eval_fg(w, t, x, w->f1, w->g1);
  if (s) return s;
  for (size_t i = 0; i < d; i++) w->y1[i] = x[i] + w->f1[i] * h;
  gmul(w, w->g1, dW, 1.0, w->y1);
  if ((s = sde_eval_fg(w, t + h, w->y1, w->f2, w->g2))) return s;
  for (size_t i = 0; i < d; i++) x[i] += 0.5 * (w->f1[i] + w->f2[i]) * h;
  gmul(w, w->g1, dW, 0.5, x);
  gmul(w, w->g2, dW, 0.5, x);
  return LATENS_OK;
}

static int step_milstein(sde_ws *w, double t, double h, double *x, const double *dW) {
  const latens_sde_model *md = w->model;
  size_t d = w->d;
  const int ito = md->calculus == LATENS_SDE_ITO;
  int s = sde_eval_fg(w, t, x, w->f1, w->g1);
  if (s) return s;
  double *dg = w->g2;
  if (md->diffusion_deriv) {
    w->ng++;
    int rc = md->diffusion_deriv(t, x, md->theta, md->user, dg);
    if (rc) return sde_callback_failed(rc, "diffusion_deriv", t);
    if (!w->scalar)
      for (size_t i = 0; i < d; i++) dg[i] *= w->g1[i];
  } else if (ito) {
    /* Kloeden & Platen's derivative-free form: the difference of g along sqrt(h) g replaces
     * g g' to the order that matters, at one g call instead of d.  Its O(sqrt h) error
     * multiplies dW^2 - h, which has mean 0, so the strong order stays 1. */
    double sh = sqrt(h);
    for (size_t i = 0; i < d; i++) w->y1[i] = x[i] + w->f1[i] * h + w->g1[i] * sh;
    if ((s = sde_eval_g(w, t, w->y1, dg))) return s;
    for (size_t i = 0; i < d; i++) dg[i] = (dg[i] - w->g1[i]) / sh;
  } else {
    /* Stratonovich: the correction multiplies dW^2 (mean h), so a one-sided difference's
     * O(sqrt h) bias would accumulate to a global error O(sqrt h) (measured: order 0.46);
     * the central difference's bias is O(h). */
    double sh = sqrt(h);
    for (size_t i = 0; i < d; i++) {
      w->y1[i] = x[i] + w->g1[i] * sh;
      w->y2[i] = x[i] - w->g1[i] * sh;
    }
    if ((s = sde_eval_g(w, t, w->y1, dg)) || (s = sde_eval_g(w, t, w->y2, w->g3))) return s;
    for (size_t i = 0; i < d; i++) dg[i] = (dg[i] - w->g3[i]) / (2 * sh);
  }
  for (size_t i = 0; i < d; i++) {
    double dw = dW[w->scalar ? 0 : i];
    double c = ito ? 0.5 * (dw * dw - h) : 0.5 * dw * dw;
    x[i] += w->f1[i] * h + w->g1[i] * dw + dg[i] * c;
  }
  return LATENS_OK;
}

/* RMS over components of (delta E1 + E2) / (abstol + reltol max(|x|, |u|)). */
static double err_norm(const sde_ws *w, const double *E1, const double *E2, const double *x0,
                       const double *x1) {
  const latens_sde_options *o = w->opt;
  double s = 0;
  for (size_t i = 0; i < w->d; i++) {
    double sc = o->abstol + o->reltol * fmax(fabs(x0[i]), fabs(x1[i]));
    double r = (o->delta * E1[i] + E2[i]) / sc;
    s += r * r;
  }
  return sqrt(s / (double)w->d);
}

static int step_sri(sde_ws *w, double t, double h, double *x, const double *dW, const double *dZ,
                    double *err) {
  size_t d = w->d, nb = w->scalar ? 1 : d;
  double sh = sqrt(h), *c1 = w->ch, *c2 = w->ch + w->m, *c3 = w->ch + 2 * w->m;
  for (size_t k = 0; k < nb; k++) {
    double dw = dW[k];
    c1[k] = (dw * dw - h) / (2 * sh);
    c2[k] = dZ[k] / h;
    c3[k] = (dw * dw * dw - 3 * h * dw) / (6 * h);
  }
  double *fH1 = w->f1, *fH2 = w->f2, *g1 = w->g1, *g2 = w->g2, *g3 = w->g3, *g4 = w->g4;
  double *H0 = w->y1, *H11 = w->y2, *H12 = w->y3, *H13 = w->y4;
  int s = sde_eval_fg(w, t, x, fH1, g1);
  if (s) return s;
  for (size_t i = 0; i < d; i++) {
    size_t k = w->scalar ? 0 : i;
    fH1[i] *= h;
    H0[i] = x[i] + 0.75 * fH1[i] + 1.5 * c2[k] * g1[i];
    H11[i] = x[i] + 0.25 * fH1[i] + 0.5 * sh * g1[i];
    H12[i] = x[i] + fH1[i] - sh * g1[i];
  }
  if ((s = sde_eval_g(w, t + 0.25 * h, H11, g2)) || (s = sde_eval_g(w, t + h, H12, g3))) return s;
  for (size_t i = 0; i < d; i++)
    H13[i] = x[i] + 0.25 * fH1[i] + sh * (-5 * g1[i] + 3 * g2[i] + 0.5 * g3[i]);
  if ((s = sde_eval_g(w, t + 0.25 * h, H13, g4)) || (s = sde_eval_f(w, t + 0.75 * h, H0, fH2)))
    return s;
  double e = 0;
  for (size_t i = 0; i < d; i++) {
    size_t k = w->scalar ? 0 : i;
    fH2[i] *= h;
    double E2 = c2[k] * (2 * g1[i] - 4 * g2[i] / 3 - 2 * g3[i] / 3) +
                c3[k] * (-2 * g1[i] + 5 * g2[i] / 3 - 2 * g3[i] / 3 + g4[i]);
    double u = x[i] + (fH1[i] + 2 * fH2[i]) / 3 + dW[k] * (-g1[i] + 4 * g2[i] / 3 + 2 * g3[i] / 3) +
               c1[k] * (-g1[i] + 4 * g2[i] / 3 - g3[i] / 3) + E2;
    if (err) {
      double sc = w->opt->abstol + w->opt->reltol * fmax(fabs(x[i]), fabs(u));
      double r = (w->opt->delta * (fH1[i] + fH2[i]) + E2) / sc;
      e += r * r;
    }
    x[i] = u;
  }
  if (err) *err = sqrt(e / (double)d);
  return LATENS_OK;
}

static int step_sra(sde_ws *w, double t, double h, double *x, const double *dW, const double *dZ,
                    double *err) {
  size_t d = w->d;
  double *c2 = w->ch, *k1 = w->f1, *k2 = w->f2, *gt = w->g1, *gp = w->g2;
  double *E2 = w->y2, *u = w->y3;
  for (size_t k = 0; k < w->m; k++) c2[k] = dZ[k] / h;
  int s = sde_eval_fg(w, t, x, k1, gt);
  if (s || (s = sde_eval_g(w, t + h, x, gp))) return s;
  for (size_t i = 0; i < d; i++) k1[i] *= h, w->y1[i] = x[i] + 0.75 * k1[i];
  gmul(w, gp, c2, 1.5, w->y1);
  if ((s = sde_eval_f(w, t + 0.75 * h, w->y1, k2))) return s;
  memset(E2, 0, d * sizeof *E2);
  gmul(w, gt, c2, 1.0, E2);
  gmul(w, gp, c2, -1.0, E2);
  for (size_t i = 0; i < d; i++) k2[i] *= h, u[i] = x[i] + k1[i] / 3 + 2 * k2[i] / 3 + E2[i];
  gmul(w, gp, dW, 1.0, u);
  if (err) {
    for (size_t i = 0; i < d; i++) w->y4[i] = k1[i] + k2[i];
    *err = err_norm(w, w->y4, E2, x, u);
  }
  memcpy(x, u, d * sizeof *x);
  return LATENS_OK;
}

/* Solve A z = b in place (A d x d, overwritten by its LU factors); 1 if singular. */
static int lu_solve(double *A, size_t d, size_t *piv, double *b) {
  for (size_t j = 0; j < d; j++) {
    size_t p = j;
    for (size_t i = j + 1; i < d; i++)
      if (fabs(A[i + j * d]) > fabs(A[p + j * d])) p = i;
    if (!(fabs(A[p + j * d]) > 0)) return 1;
    piv[j] = p;
    if (p != j) {
      for (size_t k = 0; k < d; k++) {
        double tmp = A[j + k * d];
        A[j + k * d] = A[p + k * d], A[p + k * d] = tmp;
      }
      double tb = b[j];
      b[j] = b[p], b[p] = tb;
    }
    for (size_t i = j + 1; i < d; i++) {
      double l = A[i + j * d] /= A[j + j * d];
      for (size_t k = j + 1; k < d; k++) A[i + k * d] -= l * A[j + k * d];
      b[i] -= l * b[j];
    }
  }
  for (size_t j = d; j-- > 0;) {
    for (size_t k = j + 1; k < d; k++) b[j] -= A[j + k * d] * b[k];
    b[j] /= A[j + j * d];
  }
  return 0;
}

/* Drift-implicit Euler: y = c + h f(t+h, y), c = x + g(t, x) dW, by Newton from the explicit
 * Euler guess. */
static int step_implicit(sde_ws *w, double t, double h, double *x, const double *dW) {
  size_t d = w->d;
  double *c = w->y1, *y = w->y2, *r = w->y3;
  int s = sde_eval_fg(w, t, x, w->f1, w->g1);
  if (s) return s;
  memcpy(c, x, d * sizeof *x);
  gmul(w, w->g1, dW, 1.0, c);
  for (size_t i = 0; i < d; i++) y[i] = c[i] + h * w->f1[i];
  for (int it = 0; it < w->opt->newton_maxiter; it++) {
    if ((s = sde_eval_f(w, t + h, y, w->f2))) return s;
    for (size_t i = 0; i < d; i++) r[i] = y[i] - h * w->f2[i] - c[i];
    w->nf += 2 * d * (w->model->drift_jac == NULL);
    if ((s = latens_sde_model_drift_jacobian(w->model, t + h, y, w->J))) return s;
    for (size_t j = 0; j < d; j++)
      for (size_t i = 0; i < d; i++) w->J[i + j * d] = (i == j) - h * w->J[i + j * d];
    if (lu_solve(w->J, d, w->piv, r))
      LATENS_ERRORF(LATENS_ESING, "implicit-em: I - h J is singular at t = %g (h = %g)", t + h, h);
    int done = 1;
    for (size_t i = 0; i < d; i++) {
      y[i] -= r[i];
      if (!(fabs(r[i]) <= w->opt->newton_tol * (1 + fabs(y[i])))) done = 0;
    }
    if (done) {
      memcpy(x, y, d * sizeof *x);
      return LATENS_OK;
    }
  }
  LATENS_ERRORF(LATENS_EMAXITER, "implicit-em: Newton did not converge in %d iterations at t = %g "
                "(h = %g)", w->opt->newton_maxiter, t + h, h);
}

int sde_step(sde_ws *w, double t, double h, double *x, const double *dW, const double *dZ,
             double *err) {
  switch (w->opt->scheme) {
  case LATENS_SDE_EM: return step_em(w, t, h, x, dW);
  case LATENS_SDE_MILSTEIN: return step_milstein(w, t, h, x, dW);
  case LATENS_SDE_SRI: return step_sri(w, t, h, x, dW, dZ, err);
  case LATENS_SDE_SRA: return step_sra(w, t, h, x, dW, dZ, err);
  case LATENS_SDE_HEUN: return step_heun(w, t, h, x, dW);
  case LATENS_SDE_IMPLICIT_EM: return step_implicit(w, t, h, x, dW);
  }
  LATENS_ERRORF(LATENS_EINVAL, "sde: unknown scheme %d", (int)w->opt->scheme);
}
