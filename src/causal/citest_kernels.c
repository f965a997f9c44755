/* causal/citest_kernels.c: Fisher-z partial correlation and contingency-table tests. */
#include "citest_impl.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_eigen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Pivots below this (on a correlation matrix, diagonal 1) mean a column is, to rounding, a
 * linear combination of the ones before it: the Cholesky route is then abandoned. */
#define CHOL_TINY 1e-10

/* r_xy|S from the Moore-Penrose pseudo-inverse of the (m x m, {x, y} first) submatrix a. */
static int pinv_partial(double *a, size_t m, double *r) {
  gsl_matrix_view A = gsl_matrix_view_array(a, m, m);
  gsl_vector *ev = gsl_vector_alloc(m);
  gsl_matrix *V = gsl_matrix_alloc(m, m);
  gsl_eigen_symmv_workspace *w = gsl_eigen_symmv_alloc(m);
  if (!ev || !V || !w) {
    gsl_vector_free(ev);
    gsl_matrix_free(V);
    if (w) gsl_eigen_symmv_free(w);
    LATENS_ERROR("fisherz: out of memory", LATENS_ENOMEM);
  }
  gsl_eigen_symmv(&A.matrix, ev, V, w);
  double lmax = 0;
  for (size_t i = 0; i < m; i++) lmax = fmax(lmax, fabs(gsl_vector_get(ev, i)));
  double pxx = 0, pyy = 0, pxy = 0;
  for (size_t i = 0; i < m; i++) {
    double l = gsl_vector_get(ev, i);
    if (!(l > 1e-10 * lmax)) continue;
    double vx = gsl_matrix_get(V, 0, i), vy = gsl_matrix_get(V, 1, i);
    pxx += vx * vx / l;
    pyy += vy * vy / l;
    pxy += vx * vy / l;
  }
  gsl_vector_free(ev);
  gsl_matrix_free(V);
  gsl_eigen_symmv_free(w);
  /* A variable fully explained by S has no residual left to correlate: report r = 0. */
  *r = pxx > 0 && pyy > 0 ? -pxy / sqrt(pxx * pyy) : 0.0;
  return LATENS_OK;
}

int latens_causal_fisherz(const latens_causal_data *d, size_t x, size_t y, const size_t *S,
                          size_t k, double *p) {
  const latens_mat *R = latens_causal_data_corr(d);
  size_t n = latens_causal_data_n(d);
  double r = 0;
  int done = 0;
  if (k == 0) {
    r = LATENS_MAT(R, x, y);
    done = 1;
  } else if (k == 1) {
    double rxz = LATENS_MAT(R, x, S[0]), ryz = LATENS_MAT(R, y, S[0]);
    double den = (1 - rxz * rxz) * (1 - ryz * ryz);
    if (den > CHOL_TINY) {
      r = (LATENS_MAT(R, x, y) - rxz * ryz) / sqrt(den);
      done = 1;
    }
  }
  if (!done) {
    size_t m = k + 2;
    double buf[34 * 34], *a = m <= 34 ? buf : malloc(m * m * sizeof *a);
    if (!a) LATENS_ERROR("fisherz: out of memory", LATENS_ENOMEM);
    /* Cholesky L of R_SS, then v = L^-1 R_S{x,y}: the covariance of (x, y) given S is
     * C = R_{xy,xy} - V^T V (a Schur complement), and r = C_xy / sqrt(C_xx C_yy). */
    double *vx = a + k * k, *vy = vx + k;
    int sing = 0;
    for (size_t j = 0; j < k && !sing; j++) {
      for (size_t i = j; i < k; i++) {
        double v = LATENS_MAT(R, S[i], S[j]);
        for (size_t t = 0; t < j; t++) v -= a[i + t * k] * a[j + t * k];
        if (i == j) {
          if (!(v > CHOL_TINY)) {
            sing = 1;
            break;
          }
          a[j + j * k] = sqrt(v);
        } else {
          a[i + j * k] = v / a[j + j * k];
        }
      }
    }
    int st = LATENS_OK;
    if (!sing) {
      double cxx = 1, cyy = 1, cxy = LATENS_MAT(R, x, y);
      for (size_t i = 0; i < k; i++) {
        double sx = LATENS_MAT(R, S[i], x), sy = LATENS_MAT(R, S[i], y);
        for (size_t t = 0; t < i; t++) sx -= a[i + t * k] * vx[t], sy -= a[i + t * k] * vy[t];
        vx[i] = sx / a[i + i * k], vy[i] = sy / a[i + i * k];
        cxx -= vx[i] * vx[i], cyy -= vy[i] * vy[i], cxy -= vx[i] * vy[i];
      }
      /* x or y a linear function of S: nothing is left to depend on y (x): r = 0, p = 1. */
      r = cxx > CHOL_TINY && cyy > CHOL_TINY ? cxy / sqrt(cxx * cyy) : 0.0;
    } else {
      /* S itself collinear (or n <= |S|): pseudo-inverse on the order {x, y} u S. */
      size_t ord[2] = {x, y};
      for (size_t j = 0; j < m; j++) {
        size_t vj = j < 2 ? ord[j] : S[j - 2];
        for (size_t i = 0; i < m; i++) {
          size_t vi = i < 2 ? ord[i] : S[i - 2];
          a[i + j * m] = LATENS_MAT(R, vi, vj);
        }
      }
      st = pinv_partial(a, m, &r);
    }
    if (a != buf) free(a);
    if (st) return st;
  }
  if (!isfinite(r)) r = 0;
  double lim = 1 - 1e-7;
  r = r > lim ? lim : r < -lim ? -lim : r;
  double dof = (double)n - (double)k - 3.0;
  if (dof <= 0) {
    *p = 1.0; /* fewer samples than the conditioning set needs: no evidence either way */
    return LATENS_OK;
  }
  double z = sqrt(dof) * atanh(r);
  *p = erfc(fabs(z) / M_SQRT2);
  return LATENS_OK;
}

/* Stratum of each row: the configuration of S, numbered in order of first appearance. */
static int strata(const latens_causal_data *d, const size_t *S, size_t k, unsigned *sid,
                  size_t *nstr) {
  size_t n = latens_causal_data_n(d);
  if (k == 0) {
    memset(sid, 0, n * sizeof *sid);
    *nstr = 1;
    return LATENS_OK;
  }
  /* Open addressing on the configuration's mixed-radix code (exact: the code is stored). */
  size_t nb = 16;
  while (nb < 2 * n) nb <<= 1;
  uint64_t *keys = malloc(nb * sizeof *keys);
  unsigned *ids = malloc(nb * sizeof *ids);
  if (!keys || !ids) {
    free(keys);
    free(ids);
    LATENS_ERROR("chisq: out of memory", LATENS_ENOMEM);
  }
  memset(ids, 0xff, nb * sizeof *ids);
  const int *col[64];
  uint64_t rad[64];
  int wide = k > 64;
  uint64_t prod = 1;
  for (size_t j = 0; j < k && !wide; j++) {
    col[j] = latens_causal_data_codes(d, S[j]);
    rad[j] = latens_causal_data_levels(d, S[j]);
    if (prod > UINT64_MAX / (rad[j] + 1)) wide = 1;
    prod *= rad[j];
  }
  if (wide) {
    free(keys);
    free(ids);
    LATENS_ERRORF(LATENS_EUNIMPL, "chisq: %zu conditioning variables have more than 2^64 joint states", k);
  }
  unsigned next = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t key = 0;
    for (size_t j = 0; j < k; j++) key = key * rad[j] + (uint64_t)col[j][i];
    size_t b = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (nb - 1);
    while (ids[b] != 0xffffffffu && keys[b] != key) b = (b + 1) & (nb - 1);
    if (ids[b] == 0xffffffffu) keys[b] = key, ids[b] = next++;
    sid[i] = ids[b];
  }
  free(keys);
  free(ids);
  *nstr = next;
  return LATENS_OK;
}

/* X^2 or G^2 summed over strata, and causal-learn's degrees of freedom, from the counts
 * cnt[s][a][b] (strata with no rows are skipped). */
static void table_stat(const unsigned *cnt, size_t nstr, size_t cx, size_t cy, int gsq,
                       unsigned *rows, unsigned *cols, double *stat_out, double *df_out) {
  double stat = 0, df = 0;
  size_t cells = cx * cy;
  for (size_t s = 0; s < nstr; s++) {
    const unsigned *c = cnt + s * cells;
    unsigned N = 0;
    memset(rows, 0, cx * sizeof *rows);
    memset(cols, 0, cy * sizeof *cols);
    for (size_t a = 0; a < cx; a++)
      for (size_t b = 0; b < cy; b++) rows[a] += c[a * cy + b], cols[b] += c[a * cy + b];
    for (size_t a = 0; a < cx; a++) N += rows[a];
    if (!N) continue;
    size_t zr = 0, zc = 0;
    for (size_t a = 0; a < cx; a++) zr += rows[a] == 0;
    for (size_t b = 0; b < cy; b++) zc += cols[b] == 0;
    df += (double)(cx - 1 - zr) * (double)(cy - 1 - zc);
    for (size_t a = 0; a < cx; a++) {
      double ra = rows[a];
      if (ra == 0) continue;
      for (size_t b = 0; b < cy; b++) {
        double E = ra * cols[b] / N, O = c[a * cy + b];
        if (E == 0) continue;
        if (gsq) stat += O > 0 ? 2.0 * O * log(O / E) : 0.0;
        else stat += (O - E) * (O - E) / E;
      }
    }
  }
  *stat_out = stat;
  *df_out = df;
}

int latens_causal_chisq(const latens_causal_data *d, size_t x, size_t y, const size_t *S,
                        size_t k, int gsq, double *p) {
  size_t n = latens_causal_data_n(d), cx = latens_causal_data_levels(d, x),
         cy = latens_causal_data_levels(d, y), nstr = 0, cells = cx * cy;
  const int *X = latens_causal_data_codes(d, x), *Y = latens_causal_data_codes(d, y);
  /* Dense strata (the mixed-radix code of S) when the table is small: no hashing. */
  /* Dense strata only while the table stays below ~2n cells: every stratum is visited. */
  size_t prod = 1, limit = 2 * n + 64;
  for (size_t j = 0; j < k && prod <= limit; j++) prod *= latens_causal_data_levels(d, S[j]);
  unsigned *sid = NULL, *cnt;
  /* k <= 64: col/rad below are fixed-size; one-level columns keep prod small at any k. */
  if (k <= 64 && prod <= limit && prod * cells <= limit) {
    nstr = prod;
    cnt = calloc(nstr * cells + cx + cy, sizeof *cnt);
    if (!cnt) LATENS_ERROR("chisq: out of memory", LATENS_ENOMEM);
    const int *col[64];
    size_t rad[64];
    for (size_t j = 0; j < k; j++) col[j] = latens_causal_data_codes(d, S[j]), rad[j] = latens_causal_data_levels(d, S[j]);
    for (size_t i = 0; i < n; i++) {
      size_t key = 0;
      for (size_t j = 0; j < k; j++) key = key * rad[j] + (size_t)col[j][i];
      cnt[key * cells + (size_t)X[i] * cy + (size_t)Y[i]]++;
    }
  } else {
    sid = malloc(n * sizeof *sid);
    if (!sid) LATENS_ERROR("chisq: out of memory", LATENS_ENOMEM);
    int st = strata(d, S, k, sid, &nstr);
    if (st) {
      free(sid);
      return st;
    }
    size_t tot = latens_mul_size(nstr, cells);
    if (!tot || tot > ((size_t)1 << 31)) {
      free(sid);
      LATENS_ERRORF(LATENS_ENOMEM, "chisq: %zu strata x %zu x %zu cells is too large", nstr, cx, cy);
    }
    cnt = calloc(tot + cx + cy, sizeof *cnt);
    if (!cnt) {
      free(sid);
      LATENS_ERROR("chisq: out of memory", LATENS_ENOMEM);
    }
    for (size_t i = 0; i < n; i++) cnt[(size_t)sid[i] * cells + (size_t)X[i] * cy + (size_t)Y[i]]++;
    free(sid);
  }
  double stat, df;
  unsigned *rows = cnt + nstr * cells, *cols = rows + cx;
  table_stat(cnt, nstr, cx, cy, gsq, rows, cols, &stat, &df);
  free(cnt);
  if (df <= 0) *p = 1.0; /* no free cell anywhere: nothing to test, as causal-learn */
  else *p = gsl_cdf_chisq_Q(stat > 0 ? stat : 0.0, df);
  return LATENS_OK;
}
