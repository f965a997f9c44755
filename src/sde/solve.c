/* sde/solve.c: options, Brownian increments, and single paths with fixed steps (given
 * increments or drawn on an output grid). */
#include "sde_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const scheme_names[] = {"em", "milstein", "sri", "sra", "heun", "implicit-em"};

const char *latens_sde_scheme_name(latens_sde_scheme s) {
  return (unsigned)s <= LATENS_SDE_IMPLICIT_EM ? scheme_names[s] : NULL;
}

int latens_sde_scheme_from_name(const char *name) {
  for (int i = 0; name && i <= LATENS_SDE_IMPLICIT_EM; i++)
    if (!strcmp(name, scheme_names[i])) return i;
  return -1;
}

static const char *const rng_names[] = {"philox", "fast"};

const char *latens_sde_rng_name(latens_sde_rng r) {
  return (unsigned)r <= LATENS_SDE_RNG_FAST ? rng_names[r] : NULL;
}

int latens_sde_rng_from_name(const char *name) {
  for (int i = 0; name && i <= LATENS_SDE_RNG_FAST; i++)
    if (!strcmp(name, rng_names[i])) return i;
  return -1;
}

void latens_sde_options_default(latens_sde_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->scheme = LATENS_SDE_EM;
  o->dt = 1e-3;
  o->abstol = o->reltol = 1e-3;
  o->delta = 1.0 / 6.0; /* Rackauckas & Nie's default weight of the deterministic part */
  o->dtmax = INFINITY;
  o->max_depth = 40;
  o->max_steps = 10000000;
  o->newton_tol = 1e-10;
  o->newton_maxiter = 20;
  o->rng = LATENS_SDE_RNG_PHILOX;
}

void sde_stats_clear(latens_sde_stats *st) {
  memset(st, 0, sizeof *st);
  st->min_step = INFINITY;
}

void sde_stats_add(latens_sde_stats *to, const latens_sde_stats *from) {
  to->steps += from->steps, to->rejected += from->rejected;
  to->f_evals += from->f_evals, to->g_evals += from->g_evals;
  to->min_step = fmin(to->min_step, from->min_step);
  to->max_step = fmax(to->max_step, from->max_step);
}

void sde_stats_step(latens_sde_stats *st, double h) {
  st->steps++;
  if (h < st->min_step) st->min_step = h;
  if (h > st->max_step) st->max_step = h;
}

/* dZ = I_(1,0) = h/2 (dW + dV/sqrt 3) with dV ~ N(0, h) independent of dW. */
void sde_draw_step(const sde_normals *r, size_t m, double h, double *dw, double *dz) {
  double sh = sqrt(h);
  for (size_t k = 0; k < m; k++) dw[k] = sh * sde_normals_draw(r);
  if (dz)
    for (size_t k = 0; k < m; k++)
      dz[k] = 0.5 * h * (dw[k] + sh * sde_normals_draw(r) * 0.57735026918962576451);
}

/* sde_draw_step from normals already drawn: z[0..m) for dW, z[m..2m) for dZ. */
void sde_scale_step(const double *z, size_t m, double h, double *dw, double *dz) {
  double sh = sqrt(h);
  for (size_t k = 0; k < m; k++) dw[k] = sh * z[k];
  if (dz)
    for (size_t k = 0; k < m; k++)
      dz[k] = 0.5 * h * (dw[k] + sh * z[m + k] * 0.57735026918962576451);
}

int latens_sde_brownian_draw(latens_rng *rng, size_t m, size_t n, double h, double *dW,
                             double *dZ, size_t ldw) {
  if (!rng || !dW || m == 0)
    LATENS_ERROR("latens_sde_brownian_draw: rng or dW is NULL, or m = 0", LATENS_EINVAL);
  if (ldw < m) LATENS_ERRORF(LATENS_EINVAL, "latens_sde_brownian_draw: ldw %zu < m %zu", ldw, m);
  if (!(h > 0) || !isfinite(h))
    LATENS_ERRORF(LATENS_EDOM, "latens_sde_brownian_draw: step h = %g must be finite and > 0", h);
  const sde_normals src = sde_normals_philox(rng);
  for (size_t j = 0; j < n; j++) sde_draw_step(&src, m, h, dW + j * ldw, dZ ? dZ + j * ldw : NULL);
  return LATENS_OK;
}

int latens_sde_brownian_coarsen(size_t m, size_t n, double h, const double *dW, const double *dZ,
                                size_t ldw, size_t k, double *cdW, double *cdZ, size_t ldc) {
  const char *fn = "latens_sde_brownian_coarsen";
  if (!dW || !cdW || (!dZ) != (!cdZ) || m == 0 || k == 0)
    LATENS_ERRORF(LATENS_EINVAL, "%s: NULL array (dZ and cdZ must be both set or both NULL), or "
                  "m = %zu, k = %zu", fn, m, k);
  if (ldw < m || ldc < m) LATENS_ERRORF(LATENS_EINVAL, "%s: ldw %zu or ldc %zu < m %zu", fn, ldw, ldc, m);
  if (n % k) LATENS_ERRORF(LATENS_EBADLEN, "%s: n = %zu is not a multiple of k = %zu", fn, n, k);
  if (!(h > 0) || !isfinite(h)) LATENS_ERRORF(LATENS_EDOM, "%s: step h = %g", fn, h);
  for (size_t c = 0; c < n / k; c++)
    for (size_t q = 0; q < m; q++) {
      /* Z of the coarse step = sum of the fine Z plus the level W reached before each fine
       * step held over that step: exact, not a quadrature. */
      double w = 0, z = 0;
      for (size_t j = c * k; j < (c + 1) * k; j++) {
        if (dZ) z += dZ[q + j * ldw] + w * h;
        w += dW[q + j * ldw];
      }
      cdW[q + c * ldc] = w;
      if (cdZ) cdZ[q + c * ldc] = z;
    }
  return LATENS_OK;
}

static int prepare(const char *fn, const latens_sde_model *md, const latens_sde_options *opt,
                   int *need_dz) {
  int s = latens_sde_model_check(md);
  if (!s) s = sde_options_check(opt, fn);
  if (!s) s = sde_scheme_check(md, opt, fn, need_dz);
  return s;
}

int sde_x_finite(const double *x, size_t d, double t) {
  if (latens_all_finite(x, d)) return LATENS_OK;
  LATENS_ERRORF(LATENS_ENOTFINITE, "sde solver: the state became NaN or Inf by t = %g", t);
}

int latens_sde_solve_increments(const latens_sde_model *md, const latens_sde_options *opt,
                                double t0, const double *x0, size_t n, double h, const double *dW,
                                const double *dZ, size_t ldw, latens_mat *X, double *xend,
                                latens_sde_stats *stats) {
  const char *fn = "latens_sde_solve_increments";
  int need_dz = 0, s = prepare(fn, md, opt, &need_dz);
  if (s) return s;
  if (!dW && n) LATENS_ERRORF(LATENS_EINVAL, "%s: dW is NULL", fn);
  if (need_dz && !dZ && n)
    LATENS_ERRORF(LATENS_EINVAL, "%s: scheme %s needs the space-time integrals dZ", fn,
                  latens_sde_scheme_name(opt->scheme));
  if (ldw < md->m) LATENS_ERRORF(LATENS_EINVAL, "%s: ldw %zu < m %zu", fn, ldw, md->m);
  if (!(h > 0) || !isfinite(h) || !isfinite(t0))
    LATENS_ERRORF(LATENS_EDOM, "%s: step h = %g must be finite and > 0 (t0 = %g)", fn, h, t0);
  if (n == SIZE_MAX) LATENS_ERRORF(LATENS_EINVAL, "%s: n = %zu steps overflows n + 1", fn, n);
  if (X && (s = latens_check_mat(fn, "X", X, md->d, n + 1))) return s;
  if (x0 && !latens_all_finite(x0, md->d))
    LATENS_ERRORF(LATENS_ENOTFINITE, "%s: x0 has a NaN or Inf", fn);
  sde_ws w;
  if ((s = sde_ws_init(&w, md, opt, fn))) return s;
  latens_sde_stats st;
  sde_stats_clear(&st);
  size_t d = md->d;
  double *x = malloc(d * sizeof *x);
  if (!x) {
    sde_ws_free(&w);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn);
  }
  memcpy(x, x0 ? x0 : md->x0, d * sizeof *x);
  if (X) memcpy(X->data, x, d * sizeof *x);
  for (size_t j = 0; j < n && !s; j++) {
    double t = t0 + (double)j * h;
    s = sde_step(&w, t, h, x, dW + j * ldw, need_dz ? dZ + j * ldw : NULL, NULL);
    if (!s && !latens_all_finite(x, d)) s = sde_x_finite(x, d, t + h);
    if (!s && X) memcpy(X->data + (j + 1) * X->ld, x, d * sizeof *x);
    sde_stats_step(&st, h);
  }
  if (!s && xend) memcpy(xend, x, d * sizeof *x);
  st.f_evals = w.nf, st.g_evals = w.ng;
  if (stats) *stats = st;
  free(x);
  sde_ws_free(&w);
  return s;
}

int sde_fixed_span(sde_ws *w, const double *t, size_t k0, size_t k1, double *x,
                   const sde_normals *r, double *dw, double *dz, double *wacc, double *X,
                   size_t ldx, double *W, size_t ldw, latens_sde_stats *st) {
  const double dt = w->opt->dt;
  const size_t d = w->d, m = w->m;
  for (size_t k = k0; k < k1; k++) {
    double span = t[k + 1] - t[k];
    /* steps of dt, the last one shortened onto t[k+1]; the slack keeps rounding in span/dt
     * from adding a step of ~1e-16 */
    double nf = ceil(span / dt * (1 - 1e-12));
    size_t ns = nf < 1 ? 1 : (size_t)nf;
    if (w->opt->scheme == LATENS_SDE_EM && m <= SDE_ZBUF) {
      int s = sde_em_steps(w, t[k], dt, ns, t[k + 1] - (t[k] + (double)(ns - 1) * dt), x, r, wacc, st);
      if (s) return s;
      ns = 0;
    }
    /* normals in bulk for up to `per` steps, in the order sde_draw_step draws them (dW's m,
     * then dZ's m), so the path is the one single draws give */
    const size_t nz = dz ? 2 * m : m, per = nz <= SDE_ZBUF ? SDE_ZBUF / nz : 0;
    const double *z = NULL;
    size_t avail = 0;
    for (size_t i = 0; i < ns; i++) {
      double tc = t[k] + (double)i * dt;
      double h = i + 1 < ns ? dt : t[k + 1] - tc;
      if (!per) {
        sde_draw_step(r, m, h, dw, dz);
      } else {
        if (!avail) {
          avail = ns - i < per ? ns - i : per;
          sde_normals_fill(r, w->zbuf, avail * nz);
          z = w->zbuf;
        }
        sde_scale_step(z, m, h, dw, dz);
        z += nz, avail--;
      }
      int s = sde_step(w, tc, h, x, dw, dz, NULL);
      if (s) return s;
      for (size_t q = 0; q < m; q++) wacc[q] += dw[q];
      sde_stats_step(st, h);
    }
    if (!latens_all_finite(x, d)) return sde_x_finite(x, d, t[k + 1]);
    if (X) memcpy(X + (k + 1) * ldx, x, d * sizeof *x);
    if (W) memcpy(W + (k + 1) * ldw, wacc, m * sizeof *wacc);
  }
  return LATENS_OK;
}

/* Shared argument checks of the grid entry points. */
int sde_grid_check(const char *fn, const latens_sde_model *md, const latens_sde_options *opt,
                   const double *x0, const double *t, size_t nt, int *need_dz) {
  int s = prepare(fn, md, opt, need_dz);
  if (s) return s;
  if (!t || nt == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: the output grid is NULL or empty", fn);
  for (size_t k = 0; k < nt; k++) {
    if (!isfinite(t[k])) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: output time t[%zu] = %g", fn, k, t[k]);
    if (k && !(t[k] > t[k - 1]))
      LATENS_ERRORF(LATENS_EDOM, "%s: output times must increase: t[%zu] = %g after %g", fn, k,
                    t[k], t[k - 1]);
  }
  if (x0 && !latens_all_finite(x0, md->d))
    LATENS_ERRORF(LATENS_ENOTFINITE, "%s: x0 has a NaN or Inf", fn);
  /* fixed steps count span/dt in a size_t (through a double): refuse counts whose
   * conversion would be undefined or whose step times t0 + i dt would no longer be exact
   * enough to land on the grid */
  double nsteps = (t[nt - 1] - t[0]) / opt->dt;
  if (!opt->adaptive && !(nsteps < 0x1p52))
    LATENS_ERRORF(LATENS_EDOM, "%s: span %g / dt %g = %g steps, more than 2^52", fn,
                  t[nt - 1] - t[0], opt->dt, nsteps);
  return LATENS_OK;
}

int latens_sde_solve(const latens_sde_model *md, const latens_sde_options *opt, const double *x0,
                     const double *t, size_t nt, latens_rng *rng, latens_mat *X, latens_mat *W,
                     latens_sde_stats *stats) {
  const char *fn = "latens_sde_solve";
  int need_dz = 0, s = sde_grid_check(fn, md, opt, x0, t, nt, &need_dz);
  if (s) return s;
  if (!rng) LATENS_ERRORF(LATENS_EINVAL, "%s: rng is NULL", fn);
  /* a caller's latens_rng cannot name a fast stream: refusing beats silently drawing Philox
   * normals for options that ask for the other generator */
  if (opt->rng == LATENS_SDE_RNG_FAST)
    LATENS_ERRORF(LATENS_EINVAL, "%s: rng = fast applies to latens_sde_ensemble and "
                  "latens_sde_ensemble_summary (streams (seed, p)); one path from the caller's "
                  "latens_rng needs rng = philox", fn);
  if ((s = latens_check_mat(fn, "X", X, md->d, nt))) return s;
  if (W && (s = latens_check_mat(fn, "W", W, md->m, nt))) return s;
  size_t d = md->d, m = md->m;
  sde_ws w;
  if ((s = sde_ws_init(&w, md, opt, fn))) return s;
  double *buf = calloc(d + 3 * m, sizeof *buf);
  sde_adapt *a = NULL;
  if (!buf) s = LATENS_ENOMEM, latens_error("latens_sde_solve: out of memory", __FILE__, __LINE__, s);
  if (!s && opt->adaptive && nt > 1) a = sde_adapt_alloc(m, opt, t, nt, NULL, rng, fn, &s);
  latens_sde_stats st;
  sde_stats_clear(&st);
  if (!s) {
    double *x = buf, *wacc = buf + d, *dw = buf + d + m, *dz = buf + d + 2 * m;
    memcpy(x, x0 ? x0 : md->x0, d * sizeof *x);
    memcpy(X->data, x, d * sizeof *x);
    if (W) memset(W->data, 0, m * sizeof *W->data);
    if (!a) {
      const sde_normals src = sde_normals_philox(rng);
      s = sde_fixed_span(&w, t, 0, nt - 1, x, &src, dw, need_dz ? dz : NULL, wacc, X->data,
                         X->ld, W ? W->data : NULL, W ? W->ld : 0, &st);
    } else {
      for (size_t k = 0; k + 1 < nt && !s; k++) {
        s = sde_adapt_span(a, &w, k, x, wacc, &st);
        if (!s) memcpy(X->data + (k + 1) * X->ld, x, d * sizeof *x);
        if (!s && W) memcpy(W->data + (k + 1) * W->ld, wacc, m * sizeof *wacc);
      }
    }
  }
  st.f_evals = w.nf, st.g_evals = w.ng;
  if (stats) *stats = st;
  sde_adapt_free(a);
  free(buf);
  sde_ws_free(&w);
  return s;
}
