/* gp/ssm.c: the stacked state-space prior that CVI and GPFA run on.  Kept as per-latent
 * blocks so that a regular grid costs one step per latent, whatever T is. */
#include "cvi_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

latens_gp_ssm *latens_gp_ssm_alloc(size_t K, const size_t *dims, size_t T, int regular) {
  if (K == 0 || !dims || T == 0)
    LATENS_ERROR_NULL("latens_gp_ssm_alloc: need K >= 1 latents, their dims and T >= 1 times",
                      LATENS_EINVAL);
  size_t D = 0;
  for (size_t k = 0; k < K; k++) {
    if (dims[k] == 0 || dims[k] > 64) {
      latens_errorf(__FILE__, __LINE__, LATENS_EINVAL,
                    "latens_gp_ssm_alloc: state dimension of latent %zu is %zu, expected 1..64",
                    k, dims[k]);
      return NULL;
    }
    D += dims[k];
  }
  if (D > 4096) LATENS_ERROR_NULL("latens_gp_ssm_alloc: total state dimension above 4096", LATENS_EINVAL);
  latens_gp_ssm *s = calloc(1, sizeof *s);
  if (!s) LATENS_ERROR_NULL("latens_gp_ssm_alloc: out of memory", LATENS_ENOMEM);
  s->K = K, s->T = T, s->D = D, s->regular = regular != 0;
  s->nsteps = s->regular ? 1 : (T > 1 ? T - 1 : 1);
  s->dims = calloc(K, sizeof *s->dims);
  s->off = calloc(K, sizeof *s->off);
  s->H = calloc(K * D, sizeof *s->H);
  s->Pinf = calloc(D * D, sizeof *s->Pinf);
  s->A = calloc(K, sizeof *s->A);
  s->Q = calloc(K, sizeof *s->Q);
  int bad = !s->dims || !s->off || !s->H || !s->Pinf || !s->A || !s->Q;
  for (size_t k = 0, o = 0; !bad && k < K; o += dims[k], k++) {
    s->dims[k] = dims[k], s->off[k] = o;
    size_t n = latens_mul_size(s->nsteps, dims[k] * dims[k]);
    s->A[k] = n ? calloc(n, sizeof **s->A) : NULL;
    s->Q[k] = n ? calloc(n, sizeof **s->Q) : NULL;
    bad = !s->A[k] || !s->Q[k];
  }
  if (bad) {
    latens_gp_ssm_free(s);
    LATENS_ERROR_NULL("latens_gp_ssm_alloc: out of memory", LATENS_ENOMEM);
  }
  return s;
}

void latens_gp_ssm_free(latens_gp_ssm *s) {
  if (!s) return;
  for (size_t k = 0; k < s->K && s->A; k++) free(s->A[k]);
  for (size_t k = 0; k < s->K && s->Q; k++) free(s->Q[k]);
  free(s->A), free(s->Q), free(s->H), free(s->Pinf), free(s->dims), free(s->off), free(s);
}

size_t latens_gp_ssm_nlatents(const latens_gp_ssm *s) { return s ? s->K : 0; }
size_t latens_gp_ssm_ntimes(const latens_gp_ssm *s) { return s ? s->T : 0; }
size_t latens_gp_ssm_state_dim(const latens_gp_ssm *s) { return s ? s->D : 0; }

int latens_gp_ssm_set_latent(latens_gp_ssm *s, size_t k, const latens_mat *H,
                             const latens_mat *Pinf) {
  static const char fn[] = "latens_gp_ssm_set_latent";
  if (!s) LATENS_ERRORF(LATENS_EINVAL, "%s: s is NULL", fn);
  if (k >= s->K) LATENS_ERRORF(LATENS_EINVAL, "%s: latent %zu of %zu", fn, k, s->K);
  const size_t d = s->dims[k], o = s->off[k];
  int st;
  if ((st = latens_check_mat(fn, "H", H, 1, d)) || (st = latens_check_mat(fn, "Pinf", Pinf, d, d)))
    return st;
  if ((st = latens_check_finite_mat(fn, "H", H)) || (st = latens_check_finite_mat(fn, "Pinf", Pinf)))
    return st;
  for (size_t i = 0; i < d; i++)
    if (!(LATENS_MAT(Pinf, i, i) > 0))
      LATENS_ERRORF(LATENS_EDOM, "%s: Pinf[%zu][%zu] = %g of latent %zu is not positive", fn, i, i,
                    LATENS_MAT(Pinf, i, i), k);
  for (size_t i = 0; i < d; i++) {
    s->H[k + (o + i) * s->K] = LATENS_MAT(H, 0, i);
    for (size_t j = 0; j < d; j++)
      s->Pinf[(o + i) + (o + j) * s->D] = 0.5 * (LATENS_MAT(Pinf, i, j) + LATENS_MAT(Pinf, j, i));
  }
  return LATENS_OK;
}

int latens_gp_ssm_set_step(latens_gp_ssm *s, size_t k, size_t t, const latens_mat *A,
                           const latens_mat *Q) {
  static const char fn[] = "latens_gp_ssm_set_step";
  if (!s) LATENS_ERRORF(LATENS_EINVAL, "%s: s is NULL", fn);
  if (k >= s->K) LATENS_ERRORF(LATENS_EINVAL, "%s: latent %zu of %zu", fn, k, s->K);
  if (t >= s->nsteps)
    LATENS_ERRORF(LATENS_EINVAL, "%s: step %zu of %zu (%s grid)", fn, t, s->nsteps,
                  s->regular ? "regular" : "irregular");
  const size_t d = s->dims[k];
  int st;
  if ((st = latens_check_mat(fn, "A", A, d, d)) || (st = latens_check_mat(fn, "Q", Q, d, d)))
    return st;
  if ((st = latens_check_finite_mat(fn, "A", A)) || (st = latens_check_finite_mat(fn, "Q", Q)))
    return st;
  double *a = s->A[k] + t * d * d, *q = s->Q[k] + t * d * d;
  for (size_t j = 0; j < d; j++)
    for (size_t i = 0; i < d; i++) {
      a[i + j * d] = LATENS_MAT(A, i, j);
      q[i + j * d] = 0.5 * (LATENS_MAT(Q, i, j) + LATENS_MAT(Q, j, i));
    }
  return LATENS_OK;
}

void latens_gp_ssm_step_full(const latens_gp_ssm *s, size_t t, double *A, double *Q) {
  const size_t D = s->D, step = s->regular ? 0 : t;
  memset(A, 0, D * D * sizeof *A);
  memset(Q, 0, D * D * sizeof *Q);
  for (size_t k = 0; k < s->K; k++) {
    const size_t d = s->dims[k], o = s->off[k];
    const double *a = s->A[k] + step * d * d, *q = s->Q[k] + step * d * d;
    for (size_t j = 0; j < d; j++)
      for (size_t i = 0; i < d; i++) {
        A[(o + i) + (o + j) * D] = a[i + j * d];
        Q[(o + i) + (o + j) * D] = q[i + j * d];
      }
  }
}

int latens_gp_ssm_set_kernel(latens_gp_ssm *s, size_t k, const latens_gp_kernel *kern,
                             const double *times) {
  static const char fn[] = "latens_gp_ssm_set_kernel";
  if (!s || !kern || !times) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  if (k >= s->K) LATENS_ERRORF(LATENS_EINVAL, "%s: latent %zu of %zu", fn, k, s->K);
  const size_t d = s->dims[k], T = s->T;
  if (latens_gp_kernel_dim(kern) != d)
    LATENS_ERRORF(LATENS_EBADLEN, "%s: kernel state dimension %zu, latent %zu was allocated "
                  "with %zu", fn, latens_gp_kernel_dim(kern), k, d);
  for (size_t t = 0; t < T; t++) {
    if (!isfinite(times[t])) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: time %zu is not finite", fn, t);
    if (t && times[t] < times[t - 1])
      LATENS_ERRORF(LATENS_EDOM, "%s: times not sorted: t[%zu] = %g < t[%zu] = %g", fn, t,
                    times[t], t - 1, times[t - 1]);
  }
  /* A regular prior stores one step: every gap must equal it, not only the first (which is
   * all the loop below visits). */
  const double step = T > 1 ? (times[T - 1] - times[0]) / (double)(T - 1) : 0;
  for (size_t t = 1; s->regular && t < T; t++) {
    double dt = times[t] - times[t - 1];
    if (fabs(dt - step) > 1e-9 * fmax(fabs(step), 1e-300) * (double)T)
      LATENS_ERRORF(LATENS_EDOM, "%s: grid declared regular but step %zu is %g, the mean step "
                    "%g", fn, t - 1, dt, step);
  }
  double buf[3 * 64 * 64 + 64];
  latens_mat A = latens_mat_view(buf, d, d, d), Q = latens_mat_view(buf + d * d, d, d, d),
             P = latens_mat_view(buf + 2 * d * d, d, d, d), H = latens_mat_view(buf + 3 * d * d, 1, d, 1);
  latens_vec h = latens_vec_view(buf + 3 * d * d, d, 1);
  int st;
  if ((st = latens_gp_kernel_H(kern, &h)) || (st = latens_gp_kernel_pinf(kern, &P)) ||
      (st = latens_gp_ssm_set_latent(s, k, &H, &P)))
    return st;
  for (size_t t = 0; t < s->nsteps && T > 1; t++) {
    double dt = s->regular ? step : times[t + 1] - times[t];
    if ((st = latens_gp_kernel_transition(kern, dt, &A, &Q)) ||
        (st = latens_gp_ssm_set_step(s, k, t, &A, &Q)))
      return st;
  }
  return LATENS_OK;
}
