/* causal/cumulant.c: latent confounders from higher-order cumulants (Cai, Huang, Chen, Hao &
 * Zhang, ICML 2023), as reconstructed in the causal reference sheet, section 4.
 *
 * The model is x = A c with independent non-Gaussian components c: one noise e_i per
 * observed variable and one per latent.  Work happens on the centred, standardised data Z,
 * from which identified observed roots are regressed out; identified latents cannot be
 * removed from Z (they are never observed), so their contributions are *deflated* from every
 * statistic instead: covariance a a^T, third cumulant kappa3 a (x) a (x) a, fourth kappa4
 * a^(x)4, with a the latent's loadings on the current Z (kept up to date as roots are
 * regressed out).  Each step finds either
 *   - an observed root i: for every associated j, r = z_j - rho z_i (rho from deflated
 *     covariances) has vanishing cross-cumulants of orders 3 and 4 with z_i after deflation
 *     (five statistics, |z| < root_z); among several candidates the one DirectLiNGAM's
 *     likelihood-ratio measure prefers; or failing that
 *   - a latent root: among pairs whose residual test fails both ways (so the shared
 *     component is neither z_i nor z_j), the one closest to the One-Latent-Component
 *     condition; its loadings in closed form, and its loadings on every other variable from
 *     kappa3(i,j,k) and kappa4(i,i,j,k).
 * The noises' total effects M (M[k + i p] = regression coefficient of z_k on e_i) give
 * B = I - M^{-1}; the latents' total effects A give Lambda = M^{-1} A. */
#include "score_impl.h"
#include "lingam_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_permutation.h>

void latens_causal_cumulant_options_default(latens_causal_cumulant_options *opt) {
  if (!opt) return;
  opt->root_z = 4.0;
  opt->min_corr = 0.05;
  opt->prune = 0.15;
  opt->max_latent = 0;
}

void latens_causal_cumulant_result_free(latens_causal_cumulant_result *r) {
  if (!r) return;
  free(r->B), free(r->Lambda), free(r->A), free(r->M), free(r->kappa3), free(r->kappa4);
  free(r->order), free(r->pair), free(r);
}

typedef struct {
  size_t n, p, q, qmax;
  double *Z;       /* n x p standardised, observed roots regressed out */
  double *u, *v;   /* n each: scratch for the likelihood-ratio measure */
  double *C;       /* p x p covariance of Z (raw, not deflated) */
  double *a;       /* p x qmax: latent loadings on the current Z */
  double *k3, *k4; /* qmax latent cumulants */
} cstate;

/* Deflated covariance of z_i, z_j. */
static double dcov(const cstate *s, size_t i, size_t j) {
  double v = s->C[i + j * s->p];
  for (size_t l = 0; l < s->q; l++) v -= s->a[i + l * s->p] * s->a[j + l * s->p];
  return v;
}

/* Deflated variance of z_i, floored: over-estimated latent loadings can push it to or below
 * zero, which would turn regression coefficients into garbage. */
static double dvar(const cstate *s, size_t i) {
  return fmax(dcov(s, i, i), 1e-9 * s->C[i + i * s->p] + 1e-300);
}

/* Largest |z| of the root statistics of "z_i is the only component z_i and z_j share": with
 * r = z_j - rho z_i, the cross-cumulants k3(i,i,r), k3(i,r,r), k4(i,i,i,r), k4(i,i,r,r),
 * k4(i,r,r,r) vanish after deflation.  Several orders are needed: with equal noise
 * kurtoses and unit weights k4(i,i,i,r) vanishes for the wrong direction too, while
 * k4(i,i,r,r) is a sum of same-signed terms there.  z uses the sample standard deviation
 * of each statistic's summands (centred by the plug-in moments they contain). */
static double root_stat(const cstate *s, size_t i, size_t j, double *sumsq) {
  const size_t n = s->n, p = s->p;
  const double rho = dcov(s, i, j) / dvar(s, i), Cii = s->C[i + i * p];
  const double Cij = s->C[i + j * p], Cir = Cij - rho * Cii;
  const double Crr = s->C[j + j * p] - 2 * rho * Cij + rho * rho * Cii;
  const double *zi = s->Z + i * n, *zj = s->Z + j * n;
  double m[5] = {0}, q[5] = {0};
  for (size_t t = 0; t < n; t++) {
    const double x = zi[t], r = zj[t] - rho * x, xx = x * x, rr = r * r;
    const double w[5] = {xx * r, x * rr, xx * x * r - 3 * Cii * x * r,
                         xx * rr - Cii * rr - Crr * xx, x * rr * r - 3 * Crr * x * r};
    for (int c = 0; c < 5; c++) m[c] += w[c], q[c] += w[c] * w[c];
  }
  double sd[5];
  for (int c = 0; c < 5; c++) m[c] /= n, sd[c] = sqrt(fmax(q[c] / n - m[c] * m[c], 1e-300) / n);
  m[3] += Cii * Crr - 2 * Cir * Cir; /* from the centred summand back to k4(i,i,r,r) */
  for (size_t l = 0; l < s->q; l++) {
    const double ai = s->a[i + l * p], d = s->a[j + l * p] - rho * ai;
    const double k3 = s->k3[l], k4 = s->k4[l];
    m[0] -= k3 * ai * ai * d, m[1] -= k3 * ai * d * d;
    m[2] -= k4 * ai * ai * ai * d, m[3] -= k4 * ai * ai * d * d, m[4] -= k4 * ai * d * d * d;
  }
  double z = 0, ss = 0;
  for (int c = 0; c < 5; c++) z = fmax(z, fabs(m[c]) / sd[c]), ss += m[c] * m[c] / (sd[c] * sd[c]);
  if (sumsq) *sumsq += ss;
  return z;
}

/* The five two-index cumulants of (i, j), deflated: k[0] = k3(iij), k[1] = k3(ijj),
 * k[2] = k4(iiij), k[3] = k4(iijj), k[4] = k4(ijjj). */
static void pair_cumulants(const cstate *s, size_t i, size_t j, double k[5]) {
  const size_t n = s->n, p = s->p;
  const double *zi = s->Z + i * n, *zj = s->Z + j * n;
  double e[5] = {0, 0, 0, 0, 0};
  for (size_t t = 0; t < n; t++) {
    const double x = zi[t], y = zj[t], xx = x * x, yy = y * y;
    e[0] += xx * y, e[1] += x * yy, e[2] += xx * x * y, e[3] += xx * yy, e[4] += x * yy * y;
  }
  for (int c = 0; c < 5; c++) e[c] /= n;
  const double cii = s->C[i + i * p], cjj = s->C[j + j * p], cij = s->C[i + j * p];
  k[0] = e[0], k[1] = e[1];
  k[2] = e[2] - 3 * cii * cij, k[3] = e[3] - cii * cjj - 2 * cij * cij, k[4] = e[4] - 3 * cjj * cij;
  for (size_t l = 0; l < s->q; l++) {
    const double ai = s->a[i + l * p], aj = s->a[j + l * p];
    k[0] -= s->k3[l] * ai * ai * aj, k[1] -= s->k3[l] * ai * aj * aj;
    k[2] -= s->k4[l] * ai * ai * ai * aj, k[3] -= s->k4[l] * ai * ai * aj * aj;
    k[4] -= s->k4[l] * ai * aj * aj * aj;
  }
}

static double rel(double a, double b) { /* |a - b| / (|a| + |b|), 0 for 0/0 */
  const double den = fabs(a) + fabs(b);
  return den > 0 ? fabs(a - b) / den : 0.0;
}

/* OLC violation of (i, j) in [0, 2] (0: exactly one shared component), and the weighted
 * estimate of a_j / a_i in *ratio.  Weights 1/6 and 1/24 are the asymptotic variances of
 * standardised 3rd and 4th cumulants of a Gaussian, which put the equations on one scale. */
static double olc(const cstate *s, size_t i, size_t j, double k[5], double *ratio) {
  pair_cumulants(s, i, j, k);
  const double si = sqrt(s->C[i + i * s->p]), sj = sqrt(s->C[j + j * s->p]);
  const double v4 = rel(k[3] * k[3], k[2] * k[4]);
  const double v34 = rel(k[1] * k[2], k[0] * k[3]);
  /* least squares of num = ratio den over the three equations, standardised */
  const double num[3] = {k[1] / (si * sj * sj), k[3] / (si * si * sj * sj), k[4] / (si * sj * sj * sj)};
  const double den[3] = {k[0] / (si * si * sj), k[2] / (si * si * si * sj), k[3] / (si * si * sj * sj)};
  const double w[3] = {1.0 / 6, 1.0 / 24, 1.0 / 24};
  double sn = 0, sd = 0;
  for (int c = 0; c < 3; c++) sn += w[c] * num[c] * den[c], sd += w[c] * den[c] * den[c];
  *ratio = sd > 0 ? sn / sd * sj / si : 0.0;
  return v4 + v34;
}

/* Loading of the latent found on the pair (i, j) (loadings ai, aj, cumulants k3, k4) on
 * z_k, from the deflated kappa3(i,j,k) and kappa4(i,i,j,k), weighted as in olc(). */
static double loading(const cstate *s, size_t i, size_t j, size_t k, double ai, double aj,
                      double k3, double k4) {
  const size_t n = s->n, p = s->p;
  const double *zi = s->Z + i * n, *zj = s->Z + j * n, *zk = s->Z + k * n;
  double e3 = 0, e4 = 0;
  for (size_t t = 0; t < n; t++) {
    const double v = zi[t] * zj[t] * zk[t];
    e3 += v, e4 += v * zi[t];
  }
  e3 /= n, e4 /= n;
  const double *C = s->C;
  e4 -= C[i + i * p] * C[j + k * p] + 2 * C[i + j * p] * C[i + k * p];
  for (size_t l = 0; l < s->q; l++) {
    const double bi = s->a[i + l * p], bj = s->a[j + l * p], bk = s->a[k + l * p];
    e3 -= s->k3[l] * bi * bj * bk, e4 -= s->k4[l] * bi * bi * bj * bk;
  }
  const double d3 = k3 * ai * aj, d4 = k4 * ai * ai * aj;
  const double w3 = k3 * k3 / 6, w4 = k4 * k4 / 24;
  double num = 0, den = 0;
  if (d3 != 0) num += w3 * e3 / d3, den += w3;
  if (d4 != 0) num += w4 * e4 / d4, den += w4;
  return den > 0 ? num / den : 0.0;
}

/* DirectLiNGAM's pairwise likelihood-ratio measure (lingam_kernels.h) on z_i, z_j, positive
 * when z_i looks like the cause.  A latent shared by the two in the same ratio as the edge
 * (the latent acts through z_i) does not disturb it: the pair is then an ordinary LiNGAM
 * pair with a composite non-Gaussian cause. */
static double lr_diff(const cstate *s, size_t i, size_t j) {
  const size_t n = s->n;
  double mi = 0, mj = 0, vi = 0, vj = 0, c = 0;
  const double *zi = s->Z + i * n, *zj = s->Z + j * n;
  for (size_t t = 0; t < n; t++) mi += zi[t], mj += zj[t];
  mi /= n, mj /= n;
  for (size_t t = 0; t < n; t++) {
    const double a = zi[t] - mi, b = zj[t] - mj;
    vi += a * a, vj += b * b, c += a * b;
  }
  const double si = sqrt(vi / n), sj = sqrt(vj / n), r = c / sqrt(vi * vj);
  for (size_t t = 0; t < n; t++) s->u[t] = (zi[t] - mi) / si, s->v[t] = (zj[t] - mj) / sj;
  double m[4], h1, h2, a1, a2;
  lk_moments1(s->u, n, &a1, &a2);
  const double Hi = lk_entropy(a1 / n, a2 / n);
  lk_moments1(s->v, n, &a1, &a2);
  const double Hj = lk_entropy(a1 / n, a2 / n);
  lk_moments_pair(s->u, s->v, n, r, sqrt(fmax(1 - r * r, 1e-12)), m);
  h1 = lk_entropy(m[0] / n, m[1] / n), h2 = lk_entropy(m[2] / n, m[3] / n);
  return (Hj + h1) - (Hi + h2);
}

/* Regress observed root i out of the other active variables; records M's column i. */
static void remove_root(cstate *s, size_t i, const int *active, double *M) {
  const size_t n = s->n, p = s->p;
  const double cii = dvar(s, i);
  M[i + i * p] = 1.0;
  for (size_t k = 0; k < p; k++) {
    if (!active[k] || k == i) continue;
    const double m = dcov(s, i, k) / cii;
    M[k + i * p] = m;
    double *zk = s->Z + k * n;
    const double *zi = s->Z + i * n;
    for (size_t t = 0; t < n; t++) zk[t] -= m * zi[t];
    for (size_t l = 0; l < s->q; l++) s->a[k + l * p] -= m * s->a[i + l * p];
  }
  for (size_t l = 0; l < s->q; l++) s->a[i + l * p] = 0.0;
  cs_cov(s->Z, n, p, s->C);
}

/* The best OLC pair among active variables: adds the latent and returns 1, or 0 when no
 * pair is associated enough or plausible (violation below 0.5 and a positive a_i^2). */
static int add_latent(cstate *s, const int *active, double min_corr, double root_z, double *Atot,
                      size_t *pair) {
  const size_t p = s->p;
  double best = 0.5, bk[5] = {0}, bratio = 0;
  size_t bi = 0, bj = 0;
  int found = 0;
  for (size_t i = 0; i < p; i++)
    for (size_t j = i + 1; j < p; j++) {
      if (!active[i] || !active[j]) continue;
      const double cij = dcov(s, i, j);
      if (fabs(cij) < min_corr * sqrt(dvar(s, i) * dvar(s, j))) continue;
      /* a pair whose shared component is z_i or z_j itself (z_i --> z_j unconfounded) is
       * rank one too; the residual test tells it from a latent */
      if (root_stat(s, i, j, NULL) < root_z || root_stat(s, j, i, NULL) < root_z) continue;
      double k[5], ratio;
      const double v = olc(s, i, j, k, &ratio);
      if (v < best && ratio != 0 && cij / ratio > 0)
        best = v, bi = i, bj = j, bratio = ratio, memcpy(bk, k, sizeof bk), found = 1;
    }
  if (!found) return 0;
  const double cij = dcov(s, bi, bj), ai = sqrt(cij / bratio), aj = bratio * ai;
  const double k3 = bk[0] / (ai * ai * aj), k4 = bk[2] / (ai * ai * ai * aj);
  const size_t l = s->q;
  double *a = s->a + l * p;
  for (size_t k = 0; k < p; k++)
    a[k] = !active[k] ? 0.0 : k == bi ? ai : k == bj ? aj : loading(s, bi, bj, k, ai, aj, k3, k4);
  s->k3[l] = k3, s->k4[l] = k4;
  memcpy(Atot + l * p, a, p * sizeof *a);
  pair[2 * l] = bi, pair[2 * l + 1] = bj;
  s->q++;
  return 1;
}

/* The identification loop: fills order (p + q entries), M, Atot, pair; returns status. */
static int cumulant_search(cstate *s, const latens_causal_cumulant_options *o,
                           const latens_progress *progress, size_t *order, double *M,
                           double *Atot, size_t *pair, size_t *nord) {
  const size_t p = s->p;
  int *active = malloc(p * sizeof *active);
  if (!active) LATENS_ERROR("latens_causal_cumulant: no memory", LATENS_ENOMEM);
  for (size_t k = 0; k < p; k++) active[k] = 1;
  size_t left = p, pos = 0;
  int status = LATENS_OK;
  while (left > 0 && status == LATENS_OK) {
    status = latens_progress_report(progress, "cumulant", (double)(p - left), (double)p);
    if (status != LATENS_OK) break;
    /* Candidates that pass the root test are ranked as DirectLiNGAM ranks its roots, by
     * sum_j min(0, LR(i, j))^2 over the associated j: the 4th-order root statistics alone
     * have little power between the two ends of an edge with near-Gaussian noises. */
    double best = INFINITY, best_sc = INFINITY;
    size_t arg = 0;
    for (size_t i = 0; i < p; i++) {
      if (!active[i]) continue;
      double worst = 0.0, sc = 0.0;
      for (size_t j = 0; j < p; j++) {
        if (!active[j] || j == i) continue;
        const double cij = dcov(s, i, j);
        if (fabs(cij) < o->min_corr * sqrt(dvar(s, i) * dvar(s, j))) continue;
        worst = fmax(worst, root_stat(s, i, j, NULL));
        if (worst < o->root_z) {
          const double d = lr_diff(s, i, j);
          if (d < 0) sc += d * d;
        }
      }
      const int pass = worst < o->root_z, bpass = best < o->root_z;
      if ((pass && (!bpass || sc < best_sc)) || (!pass && !bpass && worst < best))
        best = worst, best_sc = sc, arg = i;
    }
    if (best >= o->root_z && s->q < s->qmax && add_latent(s, active, o->min_corr, o->root_z, Atot, pair)) {
      order[pos++] = p + s->q - 1;
      continue;
    }
    /* an observed root (or, with no plausible latent left, the most root-like variable) */
    remove_root(s, arg, active, M);
    active[arg] = 0, left--;
    order[pos++] = arg;
  }
  *nord = pos;
  free(active);
  return status;
}

/* B = I - M^{-1} and Lambda = M^{-1} A on the standardised scale, pruned, then rescaled to
 * the data (sd: column standard deviations). */
static int finish(latens_causal_cumulant_result *r, double prune, const double *sd) {
  const size_t p = r->p, q = r->q;
  gsl_matrix *Mg = gsl_matrix_alloc(p, p), *Mi = gsl_matrix_alloc(p, p);
  gsl_permutation *perm = gsl_permutation_alloc(p);
  int sig, status = LATENS_OK;
  if (!Mg || !Mi || !perm) status = LATENS_ENOMEM;
  else {
    for (size_t i = 0; i < p; i++)
      for (size_t j = 0; j < p; j++) gsl_matrix_set(Mg, i, j, r->M[i + j * p]);
    /* M is unit triangular up to the order's permutation: never singular */
    gsl_linalg_LU_decomp(Mg, perm, &sig);
    gsl_linalg_LU_invert(Mg, perm, Mi);
    for (size_t i = 0; i < p; i++)
      for (size_t j = 0; j < p; j++) {
        double b = i == j ? 0.0 : -gsl_matrix_get(Mi, i, j);
        r->B[i + j * p] = fabs(b) < prune ? 0.0 : b * sd[i] / sd[j];
      }
    for (size_t l = 0; l < q; l++)
      for (size_t i = 0; i < p; i++) {
        double v = 0;
        for (size_t k = 0; k < p; k++) v += gsl_matrix_get(Mi, i, k) * r->A[k + l * p];
        r->Lambda[i + l * p] = fabs(v) < prune ? 0.0 : v * sd[i];
      }
    for (size_t k = 0; k < p * q; k++) r->A[k] *= sd[k % p];
    for (size_t i = 0; i < p; i++)
      for (size_t j = 0; j < p; j++) r->M[i + j * p] *= sd[i] / sd[j];
  }
  gsl_matrix_free(Mg), gsl_matrix_free(Mi), gsl_permutation_free(perm);
  if (status != LATENS_OK) LATENS_ERROR("latens_causal_cumulant: no memory", status);
  return status;
}

/* Graph: observed nodes, then L1..Lq with L --> x wherever Lambda != 0. */
static int cumulant_graph(const latens_causal_data *d, const latens_causal_cumulant_result *r,
                          latens_causal_graph **out) {
  latens_causal_graph *g = NULL;
  int status = cs_graph_from_matrix(d, r->B, r->p, 0, &g);
  for (size_t l = 0; l < r->q && status == LATENS_OK; l++) {
    char name[32];
    size_t idx;
    snprintf(name, sizeof name, "L%zu", l + 1);
    while (latens_causal_graph_index(g, name) >= 0) /* a data column called L1 */
      snprintf(name + strlen(name), sizeof name - strlen(name), "_");
    status = latens_causal_graph_add_node(g, name, 1, &idx);
    for (size_t i = 0; i < r->p && status == LATENS_OK; i++)
      if (r->Lambda[i + l * r->p] != 0)
        status = latens_causal_graph_set_edge(g, idx, i, LATENS_CAUSAL_TAIL, LATENS_CAUSAL_ARROW);
  }
  if (status != LATENS_OK) latens_causal_graph_free(g), g = NULL;
  *out = g;
  return status;
}

static int check_cumulant_opt(const latens_causal_cumulant_options *o) {
  if (!(o->root_z > 0) || !isfinite(o->root_z))
    LATENS_ERRORF(LATENS_EDOM, "latens_causal_cumulant: root_z = %g is not positive", o->root_z);
  if (!(o->min_corr >= 0 && o->min_corr < 1))
    LATENS_ERRORF(LATENS_EDOM, "latens_causal_cumulant: min_corr = %g is not in [0, 1)",
                  o->min_corr);
  if (!(o->prune >= 0) || !isfinite(o->prune))
    LATENS_ERRORF(LATENS_EDOM, "latens_causal_cumulant: prune = %g is negative", o->prune);
  return LATENS_OK;
}

static latens_causal_cumulant_result *result_alloc(size_t p, size_t qmax) {
  latens_causal_cumulant_result *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  const size_t qa = qmax ? qmax : 1;
  r->p = p;
  r->B = calloc(p * p, sizeof(double)), r->M = calloc(p * p, sizeof(double));
  r->Lambda = calloc(p * qa, sizeof(double)), r->A = calloc(p * qa, sizeof(double));
  r->kappa3 = calloc(qa, sizeof(double)), r->kappa4 = calloc(qa, sizeof(double));
  r->order = calloc(p + qa, sizeof(size_t)), r->pair = calloc(2 * qa, sizeof(size_t));
  if (!r->B || !r->M || !r->Lambda || !r->A || !r->kappa3 || !r->kappa4 || !r->order || !r->pair)
    latens_causal_cumulant_result_free(r), r = NULL;
  return r;
}

int latens_causal_cumulant(const latens_causal_data *d, const latens_causal_cumulant_options *opt,
                           const latens_progress *progress, latens_causal_cumulant_result **res,
                           latens_causal_graph **out) {
  static const char fn[] = "latens_causal_cumulant";
  latens_causal_cumulant_options o;
  latens_causal_cumulant_options_default(&o);
  if (opt) o = *opt;
  if (res) *res = NULL;
  if (out) *out = NULL;
  const double *X;
  size_t n, p, ldx;
  int status = check_cumulant_opt(&o);
  if (status == LATENS_OK) status = cs_data_continuous(fn, d, &X, &n, &p, &ldx);
  if (status != LATENS_OK) return status;
  const size_t qmax = o.max_latent ? (o.max_latent < p / 2 ? o.max_latent : p / 2) : p / 2;
  cstate s = {n, p, 0, qmax, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
  s.Z = malloc(latens_mul_size(n, p) * sizeof(double)), s.C = malloc(p * p * sizeof(double));
  s.u = malloc(n * sizeof(double)), s.v = malloc(n * sizeof(double));
  s.a = calloc(p * (qmax ? qmax : 1), sizeof(double));
  s.k3 = calloc(qmax + 1, sizeof(double)), s.k4 = calloc(qmax + 1, sizeof(double));
  double *sd = malloc(p * sizeof *sd);
  latens_causal_cumulant_result *r = result_alloc(p, qmax);
  if (!s.Z || !s.C || !s.u || !s.v || !s.a || !s.k3 || !s.k4 || !sd || !r) {
    status = LATENS_ENOMEM;
    latens_errorf(__FILE__, __LINE__, status, "%s: no memory for n = %zu, p = %zu", fn, n, p);
  } else {
    cs_center(X, n, p, ldx, s.Z, 0);
    cs_cov(s.Z, n, p, s.C);
    for (size_t j = 0; j < p; j++) sd[j] = sqrt(s.C[j + j * p]);
    cs_center(X, n, p, ldx, s.Z, 1);
    cs_cov(s.Z, n, p, s.C);
    status = cs_check_collinear(fn, s.C, p);
  }
  size_t nord = 0;
  if (status == LATENS_OK) status = cumulant_search(&s, &o, progress, r->order, r->M, r->A, r->pair, &nord);
  if (status == LATENS_OK) {
    r->q = s.q;
    memcpy(r->kappa3, s.k3, s.q * sizeof(double)), memcpy(r->kappa4, s.k4, s.q * sizeof(double));
    status = finish(r, o.prune, sd);
  }
  if (status == LATENS_OK && out) status = cumulant_graph(d, r, out);
  free(s.Z), free(s.C), free(s.u), free(s.v), free(s.a), free(s.k3), free(s.k4), free(sd);
  if (status == LATENS_OK && res) *res = r;
  else latens_causal_cumulant_result_free(r);
  return status;
}
