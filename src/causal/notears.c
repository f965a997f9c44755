/* causal/notears.c: linear NOTEARS (Zheng, Aragam, Ravikumar & Xing, NeurIPS 2018) on the
 * core L-BFGS.
 *
 * The least-squares loss depends on the data only through S = X^T X / n (X centred):
 * 1/(2n) |X - X W|^2 = tr((I - W)^T S (I - W)) / 2, gradient S W - S, so after one pass over
 * the data every evaluation costs O(p^3), like the expm in h.  As in the authors' code the
 * L1 penalty is made smooth by W = W+ - W- with W+- >= 0 (the core optimiser keeps them
 * strictly positive through x = exp(u)); diagonal entries are not parameters at all. */
#include "score_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <latens/lti.h>

void latens_causal_notears_options_default(latens_causal_notears_options *opt) {
  if (!opt) return;
  opt->lambda1 = 0.1;
  opt->w_threshold = 0.3;
  opt->h_tol = 1e-8;
  opt->rho_max = 1e16;
  opt->max_outer = 100;
  opt->standardize = 0;
}

/* h and its gradient with caller scratch: E and A p x p each. */
static int notears_h_work(const double *W, size_t p, double *h, double *grad, double *A,
                          double *E, latens_expm_workspace *ws) {
  for (size_t k = 0; k < p * p; k++) A[k] = W[k] * W[k];
  /* a 1-norm past 700 may overflow e^A; such a W is far beyond any useful one (a line-search
   * trial), and the solver wants to hear about it without an error report */
  double norm1 = 0.0;
  for (size_t j = 0; j < p; j++) {
    double c = 0.0;
    for (size_t i = 0; i < p; i++) c += A[i + j * p];
    norm1 = c > norm1 ? c : norm1;
  }
  if (norm1 > 700.0) return LATENS_ERANGE;
  latens_mat Am = latens_mat_view(A, p, p, p), Em = latens_mat_view(E, p, p, p);
  int status = latens_expm(&Am, &Em, ws);
  if (status != LATENS_OK) return status;
  double tr = 0.0;
  for (size_t i = 0; i < p; i++) tr += E[i + i * p];
  *h = tr - (double)p;
  if (grad)
    for (size_t j = 0; j < p; j++)
      for (size_t i = 0; i < p; i++) grad[i + j * p] = E[j + i * p] * 2.0 * W[i + j * p];
  return LATENS_OK;
}

int latens_causal_notears_h(const double *W, size_t p, double *h, double *grad) {
  if (!W || !h || p == 0) LATENS_ERROR("latens_causal_notears_h: NULL argument or p = 0", LATENS_EINVAL);
  if (p > 46340) LATENS_ERRORF(LATENS_EINVAL, "latens_causal_notears_h: p = %zu too large", p);
  if (!latens_all_finite(W, p * p))
    LATENS_ERROR("latens_causal_notears_h: W has a NaN or Inf", LATENS_ENOTFINITE);
  double *A = malloc(2 * p * p * sizeof *A);
  latens_expm_workspace *ws = latens_expm_workspace_alloc(p);
  int status = LATENS_ENOMEM;
  if (A && ws) status = notears_h_work(W, p, h, grad, A, A + p * p, ws);
  free(A), latens_expm_workspace_free(ws);
  if (status == LATENS_ENOMEM) LATENS_ERROR("latens_causal_notears_h: no memory", status);
  if (status == LATENS_ERANGE)
    LATENS_ERROR("latens_causal_notears_h: e^{W o W} overflows (|W o W|_1 > 700)", status);
  return status;
}

typedef struct {
  size_t p, m;        /* m = p (p - 1) off-diagonal entries */
  const double *S;
  double lambda1, rho, alpha;
  double *W, *G, *R, *A, *E; /* p x p scratch */
  latens_expm_workspace *ws;
} nt_problem;

/* x = [W+ offdiag, W- offdiag] -> W (column-major, zero diagonal) */
static void nt_unpack(const nt_problem *P, const double *x, double *W) {
  const size_t p = P->p;
  size_t k = 0;
  for (size_t j = 0; j < p; j++)
    for (size_t i = 0; i < p; i++) {
      if (i == j) { W[i + j * p] = 0.0; continue; }
      W[i + j * p] = x[k] - x[k + P->m];
      k++;
    }
}

static int nt_fdf(const double *x, size_t nx, void *user, double *f, double *grad) {
  nt_problem *P = user;
  const size_t p = P->p;
  (void)nx;
  nt_unpack(P, x, P->W);
  /* R = S (I - W); loss = tr((I - W)^T R) / 2; dloss/dW = -R */
  for (size_t k = 0; k < p * p; k++) P->A[k] = -P->W[k];
  for (size_t i = 0; i < p; i++) P->A[i + i * p] += 1.0;
  latens_dense_mm(0, 0, p, p, p, 1.0, P->S, p, P->A, p, 0.0, P->R, p);
  double loss = 0.0;
  for (size_t k = 0; k < p * p; k++) loss += P->A[k] * P->R[k];
  loss *= 0.5;
  double h;
  int status = notears_h_work(P->W, p, &h, P->G, P->A, P->E, P->ws);
  if (status == LATENS_ERANGE) { /* a line-search trial far out: the optimiser shortens it */
    *f = INFINITY;
    if (grad)
      for (size_t k = 0; k < 2 * P->m; k++) grad[k] = 0.0;
    return LATENS_OK;
  }
  if (status != LATENS_OK) return status;
  double l1 = 0.0;
  for (size_t k = 0; k < 2 * P->m; k++) l1 += x[k];
  *f = loss + 0.5 * P->rho * h * h + P->alpha * h + P->lambda1 * l1;
  if (grad) {
    const double c = P->rho * h + P->alpha;
    size_t k = 0;
    for (size_t j = 0; j < p; j++)
      for (size_t i = 0; i < p; i++) {
        if (i == j) continue;
        const double g = -P->R[i + j * p] + c * P->G[i + j * p];
        grad[k] = g + P->lambda1, grad[k + P->m] = -g + P->lambda1;
        k++;
      }
  }
  return LATENS_OK;
}

/* 1 when the support of W (p x p, i --> j at [i + j p]) has no directed cycle (Kahn). */
static int support_acyclic(const double *W, size_t p) {
  size_t *indeg = calloc(p, sizeof *indeg), *queue = malloc(p * sizeof *queue), head = 0, tail = 0;
  int ok = 0;
  if (indeg && queue) {
    for (size_t j = 0; j < p; j++)
      for (size_t i = 0; i < p; i++) indeg[j] += i != j && W[i + j * p] != 0;
    for (size_t j = 0; j < p; j++)
      if (!indeg[j]) queue[tail++] = j;
    while (head < tail) {
      const size_t i = queue[head++];
      for (size_t j = 0; j < p; j++)
        if (i != j && W[i + j * p] != 0 && --indeg[j] == 0) queue[tail++] = j;
    }
    ok = tail == p;
  }
  free(indeg), free(queue);
  return ok;
}

static int check_notears_opt(const latens_causal_notears_options *o) {
  static const char fn[] = "latens_causal_notears";
  if (!(o->lambda1 >= 0) || !isfinite(o->lambda1))
    LATENS_ERRORF(LATENS_EDOM, "%s: lambda1 = %g is not a finite value >= 0", fn, o->lambda1);
  if (!(o->w_threshold >= 0) || !isfinite(o->w_threshold))
    LATENS_ERRORF(LATENS_EDOM, "%s: w_threshold = %g is not a finite value >= 0", fn, o->w_threshold);
  if (!(o->h_tol > 0) || !(o->rho_max > 1))
    LATENS_ERRORF(LATENS_EDOM, "%s: h_tol = %g must be > 0 and rho_max = %g > 1", fn, o->h_tol,
                  o->rho_max);
  if (o->max_outer == 0) LATENS_ERRORF(LATENS_EDOM, "%s: max_outer = 0", fn);
  return LATENS_OK;
}

/* The augmented-Lagrangian loop of the authors' notears_linear: for each dual step, raise
 * rho tenfold until the subproblem's h falls below a quarter of the last h. */
static int notears_solve(nt_problem *P, const latens_causal_notears_options *o,
                         const latens_progress *progress, double *x, double *xnew, int *reached) {
  latens_optim_options oo;
  latens_optim_options_default(&oo);
  /* scipy's L-BFGS-B defaults, which the authors' code runs with: factr 1e7 (ftol 1e7 eps),
   * pgtol 1e-5, maxiter 15000 */
  oo.max_iter = 15000, oo.ftol = 1e7 * 2.220446049250313e-16, oo.gtol = 1e-5;
  const size_t nx = 2 * P->m;
  double *lo = malloc(nx * sizeof *lo);
  if (!lo) LATENS_ERROR("latens_causal_notears: no memory", LATENS_ENOMEM);
  for (size_t k = 0; k < nx; k++) lo[k] = 0.0;
  double h = INFINITY;
  int status = LATENS_OK;
  *reached = 0;
  P->rho = 1.0, P->alpha = 0.0;
  for (size_t it = 0; it < o->max_outer && status == LATENS_OK; it++) {
    status = latens_progress_report(progress, "notears", (double)it, (double)o->max_outer);
    double hnew = INFINITY;
    while (status == LATENS_OK && P->rho < o->rho_max) {
      latens_optim_result res = {.x = xnew};
      status = latens_optim_minimize(nt_fdf, x, nx, P, lo, NULL, &oo, &res);
      if (status == LATENS_EMAXITER || status == LATENS_ENOPROG) status = LATENS_OK;
      if (status != LATENS_OK) break;
      nt_unpack(P, xnew, P->W);
      status = notears_h_work(P->W, P->p, &hnew, NULL, P->A, P->E, P->ws);
      if (status == LATENS_OK && hnew > 0.25 * h) P->rho *= 10.0;
      else break;
    }
    if (status != LATENS_OK) break;
    memcpy(x, xnew, nx * sizeof *x);
    h = hnew;
    P->alpha += P->rho * h;
    if (h <= o->h_tol) { *reached = 1; break; }
    if (P->rho >= o->rho_max) break;
  }
  free(lo);
  return status;
}

int latens_causal_notears(const latens_causal_data *d, const latens_causal_notears_options *opt,
                          const latens_progress *progress, double *W, latens_causal_graph **out) {
  static const char fn[] = "latens_causal_notears";
  latens_causal_notears_options o;
  latens_causal_notears_options_default(&o);
  if (opt) o = *opt;
  if (out) *out = NULL;
  const double *X;
  size_t n, p, ldx;
  int status = check_notears_opt(&o);
  if (status == LATENS_OK) status = cs_data_continuous(fn, d, &X, &n, &p, &ldx);
  if (status != LATENS_OK) return status;
  if (p > 46340) LATENS_ERRORF(LATENS_EINVAL, "%s: p = %zu too large", fn, p);
  nt_problem P = {p, p * (p - 1), NULL, o.lambda1, 1.0, 0.0, NULL, NULL, NULL, NULL, NULL, NULL};
  double *Y = malloc(latens_mul_size(n, p) * sizeof *Y), *buf = malloc(6 * p * p * sizeof *buf);
  double *x = malloc((4 * P.m + 1) * sizeof *x);
  P.ws = latens_expm_workspace_alloc(p);
  if (!Y || !buf || !x || !P.ws) {
    free(Y), free(buf), free(x), latens_expm_workspace_free(P.ws);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory for n = %zu, p = %zu", fn, n, p);
  }
  double *S = buf;
  P.S = S, P.W = buf + p * p, P.G = buf + 2 * p * p, P.R = buf + 3 * p * p;
  P.A = buf + 4 * p * p, P.E = buf + 5 * p * p;
  cs_center(X, n, p, ldx, Y, o.standardize);
  cs_cov(Y, n, p, S);
  free(Y);
  status = cs_check_collinear(fn, S, p); /* W would not be unique */
  if (status != LATENS_OK) {
    free(buf), free(x), latens_expm_workspace_free(P.ws);
    return status;
  }
  for (size_t k = 0; k < 2 * P.m; k++) x[k] = 1e-3; /* strictly inside the bounds */
  int reached = 1; /* p = 1 (data sets refuse it today): W = 0, the optimiser refuses n = 0 */
  if (P.m > 0) status = notears_solve(&P, &o, progress, x, x + 2 * P.m, &reached);
  if (status == LATENS_OK) {
    nt_unpack(&P, x, P.W);
    for (size_t k = 0; k < p * p; k++)
      if (fabs(P.W[k]) < o.w_threshold) P.W[k] = 0.0;
    if (W) memcpy(W, P.W, p * p * sizeof *W);
    if (out) status = cs_graph_from_matrix(d, P.W, p, 1, out);
    /* as the authors' code, the thresholded W is the answer even when h stalled above h_tol
     * (badly scaled data: rho_max is reached with h ~ 1e-7); it is an error only when the
     * thresholded graph still has a cycle */
    if (status == LATENS_OK && !reached && !support_acyclic(P.W, p)) {
      status = LATENS_ENOPROG;
      latens_errorf(__FILE__, __LINE__, status, "%s: h(W) did not reach h_tol = %g before "
                    "rho_max = %g or max_outer = %zu and the thresholded W has a cycle (W holds "
                    "the last iterate)", fn, o.h_tol, o.rho_max, o.max_outer);
      if (out) latens_causal_graph_free(*out), *out = NULL;
    }
  } else if (status != LATENS_EINTERRUPTED) {
    latens_errorf(__FILE__, __LINE__, status, "%s: subproblem failed (%s)", fn,
                  latens_strerror(status));
  }
  free(buf), free(x), latens_expm_workspace_free(P.ws);
  return status;
}
