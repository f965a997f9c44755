/* sde/schemes_kernels.c: the fixed-step Euler-Maruyama loop, the hot path of ensembles.
 *
 * The normals are drawn in bulk (latens_rng_fill_normal gives exactly the values single
 * draws would), never more than the span needs, so the stream is consumed exactly as by
 * sde_draw_step and paths do not depend on this fast path.  The step itself skips the
 * scheme dispatch and the increment buffer of the general framework. */
#include "sde_impl.h"

#include <math.h>
#include <string.h>

/* One state driven by one Brownian motion (the common case of big ensembles): the same
 * arithmetic as the general loop below, in the same order, without the loops over d and m and
 * the call through sde_eval_fg (the callbacks, counts and error reports are its own). */
static int em_steps_1d(sde_ws *w, double t0, double dt, size_t ns, double hlast, double *x,
                       latens_rng *r, double *wacc) {
  const latens_sde_model *md = w->model;
  double *z = w->zbuf, f, g;
  const double sdt = sqrt(dt);
  for (size_t i0 = 0; i0 < ns; i0 += SDE_ZBUF) {
    size_t nb = ns - i0 < SDE_ZBUF ? ns - i0 : SDE_ZBUF;
    latens_rng_fill_normal(r, z, nb, 0.0, 1.0);
    for (size_t i = 0; i < nb; i++) {
      size_t step = i0 + i;
      double h = step + 1 < ns ? dt : hlast, sh = step + 1 < ns ? sdt : sqrt(hlast);
      double dw = z[i] * sh, t = t0 + (double)step * dt;
      int rc;
      w->nf++;
      if (md->both) {
        w->ng++;
        if ((rc = md->both(t, x, md->theta, md->user, &f, &g)))
          return sde_callback_failed(rc, "drift/diffusion", t);
      } else {
        if ((rc = md->drift(t, x, md->theta, md->user, &f)))
          return sde_callback_failed(rc, "drift", t);
        w->ng++;
        if ((rc = md->diffusion(t, x, md->theta, md->user, &g)))
          return sde_callback_failed(rc, "diffusion", t);
      }
      x[0] += f * h + g * dw;
      wacc[0] += dw;
    }
  }
  return LATENS_OK;
}

static int em_stats(latens_sde_stats *st, size_t ns, double dt, double hlast) {
  st->steps += ns;
  if (ns > 1) st->min_step = fmin(st->min_step, dt), st->max_step = fmax(st->max_step, dt);
  st->min_step = fmin(st->min_step, hlast), st->max_step = fmax(st->max_step, hlast);
  return LATENS_OK;
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
