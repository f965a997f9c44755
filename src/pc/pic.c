/* pc/pic.c: probabilistic integral circuits over a tree (Gala et al., AISTATS 2024), their
 * materialisation by quadrature into a normalised HCLT, the gradient of the materialised
 * log-likelihood with respect to the kernel networks, and training by Adam.
 *
 * Networks, with composite functional sharing (Gala et al., NeurIPS 2024): one 2-D trunk
 * tanh(W2 phi(z_parent, z) + b2) for every edge kernel and one 1-D trunk tanh(W1 phi(z) + b1)
 * for the root and the leaves; each unit owns a linear head.  Edge and root kernels are
 * softplus(head) > 0, leaves sigmoid(head).  Materialising needs the trunks at K^2 and K
 * points once per step, then one GEMM for all heads. */
#include "pic_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>


void latens_pc_pic_options_default(latens_pc_pic_options *opt) {
  if (!opt) return;
  opt->rule = LATENS_QUAD_TRAPEZOID, opt->a = -1.0, opt->b = 1.0;
  opt->fourier = 16, opt->sigma = 1.0, opt->hidden = 64, opt->depth = 1;
}

latens_pc_pic *latens_pc_pic_alloc(size_t n, const long *parent, const latens_pc_pic_options *opt,
                                   latens_rng *rng) {
  latens_pc_pic_options o;
  if (opt) o = *opt;
  else latens_pc_pic_options_default(&o);
  if (!parent || !rng || n == 0 || o.fourier == 0 || o.hidden == 0)
    LATENS_ERROR_NULL("latens_pc_pic_alloc: need parent, rng, n >= 1, fourier >= 1, hidden >= 1",
                      LATENS_EINVAL);
  if (o.depth != 1 && o.depth != 2) {
    latens_errorf(__FILE__, __LINE__, LATENS_EDOM, "latens_pc_pic_alloc: depth = %zu, need 1 "
                  "or 2", o.depth);
    return NULL;
  }
  /* An infinite or NaN scale would make every Fourier feature NaN. */
  if (!(o.sigma > 0.0) || !isfinite(o.sigma)) {
    latens_errorf(__FILE__, __LINE__, LATENS_EDOM, "latens_pc_pic_alloc: sigma = %g, need a finite "
                  "value > 0", o.sigma);
    return NULL;
  }
  /* The network sizes must fit CBLAS's int and the parameter count a size_t. */
  const size_t HD = latens_mul_size(o.hidden, latens_mul_size(2, o.fourier));
  const size_t Hn = latens_mul_size(o.hidden, n);
  if (HD == 0 || Hn == 0 || latens_too_big(2 * o.fourier) || latens_too_big(o.hidden) ||
      latens_too_big(n) || HD > SIZE_MAX / 32 || Hn > SIZE_MAX / 32 ||
      latens_mul_size(o.hidden, o.hidden) > SIZE_MAX / 32) {
    latens_errorf(__FILE__, __LINE__, LATENS_EINVAL, "latens_pc_pic_alloc: networks too large "
                  "(n %zu, fourier %zu, hidden %zu)", n, o.fourier, o.hidden);
    return NULL;
  }
  double z3[3], w3[3]; /* the rule and its interval, checked now rather than at first use */
  if (latens_quad_rule(o.rule, 3, o.a, o.b, z3, w3)) return NULL;
  latens_pc_hclt *chk = latens_pc_hclt_alloc(n, 2, 1, parent); /* validates the tree */
  if (!chk) return NULL;
  latens_pc_hclt_free(chk);
  latens_pc_pic *p = calloc(1, sizeof *p);
  if (!p) LATENS_ERROR_NULL("latens_pc_pic_alloc: no memory", LATENS_ENOMEM);
  p->n = n, p->E = n - 1, p->F = o.fourier, p->H = o.hidden, p->D = 2 * o.fourier, p->opt = o;
  const size_t H = p->H, D = p->D;
  size_t off = 0;
  p->oW2 = off, off += H * D;
  p->ob2 = off, off += H;
  p->oV = off, off += H * p->E;
  p->oc = off, off += p->E;
  p->oW1 = off, off += H * D;
  p->ob1 = off, off += H;
  p->oA = off, off += H * n;
  p->obA = off, off += n;
  p->oR = off, off += H;
  p->ocR = off, off += 1;
  p->oW3 = off, off += o.depth == 2 ? H * H : 0;
  p->ob3 = off, off += o.depth == 2 ? H : 0;
  p->np = off;
  p->parent = malloc(n * sizeof *p->parent);
  p->edge = malloc(n * sizeof *p->edge);
  p->B2 = malloc(2 * p->F * sizeof *p->B2);
  p->B1 = malloc(p->F * sizeof *p->B1);
  p->theta = calloc(p->np, sizeof *p->theta);
  if (!p->parent || !p->edge || !p->B2 || !p->B1 || !p->theta) {
    latens_pc_pic_free(p);
    LATENS_ERROR_NULL("latens_pc_pic_alloc: no memory", LATENS_ENOMEM);
  }
  for (size_t j = 0, e = 0; j < n; j++)
    p->parent[j] = parent[j], p->edge[j] = parent[j] < 0 ? (size_t)-1 : e++;
  for (size_t f = 0; f < 2 * p->F; f++) p->B2[f] = o.sigma * latens_rng_normal(rng);
  for (size_t f = 0; f < p->F; f++) p->B1[f] = o.sigma * latens_rng_normal(rng);
  /* Glorot-like scales keep the trunks out of tanh saturation; heads start small, so every
   * kernel starts near constant (a near-uniform circuit, like EM's initialisation). */
  double *t = p->theta;
  for (size_t k = 0; k < H * D; k++) t[p->oW2 + k] = latens_rng_normal(rng) / sqrt((double)D);
  for (size_t k = 0; k < H * D; k++) t[p->oW1 + k] = latens_rng_normal(rng) / sqrt((double)D);
  for (size_t k = 0; k < H * p->E; k++) t[p->oV + k] = latens_rng_normal(rng) / sqrt((double)H);
  for (size_t k = 0; k < H * n; k++) t[p->oA + k] = latens_rng_normal(rng) / sqrt((double)H);
  for (size_t k = 0; k < H; k++) t[p->oR + k] = latens_rng_normal(rng) / sqrt((double)H);
  for (size_t k = 0; k < p->ob3 - p->oW3; k++) t[p->oW3 + k] = latens_rng_normal(rng) / sqrt((double)H);
  return p;
}

void latens_pc_pic_free(latens_pc_pic *p) {
  if (!p) return;
  free(p->parent), free(p->edge), free(p->B2), free(p->B1), free(p->theta), free(p);
}

size_t latens_pc_pic_nparams(const latens_pc_pic *p) { return p ? p->np : 0; }
double *latens_pc_pic_params(latens_pc_pic *p) { return p ? p->theta : NULL; }

/* log softplus(o) and its derivative sigmoid(o) / softplus(o), stable for o << 0. */
static double logsp(double o) { return o < -30.0 ? o : log(latens_log1pexp(o)); }
static double dlogsp(double o) {
  if (o < -30.0) return 1.0;
  return 1.0 / ((1.0 + exp(-o)) * latens_log1pexp(o));
}

/* K^2 rows of every 2-D network array, with ld K^2 handed to CBLAS. */
static int check_K(const latens_pc_pic *p, size_t K) {
  const size_t K2 = latens_mul_size(K, K), wide = p->H > p->D ? p->H : p->D;
  const size_t cols = wide > p->E ? wide : p->E, cells = latens_mul_size(K2, cols);
  if (K2 == 0 || latens_too_big(K2) || cells == 0 || cells > SIZE_MAX / sizeof(double))
    LATENS_ERRORF(LATENS_EINVAL, "latens_pc_pic: K = %zu quadrature points is too many for "
                  "networks of width %zu", K, cols);
  return LATENS_OK;
}

void latens_pc_pic_fw_free(latens_pc_pic_fw *f) {
  if (!f) return;
  free(f->z), free(f->logw), free(f->Phi2), free(f->Hid2), free(f->O);
  free(f->Phi1), free(f->Hid1), free(f->L), free(f->Or);
  free(f->GO), free(f->dH2), free(f->GL), free(f->Gr), free(f->dH1);
  free(f->Hid2a), free(f->dH2a), free(f);
}

/* The rule and the Fourier features of its grid depend on K only, not on the parameters:
 * computed once here, so a training step evaluates only the trunks and heads. */
int latens_pc_pic_fw_alloc(const latens_pc_pic *p, size_t K, latens_pc_pic_fw **out) {
  *out = NULL;
  int st = check_K(p, K);
  if (st) return st;
  const size_t K2 = K * K, H = p->H, D = p->D, n = p->n;
  latens_pc_pic_fw *f = calloc(1, sizeof *f);
  double *grid = malloc(2 * K2 * sizeof(double));
  if (f) {
    f->K = K;
    f->z = malloc(K * sizeof(double)), f->logw = malloc(K * sizeof(double));
    f->Phi2 = malloc(K2 * D * sizeof(double)), f->Hid2 = malloc(K2 * H * sizeof(double));
    f->O = malloc(K2 * (p->E ? p->E : 1) * sizeof(double));
    f->Phi1 = malloc(K * D * sizeof(double)), f->Hid1 = malloc(K * H * sizeof(double));
    f->L = malloc(K * n * sizeof(double)), f->Or = malloc(K * sizeof(double));
    f->GO = malloc(K2 * (p->E ? p->E : 1) * sizeof(double));
    f->dH2 = malloc(K2 * H * sizeof(double)), f->GL = malloc(K * n * sizeof(double));
    f->Gr = malloc(K * sizeof(double)), f->dH1 = malloc(K * H * sizeof(double));
    if (p->opt.depth == 2)
      f->Hid2a = malloc(K2 * H * sizeof(double)), f->dH2a = malloc(K2 * H * sizeof(double));
  }
  if (!f || !grid || !f->z || !f->logw || !f->Phi2 || !f->Hid2 || !f->O || !f->Phi1 ||
      !f->Hid1 || !f->L || !f->Or || !f->GO || !f->dH2 || !f->GL || !f->Gr || !f->dH1 ||
      (p->opt.depth == 2 && (!f->Hid2a || !f->dH2a))) {
    latens_pc_pic_fw_free(f), free(grid);
    LATENS_ERROR("latens_pc_pic: no memory for the materialisation", LATENS_ENOMEM);
  }
  if ((st = latens_quad_rule(p->opt.rule, K, p->opt.a, p->opt.b, f->z, f->logw))) {
    latens_pc_pic_fw_free(f), free(grid);
    return st;
  }
  for (size_t k = 0; k < K; k++) /* grid row i + k K is (z_parent = z_i, z = z_k) */
    for (size_t i = 0; i < K; i++) grid[i + k * K] = f->z[i], grid[K2 + i + k * K] = f->z[k];
  latens_pc_mlp_features(grid, K2, 2, p->B2, p->F, f->Phi2);
  latens_pc_mlp_features(f->z, K, 1, p->B1, p->F, f->Phi1);
  free(grid);
  *out = f;
  return LATENS_OK;
}

int latens_pc_pic_fw_eval(const latens_pc_pic *p, latens_pc_pic_fw *f) {
  const size_t K = f->K, K2 = K * K, H = p->H, D = p->D, n = p->n;
  const double *t = p->theta;
  /* The parameters are writable by the caller (latens_pc_pic_params): NaN or Inf there
   * would give NaN tables that a normalised circuit can never hold. */
  for (size_t k = 0; k < p->np; k++)
    if (!isfinite(t[k]))
      LATENS_ERRORF(LATENS_ENOTFINITE, "latens_pc_pic: parameter %zu = %g is not finite", k, t[k]);
  if (p->opt.depth == 2) {
    latens_pc_mlp_forward(f->Phi2, K2, D, t + p->oW2, t + p->ob2, H, f->Hid2a);
    latens_pc_mlp_forward(f->Hid2a, K2, H, t + p->oW3, t + p->ob3, H, f->Hid2);
  } else {
    latens_pc_mlp_forward(f->Phi2, K2, D, t + p->oW2, t + p->ob2, H, f->Hid2);
  }
  if (p->E) {
    latens_dense_mm(0, 0, K2, p->E, H, 1.0, f->Hid2, K2, t + p->oV, H, 0.0, f->O, K2);
    for (size_t e = 0; e < p->E; e++)
      for (size_t q = 0; q < K2; q++) f->O[q + e * K2] += t[p->oc + e];
  }
  latens_pc_mlp_forward(f->Phi1, K, D, t + p->oW1, t + p->ob1, H, f->Hid1);
  latens_dense_mm(0, 0, K, n, H, 1.0, f->Hid1, K, t + p->oA, H, 0.0, f->L, K);
  latens_dense_mm(0, 0, K, 1, H, 1.0, f->Hid1, K, t + p->oR, H, 0.0, f->Or, K);
  for (size_t k = 0; k < K; k++) {
    f->Or[k] += t[p->ocR];
    for (size_t j = 0; j < n; j++) f->L[k + j * K] += t[p->obA + j];
  }
  return LATENS_OK;
}

/* out[k * stride] = normalised exp(logsp(o[k * ostride]) + logw[k]), k < K. */
static void normalised_row(const double *o, size_t ostride, const double *logw, size_t K,
                           double *out, size_t stride) {
  double mx = -INFINITY, s = 0.0;
  for (size_t k = 0; k < K; k++) {
    double v = logsp(o[k * ostride]) + logw[k];
    out[k * stride] = v, mx = v > mx ? v : mx;
  }
  for (size_t k = 0; k < K; k++) s += (out[k * stride] = exp(out[k * stride] - mx));
  for (size_t k = 0; k < K; k++) out[k * stride] /= s;
}

static int check_mat(const char *fn, const latens_pc_pic *p, size_t K, const latens_pc_hclt *h) {
  if (!p || !h) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  if (h->ncat) LATENS_ERRORF(LATENS_EUNIMPL, "%s: the model is categorical; PICs are binary", fn);
  if (h->n != p->n || h->K != K || h->M != 1)
    LATENS_ERRORF(LATENS_EBADLEN, "%s: model is (n %zu, K %zu, M %zu), need (n %zu, K %zu, M 1)",
                  fn, h->n, h->K, h->M, p->n, K);
  for (size_t j = 0; j < p->n; j++)
    if (h->parent[j] != p->parent[j])
      LATENS_ERRORF(LATENS_EDOM, "%s: node %zu has parent %ld in the model, %ld in the PIC", fn, j,
                    h->parent[j], p->parent[j]);
  return LATENS_OK;
}

int latens_pc_pic_fw_tables(const latens_pc_pic *p, const latens_pc_pic_fw *f,
                            latens_pc_hclt *out) {
  const size_t K = f->K, K2 = K * K;
  for (size_t j = 0; j < p->n; j++) {
    if (p->parent[j] >= 0) { /* row i of edge j: f(z_i, .) w renormalised */
      for (size_t i = 0; i < K; i++)
        normalised_row(f->O + p->edge[j] * K2 + i, K, f->logw, K, out->trans + j * K2 + i, K);
    }
    for (size_t k = 0; k < K; k++) { /* kept off exactly 0 and 1 so log p stays finite */
      double l = 1.0 / (1.0 + exp(-f->L[k + j * K]));
      out->leaf[j * K + k] = fmin(fmax(l, 1e-300), 1.0 - 0x1p-53);
    }
  }
  normalised_row(f->Or, 1, f->logw, K, out->root, 1);
  out->mix[0] = 1.0, out->fixed_leaves = 0;
  /* Finite parameters can still overflow a head (|o| near DBL_MAX): exp(Inf - Inf), or a NaN
   * leaf logit that the clamp above would hide. */
  if (!latens_all_finite(out->trans, latens_mul_size(p->n, K2)) ||
      !latens_all_finite(out->root, K) || !latens_all_finite(f->L, latens_mul_size(K, p->n)))
    LATENS_ERROR("latens_pc_pic_materialize: the kernels overflow (a table entry is not "
                 "finite); the network parameters are too large", LATENS_ENOTFINITE);
  return LATENS_OK;
}

int latens_pc_pic_materialize(const latens_pc_pic *p, size_t K, latens_pc_hclt *out) {
  int st = check_mat("latens_pc_pic_materialize", p, K, out);
  if (st) return st;
  latens_pc_pic_fw *f;
  if ((st = latens_pc_pic_fw_alloc(p, K, &f))) return st;
  if (!(st = latens_pc_pic_fw_eval(p, f))) st = latens_pc_pic_fw_tables(p, f, out);
  latens_pc_pic_fw_free(f);
  return st;
}

/* dL/dO for the rows of one normalised table: counts C (row i, entry k at C[i + k ld]) of
 * the table T; G[i + k gld] = (C_ik - T_ik sum_k' C_ik') dlogsp(O_ik). */
static void table_grad(const double *C, const double *T, const double *O, size_t rows, size_t K,
                       size_t ld, double *G) {
  for (size_t i = 0; i < rows; i++) {
    double R = 0.0;
    for (size_t k = 0; k < K; k++) R += C[i + k * ld];
    for (size_t k = 0; k < K; k++)
      G[i + k * ld] = (C[i + k * ld] - T[i + k * ld] * R) * dlogsp(O[i + k * ld]);
  }
}

int latens_pc_pic_fw_grad(const latens_pc_pic *p, latens_pc_pic_fw *f,
                          const latens_pc_hclt *mat, const latens_pc_hclt_counts *c,
                          double *grad) {
  const size_t K = f->K, K2 = K * K, H = p->H, D = p->D, n = p->n, E = p->E;
  double *GO = f->GO, *dH2 = f->dH2, *GL = f->GL, *Gr = f->Gr, *dH1 = f->dH1;
  const double *t = p->theta;
  memset(grad, 0, p->np * sizeof *grad);
  /* Edge kernels: through the row normalisation and the softplus, then heads and trunk. */
  for (size_t j = 0; j < n; j++)
    if (p->parent[j] >= 0)
      table_grad(c->trans + j * K2, mat->trans + j * K2, f->O + p->edge[j] * K2, K, K, K,
                 GO + p->edge[j] * K2);
  if (E) {
    latens_dense_mm(1, 0, H, E, K2, 1.0, f->Hid2, K2, GO, K2, 0.0, grad + p->oV, H);
    for (size_t e = 0; e < E; e++)
      for (size_t q = 0; q < K2; q++) grad[p->oc + e] += GO[q + e * K2];
    latens_dense_mm(0, 1, K2, H, E, 1.0, GO, K2, t + p->oV, H, 0.0, dH2, K2);
    if (p->opt.depth == 2) { /* dH2 becomes d pre-activation of layer 2, then through W3 */
      latens_pc_mlp_backward(f->Hid2a, K2, H, f->Hid2, H, dH2, grad + p->oW3, grad + p->ob3);
      latens_dense_mm(0, 0, K2, H, H, 1.0, dH2, K2, t + p->oW3, H, 0.0, f->dH2a, K2);
      latens_pc_mlp_backward(f->Phi2, K2, D, f->Hid2a, H, f->dH2a, grad + p->oW2, grad + p->ob2);
    } else {
      latens_pc_mlp_backward(f->Phi2, K2, D, f->Hid2, H, dH2, grad + p->oW2, grad + p->ob2);
    }
  }
  /* Root kernel (one row) and leaf logits: dL/dlogit = n1 - n p. */
  table_grad(c->root, mat->root, f->Or, 1, K, 1, Gr);
  for (size_t j = 0; j < n; j++)
    for (size_t k = 0; k < K; k++) {
      double pk = 1.0 / (1.0 + exp(-f->L[k + j * K]));
      GL[k + j * K] = c->leaf1[j * K + k] - c->leafn[j * K + k] * pk;
    }
  latens_dense_mm(1, 0, H, n, K, 1.0, f->Hid1, K, GL, K, 0.0, grad + p->oA, H);
  latens_dense_mm(1, 0, H, 1, K, 1.0, f->Hid1, K, Gr, K, 0.0, grad + p->oR, H);
  for (size_t k = 0; k < K; k++) {
    grad[p->ocR] += Gr[k];
    for (size_t j = 0; j < n; j++) grad[p->obA + j] += GL[k + j * K];
  }
  latens_dense_mm(0, 1, K, H, n, 1.0, GL, K, t + p->oA, H, 0.0, dH1, K);
  latens_dense_mm(0, 1, K, H, 1, 1.0, Gr, K, t + p->oR, H, 1.0, dH1, K);
  latens_pc_mlp_backward(f->Phi1, K, D, f->Hid1, H, dH1, grad + p->oW1, grad + p->ob1);
  return LATENS_OK;
}

int latens_pc_pic_gradient(const latens_pc_pic *p, const latens_pc_hclt *mat,
                           const latens_pc_hclt_counts *c, double *grad) {
  static const char fn[] = "latens_pc_pic_gradient";
  if (!mat || !c || !grad) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  int st = check_mat(fn, p, mat->K, mat);
  if (st) return st;
  if (c->n != mat->n || c->K != mat->K || c->M != 1)
    LATENS_ERRORF(LATENS_EBADLEN, "%s: counts do not belong to the materialised model", fn);
  latens_pc_pic_fw *f;
  if ((st = latens_pc_pic_fw_alloc(p, mat->K, &f))) return st;
  if (!(st = latens_pc_pic_fw_eval(p, f))) st = latens_pc_pic_fw_grad(p, f, mat, c, grad);
  latens_pc_pic_fw_free(f);
  return st;
}
