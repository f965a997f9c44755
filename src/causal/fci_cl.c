/* causal/fci_cl.c: FCI's orientation phase as causal-learn runs it (LATENS_CAUSAL_FCI_RULES_
 * CAUSALLEARN), written from its documented behaviour (causallearn/search/ConstraintBased/FCI.py,
 * 2024-2025 releases) to reproduce its stored answers.  It differs from Zhang's rules in
 * fci.c in these ways, each of which changes marks on real data:
 *  - the loop: R1/R2 (per node, per pair of neighbours in index order, applied in place), R3,
 *    R4 only in a round where R1-R3 changed something, then R8, R9, R10 in every round;
 *  - R4 (discriminating path <d, ..., a, b, c>, b o-> c only) decides by two fresh CI tests,
 *    d _||_ c given the path's inner nodes with and without b, before the separating set;
 *  - R8 looks at each neighbour pair (a, c) of b with a < c only;
 *  - R9/R10 ask for a semi-directed path (every step leaves its node by a tail or a circle)
 *    from a "possible child" of a (any neighbour whose mark at a is not an arrow) instead
 *    of an uncovered potentially directed path; the path may run back through a itself.
 *    That last point makes R9/R10 unsound (e.g. b o-o a o-> c, b and c nonadjacent, gives
 *    a --> c), which is why this variant is not the default.
 * R5-R7 (selection bias) are not applied, as in fci.c. */
#include "fci_impl.h"

#include <stdlib.h>
#include <string.h>

enum { T = LATENS_CAUSAL_TAIL, A = LATENS_CAUSAL_ARROW, C = LATENS_CAUSAL_CIRCLE };

#define M(g, i, j) ((int)CG_MARK(g, i, j)) /* mark at j on i *-* j */
#define ADJ(g, i, j) CG_ADJ(g, i, j)
#define PARENT(g, i, j) CG_DIRECTED(g, i, j)

typedef struct {
  latens_causal_graph *g;
  cg_skel *s;
  size_t p;
  size_t *l1, *l2, *queue, *prev, *S; /* node lists, BFS queue, predecessors, test set */
  unsigned char *vis, *flag;
  int max_path;
} cl_work;

static void set_at(latens_causal_graph *g, size_t i, size_t j, int m) { CG_MARK(g, i, j) = (unsigned char)m; }

/* causal-learn's is_arrow_point_allowed without knowledge: no arrow over a tail at y. */
static int arrow_ok(const latens_causal_graph *g, size_t x, size_t y) { return M(g, x, y) != T; }

static size_t adj_list(const latens_causal_graph *g, size_t b, size_t *out) {
  size_t n = 0;
  for (size_t v = 0; v < g->p; v++)
    if (v != b && ADJ(g, b, v)) out[n++] = v;
  return n;
}

/* Nodes v with the mark at b on v *-* b equal to m (into_b) or the mark at v equal to m. */
static size_t marked(const latens_causal_graph *g, size_t b, int m, int at_b, size_t *out) {
  size_t n = 0;
  for (size_t v = 0; v < g->p; v++)
    if (v != b && ADJ(g, b, v) && (at_b ? M(g, v, b) : M(g, b, v)) == m) out[n++] = v;
  return n;
}

static int r1(latens_causal_graph *g, size_t a, size_t b, size_t c) {
  if (ADJ(g, a, c) || M(g, a, b) != A || M(g, c, b) != C || !arrow_ok(g, b, c)) return 0;
  set_at(g, c, b, T), set_at(g, b, c, A);
  return 1;
}

static int r2(latens_causal_graph *g, size_t a, size_t b, size_t c) {
  if (!ADJ(g, a, c) || M(g, a, c) != C || M(g, a, b) != A || M(g, b, c) != A) return 0;
  if (M(g, b, a) != T && M(g, c, b) != T) return 0;
  set_at(g, a, c, A);
  return 1;
}

static int r1_r2(cl_work *w) {
  int ch = 0;
  for (size_t b = 0; b < w->p; b++) {
    size_t n = adj_list(w->g, b, w->l1);
    for (size_t i = 0; i < n; i++)
      for (size_t j = i + 1; j < n; j++) {
        size_t a = w->l1[i], c = w->l1[j];
        ch |= r1(w->g, a, b, c);
        ch |= r1(w->g, c, b, a);
        ch |= r2(w->g, a, b, c);
        ch |= r2(w->g, c, b, a);
      }
  }
  return ch;
}

/* R3 with causal-learn's lists fixed per b (a repeat inside one call only re-sets a mark). */
static int r3(cl_work *w) {
  latens_causal_graph *g = w->g;
  int ch = 0;
  for (size_t b = 0; b < w->p; b++) {
    size_t na = marked(g, b, A, 1, w->l1), nc = marked(g, b, C, 1, w->l2);
    for (size_t q = 0; q < nc && na >= 2; q++) {
      size_t d = w->l2[q];
      for (size_t i = 0; i < na; i++)
        for (size_t j = i + 1; j < na; j++) {
          size_t a = w->l1[i], c = w->l1[j];
          if (ADJ(g, a, c) || !ADJ(g, a, d) || !ADJ(g, c, d)) continue;
          if (!latens_causal_in_sepset(w->s, a, c, d)) continue;
          if (M(g, a, d) != C || M(g, c, d) != C || !arrow_ok(g, d, b)) continue;
          set_at(g, d, b, A);
          ch = 1;
        }
    }
  }
  return ch;
}

/* d _||_ c given S[0..k) (errors recorded in s->err, answered as dependence). */
static int indep(cg_skel *s, size_t d, size_t c, const size_t *S, size_t k) {
  double pv;
  int st = latens_causal_citest_pvalue(s->t, d, c, S, k, &pv);
  if (st) {
    if (!s->err) s->err = st;
    return 0;
  }
  return pv > s->alpha;
}

/* Decide the discriminating path ending d, prev[d], ..., a, b, c.  1 when marks were set. */
static int ddp_decide(cl_work *w, size_t d, size_t a, size_t b, size_t c) {
  latens_causal_graph *g = w->g;
  size_t k = 0;
  for (size_t x = w->prev[d]; x != (size_t)-1; x = w->prev[x]) w->S[k++] = x;
  int ind = indep(w->s, d, c, w->S, k);
  size_t k2 = 0;
  for (size_t i = 0; i < k; i++)
    if (w->S[i] != b) w->S[k2++] = w->S[i];
  int ind2 = indep(w->s, d, c, w->S, k2);
  if (!ind && !ind2) ind = latens_causal_in_sepset(w->s, d, c, b);
  if (ind) {
    set_at(g, c, b, T);
    return 1;
  }
  if (!arrow_ok(g, a, b) || !arrow_ok(g, c, b)) return 0;
  set_at(g, a, b, A), set_at(g, c, b, A);
  return 1;
}

/* Breadth-first search back from a through colliders that are parents of c. */
static int ddp_orient(cl_work *w, size_t a, size_t b, size_t c) {
  latens_causal_graph *g = w->g;
  size_t p = w->p, qh = 0, qt = 0;
  unsigned char *cpar = w->flag, *V = w->vis;
  for (size_t v = 0; v < p; v++) cpar[v] = (unsigned char)(v != c && PARENT(g, v, c)), V[v] = 0;
  for (size_t v = 0; v < p; v++) w->prev[v] = (size_t)-1;
  w->queue[qt++] = a;
  V[a] = V[b] = 1;
  w->prev[a] = b;
  if (w->max_path == 0) return 0; /* causal-learn's only effective path bound */
  while (qh < qt) {
    size_t t = w->queue[qh++];
    for (size_t d = 0; d < p; d++) {
      if (d == t || !ADJ(g, d, t) || M(g, d, t) != A || V[d]) continue;
      w->prev[d] = t;
      size_t pp = w->prev[t];
      if (!ADJ(g, pp, t) || M(g, pp, t) != A) continue;
      if (d != c && !ADJ(g, d, c) && ddp_decide(w, d, a, b, c)) return 1;
      if (cpar[d]) V[d] = 1, w->queue[qt++] = d;
    }
  }
  return 0;
}

static int r4(cl_work *w) {
  latens_causal_graph *g = w->g;
  int ch = 0;
  for (size_t b = 0; b < w->p; b++) {
    size_t na = marked(g, b, A, 0, w->l1), nc = marked(g, b, C, 1, w->l2);
    for (size_t i = 0; i < na; i++)
      for (size_t j = 0; j < nc; j++) {
        size_t a = w->l1[i], c = w->l2[j];
        if (a == c || !PARENT(g, a, c) || M(g, b, c) != A) continue;
        ch |= ddp_orient(w, a, b, c);
      }
  }
  return ch;
}

static int r8(cl_work *w) {
  latens_causal_graph *g = w->g;
  int ch = 0;
  for (size_t b = 0; b < w->p; b++) {
    size_t n = adj_list(g, b, w->l1);
    for (size_t i = 0; i < n; i++)
      for (size_t j = i + 1; j < n; j++) {
        size_t a = w->l1[i], c = w->l1[j];
        if (!PARENT(g, b, c) || !ADJ(g, a, c) || M(g, a, c) != A || M(g, c, a) != C) continue;
        if (M(g, b, a) != T || (M(g, a, b) != A && M(g, a, b) != C)) continue;
        set_at(g, c, a, T);
        ch = 1;
      }
  }
  return ch;
}

/* causal-learn's existsSemiDirectedPath: from's neighbours first, then every step leaves its
 * node by a tail or a circle; nodes may repeat from itself. */
static int sdp(cl_work *w, size_t from, size_t to) {
  latens_causal_graph *g = w->g;
  size_t p = w->p, qh = 0, qt = 0;
  memset(w->vis, 0, p);
  size_t cur = from;
  for (;;) {
    for (size_t u = 0; u < p; u++)
      if (u != cur && ADJ(g, cur, u) && M(g, u, cur) != A && !w->vis[u]) w->vis[u] = 1, w->queue[qt++] = u;
    if (qh == qt) return 0;
    cur = w->queue[qh++];
    if (cur == to) return 1;
  }
}

/* Possible children of a other than c: neighbours whose mark at a is not an arrow. */
static size_t children(const latens_causal_graph *g, size_t a, size_t c, size_t *out) {
  size_t n = 0;
  for (size_t v = 0; v < g->p; v++)
    if (v != a && v != c && ADJ(g, a, v) && M(g, v, a) != A) out[n++] = v;
  return n;
}

static int r9(cl_work *w) {
  latens_causal_graph *g = w->g;
  int ch = 0;
  for (size_t c = 0; c < w->p; c++) {
    size_t na = marked(g, c, A, 1, w->l1);
    for (size_t i = 0; i < na; i++) {
      size_t a = w->l1[i];
      if (M(g, c, a) != C) continue;
      size_t nb = children(g, a, c, w->l2);
      for (size_t j = 0; j < nb; j++)
        if (!ADJ(g, w->l2[j], c) && sdp(w, w->l2[j], c)) {
          set_at(g, c, a, T);
          ch = 1;
          break;
        }
    }
  }
  return ch;
}

/* R10 for a o-> c and b --> c <-- d: two nonadjacent possible children of a with semi-directed
 * paths to b and to d.  causal-learn pairs the children in the iteration order of a Python set
 * (not reproducible), so both assignments are accepted. */
static int r10_one(cl_work *w, size_t b, size_t d, const size_t *ch, size_t nch) {
  for (size_t i = 0; i < nch; i++)
    for (size_t j = i + 1; j < nch; j++) {
      size_t u = ch[i], v = ch[j];
      if (ADJ(w->g, u, v)) continue;
      if ((sdp(w, u, b) && sdp(w, v, d)) || (sdp(w, v, b) && sdp(w, u, d))) return 1;
    }
  return 0;
}

static int r10(cl_work *w) {
  latens_causal_graph *g = w->g;
  size_t p = w->p;
  int ch = 0;
  size_t *kids = w->S; /* free between R4 calls */
  for (size_t c = 0; c < p; c++) {
    size_t na = marked(g, c, A, 1, w->l1);
    if (na < 2) continue;
    for (size_t i = 0; i < na; i++) {
      size_t a = w->l1[i];
      if (M(g, c, a) != C) continue;
      size_t nk = children(g, a, c, kids);
      if (nk < 2) continue;
      int done = 0;
      for (size_t x = 0; x < na && !done; x++)
        for (size_t y = x + 1; y < na && !done; y++) {
          size_t b = w->l1[x], d = w->l1[y];
          if (M(g, c, b) != T || M(g, c, d) != T) continue;
          done = r10_one(w, b, d, kids, nk);
        }
      if (done) set_at(g, c, a, T), ch = 1;
    }
  }
  return ch;
}

int latens_causal_fci_orient_cl(latens_causal_graph *g, cg_skel *s, int max_path,
                                const latens_progress *progress) {
  size_t p = g->p;
  cl_work w = {g, s, p, NULL, NULL, NULL, NULL, NULL, NULL, NULL, max_path};
  size_t *buf = malloc((5 * p + 5) * sizeof *buf);
  unsigned char *f = malloc(2 * p + 2);
  if (!buf || !f) {
    free(buf), free(f);
    LATENS_ERROR("fci: out of memory", LATENS_ENOMEM);
  }
  w.l1 = buf, w.l2 = buf + p + 1, w.queue = buf + 2 * (p + 1), w.prev = buf + 3 * (p + 1);
  w.S = buf + 4 * (p + 1);
  w.vis = f, w.flag = f + p + 1;
  int st = LATENS_OK;
  /* Every round that reports a change turns at least one circle into another mark, so
   * 2 p^2 + 1 rounds bound the loop; the bound only guards against a logic error. */
  size_t cap = 2 * p * p + 2;
  for (size_t round = 0, ch = 1; ch && !st && round < cap; round++) {
    ch = (size_t)r1_r2(&w);
    ch |= (size_t)r3(&w);
    if (ch) ch |= (size_t)r4(&w);
    ch |= (size_t)r8(&w);
    ch |= (size_t)r9(&w);
    ch |= (size_t)r10(&w);
    st = s->err ? s->err : latens_progress_report(progress, "fci orientation", (double)round, 0);
  }
  free(buf), free(f);
  return st;
}
