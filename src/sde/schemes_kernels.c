/* sde/schemes_kernels.c: the fixed-step Euler-Maruyama loops, the hot path of ensembles.
 *
 * The normals are drawn in bulk (latens_rng_fill_normal gives exactly the values single
 * draws would), never more than the span needs, so the stream is consumed exactly as by
 * sde_draw_step and paths do not depend on these fast paths.  The step itself skips the
 * scheme dispatch and the increment buffer of the general framework; scalar models skip the
 * loops over d and m, built-in scalar models the callbacks (their formulas inlined with the
 * same arithmetic), and ensembles of them advance four paths at a time so that the four
 * dependency chains through x overlap. */
#include "sde_impl.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* The built-in scalar models' drift F and diffusion G (p: theta), written exactly as in
 * models.c so every value is the one the callbacks would give; tests/sde/test_ensemble.c
 * compares paths bitwise with the same models driven through callbacks. */
#define GBM_F(xv) (p[0] * (xv))
#define GBM_G(xv) (p[1] * (xv))
#define DW_F(xv) ((xv) - (xv) * (xv) * (xv))
#define DW_G(xv) (p[0])
#define OU_F(xv) (p[0] * (p[1] - (xv)))
#define OU_G(xv) (p[2])

/* One step of size H (sqrt SH) from state xq with normal zi: x + (f H + g dW), as the
 * general loop groups it. */
#define EM_STEP(xq, wq, zi, F, G, H, SH)                                                      \
  do {                                                                                        \
    const double dw_ = (zi) * (SH), xc_ = xq, f_ = F(xc_), g_ = G(xc_);                       \
    xq = xc_ + (f_ * (H) + g_ * dw_);                                                         \
    wq += dw_;                                                                                \
  } while (0)

/* em_steps_1d for a built-in model: without a call per step the state stays in a register
 * and the step costs a few instructions beside its normal. */
#define EM_ONE(F, G, i0, i1, H, SH)                                                           \
  for (size_t i = (i0); i < (i1); i++) EM_STEP(xv, wa, z[i], F, G, H, SH);
static void em_steps_builtin(sde_builtin_kind kind, const double *p, const double *z, size_t nb,
                             size_t nlast, double dt, double sdt, double hlast, double *x,
                             double *wacc) {
  double xv = x[0], wa = wacc[0];
  const size_t nmain = nlast < nb ? nlast : nb; /* steps of dt */
  const double sh = sqrt(hlast);
  switch (kind) {
  case SDE_BUILTIN_GBM:
    EM_ONE(GBM_F, GBM_G, 0, nmain, dt, sdt)
    EM_ONE(GBM_F, GBM_G, nmain, nb, hlast, sh)
    break;
  case SDE_BUILTIN_DOUBLE_WELL:
    EM_ONE(DW_F, DW_G, 0, nmain, dt, sdt)
    EM_ONE(DW_F, DW_G, nmain, nb, hlast, sh)
    break;
  default:
    EM_ONE(OU_F, OU_G, 0, nmain, dt, sdt)
    EM_ONE(OU_F, OU_G, nmain, nb, hlast, sh)
    break;
  }
  x[0] = xv, wacc[0] = wa;
}

static int em_stats(latens_sde_stats *st, size_t ns, double dt, double hlast) {
  st->steps += ns;
  if (ns > 1) st->min_step = fmin(st->min_step, dt), st->max_step = fmax(st->max_step, dt);
  st->min_step = fmin(st->min_step, hlast), st->max_step = fmax(st->max_step, hlast);
  return LATENS_OK;
}

/* Four paths of a built-in scalar model at once (sde_em_steps_group).  A single path's step
 * is a chain of four dependent floating-point operations through x, so one path at a time
 * runs at the chain's latency, about twice the cost of drawing its normal; four independent
 * chains interleaved run at the throughput.  Each path's arithmetic is that of
 * em_steps_builtin, value for value.  EM_GROUP: steps i0..i1 of size H (sqrt SH). */
#define EM_GROUP(F, G, i0, i1, H, SH)                                                         \
  for (size_t i = (i0); i < (i1); i++) {                                                      \
    EM_STEP(x0, w0, z0[i], F, G, H, SH);                                                      \
    EM_STEP(x1, w1, z1[i], F, G, H, SH);                                                      \
    EM_STEP(x2, w2, z2[i], F, G, H, SH);                                                      \
    EM_STEP(x3, w3, z3[i], F, G, H, SH);                                                      \
  }

int sde_em_steps_group(sde_ws *w, double t0, double dt, size_t ns, double hlast,
                       double *const *x, latens_rng *const *r, double *const *wacc,
                       latens_sde_stats *st) {
  (void)t0; /* the built-in models are autonomous */
  const sde_builtin_kind kind = sde_builtin_of(w->model);
  const double *p = w->model->theta, sdt = sqrt(dt);
  const size_t per = SDE_ZBUF / SDE_GROUP;
  double *z0 = w->zbuf, *z1 = z0 + per, *z2 = z1 + per, *z3 = z2 + per;
  double x0 = x[0][0], x1 = x[1][0], x2 = x[2][0], x3 = x[3][0];
  double w0 = wacc[0][0], w1 = wacc[1][0], w2 = wacc[2][0], w3 = wacc[3][0];
  for (size_t i0 = 0; i0 < ns; i0 += per) {
    const size_t nb = ns - i0 < per ? ns - i0 : per;
    const size_t nlast = i0 + nb == ns ? nb - 1 : SIZE_MAX, nmain = nlast < nb ? nlast : nb;
    for (int q = 0; q < SDE_GROUP; q++) latens_rng_fill_normal(r[q], z0 + q * per, nb, 0.0, 1.0);
    switch (kind) {
    case SDE_BUILTIN_GBM: EM_GROUP(GBM_F, GBM_G, 0, nmain, dt, sdt) break;
    case SDE_BUILTIN_DOUBLE_WELL: EM_GROUP(DW_F, DW_G, 0, nmain, dt, sdt) break;
    default: EM_GROUP(OU_F, OU_G, 0, nmain, dt, sdt) break;
    }
    if (nlast < nb) { /* the span's short last step */
      const double sh = sqrt(hlast);
      switch (kind) {
      case SDE_BUILTIN_GBM: EM_GROUP(GBM_F, GBM_G, nlast, nb, hlast, sh) break;
      case SDE_BUILTIN_DOUBLE_WELL: EM_GROUP(DW_F, DW_G, nlast, nb, hlast, sh) break;
      default: EM_GROUP(OU_F, OU_G, nlast, nb, hlast, sh) break;
      }
    }
  }
  x[0][0] = x0, x[1][0] = x1, x[2][0] = x2, x[3][0] = x3;
  wacc[0][0] = w0, wacc[1][0] = w1, wacc[2][0] = w2, wacc[3][0] = w3;
  for (int q = 0; q < SDE_GROUP; q++) em_stats(st, ns, dt, hlast);
  w->nf += SDE_GROUP * ns, w->ng += SDE_GROUP * ns;
  return LATENS_OK;
}

/* One state driven by one Brownian motion (the common case of big ensembles): the same
 * arithmetic as the general loop below, in the same order, without the loops over d and m and
 * the call through sde_eval_fg (the callbacks, counts and error reports are its own).  The
 * callback may write anywhere, so what the loop needs from the model is read into locals
 * once rather than reloaded after every call. */
static int em_steps_1d(sde_ws *w, double t0, double dt, size_t ns, double hlast, double *x,
                       latens_rng *r, double *wacc) {
  const latens_sde_model *md = w->model;
  latens_sde_both_fn *both = md->both;
  latens_sde_drift_fn *drift = md->drift;
  latens_sde_diffusion_fn *diffusion = md->diffusion;
  const double *theta = md->theta;
  void *user = md->user;
  const sde_builtin_kind kind = sde_builtin_of(md);
  double *z = w->zbuf, f, g, wa = *wacc;
  const double sdt = sqrt(dt);
  size_t calls_f = 0, calls_g = 0;
  int rc = 0;
  const char *what = NULL;
  double t = t0;
  for (size_t i0 = 0; i0 < ns && !rc; i0 += SDE_ZBUF) {
    size_t nb = ns - i0 < SDE_ZBUF ? ns - i0 : SDE_ZBUF;
    latens_rng_fill_normal(r, z, nb, 0.0, 1.0);
    /* the span's last step (of hlast) is the chunk's last when the chunk ends the span */
    const size_t nlast = i0 + nb == ns ? nb - 1 : SIZE_MAX;
    if (kind != SDE_BUILTIN_NONE) {
      em_steps_builtin(kind, theta, z, nb, nlast, dt, sdt, hlast, x, &wa);
      calls_f += nb, calls_g += nb;
      continue;
    }
    for (size_t i = 0; i < nb; i++) {
      const size_t step = i0 + i;
      double h = dt, dw;
      if (i != nlast) dw = z[i] * sdt;
      else h = hlast, dw = z[i] * sqrt(hlast);
      t = t0 + (double)(int64_t)step * dt; /* step < 2^52: the signed conversion is exact */
      calls_f++;
      if (both) {
        calls_g++;
        if ((rc = both(t, x, theta, user, &f, &g))) {
          what = "drift/diffusion";
          break;
        }
      } else {
        if ((rc = drift(t, x, theta, user, &f))) {
          what = "drift";
          break;
        }
        calls_g++;
        if ((rc = diffusion(t, x, theta, user, &g))) {
          what = "diffusion";
          break;
        }
      }
      x[0] += f * h + g * dw;
      wa += dw;
    }
  }
  w->nf += calls_f, w->ng += calls_g, *wacc = wa;
  return rc ? sde_callback_failed(rc, what, t) : LATENS_OK;
}

int sde_em_steps(sde_ws *w, double t0, double dt, size_t ns, double hlast, double *x,
                 latens_rng *r, double *wacc, latens_sde_stats *st) {
  const size_t d = w->d, m = w->m;
  if (d == 1 && m == 1) {
    int s = em_steps_1d(w, t0, dt, ns, hlast, x, r, wacc);
    if (s) return s;
    return em_stats(st, ns, dt, hlast);
  }
  const int diag = w->diag, scalar = w->scalar;
  double *z = w->zbuf, *f = w->f1, *g = w->g1;
  const size_t per = SDE_ZBUF / m; /* steps per bulk draw */
  const double sdt = sqrt(dt);
  for (size_t i0 = 0; i0 < ns; i0 += per) {
    size_t nb = ns - i0 < per ? ns - i0 : per;
    latens_rng_fill_normal(r, z, nb * m, 0.0, 1.0);
    for (size_t i = 0; i < nb; i++) {
      size_t step = i0 + i;
      double h = step + 1 < ns ? dt : hlast, sh = step + 1 < ns ? sdt : sqrt(hlast);
      double *dw = z + i * m;
      for (size_t q = 0; q < m; q++) dw[q] *= sh;
      int s = sde_eval_fg(w, t0 + (double)step * dt, x, f, g);
      if (s) return s;
      if (diag) {
        if (scalar)
          for (size_t k = 0; k < d; k++) x[k] += f[k] * h + g[k] * dw[0];
        else
          for (size_t k = 0; k < d; k++) x[k] += f[k] * h + g[k] * dw[k];
      } else {
        for (size_t k = 0; k < d; k++) x[k] += f[k] * h;
        for (size_t q = 0; q < m; q++)
          for (size_t k = 0; k < d; k++) x[k] += g[k + q * d] * dw[q];
      }
      for (size_t q = 0; q < m; q++) wacc[q] += dw[q];
    }
  }
  return em_stats(st, ns, dt, hlast);
}
