/* tests/causal/test_fci_oracle.c: FCI with the d-separation oracle returns the true PAG
 * exactly (soundness and completeness).  The true PAG is built here, without src/causal's
 * search or rules, by two routes:
 *  - brute force, by the definition: every orientation of the true MAG's skeleton that is
 *    ancestral and has the same m-separations (all pairs, all conditioning sets) is a member
 *    of the equivalence class; the PAG keeps the marks all members share, circles elsewhere;
 *  - certificates, for graphs too large to enumerate: every non-circle mark is the true MAG's,
 *    and every circle is shown to vary by a MAG of the class with the other mark, built after
 *    Zhang's construction (Zhang 2008, AIJ 172, Thm 2: o-> as -->, the circle component
 *    oriented without unshielded colliders) with variants for o-> read as <->, else found by
 *    a pruned search over the circles' marks; each candidate is checked Markov equivalent to
 *    the true MAG by the criterion of Spirtes & Richardson (1996) / Ali, Richardson & Spirtes
 *    (2009): same skeleton, same unshielded colliders, same collider status on paths
 *    discriminating in both; plus ancestral and maximal.  Only verified candidates count, so
 *    a certificate never accepts a wrong circle; it may fail to find a witness (a fault).
 * The certificate route, and the equivalence criterion it rests on, are validated against the
 * brute force inside the tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "suites.h"

enum { T = LATENS_CAUSAL_TAIL, A = LATENS_CAUSAL_ARROW, O = LATENS_CAUSAL_CIRCLE };

/* A mixed graph: m[i * n + j] is the mark at j on the edge i *-* j, 0 when nonadjacent. */
typedef struct {
  size_t n;
  unsigned char *m;
} mg;

#define MK(g, i, j) ((g)->m[(i) * (g)->n + (j)])
#define ADJ(g, i, j) (MK(g, i, j) != 0)
#define DIR(g, i, j) (MK(g, i, j) == A && MK(g, j, i) == T) /* i --> j */

static mg mg_alloc(size_t n) {
  mg g = {n, calloc(n * n + 1, 1)};
  return g;
}

static mg mg_copy(const mg *g) {
  mg h = mg_alloc(g->n);
  memcpy(h.m, g->m, g->n * g->n);
  return h;
}

static void mg_set(mg *g, size_t i, size_t j, int mark_i, int mark_j) {
  MK(g, j, i) = (unsigned char)mark_i;
  MK(g, i, j) = (unsigned char)mark_j;
}

static mg mg_from_graph(const latens_causal_graph *G) {
  mg g = mg_alloc(latens_causal_graph_nnodes(G));
  for (size_t i = 0; i < g.n; i++)
    for (size_t j = 0; j < g.n; j++)
      if (i != j) MK(&g, i, j) = (unsigned char)latens_causal_graph_mark(G, i, j);
  return g;
}

/* anc[i * n + j]: i is an ancestor of j (i == j included), by directed edges. */
static void ancestors(const mg *g, unsigned char *anc, size_t *stack) {
  size_t n = g->n;
  memset(anc, 0, n * n);
  for (size_t s = 0; s < n; s++) {
    size_t sp = 0;
    anc[s * n + s] = 1, stack[sp++] = s;
    while (sp) {
      size_t v = stack[--sp];
      for (size_t u = 0; u < n; u++)
        if (DIR(g, v, u) && !anc[s * n + u]) anc[s * n + u] = 1, stack[sp++] = u;
    }
  }
}

/* Scratch for m-separation queries on graphs of up to n nodes. */
typedef struct {
  unsigned char *anc, *inz, *anz, *seen;
  size_t *stack;
} work;

static work work_alloc(size_t n) {
  work w = {malloc(n * n + 1), malloc(n + 1), malloc(n + 1), malloc(2 * n + 1),
            malloc((2 * n * n + 1) * sizeof(size_t))};
  return w;
}

static void work_free(work *w) { free(w->anc), free(w->inz), free(w->anz), free(w->seen), free(w->stack); }

/* 1 when x and y are m-connected given Z (w->inz) in g, w->anc holding g's ancestors.
 * Reachability over (node, entered by an arrowhead) states of walks whose colliders are in
 * An(Z) and whose non-colliders are not in Z: such a walk exists iff an m-connecting path
 * does (Richardson 2003, Koster 1999; as Bayes-ball does it for DAGs). */
static int mconnected(const mg *g, size_t x, size_t y, work *w) {
  size_t n = g->n, sp = 0;
  for (size_t v = 0; v < n; v++) {
    w->anz[v] = 0;
    for (size_t z = 0; z < n && !w->anz[v]; z++) w->anz[v] = w->inz[z] && w->anc[v * n + z];
  }
  memset(w->seen, 0, 2 * n);
  for (size_t u = 0; u < n; u++)
    if (ADJ(g, x, u)) {
      size_t st = 2 * u + (MK(g, x, u) == A);
      if (!w->seen[st]) w->seen[st] = 1, w->stack[sp++] = st;
    }
  while (sp) {
    size_t st = w->stack[--sp], v = st / 2;
    int in_arrow = (int)(st & 1);
    if (v == y) return 1;
    for (size_t u = 0; u < n; u++) {
      if (!ADJ(g, v, u)) continue;
      int collider = in_arrow && MK(g, u, v) == A;
      if (collider ? !w->anz[v] : w->inz[v]) continue;
      size_t ns = 2 * u + (MK(g, v, u) == A);
      if (!w->seen[ns]) w->seen[ns] = 1, w->stack[sp++] = ns;
    }
  }
  return 0;
}

/* The true MAG of a DAG with latent nodes, no selection (Richardson & Spirtes 2002, Thm 4.2
 * and sec. 4.2.1): observed i, j adjacent iff d-connected given the observed ancestors of
 * {i, j}; tail at i iff i is an ancestor of j.  Nodes: the observed ones in DAG order. */
static mg true_mag(const latens_causal_graph *dag) {
  mg d = mg_from_graph(dag);
  size_t V = d.n, *obs = malloc((V + 1) * sizeof *obs), nobs = 0;
  for (size_t v = 0; v < V; v++)
    if (!latens_causal_graph_is_latent(dag, v)) obs[nobs++] = v;
  work w = work_alloc(V);
  ancestors(&d, w.anc, w.stack);
  mg m = mg_alloc(nobs);
  for (size_t i = 0; i < nobs; i++)
    for (size_t j = i + 1; j < nobs; j++) {
      size_t a = obs[i], b = obs[j];
      memset(w.inz, 0, V);
      for (size_t k = 0; k < nobs; k++)
        if (k != i && k != j) w.inz[obs[k]] = w.anc[obs[k] * V + a] || w.anc[obs[k] * V + b];
      if (mconnected(&d, a, b, &w))
        mg_set(&m, i, j, w.anc[a * V + b] ? T : A, w.anc[b * V + a] ? T : A);
    }
  work_free(&w), free(obs), free(d.m);
  return m;
}

/* Ancestral without selection: only --> and <->, no directed cycle, and no i <-> j with i an
 * ancestor of j.  Fills w->anc. */
static int ancestral(const mg *g, work *w) {
  size_t n = g->n;
  ancestors(g, w->anc, w->stack);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      if (i == j || !ADJ(g, i, j)) continue;
      if (MK(g, i, j) == O || (MK(g, i, j) == T && MK(g, j, i) == T)) return 0;
      if (w->anc[i * n + j] && w->anc[j * n + i]) return 0;
      if (MK(g, i, j) == A && MK(g, j, i) == A && w->anc[i * n + j]) return 0;
    }
  return 1;
}

/* Maximal (w->anc from ancestral()): every nonadjacent pair is m-separated by its ancestors
 * (Richardson & Spirtes 2002, Thm 4.2: otherwise there is an inducing path). */
static int maximal(const mg *g, work *w) {
  size_t n = g->n;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++) {
      if (ADJ(g, i, j)) continue;
      for (size_t k = 0; k < n; k++)
        w->inz[k] = k != i && k != j && (w->anc[k * n + i] || w->anc[k * n + j]);
      if (mconnected(g, i, j, w)) return 0;
    }
  return 1;
}

/* Number of unshielded triples a *-* b *-* c of g (same skeleton as h) on which g and h
 * disagree about b being a collider. */
static int collider_mismatches(const mg *g, const mg *h) {
  size_t n = g->n;
  int bad = 0;
  for (size_t b = 0; b < n; b++)
    for (size_t a = 0; a < n; a++) {
      if (!ADJ(g, a, b)) continue;
      for (size_t c = a + 1; c < n; c++) {
        if (c == b || !ADJ(g, c, b) || ADJ(g, a, c)) continue;
        int cg = MK(g, a, b) == A && MK(g, c, b) == A, ch = MK(h, a, b) == A && MK(h, c, b) == A;
        bad += cg != ch;
      }
    }
  return bad;
}

/* Discriminating paths <x, q1, ..., qk, b, y> of g (x, y nonadjacent; each q a collider on the
 * path and a parent of y), grown backwards from qk; path[0] = b, path[1..len) = qk, ..., q1. */
typedef struct {
  const mg *g, *h;
  size_t y, *path, len;
  unsigned char *on;
  int bad;
} disc;

static int coll(const mg *g, size_t a, size_t b, size_t c) { return MK(g, a, b) == A && MK(g, c, b) == A; }

/* Path x, path[len-1], ..., path[1], b, y found in g: when it is discriminating in h too,
 * count whether b's collider status differs. */
static void disc_found(disc *d, size_t x) {
  const mg *h = d->h;
  size_t y = d->y, b = d->path[0];
  for (size_t i = 1; i < d->len; i++) {
    size_t q = d->path[i], prev = i + 1 < d->len ? d->path[i + 1] : x, next = d->path[i - 1];
    if (!coll(h, prev, q, next) || !DIR(h, q, y)) return;
  }
  d->bad += coll(d->g, d->path[1], b, y) != coll(h, d->path[1], b, y);
}

static void disc_grow(disc *d) {
  const mg *g = d->g;
  size_t cur = d->path[d->len - 1];
  for (size_t u = 0; u < g->n; u++) {
    if (u == d->y || d->on[u] || !ADJ(g, u, cur) || MK(g, u, cur) != A) continue;
    if (!ADJ(g, u, d->y)) {
      disc_found(d, u);
    } else if (DIR(g, u, d->y) && MK(g, cur, u) == A) {
      d->on[u] = 1, d->path[d->len++] = u;
      disc_grow(d);
      d->on[u] = 0, d->len--;
    }
  }
}

/* Paths discriminating in both g and h on which they disagree (enumerated in g). */
static int disc_mismatches(const mg *g, const mg *h) {
  size_t n = g->n;
  disc d = {g, h, 0, malloc((n + 1) * sizeof(size_t)), 0, calloc(n + 1, 1), 0};
  for (size_t y = 0; y < n; y++)
    for (size_t b = 0; b < n; b++) {
      if (b == y || !ADJ(g, b, y)) continue;
      for (size_t q = 0; q < n; q++) {
        if (q == b || q == y || !ADJ(g, q, b) || !DIR(g, q, y) || MK(g, b, q) != A) continue;
        d.y = y, d.len = 2, d.path[0] = b, d.path[1] = q;
        memset(d.on, 0, n);
        d.on[b] = d.on[q] = d.on[y] = 1;
        disc_grow(&d);
      }
    }
  free(d.path), free(d.on);
  return d.bad;
}

/* h is a MAG Markov equivalent to the MAG g (same skeleton assumed). */
static int equivalent(const mg *g, const mg *h, work *w) {
  return !collider_mismatches(g, h) && ancestral(h, w) && maximal(h, w) && !disc_mismatches(g, h);
}

/* ------------------------------------------------------------------------- brute force */

/* The PAG of mag's class by the definition (see the top); returns the class size, 0 when
 * the skeleton has more than max_edges edges (the enumeration is 3^edges). */
static size_t brute_pag(const mg *mag, size_t max_edges, mg *pag) {
  size_t n = mag->n, ne = 0, ei[64], ej[64], members = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      if (ADJ(mag, i, j)) {
        if (ne == max_edges || ne == 64) return 0;
        ei[ne] = i, ej[ne++] = j;
      }
  /* The true MAG's m-separations: bit (pair, subset of all nodes but the pair). */
  size_t nsub = (size_t)1 << n, npairs = n * n;
  unsigned char *sep = calloc(npairs * nsub, 1);
  work w = work_alloc(n);
  ancestors(mag, w.anc, w.stack);
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      for (size_t z = 0; z < nsub; z++) {
        if (z & ((size_t)1 << i | (size_t)1 << j)) continue;
        for (size_t k = 0; k < n; k++) w.inz[k] = (unsigned char)((z >> k) & 1);
        sep[(i * n + j) * nsub + z] = (unsigned char)!mconnected(mag, i, j, &w);
      }
  mg c = mg_alloc(n);
  size_t total = 1;
  for (size_t e = 0; e < ne; e++) total *= 3;
  for (size_t code = 0; code < total; code++) {
    size_t r = code;
    for (size_t e = 0; e < ne; e++, r /= 3)
      mg_set(&c, ei[e], ej[e], r % 3 == 0 ? T : A, r % 3 == 1 ? T : A);
    if (collider_mismatches(mag, &c) || !ancestral(&c, &w)) continue;
    int same = 1;
    for (size_t i = 0; i < n && same; i++)
      for (size_t j = i + 1; j < n && same; j++)
        for (size_t z = 0; z < nsub && same; z++) {
          if (z & ((size_t)1 << i | (size_t)1 << j)) continue;
          for (size_t k = 0; k < n; k++) w.inz[k] = (unsigned char)((z >> k) & 1);
          same = sep[(i * n + j) * nsub + z] == !mconnected(&c, i, j, &w);
        }
    if (!same) continue;
    if (members++ == 0) memcpy(pag->m, c.m, n * n);
    for (size_t k = 0; k < n * n; k++)
      if (pag->m[k] != c.m[k]) pag->m[k] = O;
  }
  free(sep), free(c.m), work_free(&w);
  return members;
}

/* The size of mag's class by the equivalence criterion (equivalent()) over the same 3^edges
 * orientations, to check the criterion against the definition. */
static size_t criterion_class_size(const mg *mag) {
  size_t n = mag->n, ne = 0, ei[64], ej[64], members = 0, total = 1;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n && ne < 64; j++)
      if (ADJ(mag, i, j)) ei[ne] = i, ej[ne++] = j, total *= 3;
  work w = work_alloc(n);
  mg c = mg_alloc(n);
  for (size_t code = 0; code < total; code++) {
    size_t r = code;
    for (size_t e = 0; e < ne; e++, r /= 3)
      mg_set(&c, ei[e], ej[e], r % 3 == 0 ? T : A, r % 3 == 1 ? T : A);
    members += (size_t)equivalent(mag, &c, &w);
  }
  free(c.m), work_free(&w);
  return members;
}

/* -------------------------------------------------------------------------- certificates */

/* Zhang's MAG of a PAG (2008, Thm 2): o-> as -->, <-> and --> kept, and the o-o edges
 * oriented from earlier to later in a maximum cardinality search that starts at src (other
 * components: at their lowest node) and breaks ties by index, except that pref goes first
 * (favour > 0) or last (favour < 0).  On a chordal circle component that orientation has no
 * unshielded collider, src being its source. */
static void zhang_mag(const mg *pag, size_t src, size_t pref, int favour, mg *h, size_t *pos,
                      size_t *wt) {
  size_t n = pag->n;
  memset(h->m, 0, n * n);
  for (size_t v = 0; v < n; v++) pos[v] = (size_t)-1, wt[v] = 0;
  for (size_t step = 0; step < n; step++) {
    size_t best = n;
    for (size_t v = 0; v < n; v++) {
      if (pos[v] != (size_t)-1) continue;
      int tie = best != n && wt[v] == wt[best] && best != src;
      if (best == n || wt[v] > wt[best] || (tie && (v == src || (favour > 0 && v == pref))) ||
          (tie && favour < 0 && best == pref))
        best = v;
    }
    pos[best] = step;
    for (size_t u = 0; u < n; u++)
      if (ADJ(pag, best, u) && MK(pag, best, u) == O && MK(pag, u, best) == O) wt[u]++;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      if (i == j || !ADJ(pag, i, j)) continue;
      int mi = MK(pag, j, i), mj = MK(pag, i, j);
      if (mi == O && mj == O) mi = pos[i] < pos[j] ? T : A, mj = pos[i] < pos[j] ? A : T;
      else if (mi == O) mi = T; /* i o-> j */
      else if (mj == O) mj = T; /* j o-> i */
      MK(h, j, i) = (unsigned char)mi, MK(h, i, j) = (unsigned char)mj;
    }
}

/* When h is in mag's class, records every circle of pag where h's mark differs from mag's. */
static void witness(const mg *mag, const mg *pag, const mg *h, unsigned char *wit, work *w) {
  if (!equivalent(mag, h, w)) return;
  for (size_t k = 0; k < mag->n * mag->n; k++)
    if (pag->m[k] == O && h->m[k] != mag->m[k]) wit[k] = 1;
}

/* A candidate MAG with a <-> b for the PAG's a o-> b: Zhang's MAG (source src, a favoured
 * or not in ties), a <-> b, and a made no ancestor of b by also turning into <-> the other o->-derived
 * edges c --> d on directed paths from a to b: mode 0 all of them, 1 those into b, 2 those out
 * of a, 3 none.  (1 o-o 2 o-> 3, 1 o-> 3 needs 2 --> 1, or 2 <-> 3 with 1 <-> 3.)  No single
 * choice always gives a member, so the caller tries several and verifies each. */
static void bidirect(const mg *pag, size_t src, int favour, int mode, size_t a, size_t b, mg *h,
                     size_t *pos, size_t *wt, work *w) {
  size_t n = pag->n;
  zhang_mag(pag, src, a, favour, h, pos, wt);
  mg_set(h, a, b, A, A);
  ancestors(h, w->anc, w->stack);
  for (size_t c = 0; c < n && mode != 3; c++)
    for (size_t d = 0; d < n; d++)
      if (ADJ(pag, c, d) && MK(pag, d, c) == O && MK(pag, c, d) == A && w->anc[a * n + c] &&
          w->anc[d * n + b] && (mode == 0 || (mode == 1 && d == b) || (mode == 2 && c == a)))
        mg_set(h, c, d, A, A);
}

/* Fallback witness search for the circle k: every assignment of tails and arrowheads to the
 * circles of pag (the other marks fixed; pag sound), with mark k forced opposite to mag's,
 * pruned by the unshielded colliders, each leaf verified.  At most budget nodes. */
typedef struct {
  const mg *mag;
  mg h;
  size_t *ci, *cj, nc; /* circle edges i - j (each once) */
  long budget;
  work *w;
} wsearch;

static int triples_ok(const wsearch *ws, size_t i, size_t j) {
  const mg *g = ws->mag, *h = &ws->h;
  size_t n = g->n;
  for (int e = 0; e < 2; e++, i ^= j, j ^= i, i ^= j) /* centre j, then centre i */
    for (size_t c = 0; c < n; c++) {
      if (c == i || !ADJ(g, c, j) || ADJ(g, i, c) || MK(h, c, j) == O || MK(h, i, j) == O) continue;
      if (coll(g, i, j, c) != coll(h, i, j, c)) return 0;
    }
  return 1;
}

/* Marks reachable from v along assigned directed edges (forward) or against them (back). */
static void reach(const mg *h, size_t v, int back, unsigned char *seen, size_t *stack) {
  size_t n = h->n, sp = 0;
  memset(seen, 0, n);
  seen[v] = 1, stack[sp++] = v;
  while (sp) {
    size_t u = stack[--sp];
    for (size_t x = 0; x < n; x++)
      if (!seen[x] && (back ? DIR(h, x, u) : DIR(h, u, x))) seen[x] = 1, stack[sp++] = x;
  }
}

/* The newly assigned edge i *-* j leaves the assigned part ancestral (no directed or almost
 * directed cycle through it). */
static int still_ancestral(wsearch *ws, size_t i, size_t j) {
  const mg *h = &ws->h;
  size_t n = h->n;
  unsigned char *up = ws->w->inz, *down = ws->w->anz;
  if (MK(h, i, j) == A && MK(h, j, i) == A) {
    reach(h, i, 0, down, ws->w->stack);
    if (down[j]) return 0;
    reach(h, j, 0, down, ws->w->stack);
    return !down[i];
  }
  if (MK(h, i, j) == T) { size_t t = i; i = j; j = t; } /* now i --> j */
  reach(h, i, 1, up, ws->w->stack);
  reach(h, j, 0, down, ws->w->stack);
  if (up[j]) return 0;
  for (size_t u = 0; u < n; u++)
    for (size_t v = 0; v < n; v++)
      if (up[u] && down[v] && u != v && MK(h, u, v) == A && MK(h, v, u) == A) return 0;
  return 1;
}

static int wsearch_rec(wsearch *ws, size_t e) {
  if (--ws->budget < 0) return 0;
  if (e == ws->nc) return equivalent(ws->mag, &ws->h, ws->w);
  size_t i = ws->ci[e], j = ws->cj[e];
  int mi0 = MK(&ws->h, j, i), mj0 = MK(&ws->h, i, j);
  for (int c = 0; c < 3; c++) {
    int mi = c == 1 ? T : A, mj = c == 0 ? T : A; /* i <-> j, i --> j, j --> i */
    if ((mi0 != O && mi0 != mi) || (mj0 != O && mj0 != mj)) continue;
    mg_set(&ws->h, i, j, mi, mj);
    if (triples_ok(ws, i, j) && still_ancestral(ws, i, j) && wsearch_rec(ws, e + 1)) return 1;
  }
  mg_set(&ws->h, i, j, mi0, mj0);
  return 0;
}

static int search_witness(const mg *mag, const mg *pag, size_t k, long budget, work *w) {
  size_t n = mag->n;
  wsearch ws = {mag, mg_copy(pag), malloc(n * n * sizeof(size_t)), malloc(n * n * sizeof(size_t)), 0,
                budget, w};
  ws.h.m[k] = (unsigned char)(mag->m[k] == T ? A : T);
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      if (ADJ(pag, i, j) && (MK(&ws.h, i, j) == O || MK(&ws.h, j, i) == O)) ws.ci[ws.nc] = i, ws.cj[ws.nc++] = j;
  int found = wsearch_rec(&ws, 0);
  free(ws.h.m), free(ws.ci), free(ws.cj);
  return found ? 1 : ws.budget < 0 ? -1 : 0;
}

/* 0 when pag is exactly the PAG of the MAG mag's class, else the number of faults: skeleton
 * or non-circle marks differing from mag (unsound), circles for which no equivalent MAG with
 * the other mark was found (incomplete, or beyond the search budget of 10^6 nodes). */
static int certify(const mg *mag, const mg *pag) {
  size_t n = mag->n, *pos = malloc((n + 1) * sizeof *pos), *wt = malloc((n + 1) * sizeof *wt);
  unsigned char *wit = calloc(n * n + 1, 1);
  int bad = 0;
  for (size_t k = 0; k < n * n; k++)
    bad += (mag->m[k] != 0) != (pag->m[k] != 0) || (pag->m[k] != O && pag->m[k] != mag->m[k]);
  work w = work_alloc(n);
  mg h = mg_alloc(n);
  if (!bad) {
    /* o-o: every node of the circle component as the source; o->: the base MAG with a <-> b. */
    for (size_t s = 0; s < n; s++) {
      int in_circle = 0;
      for (size_t u = 0; u < n; u++) in_circle |= MK(pag, s, u) == O && MK(pag, u, s) == O;
      if (!in_circle) continue;
      zhang_mag(pag, s, n, 0, &h, pos, wt);
      witness(mag, pag, &h, wit, &w);
    }
    zhang_mag(pag, n, n, 0, &h, pos, wt);
    witness(mag, pag, &h, wit, &w);
    for (size_t a = 0; a < n; a++)
      for (size_t b = 0; b < n; b++)
        for (size_t s = 12 * (n + 1); s-- > 0 && ADJ(pag, a, b) && MK(pag, b, a) == O &&
                                      MK(pag, a, b) == A && !wit[b * n + a];) {
          size_t q = s % (3 * n + 3);
          bidirect(pag, q % (n + 1), (int)(q / (n + 1)) - 1, (int)(s / (3 * n + 3)), a, b, &h, pos,
                   wt, &w);
          witness(mag, pag, &h, wit, &w);
        }
    for (size_t k = 0; k < n * n; k++)
      if (pag->m[k] == O && !wit[k]) {
        bad += search_witness(mag, pag, k, 1000000, &w) != 1;
      }
  }
  free(h.m), work_free(&w), free(pos), free(wt), free(wit);
  return bad;
}

/* --------------------------------------------------------------------------- FCI side */

/* FCI with the d-separation oracle of dag, pds_depth as fci_pds_depth. */
static mg fci_oracle(const latens_causal_graph *dag, int pds_depth) {
  latens_causal_citest *t = latens_causal_citest_alloc_dsep(dag);
  latens_causal_pc_options o;
  latens_causal_pc_options_default(&o);
  o.fci_pds_depth = pds_depth;
  latens_causal_graph *g = NULL;
  ck_assert_int_eq(latens_causal_fci(t, NULL, &o, NULL, &g), LATENS_OK);
  mg m = mg_from_graph(g);
  latens_causal_graph_free(g), latens_causal_citest_free(t);
  return m;
}

/* SHD as causal-learn counts it: adjacencies in one graph only, plus differing marks. */
static size_t shd(const mg *g, const mg *h) {
  size_t d = 0;
  for (size_t i = 0; i < g->n; i++)
    for (size_t j = i + 1; j < g->n; j++) {
      if (ADJ(g, i, j) != ADJ(h, i, j)) d++;
      else if (ADJ(g, i, j)) d += (MK(g, i, j) != MK(h, i, j)) + (MK(g, j, i) != MK(h, j, i));
    }
  return d;
}

/* A random DAG (causal_random_dag) with each node hidden with probability frac. */
static latens_causal_graph *random_latent_dag(size_t p, double deg, double frac, uint64_t *s) {
  latens_causal_graph *dag = causal_random_dag(p, deg, s);
  for (size_t v = 0; v < p; v++)
    if (0.5 * (test_unif(s) + 1) < frac) latens_causal_graph_set_latent(dag, v, 1);
  return dag;
}

/* Oracle: the library's d-separation test (src/causal/citest.c) and mconnected() here are
 * two implementations of d-separation; they must agree on random DAGs and conditioning sets. */
START_TEST(test_msep_matches_dsep) {
  uint64_t s = 404;
  int bad = 0, nq = 0;
  for (int rep = 0; rep < 20; rep++) {
    latens_causal_graph *dag = causal_random_dag(8 + rep % 5, 2.5, &s);
    mg d = mg_from_graph(dag);
    size_t n = d.n, S[16];
    work w = work_alloc(n);
    ancestors(&d, w.anc, w.stack);
    latens_causal_citest *t = latens_causal_citest_alloc_dsep(dag);
    for (int q = 0; q < 50; q++, nq++) {
      size_t x = (size_t)(0.5 * (test_unif(&s) + 1) * (double)n) % n, y = (x + 1 + q % (n - 1)) % n, k = 0;
      for (size_t v = 0; v < n; v++) {
        w.inz[v] = v != x && v != y && test_unif(&s) > 0.4;
        if (w.inz[v]) S[k++] = v;
      }
      double pv = -1;
      latens_causal_citest_pvalue(t, x, y, S, k, &pv);
      bad += (pv == 0) != mconnected(&d, x, y, &w);
    }
    latens_causal_citest_free(t), work_free(&w), free(d.m), latens_causal_graph_free(dag);
  }
  ck_assert_int_eq(nq, 1000);
  ck_assert_int_eq(bad, 0);
}
END_TEST

/* Small random DAGs (5 to 9 nodes, none or a quarter or 40% hidden) whose MAG has at most 11
 * edges (8 under valgrind).  Oracle: the brute-force PAG.  FCI (Zhang's rules, default
 * Possible-D-SEP depth and unbounded) must return it exactly (SHD 0).  The certificate route
 * is validated on the same graphs: it accepts the brute-force PAG, and rejects it with one
 * invariant mark (picked at random) turned into a circle; on every fourth graph the
 * equivalence criterion must give the definition's class size. */
START_TEST(test_fci_exact_small) {
  uint64_t s = 8128;
  const double fracs[3] = {0.0, 0.25, 0.4};
  size_t used[3] = {0, 0, 0}, members = 0, max_edges = test_under_valgrind() ? 8 : 11;
  int shd_def = 0, shd_unb = 0, cert_bad = 0, cert_missed = 0, tries = 0, crit_checked = 0, crit_bad = 0;
  size_t target = test_under_valgrind() ? 10 : 70;
  for (int f = 0; f < 3; f++)
    while (used[f] < target && tries < 20000) {
      tries++;
      size_t p = 5 + (size_t)tries % 5;
      latens_causal_graph *dag = random_latent_dag(p, 2.0 + 0.25 * (tries % 5), fracs[f], &s);
      mg mag = true_mag(dag), pag = mg_alloc(mag.n);
      size_t m = mag.n >= 3 ? brute_pag(&mag, max_edges, &pag) : 0;
      if (m) {
        used[f]++, members += m;
        mg fd = fci_oracle(dag, 3), fu = fci_oracle(dag, -1);
        shd_def += shd(&fd, &pag) != 0;
        shd_unb += shd(&fu, &pag) != 0;
        cert_bad += certify(&mag, &pag) != 0;
        if (used[f] % 4 == 0) crit_checked++, crit_bad += criterion_class_size(&mag) != m;
        size_t k = (size_t)(0.5 * (test_unif(&s) + 1) * (double)(mag.n * mag.n)), nk = mag.n * mag.n;
        for (size_t r = 0; r < nk; r++, k++)
          if (pag.m[k % nk] == T || pag.m[k % nk] == A) {
            mg weak = mg_copy(&pag);
            weak.m[k % nk] = O;
            cert_missed += certify(&mag, &weak) == 0;
            free(weak.m);
            break;
          }
        free(fd.m), free(fu.m);
      }
      free(mag.m), free(pag.m), latens_causal_graph_free(dag);
    }
  fprintf(stderr, "fci exact small: %zu/%zu/%zu DAGs (hidden 0/0.25/0.4), %zu class members; "
          "FCI SHD>0: %d (pds depth 3), %d (unbounded); certificate: %d rejected, %d missed; "
          "criterion class size wrong %d of %d\n",
          used[0], used[1], used[2], members, shd_def, shd_unb, cert_bad, cert_missed, crit_bad,
          crit_checked);
  ck_assert_uint_eq(used[0] + used[1] + used[2], 3 * target);
  ck_assert_int_eq(cert_bad, 0);
  ck_assert_int_eq(cert_missed, 0);
  ck_assert_int_gt(crit_checked, 0);
  ck_assert_int_eq(crit_bad, 0);
  ck_assert_int_eq(shd_def, 0);
  ck_assert_int_eq(shd_unb, 0);
}
END_TEST

/* The eight bnlearn networks (no hidden nodes: the true MAG is the DAG).  Oracle: the
 * certificate route, and the brute force where the DAG has at most 12 edges. */
START_TEST(test_fci_exact_bnlearn) {
  int bad = 0, brute = 0, nq = test_under_valgrind() ? 4 : 8;
  for (int q = 0; q < nq; q++) {
    char f[256];
    snprintf(f, sizeof f, "%s.graph.txt", causal_nets[q]);
    latens_causal_graph *dag = NULL;
    ck_assert_int_eq(latens_causal_graph_read(causal_data(f), &dag), LATENS_OK);
    mg mag = true_mag(dag), fd = fci_oracle(dag, 3), pag = mg_alloc(mag.n);
    int c = certify(&mag, &fd);
    if (brute_pag(&mag, 12, &pag)) brute++, c += (int)shd(&fd, &pag);
    if (c) fprintf(stderr, "fci exact %s: %d faults\n", causal_nets[q], c);
    bad += c;
    free(mag.m), free(fd.m), free(pag.m), latens_causal_graph_free(dag);
  }
  ck_assert_int_eq(bad, 0);
  if (!test_under_valgrind()) ck_assert_int_eq(brute, 4); /* cancer, earthquake, survey, asia */
}
END_TEST

/* Random DAGs of 10 to 50 nodes (expected degree 2 and 3), none, 10% or 20% hidden.  Oracle:
 * the certificate route.  FCI with the default options (Possible-D-SEP subsets up to size 3),
 * and unbounded up to 20 nodes (its cost grows as 2^|Possible-D-SEP|: 25 s at 30 nodes). */
START_TEST(test_fci_exact_large) {
  uint64_t s = 31337;
  const double fracs[3] = {0.0, 0.1, 0.2};
  size_t pmax = test_under_valgrind() ? 20 : 50;
  int bad = 0, n = 0, nu = 0;
  for (size_t p = 10; p <= pmax; p += 10)
    for (int f = 0; f < 3; f++)
      for (int rep = 0; rep < 2; rep++, n++) {
        latens_causal_graph *dag = random_latent_dag(p, 2.0 + rep, fracs[f], &s);
        mg mag = true_mag(dag), fd = fci_oracle(dag, 3);
        int c = certify(&mag, &fd);
        if (p <= 20) {
          mg fu = fci_oracle(dag, -1);
          c += certify(&mag, &fu), nu++;
          free(fu.m);
        }
        if (c) fprintf(stderr, "fci exact p=%zu hidden %.1f rep %d: %d faults\n", p, fracs[f], rep, c);
        bad += c;
        free(mag.m), free(fd.m), latens_causal_graph_free(dag);
      }
  ck_assert_int_eq(n, (int)(pmax / 10 * 6));
  ck_assert_int_eq(nu, 12);
  ck_assert_int_eq(bad, 0);
}
END_TEST

/* Which options the exactness holds for.  FCI's Possible-D-SEP stage tries subsets of up to
 * fci_pds_depth nodes (default 3).  In this DAG (found by the random search of
 * test_fci_exact_large's kind and minimised) with L1 and L3 hidden, x6 and x7 are separated
 * only by {x0, x2, x4, x5}: 7 <- 5 <- L1 -> 6 needs x5, 7 <- L3 -> 4 -> 6 needs x4, which
 * opens 2 -> 4 <- L3 (x2), and x5 opens 0 -> 5 <- L1 (x0).  Oracle: the brute-force PAG.
 * Unbounded, FCI returns it; at depth 3 it keeps x6 <-> x7 (printed, not asserted: raising
 * the default is allowed).  In a stress run (2000 random DAGs of 6-25 nodes, degree 1.5-4,
 * 0-30% hidden) depth 3 left such an edge in 3 graphs, all with degree 4 and >= 15 nodes. */
START_TEST(test_fci_pds_depth) {
  const char *names[8] = {"x0", "L1", "x2", "L3", "x4", "x5", "x6", "x7"};
  latens_causal_graph *dag = latens_causal_graph_alloc(8, names);
  const int e[10][2] = {{0, 3}, {0, 5}, {1, 2}, {1, 5}, {1, 6}, {2, 4}, {3, 4}, {3, 7}, {4, 6}, {5, 7}};
  for (int q = 0; q < 10; q++) latens_causal_graph_set_edge(dag, (size_t)e[q][0], (size_t)e[q][1], T, A);
  latens_causal_graph_set_latent(dag, 1, 1), latens_causal_graph_set_latent(dag, 3, 1);
  mg mag = true_mag(dag), pag = mg_alloc(mag.n), f3 = fci_oracle(dag, 3), fu = fci_oracle(dag, -1);
  ck_assert_uint_eq(mag.n, 6);
  ck_assert_uint_gt(brute_pag(&mag, 12, &pag), 0);
  ck_assert(!ADJ(&mag, 4, 5)); /* x6, x7 */
  ck_assert_uint_eq(shd(&fu, &pag), 0);
  ck_assert_int_eq(certify(&mag, &fu), 0);
  fprintf(stderr, "fci pds depth: SHD %zu at fci_pds_depth 3, %zu unbounded\n", shd(&f3, &pag), shd(&fu, &pag));
  free(mag.m), free(pag.m), free(f3.m), free(fu.m), latens_causal_graph_free(dag);
}
END_TEST

Suite *causal_fci_oracle_suite(void) {
  Suite *s = suite_create("causal_fci_oracle");
  TCase *tc = tcase_create("fci_oracle");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_msep_matches_dsep);
  tcase_add_test(tc, test_fci_exact_small);
  tcase_add_test(tc, test_fci_exact_bnlearn);
  tcase_add_test(tc, test_fci_exact_large);
  tcase_add_test(tc, test_fci_pds_depth);
  suite_add_tcase(s, tc);
  return s;
}
