/* causal/meek.c: Meek's orientation rules R1-R3 (Meek 1995) to the fixpoint.
 *
 * On a valid pattern the fixpoint does not depend on the order in which rules fire.  After
 * conflicting collider orientations (finite-sample data) it can, so triples are visited in
 * the order causal-learn uses (its find_adj / permutations order), which makes our output
 * comparable with its stored answers. */
#include "causal_impl.h"

#include <stdlib.h>
#include <string.h>

int latens_causal_find_adj(const latens_causal_graph *g, size_t **a, size_t *np) {
  size_t p = g->p, cnt = 0;
  for (size_t i = 0; i < p; i++)
    for (size_t j = 0; j < p; j++)
      cnt += i != j && (CG_MARK(g, j, i) == LATENS_CAUSAL_TAIL || CG_MARK(g, j, i) == LATENS_CAUSAL_ARROW);
  size_t *buf = malloc(2 * (cnt ? cnt : 1) * sizeof *buf);
  if (!buf) LATENS_ERROR("meek: out of memory", LATENS_ENOMEM);
  size_t m = 0;
  /* causal-learn's G[i][j] is our mark at i on i *-* j, i.e. CG_MARK(g, j, i); its
   * find_tails lists (j, i) for every tail entry in row-major order, then find_arrow_heads. */
  static const int kinds[2] = {LATENS_CAUSAL_TAIL, LATENS_CAUSAL_ARROW};
  for (int t = 0; t < 2; t++)
    for (size_t i = 0; i < p; i++)
      for (size_t j = 0; j < p; j++)
        if (i != j && CG_MARK(g, j, i) == kinds[t]) {
          buf[m] = j;
          buf[cnt + m] = i;
          m++;
        }
  *a = buf;
  *np = m;
  return LATENS_OK;
}

typedef struct {
  size_t *v;
  size_t n, cap, w; /* w: tuple width */
} tuples;

static int push(tuples *t, const size_t *x) {
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 64;
    size_t *v = realloc(t->v, cap * t->w * sizeof *v);
    if (!v) return LATENS_ENOMEM;
    t->v = v;
    t->cap = cap;
  }
  memcpy(&t->v[t->n * t->w], x, t->w * sizeof *x);
  t->n++;
  return LATENS_OK;
}

/* Triples (a, b, c) from ordered adjacency pairs (a, b), (b, c), c != a, in permutation order;
 * want_adj selects shielded (triangles) or unshielded ones. */
static int triples(const latens_causal_graph *g, const size_t *pa, const size_t *pb, size_t m,
                   int want_adj, tuples *out) {
  size_t p = g->p;
  size_t *start = calloc(p + 1, sizeof *start), *pos = malloc((m ? m : 1) * sizeof *pos);
  if (!start || !pos) {
    free(start);
    free(pos);
    return LATENS_ENOMEM;
  }
  /* Positions of the pairs starting at each node, in list order (a counting sort). */
  for (size_t q = 0; q < m; q++) start[pa[q] + 1]++;
  for (size_t v = 0; v < p; v++) start[v + 1] += start[v];
  size_t *fill = calloc(p ? p : 1, sizeof *fill);
  int st = fill ? LATENS_OK : LATENS_ENOMEM;
  for (size_t q = 0; q < m && !st; q++) pos[start[pa[q]] + fill[pa[q]]++] = q;
  for (size_t q = 0; q < m && !st; q++) {
    size_t a = pa[q], b = pb[q];
    for (size_t r = start[b]; r < start[b + 1] && !st; r++) {
      size_t c = pb[pos[r]];
      if (c == a || (CG_ADJ(g, a, c) != 0) != (want_adj != 0)) continue;
      size_t x[3] = {a, b, c};
      st = push(out, x);
    }
  }
  free(fill);
  free(start);
  free(pos);
  return st;
}

/* Kites (i, j, k, l) from triangle pairs (i, j, l), (i, k, l), j < k, j and k nonadjacent. */
static int kites(const latens_causal_graph *g, const tuples *tri, tuples *out) {
  size_t n = tri->n;
  size_t *ord = malloc((n ? n : 1) * sizeof *ord);
  if (!ord) return LATENS_ENOMEM;
  for (size_t q = 0; q < n; q++) ord[q] = q;
  size_t *rank = malloc((n ? n : 1) * sizeof *rank);
  if (!rank) {
    free(ord);
    return LATENS_ENOMEM;
  }
  {
    /* Two stable counting sorts (by third, then by first) order the triangles by
     * (first, third) and keep list order inside each group. */
    size_t p = g->p;
    size_t *cnt = calloc(p + 1, sizeof *cnt);
    if (!cnt) {
      free(ord);
      free(rank);
      return LATENS_ENOMEM;
    }
    for (size_t q = 0; q < n; q++) cnt[tri->v[3 * q + 2] + 1]++;
    for (size_t v = 0; v < p; v++) cnt[v + 1] += cnt[v];
    for (size_t q = 0; q < n; q++) rank[cnt[tri->v[3 * q + 2]]++] = q;
    memset(cnt, 0, (p + 1) * sizeof *cnt);
    for (size_t q = 0; q < n; q++) cnt[tri->v[3 * q] + 1]++;
    for (size_t v = 0; v < p; v++) cnt[v + 1] += cnt[v];
    for (size_t q = 0; q < n; q++) ord[cnt[tri->v[3 * rank[q]]]++] = rank[q];
    free(cnt);
  }
  /* ord is sorted by (first, third) and, within a group, by list index (both passes stable);
   * rank[q] = position of triangle q in ord. */
  for (size_t q = 0; q < n; q++) rank[ord[q]] = q;
  int st = LATENS_OK;
  for (size_t q = 0; q < n && !st; q++) {
    const size_t *t0 = &tri->v[3 * q];
    size_t lo = rank[q], hi = rank[q];
    while (lo > 0 && tri->v[3 * ord[lo - 1]] == t0[0] && tri->v[3 * ord[lo - 1] + 2] == t0[2]) lo--;
    while (hi + 1 < n && tri->v[3 * ord[hi + 1]] == t0[0] && tri->v[3 * ord[hi + 1] + 2] == t0[2]) hi++;
    for (size_t r = lo; r <= hi && !st; r++) {
      const size_t *t1 = &tri->v[3 * ord[r]];
      if (ord[r] == q || !(t0[1] < t1[1]) || CG_ADJ(g, t0[1], t1[1])) continue;
      size_t x[4] = {t0[0], t0[1], t1[1], t0[2]};
      st = push(out, x);
    }
  }
  free(ord);
  free(rank);
  return st;
}

static int blocked(const latens_causal_knowledge *k, size_t a, size_t b) {
  /* Orienting a --> b is not allowed when it is forbidden or b --> a is required. */
  return k && (latens_causal_knowledge_is_forbidden(k, a, b) ||
               latens_causal_knowledge_is_required(k, b, a));
}

int latens_causal_meek(latens_causal_graph *g, const latens_causal_knowledge *k) {
  size_t *adj = NULL, m = 0;
  tuples ut = {NULL, 0, 0, 3}, tri = {NULL, 0, 0, 3}, kite = {NULL, 0, 0, 4};
  int st = latens_causal_find_adj(g, &adj, &m);
  if (!st) st = triples(g, adj, adj + m, m, 0, &ut);
  if (!st) st = triples(g, adj, adj + m, m, 1, &tri);
  if (!st) st = kites(g, &tri, &kite);
  free(adj);
  for (int loop = 1; loop && !st;) {
    loop = 0;
    for (size_t q = 0; q < ut.n; q++) {
      size_t i = ut.v[3 * q], j = ut.v[3 * q + 1], l = ut.v[3 * q + 2];
      if (CG_DIRECTED(g, i, j) && CG_UNDIRECTED(g, j, l) && !blocked(k, j, l)) {
        cg_set(g, j, l, LATENS_CAUSAL_TAIL, LATENS_CAUSAL_ARROW);
        loop = 1;
      }
    }
    for (size_t q = 0; q < tri.n; q++) {
      size_t i = tri.v[3 * q], j = tri.v[3 * q + 1], l = tri.v[3 * q + 2];
      if (CG_DIRECTED(g, i, j) && CG_DIRECTED(g, j, l) && CG_UNDIRECTED(g, i, l) &&
          !blocked(k, i, l)) {
        cg_set(g, i, l, LATENS_CAUSAL_TAIL, LATENS_CAUSAL_ARROW);
        loop = 1;
      }
    }
    for (size_t q = 0; q < kite.n; q++) {
      const size_t *x = &kite.v[4 * q];
      if (CG_UNDIRECTED(g, x[0], x[1]) && CG_UNDIRECTED(g, x[0], x[2]) &&
          CG_DIRECTED(g, x[1], x[3]) && CG_DIRECTED(g, x[2], x[3]) &&
          CG_UNDIRECTED(g, x[0], x[3]) && !blocked(k, x[0], x[3])) {
        cg_set(g, x[0], x[3], LATENS_CAUSAL_TAIL, LATENS_CAUSAL_ARROW);
        loop = 1;
      }
    }
  }
  free(ut.v);
  free(tri.v);
  free(kite.v);
  if (st) LATENS_ERROR("meek: out of memory", LATENS_ENOMEM);
  return LATENS_OK;
}
