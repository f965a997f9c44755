/* sde/models.c: built-in models (the CLI's --model and the tests' problems with known
 * solutions) and the linear SDE given by matrices. */
#include "sde_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ou_f(double t, const double *x, const double *p, void *u, double *f) {
  (void)t, (void)u;
  f[0] = p[0] * (p[1] - x[0]);
  return 0;
}
static int const_g0(double t, const double *x, const double *p, void *u, double *g) {
  (void)t, (void)x, (void)u;
  g[0] = p[2];
  return 0;
}
static int ou_jac(double t, const double *x, const double *p, void *u, double *J) {
  (void)t, (void)x, (void)u;
  J[0] = -p[0];
  return 0;
}
static int ou_lin(double t, const double *p, void *u, double *A, double *b, double *G) {
  (void)t, (void)u;
  A[0] = -p[0], b[0] = p[0] * p[1], G[0] = p[2];
  return 0;
}

static int gbm_fg(double t, const double *x, const double *p, void *u, double *f, double *g) {
  (void)t, (void)u;
  if (f) f[0] = p[0] * x[0];
  if (g) g[0] = p[1] * x[0];
  return 0;
}
static int gbm_dg(double t, const double *x, const double *p, void *u, double *dg) {
  (void)t, (void)x, (void)u;
  dg[0] = p[1];
  return 0;
}
static int gbm_jac(double t, const double *x, const double *p, void *u, double *J) {
  (void)t, (void)x, (void)u;
  J[0] = p[0];
  return 0;
}

static int cir_f(double t, const double *x, const double *p, void *u, double *f) {
  (void)t, (void)u;
  f[0] = p[0] * (p[1] - x[0]);
  return 0;
}
static int cir_g(double t, const double *x, const double *p, void *u, double *g) {
  (void)t, (void)u;
  g[0] = p[2] * sqrt(fmax(x[0], 0.0)); /* schemes may step below 0: the usual truncation */
  return 0;
}

static int dw_f(double t, const double *x, const double *p, void *u, double *f) {
  (void)t, (void)p, (void)u;
  f[0] = x[0] - x[0] * x[0] * x[0];
  return 0;
}
static int dw_g(double t, const double *x, const double *p, void *u, double *g) {
  (void)t, (void)x, (void)u;
  g[0] = p[0];
  return 0;
}
static int dw_jac(double t, const double *x, const double *p, void *u, double *J) {
  (void)t, (void)p, (void)u;
  J[0] = 1 - 3 * x[0] * x[0];
  return 0;
}

static int lv_f(double t, const double *x, const double *p, void *u, double *f) {
  (void)t, (void)u;
  f[0] = p[0] * x[0] - p[1] * x[0] * x[1];
  f[1] = p[2] * x[0] * x[1] - p[3] * x[1];
  return 0;
}
static int lv_g(double t, const double *x, const double *p, void *u, double *g) {
  (void)t, (void)u;
  g[0] = p[4] * x[0], g[1] = p[5] * x[1];
  return 0;
}
static int lv_dg(double t, const double *x, const double *p, void *u, double *dg) {
  (void)t, (void)x, (void)u;
  dg[0] = p[4], dg[1] = p[5];
  return 0;
}

static int lorenz_f(double t, const double *x, const double *p, void *u, double *f) {
  (void)t, (void)u;
  f[0] = p[0] * (x[1] - x[0]);
  f[1] = x[0] * (p[1] - x[2]) - x[1];
  f[2] = x[0] * x[1] - p[2] * x[2];
  return 0;
}
static int lorenz_g(double t, const double *x, const double *p, void *u, double *g) {
  (void)t, (void)u;
  for (int i = 0; i < 3; i++) g[i] = p[3] * x[i];
  return 0;
}
static int lorenz_dg(double t, const double *x, const double *p, void *u, double *dg) {
  (void)t, (void)x, (void)u;
  for (int i = 0; i < 3; i++) dg[i] = p[3];
  return 0;
}

static int add_f(double t, const double *x, const double *p, void *u, double *f) {
  (void)u;
  f[0] = p[1] / sqrt(1 + t) - x[0] / (2 * (1 + t));
  return 0;
}
static int add_g(double t, const double *x, const double *p, void *u, double *g) {
  (void)x, (void)u;
  g[0] = p[0] * p[1] / sqrt(1 + t);
  return 0;
}

typedef struct {
  const char *name;
  size_t d, m;
  latens_sde_noise noise;
  size_t np;
  const char *pname[6];
  double pdef[6], plo[6];
  double x0[3];
} builtin_spec;

static const builtin_spec specs[] = {
    {"ou", 1, 1, LATENS_SDE_NOISE_ADDITIVE, 3, {"theta", "mu", "sigma"}, {1, 0, 1},
     {-INFINITY, -INFINITY, 0}, {1}},
    {"gbm", 1, 1, LATENS_SDE_NOISE_DIAGONAL, 2, {"mu", "sigma"}, {1.01, 0.87},
     {-INFINITY, -INFINITY}, {0.5}},
    {"cir", 1, 1, LATENS_SDE_NOISE_DIAGONAL, 3, {"kappa", "theta", "sigma"}, {1, 1, 0.5},
     {-INFINITY, -INFINITY, 0}, {1}},
    {"double-well", 1, 1, LATENS_SDE_NOISE_ADDITIVE, 1, {"sigma"}, {0.5}, {0}, {-1}},
    {"lotka-volterra", 2, 2, LATENS_SDE_NOISE_DIAGONAL, 6, {"a", "b", "c", "e", "s1", "s2"},
     {1, 0.5, 0.5, 1, 0.1, 0.1}, {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY,
     -INFINITY}, {2, 1}},
    {"lorenz", 3, 3, LATENS_SDE_NOISE_DIAGONAL, 4, {"sigma", "rho", "beta", "alpha"},
     {10, 28, 8.0 / 3.0, 0.15}, {-INFINITY, -INFINITY, -INFINITY, -INFINITY}, {1, 1, 1}},
    {"additive", 1, 1, LATENS_SDE_NOISE_ADDITIVE, 2, {"a", "b"}, {0.1, 0.05},
     {-INFINITY, -INFINITY}, {1}},
};
enum { NSPECS = sizeof specs / sizeof *specs };

const char *const *latens_sde_model_builtin_names(void) {
  static const char *const names[] = {"ou",     "gbm",      "cir", "double-well", "lotka-volterra",
                                      "lorenz", "additive", NULL};
  return names;
}

static void set_callbacks(latens_sde_model *md, size_t which) {
  switch (which) {
  case 0: md->drift = ou_f, md->diffusion = const_g0, md->drift_jac = ou_jac, md->linear = ou_lin; break;
  case 1: md->both = gbm_fg, md->diffusion_deriv = gbm_dg, md->drift_jac = gbm_jac; break;
  case 2: md->drift = cir_f, md->diffusion = cir_g; break;
  case 3: md->drift = dw_f, md->diffusion = dw_g, md->drift_jac = dw_jac; break;
  case 4: md->drift = lv_f, md->diffusion = lv_g, md->diffusion_deriv = lv_dg; break;
  case 5: md->drift = lorenz_f, md->diffusion = lorenz_g, md->diffusion_deriv = lorenz_dg; break;
  default: md->drift = add_f, md->diffusion = add_g; break;
  }
}

/* Which built-in model md still computes with (its callbacks are the built-in ones, so the
 * EM kernels may inline their formulas with the same arithmetic), or SDE_BUILTIN_NONE.  The
 * scalar kinds imply d = m = 1; LV's kernel reads g as d values, hence the noise check. */
sde_builtin_kind sde_builtin_of(const latens_sde_model *md) {
  if (md->d == 2 && md->m == 2)
    return md->noise == LATENS_SDE_NOISE_DIAGONAL && !md->both && md->drift == lv_f &&
                   md->diffusion == lv_g
               ? SDE_BUILTIN_LV
               : SDE_BUILTIN_NONE;
  if (md->d != 1 || md->m != 1) return SDE_BUILTIN_NONE;
  if (md->both) return md->both == gbm_fg ? SDE_BUILTIN_GBM : SDE_BUILTIN_NONE;
  if (md->drift == ou_f && md->diffusion == const_g0) return SDE_BUILTIN_OU;
  if (md->drift == dw_f && md->diffusion == dw_g) return SDE_BUILTIN_DOUBLE_WELL;
  return SDE_BUILTIN_NONE;
}

latens_sde_model *latens_sde_model_builtin(const char *name, const double *theta, size_t ntheta) {
  const char *fn = "latens_sde_model_builtin";
  size_t w = NSPECS;
  for (size_t i = 0; name && i < NSPECS; i++)
    if (!strcmp(name, specs[i].name)) w = i;
  if (w == NSPECS) {
    latens_errorf(__FILE__, __LINE__, LATENS_EINVAL, "%s: unknown model '%s' (known: ou, gbm, "
                  "cir, double-well, lotka-volterra, lorenz, additive)", fn, name ? name : "(null)");
    return NULL;
  }
  const builtin_spec *sp = &specs[w];
  if (theta && ntheta != sp->np) {
    latens_errorf(__FILE__, __LINE__, LATENS_EBADLEN, "%s: model '%s' takes %zu parameters, got "
                  "%zu", fn, name, sp->np, ntheta);
    return NULL;
  }
  latens_sde_model *md = latens_sde_model_alloc(sp->d, sp->m, sp->noise, sp->np);
  if (!md) return NULL;
  snprintf(md->name, sizeof md->name, "%s", sp->name);
  for (size_t k = 0; k < sp->np; k++)
    if (latens_sde_model_set_param(md, k, sp->pname[k], sp->pdef[k], sp->plo[k], INFINITY)) {
      latens_sde_model_free(md);
      return NULL;
    }
  memcpy(md->x0, sp->x0, sp->d * sizeof *md->x0);
  set_callbacks(md, w);
  if (theta && latens_sde_model_set_params(md, theta, ntheta)) {
    latens_sde_model_free(md);
    return NULL;
  }
  return md;
}

/* Linear SDE: theta = (vec A, b, vec G). */
static int lin_f(double t, const double *x, const double *p, void *u, double *f) {
  (void)t;
  const latens_sde_model *md = u;
  size_t d = md->d;
  const double *A = p, *b = p + d * d;
  for (size_t i = 0; i < d; i++) f[i] = b[i];
  for (size_t j = 0; j < d; j++)
    for (size_t i = 0; i < d; i++) f[i] += A[i + j * d] * x[j];
  return 0;
}
static int lin_g(double t, const double *x, const double *p, void *u, double *g) {
  (void)t, (void)x;
  const latens_sde_model *md = u;
  memcpy(g, p + md->d * md->d + md->d, md->d * md->m * sizeof *g);
  return 0;
}
static int lin_jac(double t, const double *x, const double *p, void *u, double *J) {
  (void)t, (void)x;
  const latens_sde_model *md = u;
  memcpy(J, p, md->d * md->d * sizeof *J);
  return 0;
}
static int lin_lin(double t, const double *p, void *u, double *A, double *b, double *G) {
  (void)t;
  const latens_sde_model *md = u;
  size_t d = md->d;
  memcpy(A, p, d * d * sizeof *A);
  memcpy(b, p + d * d, d * sizeof *b);
  memcpy(G, p + d * d + d, d * md->m * sizeof *G);
  return 0;
}

latens_sde_model *latens_sde_model_linear_alloc(const latens_mat *A, const latens_vec *b,
                                                const latens_mat *G) {
  const char *fn = "latens_sde_model_linear_alloc";
  if (latens_check_square(fn, "A", A) || latens_check_mat(fn, "G", G, A->nrow, LATENS_ANY) ||
      (b && latens_check_vec(fn, "b", b, A->nrow)))
    return NULL;
  size_t d = A->nrow, m = G->ncol;
  if (d == 0 || m == 0) {
    latens_errorf(__FILE__, __LINE__, LATENS_EINVAL, "%s: d = %zu, m = %zu", fn, d, m);
    return NULL;
  }
  if (!latens_mat_all_finite(A) || !latens_mat_all_finite(G) || (b && !latens_vec_all_finite(b))) {
    latens_errorf(__FILE__, __LINE__, LATENS_ENOTFINITE, "%s: NaN or Inf in A, b or G", fn);
    return NULL;
  }
  latens_sde_model *md = latens_sde_model_alloc(d, m, LATENS_SDE_NOISE_ADDITIVE, d * d + d + d * m);
  if (!md) return NULL;
  snprintf(md->name, sizeof md->name, "linear");
  char nm[48];
  int bad = 0;
  for (size_t j = 0; j < d && !bad; j++)
    for (size_t i = 0; i < d && !bad; i++) {
      snprintf(nm, sizeof nm, "A%zu%s%zu", i + 1, d > 9 ? "," : "", j + 1);
      bad = latens_sde_model_set_param(md, i + j * d, nm, LATENS_MAT(A, i, j), -INFINITY, INFINITY);
    }
  for (size_t i = 0; i < d && !bad; i++) {
    snprintf(nm, sizeof nm, "b%zu", i + 1);
    bad = latens_sde_model_set_param(md, d * d + i, nm, b ? LATENS_VEC(b, i) : 0, -INFINITY, INFINITY);
  }
  for (size_t j = 0; j < m && !bad; j++)
    for (size_t i = 0; i < d && !bad; i++) {
      snprintf(nm, sizeof nm, "G%zu%s%zu", i + 1, d > 9 || m > 9 ? "," : "", j + 1);
      bad = latens_sde_model_set_param(md, d * d + d + i + j * d, nm, LATENS_MAT(G, i, j),
                                       -INFINITY, INFINITY);
    }
  if (bad) {
    latens_sde_model_free(md);
    return NULL;
  }
  md->drift = lin_f, md->diffusion = lin_g, md->drift_jac = lin_jac, md->linear = lin_lin;
  md->user = md;
  return md;
}
