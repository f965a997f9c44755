/* pc/compile.c: validation (smoothness, decomposability, determinism) and the layered flat
 * form the evaluator runs.
 *
 * Scopes are bitsets, one row of ceil(nvars/64) words per unit; determinism uses, per unit and
 * variable, a 64-bit mask of the values the unit's support allows (a superset for sums),
 * which proves disjoint supports without enumerating them.  The mask table is nunits x nvars
 * words, so it is only built for circuits where that stays under DET_MAX_WORDS; larger
 * circuits are recorded as not proven deterministic. */
#include "pc_impl.h"

#include <stdlib.h>
#include <string.h>

enum { DET_MAX_WORDS = 1 << 22, DET_MAX_CHILDREN = 64 };

static const char *type_name(int t) {
  static const char *names[] = {"indicator", "Bernoulli", "categorical", "Gaussian", "product",
                                "sum"};
  return t >= 0 && t <= 5 ? names[t] : "?";
}

static size_t first_bit(const uint64_t *a, size_t nw) {
  for (size_t i = 0; i < nw; i++)
    if (a[i]) return i * 64 + (size_t)__builtin_ctzll(a[i]);
  return PC_NONE;
}

/* Scopes of the reachable units; errors name the unit and the offending variable. */
static int check_scopes(const latens_pc *pc, const unsigned char *reach, uint64_t *sc,
                        size_t nw) {
  static const char fn[] = "latens_pc_finalize";
  uint64_t *tmp = malloc(nw * sizeof *tmp);
  if (!tmp) LATENS_ERRORF(LATENS_ENOMEM, "%s: out of memory", fn);
  int st = LATENS_OK;
  for (size_t id = 0; id < pc->nunits && !st; id++) {
    if (!reach[id]) continue;
    uint64_t *s = sc + id * nw;
    memset(s, 0, nw * sizeof *s);
    int t = pc->type[id];
    if (t <= LATENS_PC_GAUSSIAN) {
      s[pc->var[id] / 64] |= (uint64_t)1 << (pc->var[id] % 64);
      continue;
    }
    const size_t *ch = pc->children + pc->choff[id];
    size_t n = pc->choff[id + 1] - pc->choff[id];
    memcpy(s, sc + ch[0] * nw, nw * sizeof *s);
    for (size_t c = 1; c < n && !st; c++) {
      const uint64_t *cs = sc + ch[c] * nw;
      for (size_t i = 0; i < nw; i++) tmp[i] = t == LATENS_PC_PRODUCT ? s[i] & cs[i] : s[i] ^ cs[i];
      size_t v = first_bit(tmp, nw);
      if (v != PC_NONE) {
        if (t == LATENS_PC_PRODUCT)
          latens_errorf(__FILE__, __LINE__, LATENS_EDOM,
                        "%s: product unit %zu is not decomposable: its child %zu (unit %zu) shares "
                        "variable %zu with an earlier child",
                        fn, id, c, ch[c], v);
        else
          latens_errorf(__FILE__, __LINE__, LATENS_EDOM,
                        "%s: sum unit %zu is not smooth: its child %zu (unit %zu) and child 0 "
                        "(unit %zu) differ on variable %zu",
                        fn, id, c, ch[c], ch[0], v);
        st = LATENS_EDOM;
      }
      if (t == LATENS_PC_PRODUCT)
        for (size_t i = 0; i < nw; i++) s[i] |= cs[i];
    }
  }
  free(tmp);
  return st;
}

/* 1 if every reachable sum has children with provably disjoint supports. */
static int check_determinism(const latens_pc *pc, const unsigned char *reach) {
  size_t nv = pc->nvars;
  if (latens_mul_size(pc->nunits, nv) == 0 || pc->nunits * nv > DET_MAX_WORDS) return 0;
  for (size_t j = 0; j < nv; j++)
    if (pc->ncat[j] > 64) return 0;
  uint64_t *mk = calloc(pc->nunits * nv, sizeof *mk);
  if (!mk) return 0; /* not proven: a valid, conservative answer */
  int det = 1;
  for (size_t id = 0; id < pc->nunits && det; id++) {
    if (!reach[id]) continue;
    uint64_t *m = mk + id * nv;
    int t = pc->type[id];
    size_t v = pc->var[id];
    if (t == LATENS_PC_INDICATOR) m[v] = (uint64_t)1 << pc->value[id];
    else if (t == LATENS_PC_GAUSSIAN) m[v] = ~(uint64_t)0;
    else if (t <= LATENS_PC_CATEGORICAL) m[v] = pc->ncat[v] == 64 ? ~(uint64_t)0 : (((uint64_t)1 << pc->ncat[v]) - 1);
    if (t <= LATENS_PC_GAUSSIAN) continue;
    const size_t *ch = pc->children + pc->choff[id];
    size_t n = pc->choff[id + 1] - pc->choff[id];
    for (size_t c = 0; c < n; c++)
      for (size_t j = 0; j < nv; j++) m[j] |= mk[ch[c] * nv + j];
    if (t != LATENS_PC_SUM || n == 1) continue;
    if (n > DET_MAX_CHILDREN) {
      det = 0;
      break;
    }
    for (size_t a = 0; a < n && det; a++)
      for (size_t b = a + 1; b < n && det; b++) {
        const uint64_t *ma = mk + ch[a] * nv, *mb = mk + ch[b] * nv;
        int disjoint = 0;
        for (size_t j = 0; j < nv && !disjoint; j++) disjoint = ma[j] && mb[j] && !(ma[j] & mb[j]);
        det = disjoint;
      }
  }
  free(mk);
  return det;
}

static int same_children(const latens_pc *pc, size_t a, size_t b) {
  size_t na = pc->choff[a + 1] - pc->choff[a], nb = pc->choff[b + 1] - pc->choff[b];
  return na == nb &&
         !memcmp(pc->children + pc->choff[a], pc->children + pc->choff[b], na * sizeof(size_t));
}

void pc_compiled_free(pc_compiled *c) {
  free(c->slot);
  free(c->unit);
  free(c->ops);
  free(c->chslot);
  free(c->lvl);
  memset(c, 0, sizeof *c);
}

/* FNV-1a over what the workspace buffers' sizes and offsets depend on: a workspace made for
 * another structure with the same unit count would otherwise be overrun by the flow pass. */
static uint64_t op_signature(const pc_compiled *c) {
  uint64_t h = 1469598103934665603u;
#define MIX(x) (h = (h ^ (uint64_t)(x)) * 1099511628211u)
  MIX(c->nslots), MIX(c->nops), MIX(c->max_nch), MIX(c->max_nout);
  for (size_t o = 0; o < c->nops; o++) MIX(c->ops[o].kind), MIX(c->ops[o].first), MIX(c->ops[o].nout), MIX(c->ops[o].nch);
  for (size_t e = 0; e < (c->nops ? c->ops[c->nops - 1].ch + c->ops[c->nops - 1].nch : 0); e++) MIX(c->chslot[e]);
#undef MIX
  return h;
}

/* Units sorted by (depth, id) get consecutive slots; a run of consecutive sum ids with the
 * same children list becomes one block op. */
static int build_ops(latens_pc *pc, const unsigned char *reach, size_t *level) {
  pc_compiled *c = &pc->comp;
  size_t n = pc->nunits, nl = 0;
  for (size_t id = 0; id < n; id++) {
    if (!reach[id]) continue;
    size_t lv = 0;
    for (size_t e = pc->choff[id]; e < pc->choff[id + 1]; e++)
      if (level[pc->children[e]] + 1 > lv) lv = level[pc->children[e]] + 1;
    level[id] = lv;
    if (lv + 1 > nl) nl = lv + 1;
  }
  size_t *cnt = calloc(nl + 1, sizeof *cnt);
  c->slot = malloc(n * sizeof *c->slot);
  c->unit = malloc(n * sizeof *c->unit);
  c->ops = malloc(n * sizeof *c->ops);
  c->chslot = malloc((pc->nedges + 1) * sizeof *c->chslot);
  c->lvl = calloc(nl + 1, sizeof *c->lvl);
  if (!cnt || !c->slot || !c->unit || !c->ops || !c->chslot || !c->lvl) {
    free(cnt);
    LATENS_ERROR("latens_pc_finalize: out of memory compiling", LATENS_ENOMEM);
  }
  for (size_t id = 0; id < n; id++) {
    c->slot[id] = PC_NONE;
    if (reach[id]) cnt[level[id] + 1]++;
  }
  for (size_t l = 0; l < nl; l++) cnt[l + 1] += cnt[l];
  for (size_t id = 0; id < n; id++)
    if (reach[id]) {
      size_t s = cnt[level[id]]++;
      c->slot[id] = s;
      c->unit[s] = id;
    }
  c->nslots = cnt[nl - 1];
  c->nlevels = nl;
  free(cnt);
  size_t nops = 0, nch_tot = 0, nextlv = 0;
  c->max_nch = c->max_nout = 1;
  for (size_t s = 0; s < c->nslots;) {
    size_t id = c->unit[s], lv = level[id];
    while (nextlv <= lv) c->lvl[nextlv++] = nops;
    pc_op *op = &c->ops[nops++];
    int t = pc->type[id];
    op->kind = t == LATENS_PC_SUM ? OP_SUM : t == LATENS_PC_PRODUCT ? OP_PRODUCT : OP_INPUT;
    op->first = s;
    op->unit = id;
    op->nout = 1;
    op->poff = pc_param_offset(pc, id);
    op->ch = nch_tot;
    op->nch = pc->choff[id + 1] - pc->choff[id];
    if (op->kind == OP_SUM)
      while (s + op->nout < c->nslots && c->unit[s + op->nout] == id + op->nout &&
             pc->type[id + op->nout] == LATENS_PC_SUM && same_children(pc, id, id + op->nout))
        op->nout++;
    for (size_t e = 0; e < op->nch; e++) c->chslot[nch_tot++] = c->slot[pc->children[pc->choff[id] + e]];
    if (op->nch > c->max_nch) c->max_nch = op->nch;
    if (op->nout > c->max_nout) c->max_nout = op->nout;
    s += op->nout;
  }
  c->lvl[nl] = nops;
  c->nops = nops;
  c->sig = op_signature(c);
  c->root_slot = c->slot[latens_pc_root(pc)];
  return LATENS_OK;
}

int pc_compile(latens_pc *pc) {
  size_t *level = calloc(pc->nunits, sizeof *level);
  unsigned char *reach = calloc(pc->nunits, 1);
  if (!level || !reach) {
    free(level);
    free(reach);
    LATENS_ERROR("latens_pc_finalize: out of memory", LATENS_ENOMEM);
  }
  size_t root = latens_pc_root(pc);
  reach[root] = 1;
  for (size_t id = root + 1; id-- > 0;)
    if (reach[id])
      for (size_t e = pc->choff[id]; e < pc->choff[id + 1]; e++) reach[pc->children[e]] = 1;
  size_t nw = (pc->nvars + 63) / 64;
  size_t nsc = latens_mul_size(pc->nunits, nw);
  uint64_t *sc = nsc && nsc <= SIZE_MAX / sizeof *sc ? malloc(nsc * sizeof *sc) : NULL;
  int st = sc ? check_scopes(pc, reach, sc, nw) : LATENS_ENOMEM;
  if (!sc) latens_error("latens_pc_finalize: out of memory", __FILE__, __LINE__, st);
  if (!st) {
    size_t v = PC_NONE;
    for (size_t j = 0; j < pc->nvars && v == PC_NONE; j++)
      if (!(sc[root * nw + j / 64] >> (j % 64) & 1)) v = j;
    if (v != PC_NONE) {
      latens_errorf(__FILE__, __LINE__, LATENS_EDOM,
                    "latens_pc_finalize: the root (%s unit %zu) does not cover variable %zu of %zu",
                    type_name(pc->type[root]), root, v, pc->nvars);
      st = LATENS_EDOM;
    }
  }
  free(sc);
  if (!st) {
    pc->deterministic = check_determinism(pc, reach);
    st = build_ops(pc, reach, level);
  }
  free(level);
  free(reach);
  if (st) pc_compiled_free(&pc->comp);
  return st;
}

int latens_pc_finalize(latens_pc *pc) {
  if (!pc) LATENS_ERROR("latens_pc_finalize: pc is NULL", LATENS_EINVAL);
  if (pc->finalized) return LATENS_OK;
  if (pc->nunits == 0) LATENS_ERROR("latens_pc_finalize: the circuit has no units", LATENS_EINVAL);
  int st = pc_compile(pc);
  if (st) return st;
  size_t np = pc->nw + pc->ni;
  pc->params = malloc((np ? np : 1) * sizeof *pc->params);
  if (!pc->params) {
    pc_compiled_free(&pc->comp);
    LATENS_ERROR("latens_pc_finalize: out of memory", LATENS_ENOMEM);
  }
  if (pc->nw) memcpy(pc->params, pc->wbuf, pc->nw * sizeof(double));
  if (pc->ni) memcpy(pc->params + pc->nw, pc->ibuf, pc->ni * sizeof(double));
  pc->finalized = 1;
  return LATENS_OK;
}
