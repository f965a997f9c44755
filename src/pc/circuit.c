/* pc/circuit.c: the circuit builder, accessors and parameter vector.
 *
 * Units are stored as parallel arrays with the children in one CSR array, so a builder
 * making 10^5 units (HCLT with K = 128 over 100 variables) does no per-unit allocation.
 * Sum weights and input parameters grow in two buffers while building, because the public
 * layout puts all weights before all input parameters; finalize joins them once. */
#include "pc_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return LATENS_OK;
  size_t nc = *cap ? *cap : 64;
  while (nc < need) nc *= 2;
  size_t bytes = latens_mul_size(nc, elem);
  void *q = bytes ? realloc(*p, bytes) : NULL;
  if (!q) LATENS_ERROR("pc: out of memory growing the circuit", LATENS_ENOMEM);
  *p = q;
  *cap = nc;
  return LATENS_OK;
}

latens_pc *latens_pc_alloc(size_t nvars, const size_t *ncat) {
  if (nvars == 0) LATENS_ERROR_NULL("latens_pc_alloc: nvars is 0", LATENS_EINVAL);
  for (size_t j = 0; ncat && j < nvars; j++)
    if (ncat[j] == 1 || ncat[j] >= ((size_t)1 << 31)) {
      latens_errorf(__FILE__, __LINE__, LATENS_EDOM,
                    "latens_pc_alloc: variable %zu has %zu categories (need 0 or 2..2^31-1)", j,
                    ncat[j]);
      return NULL;
    }
  latens_pc *pc = calloc(1, sizeof *pc);
  if (!pc) LATENS_ERROR_NULL("latens_pc_alloc: out of memory", LATENS_ENOMEM);
  pc->nvars = nvars;
  pc->ncat = malloc(nvars * sizeof *pc->ncat);
  pc->choff = malloc(sizeof *pc->choff);
  if (!pc->ncat || !pc->choff) {
    latens_pc_free(pc);
    LATENS_ERROR_NULL("latens_pc_alloc: out of memory", LATENS_ENOMEM);
  }
  for (size_t j = 0; j < nvars; j++) pc->ncat[j] = ncat ? ncat[j] : 2;
  pc->choff[0] = 0;
  pc->occap = 1;
  pc->root = PC_NONE;
  return pc;
}

void latens_pc_free(latens_pc *pc) {
  if (!pc) return;
  free(pc->ncat);
  free(pc->type);
  free(pc->var);
  free(pc->value);
  free(pc->choff);
  free(pc->children);
  free(pc->plocal);
  free(pc->pcount);
  free(pc->wbuf);
  free(pc->ibuf);
  free(pc->params);
  pc_compiled_free(&pc->comp);
  free(pc);
}

static void *dup(const void *p, size_t n, size_t elem, int *bad) {
  if (!p || n == 0) return NULL;
  void *q = malloc(n * elem);
  if (!q) *bad = 1;
  else memcpy(q, p, n * elem);
  return q;
}

latens_pc *latens_pc_copy(const latens_pc *pc) {
  if (!pc) LATENS_ERROR_NULL("latens_pc_copy: pc is NULL", LATENS_EINVAL);
  latens_pc *q = latens_pc_alloc(pc->nvars, pc->ncat);
  if (!q) return NULL;
  int bad = 0;
  size_t n = pc->nunits;
  q->type = dup(pc->type, n, 1, &bad);
  q->var = dup(pc->var, n, sizeof(size_t), &bad);
  q->value = dup(pc->value, n, sizeof(size_t), &bad);
  free(q->choff);
  q->choff = dup(pc->choff, n + 1, sizeof(size_t), &bad);
  q->children = dup(pc->children, pc->nedges, sizeof(size_t), &bad);
  q->plocal = dup(pc->plocal, n, sizeof(size_t), &bad);
  q->pcount = dup(pc->pcount, n, sizeof(size_t), &bad);
  q->wbuf = dup(pc->wbuf, pc->nw, sizeof(double), &bad);
  q->ibuf = dup(pc->ibuf, pc->ni, sizeof(double), &bad);
  q->nunits = q->cap = n;
  q->occap = n + 1;
  q->nedges = q->chcap = pc->nedges;
  q->nw = q->wcap = pc->nw;
  q->ni = q->icap = pc->ni;
  q->root = pc->root;
  q->root_set = pc->root_set;
  if (bad) {
    latens_pc_free(q);
    LATENS_ERROR_NULL("latens_pc_copy: out of memory", LATENS_ENOMEM);
  }
  if (pc->finalized) {
    if (latens_pc_finalize(q) != LATENS_OK) {
      latens_pc_free(q);
      return NULL;
    }
    memcpy(q->params, pc->params, (pc->nw + pc->ni) * sizeof(double));
  }
  return q;
}

/* Append a unit; its parameters (np entries) go to the weight or input buffer. */
static int add_unit(latens_pc *pc, const char *fn, int type, size_t var, size_t value,
                    const size_t *ch, size_t nch, const double *par, size_t np) {
  if (pc->finalized) LATENS_ERRORF(LATENS_EINVAL, "%s: the circuit is finalised", fn);
  size_t n = pc->nunits;
  int st;
  size_t cap = pc->cap;
  if ((st = grow((void **)&pc->type, &cap, n + 1, 1))) return st;
  cap = pc->cap;
  if ((st = grow((void **)&pc->var, &cap, n + 1, sizeof(size_t)))) return st;
  cap = pc->cap;
  if ((st = grow((void **)&pc->value, &cap, n + 1, sizeof(size_t)))) return st;
  cap = pc->cap;
  if ((st = grow((void **)&pc->plocal, &cap, n + 1, sizeof(size_t)))) return st;
  cap = pc->cap;
  if ((st = grow((void **)&pc->pcount, &cap, n + 1, sizeof(size_t)))) return st;
  if ((st = grow((void **)&pc->choff, &pc->occap, n + 2, sizeof(size_t)))) return st;
  pc->cap = cap;
  if ((st = grow((void **)&pc->children, &pc->chcap, pc->nedges + nch, sizeof(size_t))))
    return st;
  int is_sum = type == LATENS_PC_SUM;
  double **buf = is_sum ? &pc->wbuf : &pc->ibuf;
  size_t *len = is_sum ? &pc->nw : &pc->ni, *bcap = is_sum ? &pc->wcap : &pc->icap;
  if (np && (st = grow((void **)buf, bcap, *len + np, sizeof(double)))) return st;
  pc->type[n] = (unsigned char)type;
  pc->var[n] = var;
  pc->value[n] = value;
  if (nch) memcpy(pc->children + pc->nedges, ch, nch * sizeof(size_t));
  pc->nedges += nch;
  pc->choff[n + 1] = pc->nedges;
  pc->plocal[n] = np ? *len : PC_NONE;
  pc->pcount[n] = np;
  if (np) memcpy(*buf + *len, par, np * sizeof(double));
  *len += np;
  pc->nunits = n + 1;
  return LATENS_OK;
}

int pc_add_raw(latens_pc *pc, const char *fn, int type, size_t var, size_t value,
               const size_t *ch, size_t nch, const double *par, size_t np) {
  return add_unit(pc, fn, type, var, value, ch, nch, par, np);
}

static int check_var(const latens_pc *pc, const char *fn, size_t var) {
  if (!pc) LATENS_ERRORF(LATENS_EINVAL, "%s: pc is NULL", fn);
  if (var >= pc->nvars)
    LATENS_ERRORF(LATENS_EDOM, "%s: variable %zu out of range (nvars %zu)", fn, var, pc->nvars);
  return LATENS_OK;
}

static void ret_id(const latens_pc *pc, size_t *id) {
  if (id) *id = pc->nunits - 1;
}

int latens_pc_add_bernoulli(latens_pc *pc, size_t var, double p1, size_t *id) {
  static const char fn[] = "latens_pc_add_bernoulli";
  int st = check_var(pc, fn, var);
  if (st) return st;
  if (pc->ncat[var] != 2)
    LATENS_ERRORF(LATENS_EDOM, "%s: variable %zu has %zu categories, a Bernoulli needs 2", fn,
                  var, pc->ncat[var]);
  if (!(p1 >= 0 && p1 <= 1))
    LATENS_ERRORF(LATENS_EDOM, "%s: p1 = %g is not in [0, 1]", fn, p1);
  double par[2] = {1 - p1, p1};
  if ((st = add_unit(pc, fn, LATENS_PC_BERNOULLI, var, PC_NONE, NULL, 0, par, 2))) return st;
  ret_id(pc, id);
  return LATENS_OK;
}

int latens_pc_add_categorical(latens_pc *pc, size_t var, const double *probs, size_t *id) {
  static const char fn[] = "latens_pc_add_categorical";
  int st = check_var(pc, fn, var);
  if (st) return st;
  size_t k = pc->ncat[var];
  if (k < 2)
    LATENS_ERRORF(LATENS_EDOM, "%s: variable %zu is continuous, not categorical", fn, var);
  double *par = malloc(k * sizeof *par);
  if (!par) LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn);
  for (size_t c = 0; c < k; c++) {
    par[c] = probs ? probs[c] : 1.0 / (double)k;
    if (!(par[c] >= 0 && isfinite(par[c]))) {
      double v = par[c];
      free(par);
      LATENS_ERRORF(LATENS_EDOM, "%s: probs[%zu] = %g is not a finite value >= 0", fn, c, v);
    }
  }
  st = add_unit(pc, fn, LATENS_PC_CATEGORICAL, var, PC_NONE, NULL, 0, par, k);
  free(par);
  if (st) return st;
  ret_id(pc, id);
  return LATENS_OK;
}

int latens_pc_add_gaussian(latens_pc *pc, size_t var, double mean, double sd, size_t *id) {
  static const char fn[] = "latens_pc_add_gaussian";
  int st = check_var(pc, fn, var);
  if (st) return st;
  if (pc->ncat[var] != 0)
    LATENS_ERRORF(LATENS_EDOM, "%s: variable %zu is discrete (%zu categories)", fn, var,
                  pc->ncat[var]);
  if (!isfinite(mean) || !(sd > 0 && isfinite(sd)))
    LATENS_ERRORF(LATENS_EDOM, "%s: mean %g, sd %g (need finite mean, finite sd > 0)", fn, mean,
                  sd);
  double par[2] = {mean, sd};
  if ((st = add_unit(pc, fn, LATENS_PC_GAUSSIAN, var, PC_NONE, NULL, 0, par, 2))) return st;
  ret_id(pc, id);
  return LATENS_OK;
}

int latens_pc_add_indicator(latens_pc *pc, size_t var, size_t value, size_t *id) {
  static const char fn[] = "latens_pc_add_indicator";
  int st = check_var(pc, fn, var);
  if (st) return st;
  if (value >= pc->ncat[var])
    LATENS_ERRORF(LATENS_EDOM, "%s: value %zu out of range for variable %zu (%zu categories)", fn,
                  value, var, pc->ncat[var]);
  if ((st = add_unit(pc, fn, LATENS_PC_INDICATOR, var, value, NULL, 0, NULL, 0))) return st;
  ret_id(pc, id);
  return LATENS_OK;
}

static int check_children(const latens_pc *pc, const char *fn, const size_t *ch, size_t n) {
  if (!pc) LATENS_ERRORF(LATENS_EINVAL, "%s: pc is NULL", fn);
  if (n == 0 || !ch) LATENS_ERRORF(LATENS_EINVAL, "%s: no children", fn);
  for (size_t i = 0; i < n; i++)
    if (ch[i] >= pc->nunits)
      LATENS_ERRORF(LATENS_EDOM, "%s: child %zu is unit %zu, which does not exist yet (%zu units)",
                    fn, i, ch[i], pc->nunits);
  return LATENS_OK;
}

int latens_pc_add_product(latens_pc *pc, const size_t *children, size_t n, size_t *id) {
  static const char fn[] = "latens_pc_add_product";
  int st = check_children(pc, fn, children, n);
  if (st) return st;
  if ((st = add_unit(pc, fn, LATENS_PC_PRODUCT, PC_NONE, PC_NONE, children, n, NULL, 0)))
    return st;
  ret_id(pc, id);
  return LATENS_OK;
}

int latens_pc_add_sum(latens_pc *pc, const size_t *children, const double *weights, size_t n,
                      size_t *id) {
  static const char fn[] = "latens_pc_add_sum";
  int st = check_children(pc, fn, children, n);
  if (st) return st;
  double *w = malloc(n * sizeof *w);
  if (!w) LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn);
  for (size_t c = 0; c < n; c++) {
    w[c] = weights ? weights[c] : 1.0 / (double)n;
    if (!(w[c] >= 0 && isfinite(w[c]))) {
      double v = w[c];
      free(w);
      LATENS_ERRORF(LATENS_EDOM, "%s: weights[%zu] = %g is not a finite value >= 0", fn, c, v);
    }
  }
  st = add_unit(pc, fn, LATENS_PC_SUM, PC_NONE, PC_NONE, children, n, w, n);
  free(w);
  if (st) return st;
  ret_id(pc, id);
  return LATENS_OK;
}

int latens_pc_set_root(latens_pc *pc, size_t id) {
  if (!pc) LATENS_ERROR("latens_pc_set_root: pc is NULL", LATENS_EINVAL);
  if (pc->finalized) LATENS_ERROR("latens_pc_set_root: the circuit is finalised", LATENS_EINVAL);
  if (id >= pc->nunits)
    LATENS_ERRORF(LATENS_EDOM, "latens_pc_set_root: unit %zu does not exist (%zu units)", id,
                  pc->nunits);
  pc->root = id;
  pc->root_set = 1;
  return LATENS_OK;
}

/* ---------------------------------------------------------------- inspection */

size_t pc_param_offset(const latens_pc *pc, size_t id) {
  if (pc->plocal[id] == PC_NONE) return PC_NONE;
  return pc->type[id] == LATENS_PC_SUM ? pc->plocal[id] : pc->nw + pc->plocal[id];
}

size_t latens_pc_nvars(const latens_pc *pc) { return pc ? pc->nvars : 0; }
size_t latens_pc_ncat(const latens_pc *pc, size_t var) {
  return pc && var < pc->nvars ? pc->ncat[var] : 0;
}
size_t latens_pc_nunits(const latens_pc *pc) { return pc ? pc->nunits : 0; }
size_t latens_pc_nedges(const latens_pc *pc) { return pc ? pc->nedges : 0; }
size_t latens_pc_nparams(const latens_pc *pc) { return pc ? pc->nw + pc->ni : 0; }
size_t latens_pc_root(const latens_pc *pc) {
  if (!pc || pc->nunits == 0) return PC_NONE;
  return pc->root_set ? pc->root : pc->nunits - 1;
}
int latens_pc_is_finalized(const latens_pc *pc) { return pc ? pc->finalized : 0; }
int latens_pc_is_deterministic(const latens_pc *pc) {
  return pc && pc->finalized ? pc->deterministic : 0;
}
int latens_pc_unit_type(const latens_pc *pc, size_t id) {
  return pc && id < pc->nunits ? pc->type[id] : -1;
}
size_t latens_pc_unit_var(const latens_pc *pc, size_t id) {
  return pc && id < pc->nunits ? pc->var[id] : PC_NONE;
}
size_t latens_pc_unit_value(const latens_pc *pc, size_t id) {
  return pc && id < pc->nunits ? pc->value[id] : PC_NONE;
}
const size_t *latens_pc_unit_children(const latens_pc *pc, size_t id, size_t *n) {
  if (!pc || id >= pc->nunits || pc->choff[id + 1] == pc->choff[id]) {
    if (n) *n = 0;
    return NULL;
  }
  if (n) *n = pc->choff[id + 1] - pc->choff[id];
  return pc->children + pc->choff[id];
}
size_t latens_pc_unit_param_offset(const latens_pc *pc, size_t id, size_t *n) {
  if (!pc || id >= pc->nunits || pc->plocal[id] == PC_NONE) {
    if (n) *n = 0;
    return PC_NONE;
  }
  if (n) *n = pc->pcount[id];
  return pc_param_offset(pc, id);
}

/* ---------------------------------------------------------------- parameters */

const double *latens_pc_params(const latens_pc *pc) {
  return pc && pc->finalized ? pc->params : NULL;
}

int latens_pc_params_get(const latens_pc *pc, latens_vec *v) {
  static const char fn[] = "latens_pc_params_get";
  if (!pc) LATENS_ERRORF(LATENS_EINVAL, "%s: pc is NULL", fn);
  if (!pc->finalized) LATENS_ERRORF(LATENS_EINVAL, "%s: call latens_pc_finalize first", fn);
  size_t np = pc->nw + pc->ni;
  int st = latens_check_vec(fn, "v", v, np);
  if (st) return st;
  for (size_t i = 0; i < np; i++) LATENS_VEC(v, i) = pc->params[i];
  return LATENS_OK;
}

/* Validate entry values of unit id as they would be stored. */
static int check_unit_params(const latens_pc *pc, const char *fn, size_t id, const double *p,
                             size_t stride) {
  size_t np = pc->pcount[id], off = pc_param_offset(pc, id);
  for (size_t k = 0; k < np; k++) {
    double x = p[k * stride];
    int gauss_sd = pc->type[id] == LATENS_PC_GAUSSIAN && k == 1;
    int gauss_mu = pc->type[id] == LATENS_PC_GAUSSIAN && k == 0;
    int ok = isfinite(x) && (gauss_mu || (gauss_sd ? x > 0 : x >= 0));
    if (!ok)
      LATENS_ERRORF(LATENS_EDOM, "%s: entry %zu (unit %zu, its parameter %zu) = %g is invalid", fn,
                    off + k, id, k, x);
  }
  return LATENS_OK;
}

int latens_pc_params_set(latens_pc *pc, const latens_vec *v) {
  static const char fn[] = "latens_pc_params_set";
  if (!pc) LATENS_ERRORF(LATENS_EINVAL, "%s: pc is NULL", fn);
  if (!pc->finalized) LATENS_ERRORF(LATENS_EINVAL, "%s: call latens_pc_finalize first", fn);
  size_t np = pc->nw + pc->ni;
  int st = latens_check_vec(fn, "v", v, np);
  if (st) return st;
  for (size_t id = 0; id < pc->nunits; id++) {
    size_t off = pc_param_offset(pc, id);
    if (off == PC_NONE) continue;
    if ((st = check_unit_params(pc, fn, id, v->data + off * v->stride, v->stride))) return st;
  }
  for (size_t i = 0; i < np; i++) pc->params[i] = LATENS_VEC(v, i);
  return LATENS_OK;
}

int latens_pc_normalize(latens_pc *pc) {
  if (!pc) LATENS_ERROR("latens_pc_normalize: pc is NULL", LATENS_EINVAL);
  if (!pc->finalized) LATENS_ERROR("latens_pc_normalize: call latens_pc_finalize first", LATENS_EINVAL);
  for (size_t id = 0; id < pc->nunits; id++) {
    int t = pc->type[id];
    if (t != LATENS_PC_SUM && t != LATENS_PC_BERNOULLI && t != LATENS_PC_CATEGORICAL) continue;
    double *p = pc->params + pc_param_offset(pc, id);
    size_t n = pc->pcount[id];
    double s = 0;
    for (size_t k = 0; k < n; k++) s += p[k];
    for (size_t k = 0; k < n; k++) p[k] = s > 0 ? p[k] / s : 1.0 / (double)n;
  }
  return LATENS_OK;
}
