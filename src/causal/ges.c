/* causal/ges.c: Greedy Equivalence Search (Chickering, JMLR 2002) over CPDAGs.
 *
 * The graph is a p x p byte matrix: G[i + j p] = 1 when the edge i-j has no arrowhead at i
 * seen from j, i.e. i --> j is G[i,j] = 1, G[j,i] = 0 and i --- j is both 1.  Each step
 * scores every valid operator with two cached local scores (Theorems 15 and 17), applies the
 * best, and rebuilds the CPDAG: a consistent DAG extension (Dor & Tarsi 1992), then its
 * v-structures with Meek's rules R1-R3.  Ties go to the first operator in (X, Y, subset)
 * order, so results are deterministic. */
#include "score_impl.h"
#include "ges_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  size_t p;
  unsigned char *G;
  size_t *buf, *buf2, *na, *set, *pa; /* p, p, p, p, 2 p + 1 */
  unsigned char *mark;
} gstate;

#define E(g, i, j) ((g)->G[(i) + (j) * (g)->p])
static int undirected(const gstate *g, size_t i, size_t j) { return E(g, i, j) && E(g, j, i); }
static int directed(const gstate *g, size_t i, size_t j) { return E(g, i, j) && !E(g, j, i); }
static int adjacent(const gstate *g, size_t i, size_t j) { return E(g, i, j) || E(g, j, i); }

/* Parents of y plus the listed extra nodes (set semantics), skipping `skip`. */
static size_t parent_set(const gstate *g, size_t y, const size_t *extra, size_t ne, size_t skip,
                         size_t *out) {
  size_t k = 0;
  for (size_t i = 0; i < g->p; i++)
    if (i != skip && directed(g, i, y)) out[k++] = i;
  for (size_t a = 0; a < ne; a++) {
    if (extra[a] == skip) continue;
    int dup = 0;
    for (size_t b = 0; b < k; b++) dup |= out[b] == extra[a];
    if (!dup) out[k++] = extra[a];
  }
  return k;
}

static int is_clique(const gstate *g, const size_t *s, size_t k) {
  for (size_t a = 0; a < k; a++)
    for (size_t b = a + 1; b < k; b++)
      if (!adjacent(g, s[a], s[b])) return 0;
  return 1;
}

/* 1 when every semi-directed path from y to x meets a node of block[0..k). */
static int paths_blocked(gstate *g, size_t y, size_t x, const size_t *block, size_t k) {
  memset(g->mark, 0, g->p);
  for (size_t a = 0; a < k; a++) g->mark[block[a]] = 2;
  size_t *st = g->buf2, top = 0;
  st[top++] = y, g->mark[y] = 1;
  while (top) {
    const size_t u = st[--top];
    for (size_t v = 0; v < g->p; v++)
      if (E(g, u, v) && !g->mark[v]) { /* u --> v or u --- v */
        if (v == x) return 0;
        g->mark[v] = 1, st[top++] = v;
      }
  }
  return 1;
}

/* Dor & Tarsi: a DAG D (same byte encoding, no undirected edges) extending the PDAG.
 * LATENS_EFAILED when none exists (cannot happen after a valid operator). */
static int pdag_to_dag(const gstate *g, unsigned char *D, unsigned char *gone) {
  const size_t p = g->p;
  unsigned char *A = malloc(p * p);
  if (!A) return LATENS_ENOMEM;
  memcpy(A, g->G, p * p), memcpy(D, g->G, p * p), memset(gone, 0, p);
  for (size_t left = p; left > 0; left--) {
    size_t x = p;
    for (size_t c = 0; c < p && x == p; c++) {
      if (gone[c]) continue;
      int ok = 1;
      for (size_t v = 0; v < p && ok; v++) /* sink: no c --> v left */
        if (!gone[v] && A[c + v * p] && !A[v + c * p]) ok = 0;
      for (size_t y = 0; y < p && ok; y++) { /* undirected neighbours adjacent to all of adj(c) */
        if (gone[y] || !(A[c + y * p] && A[y + c * p])) continue;
        for (size_t z = 0; z < p && ok; z++)
          if (z != y && !gone[z] && (A[c + z * p] || A[z + c * p]) && !(A[y + z * p] || A[z + y * p]))
            ok = 0;
      }
      if (ok) x = c;
    }
    if (x == p) { free(A); return LATENS_EFAILED; }
    for (size_t y = 0; y < p; y++)
      if (!gone[y] && A[x + y * p] && A[y + x * p]) D[x + y * p] = 0; /* y --> x */
    gone[x] = 1;
  }
  free(A);
  return LATENS_OK;
}

/* Meek R1-R3 on g until nothing changes. */
static void meek(gstate *g) {
  const size_t p = g->p;
  for (int changed = 1; changed;) {
    changed = 0;
    for (size_t b = 0; b < p; b++)
      for (size_t c = 0; c < p; c++) {
        if (b == c || !undirected(g, b, c)) continue;
        int orient = 0;
        for (size_t a = 0; a < p && !orient; a++) {
          if (a == b || a == c) continue;
          if (directed(g, a, b) && !adjacent(g, a, c)) orient = 1;   /* R1 */
          if (directed(g, b, a) && directed(g, a, c)) orient = 1;    /* R2 */
        }
        for (size_t a = 0; a < p && !orient; a++) /* R3: b - a1, b - a2, a1 --> c <-- a2 */
          for (size_t a2 = a + 1; a2 < p && !orient; a2++)
            if (undirected(g, b, a) && undirected(g, b, a2) && directed(g, a, c) &&
                directed(g, a2, c) && !adjacent(g, a, a2))
              orient = 1;
        if (orient) E(g, c, b) = 0, changed = 1;
      }
  }
}

/* g <- the CPDAG of the DAG D. */
static void dag_to_cpdag(gstate *g, const unsigned char *D) {
  const size_t p = g->p;
  for (size_t i = 0; i < p; i++)
    for (size_t j = 0; j < p; j++) E(g, i, j) = D[i + j * p] || D[j + i * p];
  for (size_t c = 0; c < p; c++)
    for (size_t a = 0; a < p; a++)
      for (size_t b = a + 1; b < p; b++)
        if (D[a + c * p] && D[b + c * p] && !D[a + b * p] && !D[b + a * p])
          E(g, c, a) = 0, E(g, c, b) = 0;
  meek(g);
}

static int rebuild(gstate *g, unsigned char *D) {
  int status = pdag_to_dag(g, D, g->mark);
  if (status == LATENS_OK) dag_to_cpdag(g, D);
  return status;
}

/* Subsets T (or H) are enumerated over at most this many candidates: 2^16 operators per
 * pair at most; further candidates are left out of T (H), a documented approximation. */
#define GES_MAX_SUBSET 16

typedef struct {
  double gain;
  size_t x, y;
  uint64_t sub; /* bit a: element a of the candidate list */
} ges_op;

/* The best valid Insert(X, Y, T) (gain -Inf if none). */
static ges_op best_insert(gstate *g, ges_scorer *sc, int max_parents) {
  const size_t p = g->p;
  ges_op best = {-INFINITY, 0, 0, 0};
  size_t *pa = g->pa, *cand = g->buf, *na = g->na, *set = g->set;
  for (size_t x = 0; x < p; x++)
    for (size_t y = 0; y < p; y++) {
      if (x == y || adjacent(g, x, y)) continue;
      size_t nna = 0, nc = 0;
      for (size_t t = 0; t < p; t++) {
        if (!undirected(g, t, y)) continue;
        if (adjacent(g, t, x)) na[nna++] = t;
        else if (nc < GES_MAX_SUBSET) cand[nc++] = t;
      }
      for (uint64_t sub = 0; sub < ((uint64_t)1 << nc); sub++) {
        size_t k = 0;
        for (size_t a = 0; a < nna; a++) set[k++] = na[a];
        for (size_t a = 0; a < nc; a++)
          if (sub >> a & 1) set[k++] = cand[a];
        if (!is_clique(g, set, k) || !paths_blocked(g, y, x, set, k)) continue;
        size_t m = parent_set(g, y, set, k, p, pa);
        if (max_parents >= 0 && m + 1 > (size_t)max_parents) continue;
        const double s0 = ges_score(sc, y, pa, m);
        pa[m] = x;
        const double gain = ges_score(sc, y, pa, m + 1) - s0;
        if (gain > best.gain) best = (ges_op){gain, x, y, sub};
      }
    }
  return best;
}

/* NA_{Y,X}: neighbours of y adjacent to x, into g->na; returns the count. */
static size_t na_yx(const gstate *g, size_t y, size_t x) {
  size_t k = 0;
  for (size_t t = 0; t < g->p; t++)
    if (t != x && undirected(g, t, y) && adjacent(g, t, x)) g->na[k++] = t;
  return k;
}

/* The best valid Delete(X, Y, H) (gain -Inf if none). */
static ges_op best_delete(gstate *g, ges_scorer *sc) {
  const size_t p = g->p;
  ges_op best = {-INFINITY, 0, 0, 0};
  size_t *pa = g->pa, *set = g->set, *na = g->na;
  for (size_t x = 0; x < p; x++)
    for (size_t y = 0; y < p; y++) {
      if (x == y || !(directed(g, x, y) || undirected(g, x, y))) continue;
      const size_t nna = na_yx(g, y, x), nh = nna < GES_MAX_SUBSET ? nna : GES_MAX_SUBSET;
      for (uint64_t sub = 0; sub < ((uint64_t)1 << nh); sub++) {
        size_t k = 0;
        for (size_t a = 0; a < nna; a++)
          if (a >= nh || !(sub >> a & 1)) set[k++] = na[a]; /* NA \ H */
        if (!is_clique(g, set, k)) continue;
        size_t m = parent_set(g, y, set, k, x, pa);
        const double s0 = ges_score(sc, y, pa, m);
        pa[m] = x;
        const double gain = s0 - ges_score(sc, y, pa, m + 1);
        if (gain > best.gain) best = (ges_op){gain, x, y, sub};
      }
    }
  return best;
}

static void apply_insert(gstate *g, const ges_op *op) {
  size_t nc = 0;
  for (size_t t = 0; t < g->p; t++)
    if (undirected(g, t, op->y) && !adjacent(g, t, op->x) && nc < GES_MAX_SUBSET) {
      if (op->sub >> nc & 1) E(g, op->y, t) = 0; /* t --> y */
      nc++;
    }
  E(g, op->x, op->y) = 1, E(g, op->y, op->x) = 0;
}

static void apply_delete(gstate *g, const ges_op *op) {
  const size_t nna = na_yx(g, op->y, op->x), nh = nna < GES_MAX_SUBSET ? nna : GES_MAX_SUBSET;
  for (size_t a = 0; a < nh; a++) {
    if (!(op->sub >> a & 1)) continue;
    const size_t h = g->na[a];
    E(g, h, op->y) = 0;                               /* y --> h */
    if (undirected(g, op->x, h)) E(g, h, op->x) = 0;  /* x --> h */
  }
  E(g, op->x, op->y) = 0, E(g, op->y, op->x) = 0;
}

/* Total score of the CPDAG through a DAG extension (D: scratch p x p). */
static double total_score(gstate *g, ges_scorer *sc, unsigned char *D) {
  if (pdag_to_dag(g, D, g->mark) != LATENS_OK) return NAN;
  double s = 0.0;
  for (size_t y = 0; y < g->p; y++) {
    size_t k = 0;
    for (size_t i = 0; i < g->p; i++)
      if (D[i + y * g->p]) g->pa[k++] = i;
    s += ges_score(sc, y, g->pa, k);
  }
  return s;
}

static int ges_search(gstate *g, ges_scorer *sc, int max_parents, const latens_progress *progress,
                      unsigned char *D) {
  int status = LATENS_OK;
  size_t steps = 0;
  for (int phase = 0; phase < 2 && status == LATENS_OK; phase++)
    for (;;) {
      status = latens_progress_report(progress, phase ? "ges backward" : "ges forward",
                                      (double)steps++, 0.0);
      if (status != LATENS_OK) break;
      ges_op op = phase ? best_delete(g, sc) : best_insert(g, sc, max_parents);
      if (!(op.gain > 1e-9 * (double)sc->n)) break; /* rounding-level gains are ties */
      if (phase) apply_delete(g, &op);
      else apply_insert(g, &op);
      if ((status = rebuild(g, D)) != LATENS_OK) {
        latens_errorf(__FILE__, __LINE__, status, "latens_causal_ges: no consistent extension "
                      "after %s of %zu -> %zu", phase ? "Delete" : "Insert", op.x, op.y);
        break;
      }
    }
  return status;
}

int latens_causal_ges(const latens_causal_data *d, const latens_causal_ges_options *opt,
                      const latens_progress *progress, latens_causal_graph **out, double *score) {
  static const char fn[] = "latens_causal_ges";
  latens_causal_ges_options o;
  latens_causal_ges_options_default(&o);
  if (opt) o = *opt;
  if (!out) LATENS_ERRORF(LATENS_EINVAL, "%s: out is NULL", fn);
  *out = NULL;
  ges_scorer sc;
  int status = ges_scorer_init(&sc, fn, d, &o);
  if (status != LATENS_OK) return status;
  const size_t p = sc.p;
  gstate g = {p, calloc(p * p, 1), malloc(p * sizeof(size_t)), malloc(p * sizeof(size_t)),
              malloc(p * sizeof(size_t)), malloc(p * sizeof(size_t)),
              malloc((2 * p + 1) * sizeof(size_t)), malloc(p)};
  unsigned char *D = malloc(p * p);
  if (!g.G || !g.buf || !g.buf2 || !g.na || !g.set || !g.pa || !g.mark || !D) {
    status = LATENS_ENOMEM;
    latens_errorf(__FILE__, __LINE__, status, "%s: no memory for p = %zu", fn, p);
  }
  if (status == LATENS_OK) status = ges_search(&g, &sc, o.max_parents, progress, D);
  if (status == LATENS_OK && score) *score = total_score(&g, &sc, D);
  if (status == LATENS_OK) {
    const char **nm = cs_names(d);
    latens_causal_graph *gr = nm ? latens_causal_graph_alloc(p, nm) : NULL;
    free(nm);
    if (!gr) {
      status = LATENS_ENOMEM;
      latens_errorf(__FILE__, __LINE__, status, "%s: no memory for the %zu-node graph", fn, p);
    }
    for (size_t i = 0; i < p && gr; i++)
      for (size_t j = i + 1; j < p; j++) {
        if (undirected(&g, i, j))
          latens_causal_graph_set_edge(gr, i, j, LATENS_CAUSAL_TAIL, LATENS_CAUSAL_TAIL);
        else if (directed(&g, i, j))
          latens_causal_graph_set_edge(gr, i, j, LATENS_CAUSAL_TAIL, LATENS_CAUSAL_ARROW);
        else if (directed(&g, j, i))
          latens_causal_graph_set_edge(gr, j, i, LATENS_CAUSAL_TAIL, LATENS_CAUSAL_ARROW);
      }
    *out = gr;
  }
  free(g.G), free(g.buf), free(g.buf2), free(g.na), free(g.set), free(g.pa), free(g.mark), free(D);
  ges_scorer_free(&sc);
  return status;
}
