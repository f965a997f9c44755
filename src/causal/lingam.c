/* causal/lingam.c: DirectLiNGAM (Shimizu et al. 2011) with the pairwise likelihood-ratio
 * measure (Hyvarinen & Smith 2013), as the lingam package computes it, and the helpers every
 * LiNGAM-type method shares. */
#include "score_impl.h"
#include "lingam_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void latens_causal_lingam_options_default(latens_causal_lingam_options *opt) {
  if (!opt) return;
  opt->prune_alpha = 1e-3;
  opt->threads = 0;
  opt->ica_nonlinearity = LATENS_CAUSAL_ICA_LOGCOSH;
  opt->ica_max_iter = 1000;
  opt->ica_tol = 1e-6;
}

int cs_data_continuous(const char *fn, const latens_causal_data *d, const double **X, size_t *n,
                       size_t *p, size_t *ldx) {
  if (!d) LATENS_ERRORF(LATENS_EINVAL, "%s: data is NULL", fn);
  if (latens_causal_data_is_discrete(d))
    LATENS_ERRORF(LATENS_EINVAL, "%s: needs continuous data, the data set is discrete", fn);
  const latens_mat *m = latens_causal_data_matrix(d);
  if (!m || !m->data) LATENS_ERRORF(LATENS_EINVAL, "%s: data set has no matrix", fn);
  *X = m->data, *n = m->nrow, *p = m->ncol, *ldx = m->ld;
  return cs_check_data(fn, *X, *n, *p, *ldx, *p + 2);
}

const char **cs_names(const latens_causal_data *d) {
  const size_t p = latens_causal_data_p(d);
  const char **nm = malloc((p ? p : 1) * sizeof *nm);
  if (nm)
    for (size_t j = 0; j < p; j++) nm[j] = latens_causal_data_name(d, j);
  return nm;
}

int cs_graph_from_matrix(const latens_causal_data *d, const double *B, size_t p, int transpose,
                         latens_causal_graph **out) {
  const char **nm = cs_names(d);
  if (!nm) LATENS_ERROR("cs_graph_from_matrix: no memory for names", LATENS_ENOMEM);
  latens_causal_graph *g = latens_causal_graph_alloc(p, nm);
  free(nm);
  if (!g) return LATENS_ENOMEM;
  for (size_t i = 0; i < p; i++)
    for (size_t j = 0; j < p; j++) {
      const double b = transpose ? B[i + j * p] : B[j + i * p];
      if (i != j && b != 0.0)
        latens_causal_graph_set_edge(g, i, j, LATENS_CAUSAL_TAIL, LATENS_CAUSAL_ARROW);
    }
  *out = g;
  return LATENS_OK;
}

/* One DirectLiNGAM step: among the active columns act[0..k) of the standardised residual
 * data Z (n x p, ld n) with correlations R, the index into act of the next root.  The
 * measure is antisymmetric, so each unordered pair is evaluated once. */
static size_t pick_root(const double *Z, size_t n, size_t p, const double *R, const size_t *act,
                        size_t k, const double *H, double *diff, int threads) {
  const size_t npair = k * (k - 1) / 2;
  long long np = (long long)npair;
  (void)threads;
#pragma omp parallel for schedule(dynamic, 4) num_threads(CS_NTHREADS(threads)) if (npair > 8)
  for (long long q = 0; q < np; q++) {
    /* invert q -> (a, b), a < b, row-major over the upper triangle */
    size_t a = 0, rem = (size_t)q;
    while (rem >= k - 1 - a) rem -= k - 1 - a, a++;
    const size_t b = a + 1 + rem, i = act[a], j = act[b];
    const double r = R[i + j * p];
    double s = 1.0 - r * r;
    s = s > 1e-12 ? sqrt(s) : 1e-6;
    double m[4];
    lk_moments_pair(Z + i * n, Z + j * n, n, r, s, m);
    const double hri = lk_entropy(m[0] / n, m[1] / n), hrj = lk_entropy(m[2] / n, m[3] / n);
    diff[q] = (H[j] + hri) - (H[i] + hrj); /* > 0: i looks like the cause of j */
  }
  double best = INFINITY;
  size_t arg = 0;
  for (size_t a = 0; a < k; a++) {
    double M = 0.0;
    for (size_t b = 0; b < k; b++) {
      if (a == b) continue;
      const size_t lo = a < b ? a : b, hi = a < b ? b : a;
      const size_t q = lo * (2 * k - lo - 1) / 2 + (hi - lo - 1);
      const double v = a < b ? diff[q] : -diff[q];
      if (v < 0) M += v * v;
    }
    if (M < best) best = M, arg = a;
  }
  return arg;
}

/* The causal order of the n x p data X by DirectLiNGAM. */
static int direct_order(const double *X, size_t n, size_t p, size_t ldx, int threads,
                        const latens_progress *progress, size_t *order) {
  double *Z = malloc(latens_mul_size(n, p) * sizeof *Z), *R = malloc(p * p * sizeof *R);
  double *H = malloc(p * sizeof *H), *diff = malloc((p * (p - 1) / 2 + 1) * sizeof *diff);
  size_t *act = malloc(p * sizeof *act);
  int status = LATENS_OK;
  if (!Z || !R || !H || !diff || !act) {
    free(Z), free(R), free(H), free(diff), free(act);
    LATENS_ERRORF(LATENS_ENOMEM, "latens_causal_direct_lingam: no memory for n = %zu, p = %zu",
                  n, p);
  }
  cs_center(X, n, p, ldx, Z, 1);
  cs_cov(Z, n, p, R);
  status = cs_check_collinear("latens_causal_direct_lingam", R, p);
  for (size_t j = 0; j < p; j++) act[j] = j;
  for (size_t k = p, pos = 0; k > 0 && status == LATENS_OK; k--, pos++) {
    status = latens_progress_report(progress, "directlingam", (double)pos, (double)p);
    if (status != LATENS_OK) break;
    for (size_t a = 0; a < k; a++) {
      double s1, s2;
      lk_moments1(Z + act[a] * n, n, &s1, &s2);
      H[act[a]] = lk_entropy(s1 / n, s2 / n);
    }
    const size_t a = k > 1 ? pick_root(Z, n, p, R, act, k, H, diff, threads) : 0;
    const size_t m = act[a];
    order[pos] = m;
    act[a] = act[k - 1];
    /* Regress the root out and re-standardise (1/n moments keep mean 0, variance 1 - r^2);
     * the correlations of the residuals are then the partial correlations given m. */
    for (size_t b = 0; b + 1 < k; b++) {
      const size_t i = act[b];
      const double r = R[i + m * p], s = sqrt(fmax(1.0 - r * r, 1e-300));
      double *zi = Z + i * n;
      const double *zm = Z + m * n;
      for (size_t t = 0; t < n; t++) zi[t] = (zi[t] - r * zm[t]) / s;
    }
    for (size_t b = 0; b + 1 < k; b++)
      for (size_t c = b + 1; c + 1 < k; c++) {
        const size_t i = act[b], j = act[c];
        const double ri = R[i + m * p], rj = R[j + m * p];
        const double v = (R[i + j * p] - ri * rj) / sqrt(fmax((1 - ri * ri) * (1 - rj * rj), 1e-300));
        R[i + j * p] = R[j + i * p] = v;
      }
  }
  free(Z), free(R), free(H), free(diff), free(act);
  return status;
}

int cs_lingam_finish(const char *fn, const latens_causal_data *d, const double *X, size_t n,
                     size_t p, size_t ldx, const size_t *ord, double prune_alpha, double *B,
                     latens_causal_graph **out) {
  double *Y = malloc(latens_mul_size(n, p) * sizeof *Y), *S = malloc(p * p * sizeof *S);
  double *Bw = malloc(p * p * sizeof *Bw);
  int status = LATENS_OK;
  if (!Y || !S || !Bw) {
    free(Y), free(S), free(Bw);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory for n = %zu, p = %zu", fn, n, p);
  }
  cs_center(X, n, p, ldx, Y, 0);
  cs_cov(Y, n, p, S);
  status = cs_prune_ols(S, n, p, ord, prune_alpha, Bw, p);
  if (status != LATENS_OK)
    latens_errorf(__FILE__, __LINE__, status, "%s: pruning regressions failed (%s)", fn,
                  latens_strerror(status));
  if (status == LATENS_OK && B) memcpy(B, Bw, p * p * sizeof *B);
  if (status == LATENS_OK && out) status = cs_graph_from_matrix(d, Bw, p, 0, out);
  free(Y), free(S), free(Bw);
  return status;
}

static int check_lingam_opt(const char *fn, const latens_causal_lingam_options *o) {
  if (!(o->prune_alpha > 0 && o->prune_alpha <= 1))
    LATENS_ERRORF(LATENS_EDOM, "%s: prune_alpha = %g is not in (0, 1]", fn, o->prune_alpha);
  if (o->threads < 0) LATENS_ERRORF(LATENS_EDOM, "%s: threads = %d < 0", fn, o->threads);
  return LATENS_OK;
}
int cs_lingam_begin(const char *fn, const latens_causal_data *d,
                    const latens_causal_lingam_options *opt, latens_causal_lingam_options *o,
                    latens_causal_graph **out, const double **X, size_t *n, size_t *p,
                    size_t *ldx) {
  latens_causal_lingam_options_default(o);
  if (opt) *o = *opt;
  if (out) *out = NULL;
  int status = check_lingam_opt(fn, o);
  if (status == LATENS_OK) status = cs_data_continuous(fn, d, X, n, p, ldx);
  return status;
}

int latens_causal_direct_lingam(const latens_causal_data *d, const latens_causal_lingam_options *opt,
                                const latens_progress *progress, size_t *order, double *B,
                                latens_causal_graph **out) {
  static const char fn[] = "latens_causal_direct_lingam";
  latens_causal_lingam_options o;
  const double *X;
  size_t n, p, ldx;
  int status = cs_lingam_begin(fn, d, opt, &o, out, &X, &n, &p, &ldx);
  if (status != LATENS_OK) return status;
  size_t *ord = malloc(p * sizeof *ord);
  if (!ord) LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory for p = %zu", fn, p);
  status = direct_order(X, n, p, ldx, o.threads, progress, ord);
  if (status == LATENS_OK)
    status = cs_lingam_finish(fn, d, X, n, p, ldx, ord, o.prune_alpha, B, out);
  if (status == LATENS_OK && order) memcpy(order, ord, p * sizeof *ord);
  free(ord);
  return status;
}
