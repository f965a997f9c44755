/* core/check.c: the argument checks every core routine starts with, so that a NULL pointer,
 * a failed view, a wrong shape or a size CBLAS would truncate is reported the same way (and
 * in the same order) everywhere, before any BLAS or GSL call can see it. */
#include "internal.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>

int latens_mat_ok(const latens_mat *m) { return m && (m->data || m->nrow == 0 || m->ncol == 0); }

int latens_vec_ok(const latens_vec *v) { return v && (v->data || v->n == 0) && v->stride; }

int latens_too_big(size_t n) { return n > (size_t)INT_MAX; }

/* The ld and INT_MAX part, after the shape: a shape error is the likelier mistake and the
 * more useful message. */
static int check_ld(const char *fn, const char *name, const latens_mat *m) {
  if (m->ld < m->nrow)
    LATENS_ERRORF(LATENS_EINVAL, "%s: %s has leading dimension %zu for %zu rows", fn, name, m->ld,
                  m->nrow);
  if (latens_too_big(m->ld) || latens_too_big(m->ncol)) /* nrow <= ld */
    LATENS_ERRORF(LATENS_EINVAL, "%s: %s is %zux%zu with leading dimension %zu, beyond INT_MAX "
                  "(CBLAS)", fn, name, m->nrow, m->ncol, m->ld);
  return LATENS_OK;
}

int latens_check_mat(const char *fn, const char *name, const latens_mat *m, size_t nrow,
                     size_t ncol) {
  if (!latens_mat_ok(m)) LATENS_ERRORF(LATENS_EINVAL, "%s: %s is NULL", fn, name);
  const int rbad = nrow != LATENS_ANY && m->nrow != nrow;
  const int cbad = ncol != LATENS_ANY && m->ncol != ncol;
  if (rbad || cbad) {
    char want[64];
    if (nrow == LATENS_ANY) snprintf(want, sizeof want, "%zu columns", ncol);
    else if (ncol == LATENS_ANY) snprintf(want, sizeof want, "%zu rows", nrow);
    else snprintf(want, sizeof want, "%zux%zu", nrow, ncol);
    LATENS_ERRORF(LATENS_EBADLEN, "%s: %s is %zux%zu, expected %s", fn, name, m->nrow, m->ncol,
                  want);
  }
  return check_ld(fn, name, m);
}

int latens_check_square(const char *fn, const char *name, const latens_mat *m) {
  if (!latens_mat_ok(m)) LATENS_ERRORF(LATENS_EINVAL, "%s: %s is NULL", fn, name);
  if (m->nrow != m->ncol)
    LATENS_ERRORF(LATENS_EBADLEN, "%s: %s is %zux%zu, not square", fn, name, m->nrow, m->ncol);
  return check_ld(fn, name, m);
}

int latens_check_vec(const char *fn, const char *name, const latens_vec *v, size_t n) {
  if (!v || (!v->data && v->n)) LATENS_ERRORF(LATENS_EINVAL, "%s: %s is NULL", fn, name);
  if (n != LATENS_ANY && v->n != n)
    LATENS_ERRORF(LATENS_EBADLEN, "%s: %s has length %zu, expected %zu", fn, name, v->n, n);
  if (v->stride == 0 || latens_too_big(v->stride) || latens_too_big(v->n))
    LATENS_ERRORF(LATENS_EINVAL, "%s: %s has length %zu and stride %zu (need 1..INT_MAX)", fn,
                  name, v->n, v->stride);
  return LATENS_OK;
}

int latens_check_finite_mat(const char *fn, const char *name, const latens_mat *m) {
  if (latens_mat_all_finite(m)) return LATENS_OK;
  for (size_t j = 0; j < m->ncol; j++) /* find the first, for the message */
    for (size_t i = 0; i < m->nrow; i++)
      if (!isfinite(LATENS_MAT(m, i, j)))
        LATENS_ERRORF(LATENS_ENOTFINITE, "%s: %s(%zu,%zu) = %g", fn, name, i, j,
                      LATENS_MAT(m, i, j));
  return LATENS_OK;
}

/* x * 0.0 is 0 for finite x and NaN for Inf or NaN: a branch-free sum that vectorises, where
 * an isfinite test per entry does not. */
int latens_all_finite(const double *x, size_t n) {
  double acc = 0.0;
  for (size_t i = 0; i < n; i++) acc += x[i] * 0.0;
  return acc == 0.0;
}

int latens_mat_all_finite(const latens_mat *m) {
  if (m->nrow == 0) return 1; /* data may be NULL: no pointer arithmetic on it */
  for (size_t j = 0; j < m->ncol; j++)
    if (!latens_all_finite(m->data + j * m->ld, m->nrow)) return 0;
  return 1;
}

int latens_vec_all_finite(const latens_vec *v) {
  double acc = 0.0;
  for (size_t i = 0; i < v->n; i++) acc += LATENS_VEC(v, i) * 0.0;
  return acc == 0.0;
}
