/* gp/infofilter.c: bidirectional information filtering (as in cvHM / cvhmax): a forward and
 * a backward information filter over the sites, combined without a smoother recursion.
 *
 * With Z the precision and z = Z mean, the information predict through (A, Q) is
 *   M = A^{-T} Z A^{-1},  C = M (M + Q^{-1})^{-1},
 *   Z_p = (I - C) M (I - C)^T + C Q^{-1} C^T,  z_p = (I - C) A^{-T} z,
 * and an update adds H^T J H and H^T j.  The backward filter runs the reversed chain of the
 * stationary prior, A_b = Pinf A^T Pinf^{-1}, Q_b = Pinf - A_b Pinf A_b^T, so both filters
 * start from Z = Pinf^{-1}, z = 0, and the smoothed posterior at t is
 *   Z_s = Z_f + Z_{p,b} - Pinf^{-1},  z_s = z_f + z_{p,b}
 * (the prior at t is counted by both).  This requires the stationary relation
 * Q_t = Pinf - A_t Pinf A_t^T, which every state-space kernel of latens/gp.h satisfies.
 * A^{-1} grows without bound across long gaps (A -> 0) and Q^{-1} across zero steps
 * (Q -> 0): there the predict goes through moment form, Sigma_p = A Z^{-1} A^T + Q. */
#include "cvi_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Condition numbers beyond which the information predict hands over to moment form. */
static const double COND_MAX = 1e8;
/* Largest |A^{-1}|_1 for the information predict.  A^{-1} can be perfectly conditioned and
 * still huge (A = e^{-lambda dt} B with det B = 1 for Matérn); then M = A^{-T} Z A^{-1}
 * dwarfs Q^{-1} and Z_p is lost to cancellation.  The kernels' states are scaled so that
 * A is O(1): 1e3 is a decay of the state by about e^{-7} over one step. */
static const double AINV_MAX = 1e3;

typedef struct {
  size_t D;
  double *A, *Q, *Ainv, *P, *M, *S, *C, *T1, *T2, *L, *v1, *v2;
  int info_ok;       /* this step may use the information form */
  size_t step;       /* step index cached in Ainv/P (regular grids: computed once) */
  int cached;
} info_ws;

static void mm(int ta, int tb, size_t D, double alpha, const double *A, const double *B, double beta,
               double *C) {
  latens_dense_mm(ta, tb, D, D, D, alpha, A, D, B, D, beta, C, D);
}

static void mv(int ta, size_t D, const double *A, const double *x, double *y) {
  latens_dense_mm(ta, 0, D, 1, D, 1.0, A, D, x, D, 0.0, y, D);
}

/* Sinv <- S^{-1} of a symmetric positive definite S (jitter ladder of the core), with log det
 * S and, when z is given, z^T S^{-1} z into *quad.  L is D x D scratch. */
static int spd_inv(const double *S, size_t D, double *Sinv, double *L, double *logdet,
                   const double *z, double *quad, double *v) {
  memcpy(L, S, D * D * sizeof *L);
  latens_mat Lm = latens_mat_view(L, D, D, D);
  int st = latens_chol_decomp(&Lm, NULL, NULL);
  if (st) return st;
  if (logdet) *logdet = latens_chol_logdet(&Lm);
  if (z) {
    memcpy(v, z, D * sizeof *v);
    latens_vec vv = latens_vec_view(v, D, 1);
    latens_chol_trsv(&Lm, 'N', &vv);
    double q = 0;
    for (size_t i = 0; i < D; i++) q += v[i] * v[i];
    *quad = q;
  }
  if (Sinv) {
    latens_mat Im = latens_mat_view(Sinv, D, D, D);
    st = latens_chol_invert(&Lm, &Im);
  }
  return st;
}

/* A^{-1} by Gauss-Jordan with partial pivoting; returns the 1-norm condition number (Inf
 * when singular). */
static double inverse_cond(const double *A, size_t D, double *Ainv, double *W) {
  memcpy(W, A, D * D * sizeof *W);
  for (size_t j = 0; j < D; j++)
    for (size_t i = 0; i < D; i++) Ainv[i + j * D] = i == j;
  for (size_t c = 0; c < D; c++) {
    size_t p = c;
    for (size_t r = c + 1; r < D; r++)
      if (fabs(W[r + c * D]) > fabs(W[p + c * D])) p = r;
    double piv = W[p + c * D];
    if (!(fabs(piv) > 0)) return INFINITY;
    if (p != c)
      for (size_t j = 0; j < D; j++) {
        double t = W[c + j * D]; W[c + j * D] = W[p + j * D]; W[p + j * D] = t;
        t = Ainv[c + j * D]; Ainv[c + j * D] = Ainv[p + j * D]; Ainv[p + j * D] = t;
      }
    for (size_t j = 0; j < D; j++) W[c + j * D] /= piv, Ainv[c + j * D] /= piv;
    for (size_t r = 0; r < D; r++) {
      if (r == c) continue;
      double f = W[r + c * D];
      if (f == 0) continue;
      for (size_t j = 0; j < D; j++) W[r + j * D] -= f * W[c + j * D], Ainv[r + j * D] -= f * Ainv[c + j * D];
    }
  }
  double na = 0, ni = 0;
  for (size_t j = 0; j < D; j++) {
    double sa = 0, si = 0;
    for (size_t i = 0; i < D; i++) sa += fabs(A[i + j * D]), si += fabs(Ainv[i + j * D]);
    na = fmax(na, sa), ni = fmax(ni, si);
  }
  double k = na * ni;
  return isfinite(k) && ni <= AINV_MAX ? k : INFINITY;
}

/* Plain Cholesky of S into L (lower, strict upper zeroed) without jitter and without
 * reporting: 1 when S is numerically positive definite.  A probe, so that deciding between
 * the information and moment forms never reaches the error handler. */
static int chol_probe(const double *S, size_t D, double *L) {
  for (size_t j = 0; j < D; j++) {
    for (size_t i = 0; i < j; i++) L[i + j * D] = 0;
    double d = S[j + j * D];
    for (size_t k = 0; k < j; k++) d -= L[j + k * D] * L[j + k * D];
    if (!(d > 0) || !isfinite(d)) return 0;
    double ljj = sqrt(d);
    L[j + j * D] = ljj;
    for (size_t i = j + 1; i < D; i++) {
      double v = S[i + j * D];
      for (size_t k = 0; k < j; k++) v -= L[i + k * D] * L[j + k * D];
      L[i + j * D] = v / ljj;
    }
  }
  return 1;
}

/* Prepare Ainv and P = Q^{-1} of the current (A, Q); decide whether information form holds. */
static void prepare(info_ws *w) {
  const size_t D = w->D;
  w->info_ok = 0;
  if (inverse_cond(w->A, D, w->Ainv, w->T1) > COND_MAX) return;
  double qmax = 0;
  for (size_t i = 0; i < D; i++) qmax = fmax(qmax, w->Q[i + i * D]);
  if (!(qmax > 0)) return;
  latens_mat Lm = latens_mat_view(w->L, D, D, D);
  if (!chol_probe(w->Q, D, w->L)) return; /* a Q that needs jitter is too close to singular */
  double lmin = INFINITY, lmax = 0;
  for (size_t i = 0; i < D; i++) lmin = fmin(lmin, w->L[i + i * D]), lmax = fmax(lmax, w->L[i + i * D]);
  if (lmax * lmax / (lmin * lmin) > COND_MAX) return;
  latens_mat Pm = latens_mat_view(w->P, D, D, D);
  if (latens_chol_invert(&Lm, &Pm)) return;
  w->info_ok = 1;
}

/* (Z, z) at t -> predicted (Zp, zp) at the next time through (A, Q). */
static int predict(info_ws *w, const double *Z, const double *z, double *Zp, double *zp) {
  const size_t D = w->D;
  int st;
  if (w->info_ok) {
    mm(1, 0, D, 1.0, w->Ainv, Z, 0.0, w->T1);     /* A^{-T} Z */
    mm(0, 0, D, 1.0, w->T1, w->Ainv, 0.0, w->M);  /* M */
    latens_dense_symmetrize(w->M, D, D);
    for (size_t i = 0; i < D * D; i++) w->S[i] = w->M[i] + w->P[i];
    if ((st = spd_inv(w->S, D, w->T2, w->L, NULL, NULL, NULL, NULL))) return st;
    mm(0, 0, D, 1.0, w->M, w->T2, 0.0, w->C);     /* C = M S^{-1} */
    for (size_t i = 0; i < D * D; i++) w->T1[i] = -w->C[i];
    for (size_t i = 0; i < D; i++) w->T1[i + i * D] += 1.0; /* I - C */
    mm(0, 0, D, 1.0, w->T1, w->M, 0.0, w->T2);
    mm(0, 1, D, 1.0, w->T2, w->T1, 0.0, Zp);
    mm(0, 0, D, 1.0, w->C, w->P, 0.0, w->T2);
    mm(0, 1, D, 1.0, w->T2, w->C, 1.0, Zp);
    latens_dense_symmetrize(Zp, D, D);
    mv(1, D, w->Ainv, z, w->v1);
    mv(0, D, w->T1, w->v1, zp);
    /* The information form subtracts nearly equal terms when Q^{-1} and M differ by many
     * orders (huge variances against informative sites): keep its result only while it is
     * still positive definite without jitter, else redo the step in moment form. */
    if (chol_probe(Zp, D, w->L)) return LATENS_OK;
  }
  /* moment form: Sigma = Z^{-1}, m = Sigma z, then A m and A Sigma A^T + Q */
  if ((st = spd_inv(Z, D, w->S, w->L, NULL, NULL, NULL, NULL))) return st;
  mv(0, D, w->S, z, w->v1);
  mv(0, D, w->A, w->v1, w->v2);
  mm(0, 0, D, 1.0, w->A, w->S, 0.0, w->T1);
  memcpy(w->T2, w->Q, D * D * sizeof *w->T2);
  mm(0, 1, D, 1.0, w->T1, w->A, 1.0, w->T2);
  latens_dense_symmetrize(w->T2, D, D);
  if ((st = spd_inv(w->T2, D, Zp, w->L, NULL, NULL, NULL, NULL))) return st;
  mv(0, D, Zp, w->v2, zp);
  return LATENS_OK;
}

/* Z += H^T J_t H, z += H^T j_t. */
static void add_site(const latens_gp_cvi *w, size_t t, double *Z, double *z) {
  const size_t K = w->K, D = w->D;
  const double *H = w->s->H, *j = w->j + t * K, *J = w->J + t * K * K;
  for (size_t c = 0; c < D; c++) {
    double acc = 0;
    for (size_t a = 0; a < K; a++) acc += H[a + c * K] * j[a];
    z[c] += acc;
  }
  for (size_t a = 0; a < K; a++)
    for (size_t b = 0; b < K; b++) {
      double Jab = J[a + b * K];
      if (Jab == 0) continue;
      for (size_t e = 0; e < D; e++) {
        double hb = H[b + e * K] * Jab;
        if (hb == 0) continue;
        for (size_t c = 0; c < D; c++) Z[c + e * D] += H[a + c * K] * hb;
      }
    }
}

static void ws_free(info_ws *w) { free(w->A); }

static int ws_alloc(info_ws *w, size_t D) {
  memset(w, 0, sizeof *w);
  w->D = D;
  double *b = malloc((11 * D * D + 2 * D) * sizeof *b);
  if (!b) return LATENS_ENOMEM;
  w->A = b, w->Q = b + D * D, w->Ainv = b + 2 * D * D, w->P = b + 3 * D * D, w->M = b + 4 * D * D;
  w->S = b + 5 * D * D, w->C = b + 6 * D * D, w->T1 = b + 7 * D * D, w->T2 = b + 8 * D * D;
  w->L = b + 9 * D * D, w->v1 = b + 11 * D * D, w->v2 = w->v1 + D;
  return LATENS_OK;
}

/* Backward transition of step t: A_b = Pinf A^T Pinf^{-1}, Q_b = Pinf - A_b Pinf A_b^T. */
static void backward_step(info_ws *w, const double *Pinf, const double *Pinv) {
  const size_t D = w->D;
  mm(0, 1, D, 1.0, Pinf, w->A, 0.0, w->T1);
  mm(0, 0, D, 1.0, w->T1, Pinv, 0.0, w->A);
  mm(0, 0, D, 1.0, w->A, Pinf, 0.0, w->T1);
  memcpy(w->Q, Pinf, D * D * sizeof *w->Q);
  mm(0, 1, D, -1.0, w->T1, w->A, 1.0, w->Q);
  latens_dense_symmetrize(w->Q, D, D);
}

static void load_step(info_ws *w, const latens_gp_ssm *s, size_t t, int backward,
                      const double *Pinv) {
  size_t step = s->regular ? 0 : t;
  if (w->cached && w->step == step) return;
  latens_gp_ssm_step_full(s, t, w->A, w->Q);
  if (backward) backward_step(w, s->Pinf, Pinv);
  prepare(w);
  w->cached = 1, w->step = step;
}

int latens_gp_cvi_smooth_info(latens_gp_cvi *w, double *logZ) {
  const latens_gp_ssm *s = w->s;
  const size_t D = w->D, T = w->T, DD = D * D;
  info_ws ws;
  double *Pinv = malloc((2 * DD + 2 * D) * sizeof *Pinv);
  if (!Pinv || ws_alloc(&ws, D)) {
    free(Pinv);
    LATENS_ERROR("latens_gp_cvi: out of memory in the information filter", LATENS_ENOMEM);
  }
  double *Zs = Pinv + DD, *v = Zs + DD, *zs = v + D, lz = 0;
  int st = spd_inv(s->Pinf, D, Pinv, ws.L, NULL, NULL, NULL, NULL);
  /* forward: (Zp, zp) in Pp/mp, (Zf, zf) in Pf/mf */
  for (size_t t = 0; t < T && !st; t++) {
    double *Zp = w->Pp + t * DD, *zp = w->mp + t * D, *Zf = w->Pf + t * DD, *zf = w->mf + t * D;
    if (t == 0) {
      memcpy(Zp, Pinv, DD * sizeof *Zp);
      memset(zp, 0, D * sizeof *zp);
    } else {
      load_step(&ws, s, t - 1, 0, Pinv);
      if ((st = predict(&ws, w->Pf + (t - 1) * DD, w->mf + (t - 1) * D, Zp, zp))) break;
    }
    memcpy(Zf, Zp, DD * sizeof *Zf);
    memcpy(zf, zp, D * sizeof *zf);
    add_site(w, t, Zf, zf);
    double ldp, qp, ldf, qf;
    if ((st = spd_inv(Zp, D, NULL, ws.L, &ldp, zp, &qp, v)) ||
        (st = spd_inv(Zf, D, NULL, ws.L, &ldf, zf, &qf, v)))
      break;
    lz += 0.5 * (qf - ldf - qp + ldp);
  }
  /* backward: the predicted backward information at t overwrites (Zp, zp) at t, the running
   * backward filtered information lives in (Zs, zs) */
  ws.cached = 0;
  for (size_t t = T; t-- > 0 && !st;) {
    double *Zb = w->Pp + t * DD, *zb = w->mp + t * D;
    if (t == T - 1) {
      memcpy(Zb, Pinv, DD * sizeof *Zb);
      memset(zb, 0, D * sizeof *zb);
    } else {
      load_step(&ws, s, t, 1, Pinv);
      if ((st = predict(&ws, Zs, zs, Zb, zb))) break;
    }
    memcpy(Zs, Zb, DD * sizeof *Zs);
    memcpy(zs, zb, D * sizeof *zs);
    add_site(w, t, Zs, zs);
  }
  /* combine into moments, in place of the forward information */
  for (size_t t = 0; t < T && !st; t++) {
    double *Zf = w->Pf + t * DD, *zf = w->mf + t * D;
    const double *Zb = w->Pp + t * DD, *zb = w->mp + t * D;
    for (size_t i = 0; i < DD; i++) Zs[i] = Zf[i] + Zb[i] - Pinv[i];
    for (size_t i = 0; i < D; i++) zs[i] = zf[i] + zb[i];
    if ((st = spd_inv(Zs, D, Zf, ws.L, NULL, NULL, NULL, NULL))) break;
    mv(0, D, Zf, zs, zf);
  }
  if (st) latens_errorf(__FILE__, __LINE__, st, "latens_gp_cvi: information filter: a precision "
                        "matrix is not positive definite");
  else latens_gp_cvi_project(w);
  *logZ = st ? NAN : lz;
  ws_free(&ws);
  free(Pinv);
  return st;
}
