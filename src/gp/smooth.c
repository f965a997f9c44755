/* gp/smooth.c: the exact posterior of "state-space prior x Gaussian sites" in moment form,
 * on the core Kalman steps.
 *
 * A site exp(j^T f - f^T J f / 2) with J = U diag(lam) U^T is, up to a constant, the
 * likelihood of pseudo-observations ytil_i = u_i^T j / sqrt(lam_i) of rows
 * sqrt(lam_i) u_i^T H x with unit noise, so the core update (Joseph form) applies unchanged
 * and J may be singular (zero-eigenvalue directions become missing rows).  Where J's
 * eigenvalue is zero the component of j along it is dropped: CVI's targets
 * C^T (y - a) + C^T diag(b) C m lie in the range of C^T diag(b) C whenever b > 0. */
#include "cvi_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>

static const double LOG_2PI = 1.8378770664093454836;

typedef struct {
  size_t K, D;
  gsl_eigen_symmv_workspace *ew;
  gsl_matrix *Jc, *U;
  gsl_vector *lam;
  double *y, *Ht, *ones;
} pseudo_ws;

static void pseudo_free(pseudo_ws *p) {
  if (p->ew) gsl_eigen_symmv_free(p->ew);
  if (p->Jc) gsl_matrix_free(p->Jc);
  if (p->U) gsl_matrix_free(p->U);
  if (p->lam) gsl_vector_free(p->lam);
  free(p->y), free(p->Ht), free(p->ones);
}

static int pseudo_alloc(pseudo_ws *p, size_t K, size_t D) {
  memset(p, 0, sizeof *p);
  p->K = K, p->D = D;
  p->y = malloc(K * sizeof *p->y);
  p->Ht = malloc(K * D * sizeof *p->Ht);
  p->ones = malloc(K * sizeof *p->ones);
  if (K > 1) {
    p->ew = gsl_eigen_symmv_alloc(K);
    p->Jc = gsl_matrix_alloc(K, K), p->U = gsl_matrix_alloc(K, K), p->lam = gsl_vector_alloc(K);
  }
  if (!p->y || !p->Ht || !p->ones || (K > 1 && (!p->ew || !p->Jc || !p->U || !p->lam))) {
    pseudo_free(p);
    return LATENS_ENOMEM;
  }
  for (size_t i = 0; i < K; i++) p->ones[i] = 1.0;
  return LATENS_OK;
}

/* Pseudo-observations of site t into p->y (NaN rows: no information) and p->Ht (K x D). */
static int pseudo_make(pseudo_ws *p, const latens_gp_ssm *s, const double *j, const double *J,
                       size_t *nobs, double *half_y2) {
  const size_t K = p->K, D = p->D;
  double lam[1] = {0}, U[1] = {1.0}; /* K = 1: the site is its own eigen-decomposition */
  if (!latens_all_finite(J, K * K) || !latens_all_finite(j, K)) return LATENS_ENOTFINITE;
  if (K == 1) {
    lam[0] = J[0];
  } else {
    for (size_t a = 0; a < K; a++)
      for (size_t b = 0; b < K; b++) gsl_matrix_set(p->Jc, a, b, 0.5 * (J[a + b * K] + J[b + a * K]));
    if (gsl_eigen_symmv(p->Jc, p->lam, p->U, p->ew)) return LATENS_EFAILED;
  }
  double lmax = 0;
  for (size_t i = 0; i < K; i++) {
    double li = K == 1 ? lam[0] : gsl_vector_get(p->lam, i);
    if (li > lmax) lmax = li;
  }
  const double thr = lmax * 1e-13;
  *nobs = 0, *half_y2 = 0;
  for (size_t i = 0; i < K; i++) {
    double li = K == 1 ? lam[0] : gsl_vector_get(p->lam, i);
    if (!(li > thr) || li <= 0) {
      p->y[i] = NAN;
      for (size_t c = 0; c < D; c++) p->Ht[i + c * K] = 0;
      continue;
    }
    double uj = 0, sq = sqrt(li);
    for (size_t a = 0; a < K; a++) uj += (K == 1 ? U[0] : gsl_matrix_get(p->U, a, i)) * j[a];
    p->y[i] = uj / sq;
    *half_y2 += 0.5 * p->y[i] * p->y[i];
    (*nobs)++;
    for (size_t c = 0; c < D; c++) {
      double h = 0;
      for (size_t a = 0; a < K; a++) h += (K == 1 ? U[0] : gsl_matrix_get(p->U, a, i)) * s->H[a + c * K];
      p->Ht[i + c * K] = sq * h;
    }
  }
  return LATENS_OK;
}

/* m_t = H x_t, V_t = H P_t H^T for every t, from the smoothed state moments. */
void latens_gp_cvi_project(latens_gp_cvi *w) {
  const size_t K = w->K, D = w->D;
  const double *H = w->s->H;
  for (size_t t = 0; t < w->T; t++) {
    const double *x = w->mf + t * D, *P = w->Pf + t * D * D;
    double *m = w->m + t * K, *V = w->V + t * K * K;
    for (size_t a = 0; a < K; a++) {
      double acc = 0;
      for (size_t c = 0; c < D; c++) acc += H[a + c * K] * x[c];
      m[a] = acc;
    }
    for (size_t a = 0; a < K; a++)
      for (size_t b = 0; b <= a; b++) {
        double acc = 0;
        for (size_t c = 0; c < D; c++) {
          double hc = H[a + c * K];
          if (hc == 0) continue;
          for (size_t e = 0; e < D; e++) acc += hc * P[c + e * D] * H[b + e * K];
        }
        V[a + b * K] = V[b + a * K] = acc;
      }
  }
}

int latens_gp_cvi_smooth_rts(latens_gp_cvi *w, double *logZ) {
  const latens_gp_ssm *s = w->s;
  const size_t K = w->K, D = w->D, T = w->T;
  int st = LATENS_OK;
  pseudo_ws p;
  double *A = malloc(2 * D * D * sizeof *A);
  latens_kalman_workspace *kw = latens_kalman_workspace_alloc(D, K);
  if (!A || !kw || pseudo_alloc(&p, K, D)) {
    free(A), latens_kalman_workspace_free(kw);
    LATENS_ERROR("latens_gp_cvi: out of memory in the smoother", LATENS_ENOMEM);
  }
  double *Q = A + D * D, lz = 0;
  latens_mat Am = latens_mat_view(A, D, D, D), Qm = latens_mat_view(Q, D, D, D);
  latens_mat Hm = latens_mat_view(p.Ht, K, D, K);
  latens_vec yv = latens_vec_view(p.y, K, 1), rv = latens_vec_view(p.ones, K, 1);
  for (size_t t = 0; t < T && !st; t++) {
    double *mp = w->mp + t * D, *Pp = w->Pp + t * D * D, *mf = w->mf + t * D, *Pf = w->Pf + t * D * D;
    if (t == 0) {
      memset(mp, 0, D * sizeof *mp);
      memcpy(Pp, s->Pinf, D * D * sizeof *Pp);
    } else {
      memcpy(mp, w->mf + (t - 1) * D, D * sizeof *mp);
      memcpy(Pp, w->Pf + (t - 1) * D * D, D * D * sizeof *Pp);
      latens_gp_ssm_step_full(s, t - 1, A, Q);
      latens_vec mv = latens_vec_view(mp, D, 1);
      latens_mat Pv = latens_mat_view(Pp, D, D, D);
      if ((st = latens_kalman_predict(&Am, NULL, &Qm, &mv, &Pv, kw))) break;
    }
    memcpy(mf, mp, D * sizeof *mf);
    memcpy(Pf, Pp, D * D * sizeof *Pf);
    size_t nobs;
    double half_y2, ll = 0;
    if ((st = pseudo_make(&p, s, w->j + t * K, w->J + t * K * K, &nobs, &half_y2))) {
      latens_errorf(__FILE__, __LINE__, st, "latens_gp_cvi: site %zu is not finite or its "
                    "eigen-decomposition failed", t);
      break;
    }
    if (nobs) {
      latens_vec mv = latens_vec_view(mf, D, 1);
      latens_mat Pv = latens_mat_view(Pf, D, D, D);
      if ((st = latens_kalman_update(&yv, NULL, &Hm, NULL, &rv, &mv, &Pv, &ll, kw))) break;
      lz += ll + 0.5 * (double)nobs * LOG_2PI + half_y2;
    }
  }
  for (size_t t = T - 1; t-- > 0 && !st;) {
    latens_gp_ssm_step_full(s, t, A, Q);
    latens_vec mf = latens_vec_view(w->mf + t * D, D, 1), mp = latens_vec_view(w->mp + (t + 1) * D, D, 1),
               ms1 = latens_vec_view(w->mf + (t + 1) * D, D, 1);
    latens_mat Pf = latens_mat_view(w->Pf + t * D * D, D, D, D),
               Pp = latens_mat_view(w->Pp + (t + 1) * D * D, D, D, D),
               Ps1 = latens_mat_view(w->Pf + (t + 1) * D * D, D, D, D);
    st = latens_kalman_smooth(&Am, &mf, &Pf, &mp, &Pp, &ms1, &Ps1, &mf, &Pf, NULL, kw);
  }
  if (!st) latens_gp_cvi_project(w);
  *logZ = st ? NAN : lz;
  pseudo_free(&p);
  free(A);
  latens_kalman_workspace_free(kw);
  return st;
}
