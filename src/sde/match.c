/* sde/match.c: SDE matching (Bartosh, Vetrov & Naesseth, ICML 2025) for a linear prior with
 * a Gaussian readout, with a Gaussian posterior q(z_t) = N(m(t), L(t) L(t)^T).
 *
 * With z = m + L e the posterior drift is f_q = m' + L' e - ½ Sigma L^{-T} e, so the residual
 * f_q - h = a + B e is affine in e, a = m' - A m - b and B = L' - ½ Sigma L^{-T} - A L, and
 * E_e ½ |r|^2_{Sigma^{-1}} = ½ [a^T Sigma^{-1} a + tr(B^T Sigma^{-1} B)] exactly: the loss is
 * a deterministic smooth function of the spline coefficients and the model, so plain L-BFGS
 * with hand-derived gradients applies (no Monte Carlo noise, no simulation).
 *
 * Why continuous piecewise cubics with knots at the observation times: the exact smoother's
 * marginals have kinks there (the data pull the path), which a C^2 spline would smear over a
 * whole knot interval.  Lagrange nodes at the piece ends make m(t_k) a coefficient, so the
 * reconstruction term reads its moments directly. */
#include "infer_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const double LOG_2PI = 1.8378770664093454836;

/* Cubic Lagrange basis on u in [0, 1] with nodes 0, 1/3, 2/3, 1. */
void latens_sde_match_lagrange(double u, double phi[4], double dphi[4]) {
  static const double nd[4] = {0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0};
  for (int j = 0; j < 4; j++) {
    double num = 1.0, den = 1.0, der = 0.0;
    for (int k = 0; k < 4; k++) {
      if (k == j) continue;
      den *= nd[j] - nd[k];
      double prod = 1.0; /* derivative of prod_k (u - nd_k): sum over the dropped factor */
      for (int l = 0; l < 4; l++)
        if (l != j && l != k) prod *= u - nd[l];
      der += prod;
      num *= u - nd[k];
    }
    phi[j] = num / den;
    dphi[j] = der / den;
  }
}

void latens_sde_match_options_default(latens_sde_match_options *opt) {
  if (!opt) return;
  opt->nsub = 3, opt->nquad = 8, opt->match_weight = 1.0, opt->obs_weight = 1.0;
}

void latens_sde_match_free(latens_sde_match *w) {
  if (!w) return;
  free(w->pb), free(w->obs_node), free(w->qu), free(w->phi), free(w->scratch), free(w->idx);
  free(w);
}

latens_sde_match *latens_sde_match_alloc(size_t n, double t0, const latens_sde_data *y,
                                         const latens_sde_match_options *opt) {
  static const char fn[] = "latens_sde_match_alloc";
  latens_sde_match_options o;
  latens_sde_match_options_default(&o);
  if (opt) o = *opt;
  if (n == 0 || n > 64) {
    latens_errorf(__FILE__, __LINE__, LATENS_EINVAL, "%s: state dimension n = %zu (need 1 .. 64)",
                  fn, n);
    return NULL;
  }
  if (!y || !isfinite(t0)) {
    latens_errorf(__FILE__, __LINE__, LATENS_EINVAL, "%s: NULL data or non-finite t0", fn);
    return NULL;
  }
  if (o.nsub == 0 || o.nquad == 0 || o.nquad > LATENS_QUAD_GAUSS_NMAX || o.nsub > 1000 ||
      !(o.match_weight >= 0) || !(o.obs_weight >= 0) || !isfinite(o.match_weight) ||
      !isfinite(o.obs_weight)) {
    latens_errorf(__FILE__, __LINE__, LATENS_EDOM,
                  "%s: options nsub = %zu, nquad = %zu, "
                  "weights %g, %g (need nsub 1..1000, nquad 1..%d, weights >= 0)",
                  fn, o.nsub, o.nquad, o.match_weight, o.obs_weight, LATENS_QUAD_GAUSS_NMAX);
    return NULL;
  }
  if (latens_sde_check(fn, NULL, NULL, y)) return NULL;
  if (y->p > 64) {
    latens_errorf(__FILE__, __LINE__, LATENS_EINVAL, "%s: p = %zu > 64", fn, y->p);
    return NULL;
  }
  if (y->t[0] < t0 || !(y->t[y->T - 1] > t0)) {
    latens_errorf(__FILE__, __LINE__, LATENS_EDOM,
                  "%s: observation times [%g, %g] must lie "
                  "in [t0, ...) with the last after t0 = %g",
                  fn, y->t[0], y->t[y->T - 1], t0);
    return NULL;
  }
  latens_sde_match *w = calloc(1, sizeof *w);
  if (!w) goto nomem;
  w->n = n, w->nl = n * (n + 1) / 2, w->t0 = t0, w->opt = o, w->T = y->T, w->nq = o.nquad;
  size_t J = 0; /* distinct knot intervals */
  double prev = t0;
  for (size_t k = 0; k < y->T; k++)
    if (y->t[k] > prev) J++, prev = y->t[k];
  w->S = J * o.nsub, w->K = 3 * w->S + 1;
  w->pb = malloc((w->S + 1) * sizeof *w->pb);
  w->obs_node = malloc(y->T * sizeof *w->obs_node);
  w->qu = malloc(2 * o.nquad * sizeof *w->qu);
  w->phi = malloc(8 * o.nquad * sizeof *w->phi);
  w->scratch = malloc((16 * n * n + 16 * n + 2 * y->p * y->p + 2 * y->p + 2 * y->p * n) *
                      sizeof *w->scratch);
  w->idx = malloc(y->p * sizeof *w->idx);
  if (!w->pb || !w->obs_node || !w->qu || !w->phi || !w->scratch || !w->idx) goto nomem;
  w->qw = w->qu + o.nquad, w->dphi = w->phi + 4 * o.nquad;
  size_t s = 0;
  w->pb[0] = prev = t0;
  for (size_t k = 0; k < y->T; k++) {
    if (y->t[k] > prev) {
      for (size_t j = 1; j <= o.nsub; j++)
        w->pb[s + j] = j == o.nsub ? y->t[k] : prev + (y->t[k] - prev) * (double)j / (double)o.nsub;
      s += o.nsub, prev = y->t[k];
    }
    w->obs_node[k] = 3 * s;
  }
  if (latens_quad_rule(LATENS_QUAD_GAUSS_LEGENDRE, o.nquad, 0.0, 1.0, w->qu, w->qw)) {
    latens_sde_match_free(w);
    return NULL;
  }
  for (size_t q = 0; q < o.nquad; q++) {
    w->qw[q] = exp(w->qw[q]);
    latens_sde_match_lagrange(w->qu[q], w->phi + 4 * q, w->dphi + 4 * q);
  }
  return w;
nomem:
  latens_sde_match_free(w);
  latens_errorf(__FILE__, __LINE__, LATENS_ENOMEM, "%s: out of memory (T = %zu)", fn, y->T);
  return NULL;
}

size_t latens_sde_match_nbasis(const latens_sde_match *w) { return w ? w->K : 0; }
size_t latens_sde_match_ncoef(const latens_sde_match *w) { return w ? (w->n + w->nl) * w->K : 0; }

/* Position of lower-triangle entry (i, c), i >= c, in column order. */
static size_t tri(size_t n, size_t i, size_t c) { return c * n - c * (c - 1) / 2 + (i - c); }

/* Values (and t-derivatives when dm / dL are non-NULL) of m and L from the coefficients at
 * basis index j0 with local weights phi, dphi (already divided by the piece width). */
void latens_sde_match_eval_node(const latens_sde_match *w, const double *coef, size_t j0,
                                const double *phi, const double *dphi, int nb, double *m,
                                double *dm, double *L, double *dL) {
  const size_t n = w->n, nl = w->nl, K = w->K;
  const double *cm = coef, *cl = coef + n * K;
  for (size_t i = 0; i < n; i++) {
    double v = 0, d = 0;
    for (int j = 0; j < nb; j++) {
      v += phi[j] * cm[i + (j0 + j) * n];
      if (dm) d += dphi[j] * cm[i + (j0 + j) * n];
    }
    m[i] = v;
    if (dm) dm[i] = d;
  }
  memset(L, 0, n * n * sizeof *L);
  if (dL) memset(dL, 0, n * n * sizeof *dL);
  for (size_t c = 0; c < n; c++)
    for (size_t i = c; i < n; i++) {
      size_t l = tri(n, i, c);
      double v = 0, d = 0;
      for (int j = 0; j < nb; j++) {
        v += phi[j] * cl[l + (j0 + j) * nl];
        if (dL) d += dphi[j] * cl[l + (j0 + j) * nl];
      }
      if (i == c) v = exp(v), d *= v; /* log-diagonal: L_ii = e^eta, L'_ii = eta' L_ii */
      L[i + c * n] = v;
      if (dL) dL[i + c * n] = d;
    }
}

/* Scatter gradients with respect to m, m', L, L' (n x n, lower part) at a node back to the
 * coefficients, through the log-diagonal map. */
void latens_sde_match_scatter(const latens_sde_match *w, size_t j0, const double *phi,
                              const double *dphi, int nb, const double *L, const double *dL,
                              const double *gm, const double *gdm, const double *gL,
                              const double *gdL, double *gcoef) {
  const size_t n = w->n, nl = w->nl, K = w->K;
  double *gcm = gcoef, *gcl = gcoef + n * K;
  for (size_t i = 0; i < n; i++)
    for (int j = 0; j < nb; j++)
      gcm[i + (j0 + j) * n] += phi[j] * gm[i] + (gdm ? dphi[j] * gdm[i] : 0.0);
  for (size_t c = 0; c < n; c++)
    for (size_t i = c; i < n; i++) {
      size_t l = tri(n, i, c), ic = i + c * n;
      double gv = gL[ic], gd = gdL ? gdL[ic] : 0.0;
      if (i == c) { /* eta -> L = e^eta, L' = eta' e^eta: chain both */
        double eta_d = L[ic] > 0 && dL ? dL[ic] / L[ic] : 0.0;
        gv = gv * L[ic] + gd * eta_d * L[ic];
        gd = gd * L[ic];
      }
      for (int j = 0; j < nb; j++) gcl[l + (j0 + j) * nl] += phi[j] * gv + dphi[j] * gd;
    }
}

/* Inverse of a lower-triangular n x n matrix (lower result). */
void latens_sde_match_tri_inv(const double *L, size_t n, double *Li) {
  memset(Li, 0, n * n * sizeof *Li);
  for (size_t c = 0; c < n; c++) {
    Li[c + c * n] = 1.0 / L[c + c * n];
    for (size_t i = c + 1; i < n; i++) {
      double s = 0;
      for (size_t k = c; k < i; k++) s += L[i + k * n] * Li[k + c * n];
      Li[i + c * n] = -s / L[i + i * n];
    }
  }
}

/* C = alpha op(A) op(B) + beta C for n x n. */
static void mm(int ta, int tb, size_t n, double alpha, const double *A, const double *B,
               double beta, double *C) {
  latens_dense_mm(ta, tb, n, n, n, alpha, A, n, B, n, beta, C, n);
}

typedef struct {
  const latens_sde_lti *M;
  double *Si; /* Sigma^{-1} */
  double match_w;
} match_ctx;

/* Matching integrand at one node, times weight wt; accumulates gradients. */
static double match_node(const latens_sde_match *w, const match_ctx *cx, const double *m,
                         const double *dm, const double *L, const double *dL, double wt, double *gm,
                         double *gdm, double *gL, double *gdL, latens_sde_lti_grad *g,
                         double *tmp) {
  const size_t n = w->n, nn = n * n;
  const latens_sde_lti *M = cx->M;
  double *a = tmp, *ga = a + n, *B = ga + n, *W = B + nn, *Li = W + nn, *X = Li + nn;
  double *Y = X + nn;
  latens_sde_match_tri_inv(L, n, Li);
  for (size_t i = 0; i < n; i++) {
    double v = dm[i] - (M->b ? M->b[i] : 0.0);
    for (size_t j = 0; j < n; j++) v -= M->A[i + j * n] * m[j];
    a[i] = v;
  }
  memcpy(B, dL, nn * sizeof *B);
  mm(0, 1, n, -0.5, M->Sigma, Li, 1.0, B); /* - ½ Sigma L^{-T} */
  mm(0, 0, n, -1.0, M->A, L, 1.0, B);      /* - A L */
  double val = 0;
  for (size_t i = 0; i < n; i++) {
    double v = 0;
    for (size_t j = 0; j < n; j++) v += cx->Si[i + j * n] * a[j];
    ga[i] = v, val += a[i] * v;
  }
  mm(0, 0, n, 1.0, cx->Si, B, 0.0, W);
  for (size_t k = 0; k < nn; k++) val += B[k] * W[k];
  const double c = wt * cx->match_w;
  val *= 0.5 * c;
  for (size_t i = 0; i < n; i++) {
    gdm[i] += c * ga[i];
    double v = 0;
    for (size_t j = 0; j < n; j++) v += M->A[j + i * n] * ga[j];
    gm[i] -= c * v;
  }
  for (size_t k = 0; k < nn; k++) gdL[k] += c * W[k];
  /* gL = ½ L^{-T} W^T Sigma L^{-T} - A^T W */
  mm(1, 1, n, 1.0, Li, W, 0.0, X); /* L^{-T} W^T */
  mm(0, 0, n, 1.0, X, M->Sigma, 0.0, Y);
  mm(0, 1, n, 0.5, Y, Li, 0.0, X);
  mm(1, 0, n, -1.0, M->A, W, 1.0, X);
  for (size_t k = 0; k < nn; k++) gL[k] += c * X[k];
  if (g) {
    for (size_t j = 0; j < n; j++)
      for (size_t i = 0; i < n; i++) {
        if (g->A) {
          double v = -ga[i] * m[j];
          for (size_t k = 0; k < n; k++) v -= W[i + k * n] * L[j + k * n];
          g->A[i + j * n] += c * v;
        }
        if (g->Sigma) { /* -½ (ga ga^T + W W^T) - ½ W L^{-1}, symmetrised by the caller */
          double v = ga[i] * ga[j];
          for (size_t k = 0; k < n; k++)
            v += W[i + k * n] * W[j + k * n] + W[i + k * n] * Li[k + j * n];
          g->Sigma[i + j * n] -= 0.5 * c * v;
        }
      }
    for (size_t i = 0; i < n && g->b; i++) g->b[i] -= c * ga[i];
  }
  return val;
}

/* Inverse and log-determinant of a symmetric positive-definite k x k matrix (full storage). */
int latens_sde_match_spd_inverse(const char *fn, const char *name, const double *A, size_t k,
                                 double *Ainv, double *logdet) {
  memcpy(Ainv, A, k * k * sizeof *Ainv);
  latens_mat F = latens_mat_view(Ainv, k, k, k);
  latens_chol_options o;
  latens_chol_options_default(&o);
  o.max_tries = 0; /* a model matrix that is not positive definite is the caller's to fix */
  if (latens_chol_decomp(&F, &o, NULL))
    LATENS_ERRORF(LATENS_ENOTPOSDEF, "%s: %s (order %zu) is not positive definite", fn, name, k);
  if (logdet) *logdet = latens_chol_logdet(&F);
  return latens_chol_invert(&F, &F);
}

/* KL(N(mq, L L^T) || N(m0, P0)) at t0 and its gradients. */
double latens_sde_match_kl(size_t n, const latens_sde_lti *M, const double *P0i, double logdetP0,
                           const double *mq, const double *L, double *gm, double *gL,
                           latens_sde_lti_grad *g, double *tmp) {
  const size_t nn = n * n;
  double *S = tmp, *d = S + nn, *u = d + n, *Li = u + n, *X = Li + nn;
  mm(0, 1, n, 1.0, L, L, 0.0, S);
  double val = -(double)n + logdetP0;
  for (size_t i = 0; i < n; i++) d[i] = M->m0[i] - mq[i], val -= 2.0 * log(L[i + i * n]);
  for (size_t i = 0; i < n; i++) {
    double v = 0;
    for (size_t j = 0; j < n; j++) v += P0i[i + j * n] * d[j], val += P0i[i + j * n] * S[j + i * n];
    u[i] = v, val += d[i] * v;
  }
  latens_sde_match_tri_inv(L, n, Li);
  for (size_t i = 0; i < n; i++) gm[i] = -u[i];
  mm(0, 0, n, 1.0, P0i, L, 0.0, gL);
  for (size_t j = 0; j < n; j++)
    for (size_t i = 0; i < n; i++) gL[i + j * n] -= Li[j + i * n];
  if (g && g->m0)
    for (size_t i = 0; i < n; i++) g->m0[i] += u[i];
  if (g && g->P0) { /* ½ [P0^{-1} - P0^{-1} S P0^{-1} - u u^T] */
    mm(0, 0, n, 1.0, P0i, S, 0.0, X);
    double *Y = X + nn;
    mm(0, 0, n, 1.0, X, P0i, 0.0, Y);
    for (size_t j = 0; j < n; j++)
      for (size_t i = 0; i < n; i++)
        g->P0[i + j * n] += 0.5 * (P0i[i + j * n] - Y[i + j * n] - u[i] * u[j]);
  }
  return 0.5 * val;
}

/* E_q[-log p(x | z)] for one observation column with a Gaussian readout, and gradients. */
int latens_sde_match_recon(const latens_sde_match *w, const latens_sde_readout *ro, const double *x,
                           const double *m, const double *L, double wt, double *gm, double *gL,
                           latens_sde_lti_grad *g, double *val) {
  const size_t n = w->n, p = ro->p;
  size_t *O = w->idx;
  const size_t q = latens_sde_observed(x, p, O);
  *val = 0;
  if (q == 0) return LATENS_OK;
  double *Ri = w->scratch + 16 * n * n + 16 * n, *Rq = Ri + p * p, *r = Rq + p * p, *u = r + p;
  double *CL = u + p, *CS = CL + p * n; /* q x n each */
  for (size_t b = 0; b < q; b++)
    for (size_t a = 0; a < q; a++) Rq[a + b * q] = ro->R[O[a] + O[b] * p];
  double logdet;
  int s = latens_sde_match_spd_inverse("latens_sde_match_loss", "readout noise R (observed block)",
                                       Rq, q, Ri, &logdet);
  if (s) return s;
  for (size_t a = 0; a < q; a++) {
    size_t i = O[a];
    double e = ro->d ? ro->d[i] : 0.0;
    for (size_t j = 0; j < n; j++) e += ro->C[i + j * p] * m[j];
    r[a] = x[i] - e;
    for (size_t c = 0; c < n; c++) { /* (C_O L)(a, c) */
      double v = 0;
      for (size_t j = c; j < n; j++) v += ro->C[i + j * p] * L[j + c * n];
      CL[a + c * q] = v;
    }
  }
  double quad = 0, tr = 0;
  for (size_t a = 0; a < q; a++) {
    double v = 0;
    for (size_t b = 0; b < q; b++) v += Ri[a + b * q] * r[b];
    u[a] = v, quad += r[a] * v;
  }
  for (size_t c = 0; c < n; c++) /* CS = R^{-1} C_O L, tr = sum CL .* CS */
    for (size_t a = 0; a < q; a++) {
      double v = 0;
      for (size_t b = 0; b < q; b++) v += Ri[a + b * q] * CL[b + c * q];
      CS[a + c * q] = v, tr += CL[a + c * q] * v;
    }
  *val = wt * 0.5 * ((double)q * LOG_2PI + logdet + quad + tr);
  for (size_t j = 0; j < n; j++) { /* gm = -C_O^T u,  gL = C_O^T CS */
    double v = 0;
    for (size_t a = 0; a < q; a++) v += ro->C[O[a] + j * p] * u[a];
    gm[j] -= wt * v;
    for (size_t c = 0; c <= j; c++) {
      double z = 0;
      for (size_t a = 0; a < q; a++) z += ro->C[O[a] + j * p] * CS[a + c * q];
      gL[j + c * n] += wt * z;
    }
  }
  if (!g) return LATENS_OK;
  for (size_t a = 0; a < q; a++) {
    if (g->d) g->d[O[a]] -= wt * u[a];
    for (size_t j = 0; j < n && g->C; j++) { /* -u m^T + R^{-1} C_O S, S = L L^T */
      double v = -u[a] * m[j];
      for (size_t c = 0; c <= j; c++) v += CS[a + c * q] * L[j + c * n];
      g->C[O[a] + j * p] += wt * v;
    }
    for (size_t b = 0; b < q && g->R; b++) { /* ½ [R^{-1} - u u^T - CS CS^T] */
      double v = Ri[a + b * q] - u[a] * u[b];
      for (size_t c = 0; c < n; c++) v -= CS[a + c * q] * CS[b + c * q];
      g->R[O[a] + O[b] * p] += 0.5 * wt * v;
    }
  }
  return LATENS_OK;
}

static void zero_grad(latens_sde_lti_grad *g, size_t n, size_t p) {
  if (!g) return;
  if (g->A) memset(g->A, 0, n * n * sizeof(double));
  if (g->b) memset(g->b, 0, n * sizeof(double));
  if (g->Sigma) memset(g->Sigma, 0, n * n * sizeof(double));
  if (g->m0) memset(g->m0, 0, n * sizeof(double));
  if (g->P0) memset(g->P0, 0, n * n * sizeof(double));
  if (g->C) memset(g->C, 0, p * n * sizeof(double));
  if (g->d) memset(g->d, 0, p * sizeof(double));
  if (g->R) memset(g->R, 0, p * p * sizeof(double));
}

int latens_sde_match_check_call(const char *fn, const latens_sde_match *w, const latens_sde_lti *M,
                                const latens_sde_readout *ro, const latens_sde_data *y) {
  if (!w || !M || !ro || !y) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  int s = latens_sde_check(fn, M, ro, y);
  if (s) return s;
  if (M->n != w->n || y->T != w->T || M->t0 != w->t0)
    LATENS_ERRORF(LATENS_EBADLEN,
                  "%s: model n = %zu, t0 = %g and data T = %zu do not match the "
                  "workspace's n = %zu, t0 = %g, T = %zu",
                  fn, M->n, M->t0, y->T, w->n, w->t0, w->T);
  if (ro->kind != LATENS_SDE_READOUT_GAUSSIAN)
    LATENS_ERRORF(LATENS_EUNIMPL, "%s: SDE matching here needs a Gaussian readout", fn);
  if (ro->p > 64) LATENS_ERRORF(LATENS_EINVAL, "%s: p = %zu > 64", fn, ro->p);
  return LATENS_OK;
}

int latens_sde_match_loss(latens_sde_match *w, const latens_sde_lti *M,
                          const latens_sde_readout *ro, const latens_sde_data *y,
                          const double *coef, double *loss, double *gcoef, latens_sde_lti_grad *g) {
  static const char fn[] = "latens_sde_match_loss";
  int s = latens_sde_match_check_call(fn, w, M, ro, y);
  if (s) return s;
  if (!coef || !loss) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL coef or loss", fn);
  *loss = NAN;
  const size_t n = w->n, nn = n * n, nc = latens_sde_match_ncoef(w);
  if (!latens_all_finite(coef, nc))
    LATENS_ERRORF(LATENS_ENOTFINITE, "%s: NaN or Inf coefficient", fn);
  double *buf = malloc(2 * nn * sizeof *buf), logdetP0;
  if (!buf) LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn);
  match_ctx cx = {M, buf, w->opt.match_weight};
  double *P0i = buf + nn;
  if ((s = latens_sde_match_spd_inverse(fn, "Sigma", M->Sigma, n, cx.Si, NULL)) ||
      (s = latens_sde_match_spd_inverse(fn, "P0", M->P0, n, P0i, &logdetP0))) {
    free(buf);
    return s;
  }
  if (gcoef) memset(gcoef, 0, nc * sizeof *gcoef);
  zero_grad(g, n, ro->p);
  double *m = w->scratch, *dm = m + n, *gm = dm + n, *gdm = gm + n, *L = gdm + n, *dL = L + nn;
  double *gL = dL + nn, *gdL = gL + nn, *tmp = gdL + nn;
  const double one = 1.0, zero = 0.0;
  double total;
  /* KL at t0: the first basis function is the value at t0 */
  latens_sde_match_eval_node(w, coef, 0, &one, &zero, 1, m, NULL, L, NULL);
  memset(gL, 0, nn * sizeof *gL);
  total = latens_sde_match_kl(n, M, P0i, logdetP0, m, L, gm, gL, g, tmp);
  if (gcoef) latens_sde_match_scatter(w, 0, &one, &zero, 1, L, NULL, gm, NULL, gL, NULL, gcoef);
  double phi[4], dphi[4];
  for (size_t p = 0; p < w->S; p++) {
    const double h = w->pb[p + 1] - w->pb[p];
    for (size_t q = 0; q < w->nq; q++) {
      for (int j = 0; j < 4; j++) phi[j] = w->phi[4 * q + j], dphi[j] = w->dphi[4 * q + j] / h;
      latens_sde_match_eval_node(w, coef, 3 * p, phi, dphi, 4, m, dm, L, dL);
      memset(gm, 0, 2 * n * sizeof *gm), memset(gL, 0, 2 * nn * sizeof *gL);
      total += match_node(w, &cx, m, dm, L, dL, h * w->qw[q], gm, gdm, gL, gdL, g, tmp);
      if (gcoef) latens_sde_match_scatter(w, 3 * p, phi, dphi, 4, L, dL, gm, gdm, gL, gdL, gcoef);
    }
  }
  for (size_t k = 0; k < y->T && !s; k++) {
    double v;
    latens_sde_match_eval_node(w, coef, w->obs_node[k], &one, &zero, 1, m, NULL, L, NULL);
    memset(gm, 0, n * sizeof *gm), memset(gL, 0, nn * sizeof *gL);
    s = latens_sde_match_recon(w, ro, y->x + k * y->ldx, m, L, w->opt.obs_weight, gm, gL, g, &v);
    total += v;
    if (!s && gcoef)
      latens_sde_match_scatter(w, w->obs_node[k], &one, &zero, 1, L, NULL, gm, NULL, gL, NULL,
                               gcoef);
  }
  free(buf);
  if (s) return s;
  if (g && g->Sigma) latens_dense_symmetrize(g->Sigma, n, n);
  if (g && g->P0) latens_dense_symmetrize(g->P0, n, n);
  if (g && g->R) latens_dense_symmetrize(g->R, ro->p, ro->p);
  if (!isfinite(total)) LATENS_ERRORF(LATENS_ENOTFINITE, "%s: loss is not finite", fn);
  *loss = total;
  return LATENS_OK;
}

int latens_sde_match_posterior(const latens_sde_match *w, const double *coef, size_t nt,
                               const double *t, double *m, double *S) {
  static const char fn[] = "latens_sde_match_posterior";
  if (!w || !coef || (nt && !t)) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  const size_t n = w->n, nn = n * n;
  double *L = malloc(2 * (nn + n) * sizeof *L);
  if (!L) LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn);
  double *mv = L + nn, phi[4], dphi[4];
  for (size_t k = 0; k < nt; k++) {
    if (!(t[k] >= w->pb[0] && t[k] <= w->pb[w->S])) {
      free(L);
      LATENS_ERRORF(LATENS_EDOM, "%s: time %g outside [%g, %g]", fn, t[k], w->pb[0], w->pb[w->S]);
    }
    size_t lo = 0, hi = w->S; /* piece with pb[lo] <= t <= pb[lo + 1] */
    while (hi - lo > 1) {
      size_t mid = (lo + hi) / 2;
      if (w->pb[mid] <= t[k])
        lo = mid;
      else
        hi = mid;
    }
    latens_sde_match_lagrange((t[k] - w->pb[lo]) / (w->pb[lo + 1] - w->pb[lo]), phi, dphi);
    latens_sde_match_eval_node(w, coef, 3 * lo, phi, dphi, 4, mv, NULL, L, NULL);
    if (m) memcpy(m + k * n, mv, n * sizeof *mv);
    if (S) mm(0, 1, n, 1.0, L, L, 0.0, S + k * nn);
  }
  free(L);
  return LATENS_OK;
}

int latens_sde_match_init(latens_sde_match *w, const latens_sde_readout *ro,
                          const latens_sde_data *y, double *coef) {
  static const char fn[] = "latens_sde_match_init";
  if (!w || !ro || !y || !coef) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  int s = latens_sde_check(fn, NULL, ro, y);
  if (s) return s;
  if (y->T != w->T)
    LATENS_ERRORF(LATENS_EBADLEN, "%s: data T = %zu, workspace T = %zu", fn, y->T, w->T);
  const size_t n = w->n, p = ro->p, K = w->K;
  /* Per observation time, z_k = argmin |C_O z + d_O - x_O|^2 + 1e-6 |z|^2 (normal equations),
   * then each component interpolated linearly in time over the times where it was seen. */
  double *Z = malloc((y->T * n + n * n + n + y->T) * sizeof *Z);
  if (!Z) LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn);
  double *G = Z + y->T * n, *r = G + n * n, *seen = r + n, noise = 0;
  for (size_t i = 0; i < p; i++)
    noise += ro->kind == LATENS_SDE_READOUT_GAUSSIAN ? ro->R[i + i * p] : 1.0;
  noise /= (double)p;
  for (size_t k = 0; k < y->T; k++) {
    const double *x = y->x + k * y->ldx;
    size_t q = latens_sde_observed(x, p, w->idx);
    seen[k] = q > 0;
    for (size_t a = 0; a < n; a++) {
      r[a] = 0;
      for (size_t b = 0; b < n; b++) G[a + b * n] = a == b ? 1e-6 : 0.0;
    }
    for (size_t u = 0; u < q; u++) {
      size_t i = w->idx[u];
      double xi = x[i] - (ro->d ? ro->d[i] : 0.0);
      for (size_t a = 0; a < n; a++) {
        r[a] += ro->C[i + a * p] * xi;
        for (size_t b = 0; b < n; b++) G[a + b * n] += ro->C[i + a * p] * ro->C[i + b * p];
      }
    }
    latens_mat Gm = latens_mat_view(G, n, n, n);
    latens_vec rv = latens_vec_view(r, n, 1);
    if ((s = latens_chol_decomp(&Gm, NULL, NULL)) || (s = latens_chol_solve_vec(&Gm, &rv))) {
      free(Z);
      return s;
    }
    memcpy(Z + k * n, r, n * sizeof *r);
  }
  double phi_t;
  for (size_t j = 0; j < K; j++) {
    size_t pc = j / 3 < w->S ? j / 3 : w->S - 1;
    double u = (double)(j - 3 * pc) / 3.0;
    phi_t = w->pb[pc] + u * (w->pb[pc + 1] - w->pb[pc]);
    size_t hi = 0; /* first seen observation at or after phi_t */
    while (hi < y->T && (!seen[hi] || y->t[hi] < phi_t)) hi++;
    size_t lo = hi;
    for (size_t k = 0; k < y->T; k++)
      if (seen[k] && y->t[k] <= phi_t) lo = k;
    for (size_t i = 0; i < n; i++) {
      double v = 0;
      if (lo < y->T && hi < y->T && y->t[hi] > y->t[lo])
        v = Z[i + lo * n] +
            (Z[i + hi * n] - Z[i + lo * n]) * (phi_t - y->t[lo]) / (y->t[hi] - y->t[lo]);
      else if (lo < y->T)
        v = Z[i + lo * n];
      else if (hi < y->T)
        v = Z[i + hi * n];
      coef[i + j * n] = v;
    }
    for (size_t c = 0; c < n; c++)
      for (size_t i = c; i < n; i++)
        coef[n * K + tri(n, i, c) + j * w->nl] = i == c ? 0.5 * log(noise > 0 ? noise : 1.0) : 0.0;
  }
  free(Z);
  return LATENS_OK;
}

typedef struct {
  latens_sde_match *w;
  const latens_sde_lti *M;
  const latens_sde_readout *ro;
  const latens_sde_data *y;
} post_ctx;

static int post_fdf(const double *x, size_t nx, void *user, double *f, double *grad) {
  post_ctx *c = user;
  (void)nx;
  return latens_sde_match_loss(c->w, c->M, c->ro, c->y, x, f, grad, NULL);
}

int latens_sde_match_fit_posterior(latens_sde_match *w, const latens_sde_lti *M,
                                   const latens_sde_readout *ro, const latens_sde_data *y,
                                   const latens_optim_options *opt, double *coef, double *loss,
                                   size_t *iterations) {
  static const char fn[] = "latens_sde_match_fit_posterior";
  int s = latens_sde_match_check_call(fn, w, M, ro, y);
  if (s) return s;
  if (!coef) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL coef", fn);
  latens_optim_options o;
  latens_optim_options_default(&o);
  if (opt)
    o = *opt;
  else
    o.max_iter = 20000, o.gtol = 1e-8, o.ftol = 0;
  post_ctx c = {w, M, ro, y};
  latens_optim_result r = {.x = coef};
  s = latens_optim_minimize(post_fdf, coef, latens_sde_match_ncoef(w), &c, NULL, NULL, &o, &r);
  if (loss) *loss = r.f;
  if (iterations) *iterations = r.iterations;
  return s;
}
