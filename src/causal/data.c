/* causal/data.c: data sets for causal discovery — continuous (correlation matrix computed
 * once) or integer-coded discrete (recoded to 0..k-1 once). */
#include "causal_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct latens_causal_data {
  size_t n, p;
  int discrete;
  char **names;
  latens_mat *x;     /* n x p as given */
  latens_mat *corr;  /* p x p, continuous only */
  int *codes;        /* n x p column-major, discrete only */
  size_t *levels;    /* p, discrete only */
};

void latens_causal_data_free(latens_causal_data *d) {
  if (!d) return;
  if (d->names)
    for (size_t j = 0; j < d->p; j++) free(d->names[j]);
  free(d->names);
  latens_mat_free(d->x);
  latens_mat_free(d->corr);
  free(d->codes);
  free(d->levels);
  free(d);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Recode column j to 0..k-1 in increasing order of value (as causal-learn's np.unique). */
static int recode(latens_causal_data *d, size_t j, double *scratch) {
  size_t n = d->n;
  const double *col = &d->x->data[j * d->x->ld];
  for (size_t i = 0; i < n; i++) {
    double v = col[i];
    if (!isfinite(v))
      LATENS_ERRORF(LATENS_ENOTFINITE, "discrete data: row %zu, column %zu (%s) is not finite", i + 1,
                    j + 1, d->names[j]);
    if (v != floor(v) || fabs(v) > 9.0e15)
      LATENS_ERRORF(LATENS_EDOM, "discrete data: row %zu, column %zu (%s) is %.17g, not an integer", i + 1,
                    j + 1, d->names[j], v);
    scratch[i] = v;
  }
  qsort(scratch, n, sizeof *scratch, cmp_double);
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (i == 0 || scratch[i] != scratch[k - 1]) scratch[k++] = scratch[i];
  if (k > (1u << 20))
    LATENS_ERRORF(LATENS_EDOM, "discrete data: column %zu (%s) has %zu levels (at most 2^20)", j + 1,
                  d->names[j], k);
  d->levels[j] = k;
  int *c = &d->codes[j * n];
  for (size_t i = 0; i < n; i++) {
    size_t lo = 0, hi = k; /* binary search for col[i] among the k sorted levels */
    while (hi - lo > 1) {
      size_t mid = (lo + hi) / 2;
      if (scratch[mid] <= col[i]) lo = mid;
      else hi = mid;
    }
    c[i] = (int)lo;
  }
  return LATENS_OK;
}

static int correlation(latens_causal_data *d) {
  size_t n = d->n, p = d->p;
  latens_mat *z = latens_mat_alloc(n, p);
  d->corr = latens_mat_alloc(p, p);
  if (!z || !d->corr) {
    latens_mat_free(z);
    return LATENS_ENOMEM;
  }
  for (size_t j = 0; j < p; j++) {
    const double *col = &d->x->data[j * d->x->ld];
    double *zc = &z->data[j * n], mean = 0, ss = 0;
    for (size_t i = 0; i < n; i++) mean += col[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) {
      zc[i] = col[i] - mean;
      ss += zc[i] * zc[i];
    }
    /* A column whose spread is rounding noise has no correlation to speak of. */
    if (!(ss > 1e-24 * (double)n * (mean * mean + 1e-300)) || ss == 0) {
      latens_mat_free(z);
      LATENS_ERRORF(LATENS_EDOM, "continuous data: column %zu (%s) is constant; drop it before causal discovery",
                    j + 1, d->names[j]);
    }
    double s = 1.0 / sqrt(ss);
    for (size_t i = 0; i < n; i++) zc[i] *= s;
  }
  int st = latens_mat_gemm('T', 'N', 1.0, z, z, 0.0, d->corr);
  latens_mat_free(z);
  if (st) return st;
  for (size_t j = 0; j < p; j++) {
    LATENS_MAT(d->corr, j, j) = 1.0;
    for (size_t i = 0; i < j; i++) {
      double r = 0.5 * (LATENS_MAT(d->corr, i, j) + LATENS_MAT(d->corr, j, i));
      r = r > 1 ? 1 : r < -1 ? -1 : r;
      LATENS_MAT(d->corr, i, j) = LATENS_MAT(d->corr, j, i) = r;
    }
  }
  return LATENS_OK;
}

int latens_causal_data_alloc(const latens_mat *x, const char *const *names, int discrete,
                             latens_causal_data **out) {
  static const char fn[] = "latens_causal_data_alloc";
  if (!out) LATENS_ERROR("latens_causal_data_alloc: out is NULL", LATENS_EINVAL);
  *out = NULL;
  int st = latens_check_mat(fn, "x", x, LATENS_ANY, LATENS_ANY);
  if (st) return st;
  if (x->ncol < 2 || x->nrow < (discrete ? 1u : 4u))
    LATENS_ERRORF(LATENS_EBADLEN, "%s: need at least 2 variables and %d rows, got %zu x %zu", fn,
                  discrete ? 1 : 4, x->nrow, x->ncol);
  if (!discrete) {
    st = latens_check_finite_mat(fn, "x", x);
    if (st) return st;
  }
  latens_causal_data *d = calloc(1, sizeof *d);
  if (!d) LATENS_ERROR("latens_causal_data_alloc: out of memory", LATENS_ENOMEM);
  d->n = x->nrow;
  d->p = x->ncol;
  d->discrete = discrete != 0;
  d->names = calloc(d->p, sizeof *d->names);
  d->x = latens_mat_alloc(d->n, d->p);
  st = d->names && d->x ? LATENS_OK : LATENS_ENOMEM;
  for (size_t j = 0; j < d->p && !st; j++) {
    char buf[32];
    const char *nm = names && names[j] ? names[j] : (snprintf(buf, sizeof buf, "X%zu", j + 1), buf);
    d->names[j] = malloc(strlen(nm) + 1);
    if (!d->names[j]) st = LATENS_ENOMEM;
    else strcpy(d->names[j], nm);
  }
  if (!st) st = latens_mat_copy(d->x, x);
  if (!st && d->discrete) {
    d->codes = malloc(latens_mul_size(d->n, d->p) * sizeof *d->codes);
    d->levels = calloc(d->p, sizeof *d->levels);
    double *scratch = malloc(d->n * sizeof *scratch);
    st = d->codes && d->levels && scratch ? LATENS_OK : LATENS_ENOMEM;
    for (size_t j = 0; j < d->p && !st; j++) st = recode(d, j, scratch);
    free(scratch);
  } else if (!st) {
    st = correlation(d);
  }
  if (st) {
    latens_causal_data_free(d);
    if (st == LATENS_ENOMEM) LATENS_ERROR("latens_causal_data_alloc: out of memory", st);
    return st;
  }
  *out = d;
  return LATENS_OK;
}

int latens_causal_data_from_table(const latens_table *t, int discrete, latens_causal_data **out) {
  if (!out) LATENS_ERROR("latens_causal_data_from_table: out is NULL", LATENS_EINVAL);
  *out = NULL;
  if (!t) LATENS_ERROR("latens_causal_data_from_table: t is NULL", LATENS_EINVAL);
  size_t p = latens_table_ncol(t);
  for (size_t j = 0; j < p; j++) {
    if (latens_table_type(t, j) == LATENS_COL_TEXT)
      LATENS_ERRORF(LATENS_EPARSE, "column %zu (%s) is text, not numbers", j + 1, latens_table_name(t, j));
    if (latens_table_missing(t, j))
      LATENS_ERRORF(LATENS_EDOM, "column %zu (%s) has %zu missing values; causal discovery needs complete data",
                    j + 1, latens_table_name(t, j), latens_table_missing(t, j));
    if (discrete && latens_table_type(t, j) != LATENS_COL_INTEGER)
      LATENS_ERRORF(LATENS_EDOM, "column %zu (%s) is not integer-coded; --discrete needs integer states",
                    j + 1, latens_table_name(t, j));
  }
  const char **names = malloc((p ? p : 1) * sizeof *names);
  if (!names) LATENS_ERROR("latens_causal_data_from_table: out of memory", LATENS_ENOMEM);
  for (size_t j = 0; j < p; j++) names[j] = latens_table_name(t, j);
  int st = latens_causal_data_alloc(latens_table_data(t), names, discrete, out);
  free(names);
  return st;
}

size_t latens_causal_data_n(const latens_causal_data *d) { return d ? d->n : 0; }
size_t latens_causal_data_p(const latens_causal_data *d) { return d ? d->p : 0; }
int latens_causal_data_is_discrete(const latens_causal_data *d) { return d ? d->discrete : 0; }
const char *latens_causal_data_name(const latens_causal_data *d, size_t j) {
  return d && j < d->p ? d->names[j] : NULL;
}
const latens_mat *latens_causal_data_matrix(const latens_causal_data *d) { return d ? d->x : NULL; }
const latens_mat *latens_causal_data_corr(const latens_causal_data *d) { return d ? d->corr : NULL; }
size_t latens_causal_data_levels(const latens_causal_data *d, size_t j) {
  return d && d->discrete && j < d->p ? d->levels[j] : 0;
}
const int *latens_causal_data_codes(const latens_causal_data *d, size_t j) {
  return d && d->discrete && j < d->p ? &d->codes[j * d->n] : NULL;
}

int latens_causal_data_resample(const latens_causal_data *d, const size_t *rows, size_t m,
                                latens_causal_data **out) {
  if (!out) LATENS_ERROR("latens_causal_data_resample: out is NULL", LATENS_EINVAL);
  *out = NULL;
  if (!d || !rows || !m) LATENS_ERROR("latens_causal_data_resample: NULL data/rows or m = 0", LATENS_EINVAL);
  latens_mat *x = latens_mat_alloc(m, d->p);
  if (!x) return LATENS_ENOMEM;
  for (size_t i = 0; i < m; i++) {
    if (rows[i] >= d->n) {
      latens_mat_free(x);
      LATENS_ERRORF(LATENS_EINVAL, "latens_causal_data_resample: rows[%zu] = %zu >= n = %zu", i, rows[i], d->n);
    }
    for (size_t j = 0; j < d->p; j++) LATENS_MAT(x, i, j) = LATENS_MAT(d->x, rows[i], j);
  }
  int st = latens_causal_data_alloc(x, (const char *const *)d->names, d->discrete, out);
  latens_mat_free(x);
  return st;
}
