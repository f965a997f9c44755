/* sde/schemes_kernels.c: the fixed-step Euler-Maruyama loop, the hot path of ensembles.
 *
 * The normals are drawn in bulk (latens_rng_fill_normal gives exactly the values single
 * draws would), never more than the span needs, so the stream is consumed exactly as by
 * sde_draw_step and paths do not depend on this fast path.  The step itself skips the
 * scheme dispatch and the increment buffer of the general framework. */
#include "sde_impl.h"

#include <math.h>
#include <string.h>

int sde_em_steps(sde_ws *w, double t0, double dt, size_t ns, double hlast, double *x,
                 latens_rng *r, double *wacc, latens_sde_stats *st) {
  const size_t d = w->d, m = w->m;
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
  st->steps += ns;
  if (ns > 1) st->min_step = fmin(st->min_step, dt), st->max_step = fmax(st->max_step, dt);
  st->min_step = fmin(st->min_step, hlast), st->max_step = fmax(st->max_step, hlast);
  return LATENS_OK;
}
