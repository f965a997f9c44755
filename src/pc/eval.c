/* pc/eval.c: workspaces, the forward (log-likelihood) pass, the top-down flow pass and the
 * two public queries built directly on them.
 *
 * Values live in a batch x nslots column-major buffer, one column per reachable unit in
 * depth order, so a dense sum block reads its children as gathered columns and writes its
 * outputs as one contiguous batch x nout panel: exp-shift, one DGEMM against the weights
 * (which the parameter layout already stores as a column-major nch x nout matrix), log.
 * Memory is batch x (units + widest block), never batch x edges.
 *
 * Threads: the units of one depth are independent, so input/product/small-sum ops of a level
 * run in an OpenMP loop (each writes its own columns); block ops run one after another and
 * get their parallelism from BLAS.  Each value is computed by the same operations whatever
 * the thread count, and the backward pass's reductions over samples run serially per unit in
 * row order, so results do not depend on the thread count. */
#include "pc_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cblas.h>

/* A sum block goes to DGEMM from this many multiply-adds per sample (below: plain loops). */
enum { GEMM_MIN_EDGES = 64 };

static const double HALF_LOG_2PI = 0.91893853320467274178;

static int use_gemm(const pc_op *op) { return op->nout * op->nch >= GEMM_MIN_EDGES && op->nout > 1; }

/* a x b doubles, NULL when the byte count overflows (latens_mul_size gives 0 then, and
 * malloc(0) may succeed with a buffer that the passes would overrun). */
static double *alloc_d(size_t a, size_t b) {
  size_t n = latens_mul_size(a, b);
  if ((a && b && !n) || n > SIZE_MAX / sizeof(double)) return NULL;
  return malloc((n ? n : 1) * sizeof(double));
}

latens_pc_work *latens_pc_work_alloc(const latens_pc *pc, size_t batch) {
  if (!pc) LATENS_ERROR_NULL("latens_pc_work_alloc: pc is NULL", LATENS_EINVAL);
  if (!pc->finalized)
    LATENS_ERROR_NULL("latens_pc_work_alloc: call latens_pc_finalize first", LATENS_EINVAL);
  if (batch == 0) batch = pc_auto_batch(pc, 1024);
  if (latens_too_big(batch))
    LATENS_ERROR_NULL("latens_pc_work_alloc: batch too large for BLAS", LATENS_EINVAL);
  const pc_compiled *c = &pc->comp;
  latens_pc_work *w = calloc(1, sizeof *w);
  if (!w) LATENS_ERROR_NULL("latens_pc_work_alloc: out of memory", LATENS_ENOMEM);
  w->pc = pc;
  w->nslots = c->nslots;
  w->nvars = pc->nvars;
  w->sig = c->sig;
  w->batch = batch;
  size_t wide = c->max_nch > c->max_nout ? c->max_nch : c->max_nout;
  size_t nv = latens_mul_size(batch, c->nslots);
  w->V = alloc_d(batch, c->nslots);
  w->E = alloc_d(batch, c->max_nch);
  w->T = alloc_d(batch, wide);
  w->R = alloc_d(batch, c->max_nout);
  w->G = alloc_d(c->max_nch, c->max_nout);
  w->m = alloc_d(batch, 1);
  w->scratch = alloc_d(batch, 2);
  if (!w->V || !w->E || !w->T || !w->R || !w->G || !w->m || !w->scratch) {
    latens_pc_work_free(w);
    LATENS_ERROR_NULL("latens_pc_work_alloc: out of memory", LATENS_ENOMEM);
  }
  w->bytes = sizeof(double) * (nv + batch * (c->max_nch + wide + c->max_nout + 3) +
                               c->max_nch * c->max_nout);
  return w;
}

void latens_pc_work_free(latens_pc_work *w) {
  if (!w) return;
  free(w->V);
  free(w->F);
  free(w->Es);
  free(w->Cs);
  free(w->eoff);
  free(w->coff);
  free(w->touched);
  free(w->E);
  free(w->T);
  free(w->R);
  free(w->G);
  free(w->m);
  free(w->scratch);
  free(w);
}

size_t latens_pc_work_bytes(const latens_pc_work *w) { return w ? w->bytes : 0; }

int pc_work_need_flows(const latens_pc *pc, latens_pc_work *w) {
  if (w->F) return LATENS_OK;
  const pc_compiled *c = &pc->comp;
  size_t et = 0, ct = 0;
  w->eoff = malloc((c->nops ? c->nops : 1) * sizeof *w->eoff);
  w->coff = malloc((c->nops ? c->nops : 1) * sizeof *w->coff);
  for (size_t o = 0; w->eoff && w->coff && o < c->nops; o++) {
    w->eoff[o] = et, w->coff[o] = ct;
    if (c->ops[o].kind == OP_SUM && use_gemm(&c->ops[o])) et += c->ops[o].nch, ct += c->ops[o].nout;
  }
  size_t n = latens_mul_size(w->batch, w->nslots), ne = latens_mul_size(w->batch, et);
  size_t nc = latens_mul_size(w->batch, ct);
  w->F = alloc_d(w->batch, w->nslots);
  w->touched = malloc(w->nslots + 1);
  w->Cs = alloc_d(w->batch, ct);
  w->Es = alloc_d(w->batch, et);
  if (!w->F || !w->Cs || !w->Es || !w->eoff || !w->coff || !w->touched) {
    free(w->F), free(w->Cs), free(w->Es), free(w->eoff), free(w->coff), free(w->touched);
    w->F = w->Cs = w->Es = NULL, w->eoff = w->coff = NULL, w->touched = NULL;
    LATENS_ERROR("latens_pc_flows: out of memory for the flow buffers", LATENS_ENOMEM);
  }
  w->bytes += (n + nc + ne) * sizeof(double) + 2 * c->nops * sizeof(size_t);
  return LATENS_OK;
}

size_t pc_auto_batch(const latens_pc *pc, size_t n) {
  size_t b = ((size_t)1 << 28) / (32 * (pc->comp.nslots + 1));
  b = b < 32 ? 32 : b > 1024 ? 1024 : b;
  return n < b ? n : b;
}

int pc_check_ready(const char *fn, const latens_pc *pc, const latens_pc_work *w) {
  if (!pc) LATENS_ERRORF(LATENS_EINVAL, "%s: pc is NULL", fn);
  if (!pc->finalized) LATENS_ERRORF(LATENS_EINVAL, "%s: call latens_pc_finalize first", fn);
  if (w && (w->nslots != pc->comp.nslots || w->nvars != pc->nvars || w->sig != pc->comp.sig))
    LATENS_ERRORF(LATENS_EINVAL, "%s: the workspace was made for another circuit", fn);
  return LATENS_OK;
}

int pc_check_data(const char *fn, const latens_pc *pc, const latens_mat *X) {
  int st = latens_check_mat(fn, "X", X, LATENS_ANY, pc->nvars);
  if (st) return st;
  if (X->nrow == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: X has no rows", fn);
  for (size_t j = 0; j < pc->nvars; j++) {
    size_t k = pc->ncat[j];
    for (size_t i = 0; i < X->nrow; i++) {
      double x = LATENS_MAT(X, i, j);
      if (isnan(x)) continue;
      int ok = k == 0 ? isfinite(x) : (x >= 0 && x < (double)k && x == floor(x));
      if (!ok) {
        if (k == 0)
          LATENS_ERRORF(LATENS_EDOM, "%s: X[%zu, %zu] = %g is not finite (continuous variable)", fn,
                        i, j, x);
        LATENS_ERRORF(LATENS_EDOM, "%s: X[%zu, %zu] = %g is not a category in 0..%zu", fn, i, j, x,
                      k - 1);
      }
    }
  }
  return LATENS_OK;
}

/* ---------------------------------------------------------------- forward */

static void fwd_input(const latens_pc *pc, const pc_op *op, double *out, const latens_mat *X,
                      size_t r0, size_t nb, int maxp) {
  size_t u = op->unit, v = pc->var[u];
  const double *x = X->data + r0 + v * X->ld;
  const double *p = op->poff == PC_NONE ? NULL : pc->params + op->poff;
  int t = pc->type[u];
  if (t == LATENS_PC_INDICATOR) {
    double val = (double)pc->value[u];
    for (size_t b = 0; b < nb; b++) out[b] = isnan(x[b]) ? 0.0 : (x[b] == val ? 0.0 : -INFINITY);
  } else if (t == LATENS_PC_GAUSSIAN) {
    double mu = p[0], lsd = log(p[1]) + HALF_LOG_2PI, isd = 1 / p[1];
    for (size_t b = 0; b < nb; b++) {
      double z = (x[b] - mu) * isd;
      out[b] = isnan(x[b]) ? (maxp ? -lsd : 0.0) : -0.5 * z * z - lsd;
    }
  } else {
    size_t k = pc->ncat[v];
    double tab[64], miss = 0;
    if (k <= 64) {
      for (size_t c = 0; c < k; c++) tab[c] = log(p[c]);
      if (maxp) {
        miss = -INFINITY;
        for (size_t c = 0; c < k; c++) miss = tab[c] > miss ? tab[c] : miss;
      }
      if (k == 2) pc_k_binary_leaf(x, nb, tab[0], tab[1], miss, out);
      else
        for (size_t b = 0; b < nb; b++) out[b] = isnan(x[b]) ? miss : tab[(size_t)x[b]];
    } else {
      if (maxp) {
        double mx = 0;
        for (size_t c = 0; c < k; c++) mx = p[c] > mx ? p[c] : mx;
        miss = log(mx);
      }
      for (size_t b = 0; b < nb; b++) out[b] = isnan(x[b]) ? miss : log(p[(size_t)x[b]]);
    }
  }
}

static void fwd_product(const pc_compiled *c, const pc_op *op, double *V, size_t ld, size_t nb) {
  pc_k_product(V, ld, c->chslot + op->ch, op->nch, nb, V + op->first * ld);
}

/* Sums by plain loops, for blocks too small for DGEMM. */
static void fwd_sum_loops(const latens_pc *pc, const pc_op *op, double *V, size_t ld, size_t nb) {
  const size_t *ch = pc->comp.chslot + op->ch;
  for (size_t i = 0; i < op->nout; i++) {
    const double *w = pc->params + op->poff + i * op->nch;
    double *out = V + (op->first + i) * ld;
    for (size_t b = 0; b < nb; b++) {
      double m = -INFINITY;
      for (size_t e = 0; e < op->nch; e++) {
        double l = V[ch[e] * ld + b];
        if (l > m) m = l;
      }
      if (!(m > -INFINITY)) {
        out[b] = m;
        continue;
      }
      double s = 0;
      for (size_t e = 0; e < op->nch; e++) s += w[e] * exp(V[ch[e] * ld + b] - m);
      out[b] = m + log(s);
    }
  }
}

/* Max-product sums: out = max_c log w_c + l_c, the block's log-weights taken once (in G). */
static void fwd_sum_max(const latens_pc *pc, const pc_op *op, latens_pc_work *w, size_t nb) {
  const size_t *ch = pc->comp.chslot + op->ch;
  size_t ld = w->batch, ne = op->nout * op->nch;
  const double *wt = pc->params + op->poff;
  for (size_t k = 0; k < ne; k++) w->G[k] = log(wt[k]);
  for (size_t i = 0; i < op->nout; i++) {
    double *out = w->V + (op->first + i) * ld;
    const double *lw = w->G + i * op->nch;
    for (size_t b = 0; b < nb; b++) out[b] = -INFINITY;
    for (size_t e = 0; e < op->nch; e++) {
      const double *v = w->V + ch[e] * ld;
      double l = lw[e];
      for (size_t b = 0; b < nb; b++) out[b] = l + v[b] > out[b] ? l + v[b] : out[b];
    }
  }
}

/* With store, the exp-shifted inputs and the linear outputs stay for the flow pass, so it
 * needs no exp of its own. */
static void fwd_sum_gemm(const latens_pc *pc, size_t o, latens_pc_work *w, size_t nb, int store) {
  const pc_op *op = &pc->comp.ops[o];
  size_t ld = w->batch;
  const size_t *ch = pc->comp.chslot + op->ch;
  double *out = w->V + op->first * ld;
  double *E = store ? w->Es + w->eoff[o] * ld : w->E, *C = store ? w->Cs + w->coff[o] * ld : out;
  pc_k_gather_exp(w->V, ld, ch, op->nch, nb, w->m, E, ld);
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, (int)nb, (int)op->nout, (int)op->nch, 1.0,
              E, (int)ld, pc->params + op->poff, (int)op->nch, 0.0, C, (int)ld);
  if (store) pc_k_log_shift_from(out, C, ld, op->nout, nb, w->m);
  else pc_k_log_shift(out, ld, op->nout, nb, w->m);
}

void pc_forward(const latens_pc *pc, latens_pc_work *w, const latens_mat *X, size_t r0, size_t nb,
                int mode) {
  const pc_compiled *c = &pc->comp;
  size_t ld = w->batch;
  double *V = w->V;
  int maxp = mode == PC_FWD_MAX;
  for (size_t l = 0; l < c->nlevels; l++) {
    size_t a = c->lvl[l], z = c->lvl[l + 1];
#pragma omp parallel for schedule(dynamic, 16) if ((z - a) * nb > 65536)
    for (size_t o = a; o < z; o++) {
      const pc_op *op = &c->ops[o];
      if (op->kind == OP_INPUT) fwd_input(pc, op, V + op->first * ld, X, r0, nb, maxp);
      else if (op->kind == OP_PRODUCT) fwd_product(c, op, V, ld, nb);
      else if (!maxp && !use_gemm(op)) fwd_sum_loops(pc, op, V, ld, nb);
    }
    for (size_t o = a; o < z; o++) {
      const pc_op *op = &c->ops[o];
      if (op->kind != OP_SUM) continue;
      if (maxp) fwd_sum_max(pc, op, w, nb);
      else if (use_gemm(op)) fwd_sum_gemm(pc, o, w, nb, mode == PC_FWD_STORE);
    }
  }
}

/* ---------------------------------------------------------------- backward */

static void bwd_input(const latens_pc *pc, const pc_op *op, const double *f, size_t nb,
                      const double *x, double *flows) {
  if (!flows || op->poff == PC_NONE) return;
  size_t u = op->unit, k = pc->ncat[pc->var[u]];
  double *g = flows + op->poff;
  const double *p = pc->params + op->poff;
  if (pc->type[u] == LATENS_PC_GAUSSIAN) {
    double s1 = 0, s2 = 0;
    for (size_t b = 0; b < nb; b++) {
      double xv = isnan(x[b]) ? p[0] : x[b], x2 = isnan(x[b]) ? p[0] * p[0] + p[1] * p[1] : x[b] * x[b];
      s1 += f[b] * xv;
      s2 += f[b] * x2;
    }
    g[0] += s1;
    g[1] += s2;
    return;
  }
  double miss = 0, tot = 0;
  if (k == 2) {
    double s[3];
    pc_k_binary_stats(x, f, nb, s);
    g[0] += s[0], g[1] += s[1], miss = s[2];
  } else {
    for (size_t b = 0; b < nb; b++) {
      if (isnan(x[b])) miss += f[b];
      else g[(size_t)x[b]] += f[b];
    }
  }
  if (miss == 0) return;
  for (size_t c = 0; c < k; c++) tot += p[c];
  for (size_t c = 0; c < k && tot > 0; c++) g[c] += miss * p[c] / tot;
}

static void bwd_sum_loops(const latens_pc *pc, const pc_op *op, latens_pc_work *w, size_t nb,
                          double *flows) {
  size_t ld = w->batch;
  const size_t *ch = pc->comp.chslot + op->ch;
  for (size_t i = 0; i < op->nout; i++) {
    const double *wt = pc->params + op->poff + i * op->nch;
    const double *f = w->F + (op->first + i) * ld, *vo = w->V + (op->first + i) * ld;
    for (size_t e = 0; e < op->nch; e++) {
      double *fc = w->F + ch[e] * ld, acc = 0;
      if (!w->touched[ch[e]]) memset(fc, 0, nb * sizeof *fc), w->touched[ch[e]] = 1;
      const double *vc = w->V + ch[e] * ld;
      for (size_t b = 0; b < nb; b++) {
        if (f[b] == 0) continue;
        double q = f[b] * wt[e] * exp(vc[b] - vo[b]);
        fc[b] += q;
        acc += q;
      }
      if (flows) flows[op->poff + i * op->nch + e] += acc;
    }
  }
}

static void bwd_sum_gemm(const latens_pc *pc, size_t o, latens_pc_work *w, size_t nb,
                         double *flows) {
  const pc_op *op = &pc->comp.ops[o];
  size_t ld = w->batch, nch = op->nch, nout = op->nout;
  const size_t *ch = pc->comp.chslot + op->ch;
  const double *W = pc->params + op->poff, *E = w->Es + w->eoff[o] * ld;
  pc_k_div(w->F + op->first * ld, w->Cs + w->coff[o] * ld, ld, nout, nb, w->R, ld);
  if (flows) {
    cblas_dgemm(CblasColMajor, CblasTrans, CblasNoTrans, (int)nch, (int)nout, (int)nb, 1.0, E,
                (int)ld, w->R, (int)ld, 0.0, w->G, (int)nch);
    double *g = flows + op->poff;
    for (size_t k = 0; k < nch * nout; k++) g[k] += W[k] * w->G[k];
  }
  cblas_dgemm(CblasColMajor, CblasNoTrans, CblasTrans, (int)nb, (int)nch, (int)nout, 1.0, w->R,
              (int)ld, W, (int)nch, 0.0, w->T, (int)ld);
  pc_k_scatter_flow(w->F, ld, ch, nch, nb, E, w->T, ld, w->touched);
}

void pc_backward(const latens_pc *pc, latens_pc_work *w, size_t nb, const double *sw,
                 double *flows, double *unit_flows, const latens_mat *X, size_t r0) {
  const pc_compiled *c = &pc->comp;
  size_t ld = w->batch;
  /* flows are assigned on a column's first write rather than zeroed first: one pass less
   * over batch x units; a column never written is zeroed when read */
  memset(w->touched, 0, c->nslots);
  w->touched[c->root_slot] = 1;
  double *fr = w->F + c->root_slot * ld;
  const double *vr = w->V + c->root_slot * ld;
  for (size_t b = 0; b < nb; b++) fr[b] = vr[b] > -INFINITY ? (sw ? sw[b] : 1.0) : 0.0;
  for (size_t o = c->nops; o-- > 0;) {
    const pc_op *op = &c->ops[o];
    const double *f = w->F + op->first * ld;
    for (size_t i = 0; i < op->nout; i++)
      if (!w->touched[op->first + i]) {
        memset(w->F + (op->first + i) * ld, 0, nb * sizeof(double));
        w->touched[op->first + i] = 1;
      }
    if (unit_flows)
      for (size_t i = 0; i < op->nout; i++) unit_flows[c->unit[op->first + i]] += pc_k_colsum(f + i * ld, nb);
    if (op->kind == OP_INPUT) {
      bwd_input(pc, op, f, nb, X->data + r0 + pc->var[op->unit] * X->ld, flows);
    } else if (op->kind == OP_PRODUCT) {
      for (size_t e = 0; e < op->nch; e++) {
        size_t cs = c->chslot[op->ch + e];
        pc_k_add(w->F + cs * ld, f, nb, &w->touched[cs]);
      }
    } else if (use_gemm(op)) {
      bwd_sum_gemm(pc, o, w, nb, flows);
    } else {
      bwd_sum_loops(pc, op, w, nb, flows);
    }
  }
}

/* ---------------------------------------------------------------- public queries */

int latens_pc_loglik(const latens_pc *pc, const latens_mat *X, latens_vec *ll, latens_pc_work *w) {
  static const char fn[] = "latens_pc_loglik";
  int st = pc_check_ready(fn, pc, w);
  if (st || (st = pc_check_data(fn, pc, X))) return st;
  if ((st = latens_check_vec(fn, "ll", ll, X->nrow))) return st;
  latens_pc_work *own = w ? NULL : latens_pc_work_alloc(pc, pc_auto_batch(pc, X->nrow));
  if (!w && !own) return LATENS_ENOMEM;
  if (!w) w = own;
  const double *root = NULL;
  for (size_t r0 = 0; r0 < X->nrow; r0 += w->batch) {
    size_t nb = X->nrow - r0 < w->batch ? X->nrow - r0 : w->batch;
    pc_forward(pc, w, X, r0, nb, 0);
    root = w->V + pc->comp.root_slot * w->batch;
    for (size_t b = 0; b < nb; b++) LATENS_VEC(ll, r0 + b) = root[b];
  }
  latens_pc_work_free(own);
  return LATENS_OK;
}

int latens_pc_flows(const latens_pc *pc, const latens_mat *X, const latens_vec *sw,
                    latens_vec *flows, latens_vec *unit_flows, latens_vec *ll, latens_pc_work *w) {
  static const char fn[] = "latens_pc_flows";
  int st = pc_check_ready(fn, pc, w);
  if (st || (st = pc_check_data(fn, pc, X))) return st;
  size_t n = X->nrow, np = pc->nw + pc->ni;
  if (sw && (st = latens_check_vec(fn, "sw", sw, n))) return st;
  if (sw && !latens_vec_all_finite(sw))
    LATENS_ERRORF(LATENS_ENOTFINITE, "%s: a sample weight is not finite", fn);
  if (flows && (st = latens_check_vec(fn, "flows", flows, np))) return st;
  if (unit_flows && (st = latens_check_vec(fn, "unit_flows", unit_flows, pc->nunits))) return st;
  if (ll && (st = latens_check_vec(fn, "ll", ll, n))) return st;
  latens_pc_work *own = w ? NULL : latens_pc_work_alloc(pc, pc_auto_batch(pc, n));
  if (!w && !own) return LATENS_ENOMEM;
  if (!w) w = own;
  double *g = flows ? calloc(np ? np : 1, sizeof *g) : NULL;
  double *uf = unit_flows ? calloc(pc->nunits, sizeof *uf) : NULL;
  double *swb = sw ? malloc(w->batch * sizeof *swb) : NULL;
  if ((flows && !g) || (unit_flows && !uf) || (sw && !swb) || pc_work_need_flows(pc, w)) {
    free(g), free(uf), free(swb), latens_pc_work_free(own);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn);
  }
  for (size_t r0 = 0; r0 < n; r0 += w->batch) {
    size_t nb = n - r0 < w->batch ? n - r0 : w->batch;
    pc_forward(pc, w, X, r0, nb, PC_FWD_STORE);
    for (size_t b = 0; sw && b < nb; b++) swb[b] = LATENS_VEC(sw, r0 + b);
    pc_backward(pc, w, nb, swb, g, uf, X, r0);
    const double *root = w->V + pc->comp.root_slot * w->batch;
    for (size_t b = 0; ll && b < nb; b++) LATENS_VEC(ll, r0 + b) = root[b];
  }
  for (size_t i = 0; flows && i < np; i++) LATENS_VEC(flows, i) += g[i];
  for (size_t i = 0; unit_flows && i < pc->nunits; i++) LATENS_VEC(unit_flows, i) += uf[i];
  free(g), free(uf), free(swb);
  latens_pc_work_free(own);
  return LATENS_OK;
}
