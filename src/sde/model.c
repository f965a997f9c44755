/* sde/model.c: the model object — allocation, parameters, checks and evaluation through
 * whichever callbacks a model provides. */
#include "sde_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void free_arrays(latens_sde_model *md) {
  if (md->theta_name)
    for (size_t k = 0; k < md->ntheta; k++) free(md->theta_name[k]);
  free(md->theta_name), free(md->theta), free(md->theta_lo), free(md->theta_hi), free(md->x0);
  md->theta_name = NULL, md->theta = md->theta_lo = md->theta_hi = md->x0 = NULL;
}

static int check_dims(const char *fn, size_t d, size_t *m, latens_sde_noise noise) {
  if (d == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: state dimension d is 0", fn);
  switch (noise) {
  case LATENS_SDE_NOISE_DIAGONAL: *m = d; break;
  case LATENS_SDE_NOISE_SCALAR:
    if (*m != 1) LATENS_ERRORF(LATENS_EINVAL, "%s: scalar noise needs m = 1, got %zu", fn, *m);
    break;
  case LATENS_SDE_NOISE_ADDITIVE:
  case LATENS_SDE_NOISE_GENERAL:
    if (*m == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: Brownian dimension m is 0", fn);
    break;
  default: LATENS_ERRORF(LATENS_EINVAL, "%s: unknown noise kind %d", fn, (int)noise);
  }
  if (!latens_mul_size(d, *m) || !latens_mul_size(d, d))
    LATENS_ERRORF(LATENS_ENOMEM, "%s: d = %zu, m = %zu overflow", fn, d, *m);
  return LATENS_OK;
}

int latens_sde_model_resize(latens_sde_model *md, size_t d, size_t m, latens_sde_noise noise,
                            size_t ntheta) {
  if (!md) LATENS_ERROR("latens_sde_model_resize: model is NULL", LATENS_EINVAL);
  int status = check_dims("latens_sde_model_resize", d, &m, noise);
  if (status) return status;
  free_arrays(md);
  md->d = d, md->m = m, md->noise = noise, md->ntheta = ntheta;
  size_t nt = ntheta ? ntheta : 1;
  md->theta = calloc(nt, sizeof *md->theta);
  md->theta_lo = calloc(nt, sizeof *md->theta_lo); /* calloc: nt * 8 is overflow-checked */
  md->theta_hi = calloc(nt, sizeof *md->theta_hi);
  md->theta_name = calloc(nt, sizeof *md->theta_name);
  md->x0 = calloc(d, sizeof *md->x0);
  int bad = !md->theta || !md->theta_lo || !md->theta_hi || !md->theta_name || !md->x0;
  for (size_t k = 0; !bad && k < ntheta; k++) {
    md->theta_lo[k] = -INFINITY, md->theta_hi[k] = INFINITY;
    char buf[32];
    snprintf(buf, sizeof buf, "theta%zu", k);
    bad = !(md->theta_name[k] = strdup(buf));
  }
  if (bad) {
    free_arrays(md);
    md->ntheta = 0;
    LATENS_ERRORF(LATENS_ENOMEM, "latens_sde_model_resize: no memory for d = %zu, ntheta = %zu",
                  d, ntheta);
  }
  return LATENS_OK;
}

latens_sde_model *latens_sde_model_alloc(size_t d, size_t m, latens_sde_noise noise,
                                         size_t ntheta) {
  if (check_dims("latens_sde_model_alloc", d, &m, noise)) return NULL;
  latens_sde_model *md = calloc(1, sizeof *md);
  if (!md) LATENS_ERROR_NULL("latens_sde_model_alloc: out of memory", LATENS_ENOMEM);
  md->calculus = LATENS_SDE_ITO;
  if (latens_sde_model_resize(md, d, m, noise, ntheta)) {
    free(md);
    return NULL;
  }
  snprintf(md->name, sizeof md->name, "user");
  return md;
}

void latens_sde_model_free(latens_sde_model *md) {
  if (!md) return;
  if (md->priv_free_) md->priv_free_(md->priv_);
  free_arrays(md);
  free(md);
}

int latens_sde_model_set_param(latens_sde_model *md, size_t k, const char *name, double value,
                               double lo, double hi) {
  if (!md || !name) LATENS_ERROR("latens_sde_model_set_param: model or name is NULL", LATENS_EINVAL);
  if (k >= md->ntheta)
    LATENS_ERRORF(LATENS_EINVAL, "latens_sde_model_set_param: index %zu with %zu parameters", k,
                  md->ntheta);
  if (isnan(lo) || isnan(hi) || lo > hi)
    LATENS_ERRORF(LATENS_EDOM, "latens_sde_model_set_param: bad domain [%g, %g] for '%s'", lo, hi,
                  name);
  char *s = strdup(name);
  if (!s) LATENS_ERROR("latens_sde_model_set_param: out of memory", LATENS_ENOMEM);
  free(md->theta_name[k]);
  md->theta_name[k] = s;
  md->theta[k] = value, md->theta_lo[k] = lo, md->theta_hi[k] = hi;
  return LATENS_OK;
}

long latens_sde_model_param_index(const latens_sde_model *md, const char *name) {
  if (!md || !name) return -1;
  for (size_t k = 0; k < md->ntheta; k++)
    if (md->theta_name[k] && !strcmp(md->theta_name[k], name)) return (long)k;
  return -1;
}

static int check_theta(const char *fn, const latens_sde_model *md, const double *theta) {
  for (size_t k = 0; k < md->ntheta; k++) {
    const char *nm = md->theta_name && md->theta_name[k] ? md->theta_name[k] : "?";
    if (!isfinite(theta[k]))
      LATENS_ERRORF(LATENS_ENOTFINITE, "%s: parameter %s = %g is not finite", fn, nm, theta[k]);
    if (theta[k] < md->theta_lo[k] || theta[k] > md->theta_hi[k])
      LATENS_ERRORF(LATENS_EDOM, "%s: parameter %s = %g outside [%g, %g]", fn, nm, theta[k],
                    md->theta_lo[k], md->theta_hi[k]);
  }
  return LATENS_OK;
}

int latens_sde_model_set_params(latens_sde_model *md, const double *theta, size_t ntheta) {
  if (!md || (!theta && ntheta))
    LATENS_ERROR("latens_sde_model_set_params: model or theta is NULL", LATENS_EINVAL);
  if (ntheta != md->ntheta)
    LATENS_ERRORF(LATENS_EBADLEN, "latens_sde_model_set_params: %zu values for %zu parameters",
                  ntheta, md->ntheta);
  int status = check_theta("latens_sde_model_set_params", md, theta);
  if (status) return status;
  if (ntheta) memcpy(md->theta, theta, ntheta * sizeof *theta);
  return LATENS_OK;
}

int latens_sde_model_check(const latens_sde_model *md) {
  const char *fn = "latens_sde_model_check";
  if (!md) LATENS_ERRORF(LATENS_EINVAL, "%s: model is NULL", fn);
  size_t m = md->m;
  int status = check_dims(fn, md->d, &m, md->noise);
  if (status) return status;
  if (m != md->m)
    LATENS_ERRORF(LATENS_EINVAL, "%s: diagonal noise needs m = d, got d = %zu, m = %zu", fn, md->d,
                  md->m);
  if (md->calculus != LATENS_SDE_ITO && md->calculus != LATENS_SDE_STRATONOVICH)
    LATENS_ERRORF(LATENS_EINVAL, "%s: unknown calculus %d", fn, (int)md->calculus);
  if (!md->both && (!md->drift || !md->diffusion))
    LATENS_ERRORF(LATENS_EINVAL, "%s: model '%s' has no %s callback", fn, md->name,
                  md->drift ? "diffusion" : "drift");
  if (!md->x0 || (md->ntheta && (!md->theta || !md->theta_lo || !md->theta_hi)))
    LATENS_ERRORF(LATENS_EINVAL, "%s: model '%s' has NULL arrays", fn, md->name);
  if (!latens_all_finite(md->x0, md->d))
    LATENS_ERRORF(LATENS_ENOTFINITE, "%s: model '%s' has a NaN or Inf initial state", fn, md->name);
  return check_theta(fn, md, md->theta);
}

static int cb_status(int rc, const char *fn, const char *what, double t) {
  if (!rc) return LATENS_OK;
  int st = (rc > 0 && rc < LATENS_NSTATUS) ? rc : LATENS_EFAILED;
  LATENS_ERRORF(st, "%s: the %s callback returned %d at t = %g", fn, what, rc, t);
}

int sde_callback_failed(int rc, const char *what, double t) {
  return cb_status(rc, "sde solver", what, t);
}

int latens_sde_model_drift(const latens_sde_model *md, double t, const double *x, double *f) {
  if (!md || !x || !f) LATENS_ERROR("latens_sde_model_drift: NULL argument", LATENS_EINVAL);
  if (md->both) return cb_status(md->both(t, x, md->theta, md->user, f, NULL), "latens_sde_model_drift", "both", t);
  if (!md->drift) LATENS_ERROR("latens_sde_model_drift: model has no drift", LATENS_EINVAL);
  return cb_status(md->drift(t, x, md->theta, md->user, f), "latens_sde_model_drift", "drift", t);
}

int latens_sde_model_diffusion(const latens_sde_model *md, double t, const double *x, double *g) {
  if (!md || !x || !g) LATENS_ERROR("latens_sde_model_diffusion: NULL argument", LATENS_EINVAL);
  if (md->both)
    return cb_status(md->both(t, x, md->theta, md->user, NULL, g), "latens_sde_model_diffusion", "both", t);
  if (!md->diffusion) LATENS_ERROR("latens_sde_model_diffusion: model has no diffusion", LATENS_EINVAL);
  return cb_status(md->diffusion(t, x, md->theta, md->user, g), "latens_sde_model_diffusion",
                   "diffusion", t);
}

int latens_sde_model_diffusion_matrix(const latens_sde_model *md, double t, const double *x,
                                      double *G) {
  int status = latens_sde_model_diffusion(md, t, x, G);
  if (status) return status;
  size_t d = md->d, m = md->m;
  if (md->noise == LATENS_SDE_NOISE_DIAGONAL) { /* expand in place, last column first */
    for (size_t j = d; j-- > 0;) {
      double gj = G[j];
      for (size_t i = 0; i < d; i++) G[i + j * d] = 0;
      G[j + j * d] = gj;
    }
  }
  (void)m; /* scalar: d values are already the single column; additive/general: d x m */
  return LATENS_OK;
}

int latens_sde_model_drift_jacobian(const latens_sde_model *md, double t, const double *x,
                                    double *J) {
  if (!md || !x || !J) LATENS_ERROR("latens_sde_model_drift_jacobian: NULL argument", LATENS_EINVAL);
  if (md->drift_jac)
    return cb_status(md->drift_jac(t, x, md->theta, md->user, J), "latens_sde_model_drift_jacobian",
                     "drift_jac", t);
  size_t d = md->d;
  double *buf = malloc(3 * d * sizeof *buf);
  if (!buf) LATENS_ERROR("latens_sde_model_drift_jacobian: out of memory", LATENS_ENOMEM);
  double *xp = buf, *fp = buf + d, *fm = buf + 2 * d;
  memcpy(xp, x, d * sizeof *x);
  int status = LATENS_OK;
  for (size_t j = 0; j < d && !status; j++) {
    /* central differences: error O(step^2 f''') + O(eps f / step), balanced near 1e-6 */
    double s = 1e-6 * fmax(1.0, fabs(x[j]));
    xp[j] = x[j] + s;
    status = latens_sde_model_drift(md, t, xp, fp);
    xp[j] = x[j] - s;
    if (!status) status = latens_sde_model_drift(md, t, xp, fm);
    xp[j] = x[j];
    for (size_t i = 0; !status && i < d; i++) J[i + j * d] = (fp[i] - fm[i]) / (2 * s);
  }
  free(buf);
  return status;
}
