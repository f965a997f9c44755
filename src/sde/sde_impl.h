/* sde/sde_impl.h: what the sde sources share (not installed). */
#ifndef LATENS_SDE_IMPL_H
#define LATENS_SDE_IMPL_H

#include "../core/internal.h"
#include <latens/sde.h>

/* Where a path's normals come from: its Philox stream or, with options.rng = FAST, its
 * lane of a fast stream (exactly one pointer set).  One type for both so the step kernels
 * stay one code; both fills give exactly the single draws, so bulk and single reads mix
 * freely. */
typedef struct {
  latens_rng *philox;
  latens_rng_lane *lane;
} sde_normals;

static inline sde_normals sde_normals_philox(latens_rng *r) {
  return (sde_normals){r, NULL};
}
/* n standard normals; the arguments are valid, so the status is always LATENS_OK */
static inline void sde_normals_fill(const sde_normals *s, double *z, size_t n) {
  if (s->lane) latens_rng_lane_fill_normal(s->lane, z, n, 0.0, 1.0);
  else latens_rng_fill_normal(s->philox, z, n, 0.0, 1.0);
}
static inline double sde_normals_draw(const sde_normals *s) {
  return s->lane ? latens_rng_lane_normal(s->lane) : latens_rng_normal(s->philox);
}

/* A stepper: one model, one scheme, preallocated buffers.  One per thread. */
typedef struct {
  const latens_sde_model *model;
  const latens_sde_options *opt;
  size_t d, m, glen;  /* glen: doubles in g (d, or d*m) */
  int diag;           /* g has d values (diagonal, scalar, or a 1x1 matrix) */
  size_t nf, ng;      /* callback counts */
  double *f1, *f2, *g1, *g2, *g3, *g4, *y1, *y2, *y3, *y4, *J, *ch;
  int scalar;         /* one Brownian component drives every state (scalar noise) */
  size_t *piv;
  double *zbuf;       /* SDE_ZBUF normals for the Euler-Maruyama kernel */
  double *buf;
} sde_ws;

/* 128 steps of SDE_WIDE paths per bulk draw (a shorter fill pays its window set-up and
 * rounds its Philox batch up more often) */
enum { SDE_ZBUF = 2048 };

LATENS_INTERNAL int sde_ws_init(sde_ws *w, const latens_sde_model *model,
                                const latens_sde_options *opt, const char *fn);
LATENS_INTERNAL void sde_ws_free(sde_ws *w);
/* Whether opt->scheme suits model (reported as LATENS_EINVAL naming fn), and whether it needs
 * space-time integrals dZ (*need_dz). */
LATENS_INTERNAL int sde_scheme_check(const latens_sde_model *model, const latens_sde_options *opt,
                                     const char *fn, int *need_dz);
/* Options in range (LATENS_EINVAL / LATENS_EDOM naming fn). */
LATENS_INTERNAL int sde_options_check(const latens_sde_options *opt, const char *fn);
/* One step of size h from (t, x) in place.  dW: m increments; dZ: m space-time integrals
 * (SRI/SRA); err: NULL, or the scaled RMS error estimate (SRI/SRA). */
LATENS_INTERNAL int sde_step(sde_ws *w, double t, double h, double *x, const double *dW,
                             const double *dZ, double *err);
/* Fixed-step Euler-Maruyama (schemes_kernels.c): ns steps from t0, of dt except the last of
 * hlast, drawing m normals per step from r exactly as sde_draw_step does.  m <= SDE_ZBUF. */
LATENS_INTERNAL int sde_em_steps(sde_ws *w, double t0, double dt, size_t ns, double hlast,
                                 double *x, const sde_normals *r, double *wacc,
                                 latens_sde_stats *st);
/* Built-in models whose formulas the EM kernels inline (models.c): the scalar ones (d = m = 1)
 * and Lotka-Volterra (d = m = 2, diagonal noise; EM only, not the SRI kernel). */
typedef enum {
  SDE_BUILTIN_NONE,
  SDE_BUILTIN_OU,
  SDE_BUILTIN_GBM,
  SDE_BUILTIN_DOUBLE_WELL,
  SDE_BUILTIN_LV
} sde_builtin_kind;
LATENS_INTERNAL sde_builtin_kind sde_builtin_of(const latens_sde_model *md);
/* LATENS_OK when x (d values) is finite, else LATENS_ENOTFINITE reported at time t. */
LATENS_INTERNAL int sde_x_finite(const double *x, size_t d, double t);
/* np paths (SDE_WIDE, 2 SDE_WIDE, or a multiple of SDE_GROUP below SDE_WIDE) of a built-in
 * model (sde_builtin_of(w->model) != NONE) advanced together by sde_em_steps' arithmetic,
 * path q drawing from r[q]: bitwise what sde_em_steps gives each path alone, at the
 * throughput of interleaved chains (SDE_WIDE: four AVX2 vectors where the CPU has them, and
 * on lanes 2 SDE_WIDE in eight, their normals made sixteen at a time; otherwise groups of
 * SDE_GROUP scalar chains; Lotka-Volterra: four paths per vector, AVX2 or baseline).
 * x[q], wacc[q]: d and m values; wacc NULL when no one wants the running W (the paths'
 * own are then left as they were).  Never fails. */
enum { SDE_GROUP = 4, SDE_WIDE = 16 };
LATENS_INTERNAL int sde_em_steps_group(sde_ws *w, double t0, double dt, size_t ns, double hlast,
                                       size_t np, double *const *x, const sde_normals *r,
                                       double *const *wacc, latens_sde_stats *st);
/* The same for scheme SRI (SRIW1, step_sri's arithmetic lane by lane), np a multiple of
 * SDE_GROUP, scalar built-in models only (not SDE_BUILTIN_LV): four paths per vector (AVX2
 * where the CPU has it).  Never fails. */
LATENS_INTERNAL int sde_sri_steps_group(sde_ws *w, double t0, double dt, size_t ns, double hlast,
                                        size_t np, double *const *x, const sde_normals *r,
                                        double *const *wacc, latens_sde_stats *st);
/* Drift and diffusion through whichever callbacks exist; count them in w. */
LATENS_INTERNAL int sde_eval_f(sde_ws *w, double t, const double *x, double *f);
LATENS_INTERNAL int sde_eval_g(sde_ws *w, double t, const double *x, double *g);
LATENS_INTERNAL int sde_eval_fg(sde_ws *w, double t, const double *x, double *f, double *g);
/* A callback status turned into a reported latens status. */
LATENS_INTERNAL int sde_callback_failed(int rc, const char *what, double t);

/* Draw one step's increments (m of dW, and m of dZ when dz != NULL) of step h. */
LATENS_INTERNAL void sde_draw_step(const sde_normals *r, size_t m, double h, double *dw,
                                   double *dz);
LATENS_INTERNAL void sde_scale_step(const double *z, size_t m, double h, double *dw, double *dz);

/* Advance one path over the output grid (fixed steps), from t[k0] to t[k1] writing X and W
 * columns k0+1..k1 (X, W column pointers at stride ldx, ldw; W may be NULL; wacc m values of
 * running W). */
LATENS_INTERNAL int sde_fixed_span(sde_ws *w, const double *t, size_t k0, size_t k1, double *x,
                                   const sde_normals *r, double *dw, double *dz, double *wacc,
                                   double *X, size_t ldx, double *W, size_t ldw,
                                   latens_sde_stats *st);

/* Checks shared by the grid entry points (model, options, scheme, grid, x0). */
LATENS_INTERNAL int sde_grid_check(const char *fn, const latens_sde_model *md,
                                   const latens_sde_options *opt, const double *x0,
                                   const double *t, size_t nt, int *need_dz);

/* The adaptive path state (Brownian tree + step controller). */
typedef struct sde_adapt sde_adapt;
/* share: NULL, or a state for the same grid whose output positions are borrowed (it must
 * outlive this one).  Draws one uint64 from rng to name the tree's stream.  nt >= 2. */
LATENS_INTERNAL sde_adapt *sde_adapt_alloc(size_t m, const latens_sde_options *opt,
                                           const double *t, size_t nt, const sde_adapt *share,
                                           latens_rng *rng, const char *fn, int *status);
LATENS_INTERNAL void sde_adapt_free(sde_adapt *a);
/* Advance from output index k to k+1 (x in place, wacc running W). */
LATENS_INTERNAL int sde_adapt_span(sde_adapt *a, sde_ws *w, size_t k, double *x, double *wacc,
                                   latens_sde_stats *st);

LATENS_INTERNAL void sde_stats_clear(latens_sde_stats *st);
LATENS_INTERNAL void sde_stats_add(latens_sde_stats *to, const latens_sde_stats *from);
LATENS_INTERNAL void sde_stats_step(latens_sde_stats *st, double h);

#endif
