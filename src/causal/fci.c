/* causal/fci.c: FCI (Spirtes, Meek & Richardson 1995; Zhang 2008): PC-stable skeleton,
 * collider orientation with circle marks, the possible-d-sep removal stage, re-orientation,
 * then Zhang's rules R1-R4 and R8-R10 to the fixpoint.  Rules R5-R7 concern selection
 * variables and are not applied: the output is the PAG under "latent confounders, no
 * selection bias", the assumption of causal-learn's and Tetrad's default FCI. */
#include "fci_impl.h"

#include <stdlib.h>
#include <string.h>

enum { T = LATENS_CAUSAL_TAIL, A = LATENS_CAUSAL_ARROW, C = LATENS_CAUSAL_CIRCLE };

/* Mark at j on the edge i *-* j (0 when not adjacent). */
#define M(g, i, j) ((int)CG_MARK(g, i, j))
#define ADJ(g, i, j) CG_ADJ(g, i, j)
static void set_at(latens_causal_graph *g, size_t i, size_t j, int mark_at_j) {
  CG_MARK(g, i, j) = (unsigned char)mark_at_j;
}

/* Unshielded a *-o b o-* c with b not in sepset(a, c): a *-> b <-* c, unless a tail set by
 * knowledge sits at b (causal-learn's and Tetrad's is_arrow_point_allowed). */
static void rule0(latens_causal_graph *g, cg_skel *s) {
  size_t p = g->p;
  for (size_t b = 0; b < p; b++)
    for (size_t a = 0; a < p; a++) {
      if (!ADJ(g, a, b)) continue;
      for (size_t c = a + 1; c < p; c++) {
        if (!ADJ(g, c, b) || ADJ(g, a, c)) continue;
        if (M(g, a, b) == T || M(g, c, b) == T) continue;
        if (!latens_causal_in_sepset(s, a, c, b)) set_at(g, a, b, A), set_at(g, c, b, A);
      }
    }
}

/* Marks licensed by knowledge, before the rules (Tetrad's fciOrientbk).  In an ancestral
 * graph an adjacency i *-* j with i an ancestor of j is the edge i --> j, so a required
 * i --> j is that edge, and a forbidden i --> j (explicit or by tiers) means i is not an
 * ancestor of j: only the arrowhead at i is licensed (causal-learn also puts a tail at j,
 * which nothing licenses; its issue #266).  A pair forbidden both ways is never adjacent. */
static void orient_knowledge(latens_causal_graph *g, const latens_causal_knowledge *k) {
  if (!k) return;
  size_t p = g->p;
  for (size_t i = 0; i < p; i++)
    for (size_t j = i + 1; j < p; j++) {
      if (!ADJ(g, i, j)) continue;
      if (latens_causal_knowledge_is_required(k, i, j)) {
        cg_set(g, i, j, T, A);
      } else if (latens_causal_knowledge_is_required(k, j, i)) {
        cg_set(g, i, j, A, T);
      } else {
        if (latens_causal_knowledge_is_forbidden(k, i, j)) set_at(g, j, i, A);
        if (latens_causal_knowledge_is_forbidden(k, j, i)) set_at(g, i, j, A);
      }
    }
}

static void all_circles(latens_causal_graph *g, const cg_skel *s) {
  latens_causal_graph_clear_edges(g);
  for (size_t i = 0; i < s->p; i++)
    for (size_t j = i + 1; j < s->p; j++)
      if (s->adj[i * s->p + j]) cg_set(g, i, j, C, C);
}

/* Possible-D-SEP(x) (Spirtes et al. 2000): nodes v reachable from x by a path on which every
 * inner node is a collider or the middle of a triangle.  BFS over directed edges (prev, cur). */
static size_t pdsep(const latens_causal_graph *g, size_t x, size_t y, unsigned char *seen,
                    size_t *queue, size_t *out) {
  size_t p = g->p, qh = 0, qt = 0, n = 0;
  memset(seen, 0, p * p);
  for (size_t b = 0; b < p; b++)
    if (ADJ(g, x, b) && !seen[x * p + b]) seen[x * p + b] = 1, queue[qt++] = x * p + b;
  while (qh < qt) {
    size_t e = queue[qh++], a = e / p, b = e % p;
    for (size_t c = 0; c < p; c++) {
      if (c == a || !ADJ(g, b, c)) continue;
      int coll = M(g, a, b) == A && M(g, c, b) == A;
      if (!(coll || ADJ(g, a, c)) || seen[b * p + c]) continue;
      seen[b * p + c] = 1;
      queue[qt++] = b * p + c;
    }
  }
  /* Members: every node reached as the head of a visited pair. */
  for (size_t v = 0; v < p; v++) {
    if (v == x || v == y) continue;
    int hit = 0;
    for (size_t u = 0; u < p && !hit; u++) hit = seen[u * p + v];
    if (hit) out[n++] = v;
  }
  return n;
}

typedef struct {
  size_t x, y;
  int found, status;
  size_t *sep, nsep;
} pds_task;

/* Per-thread scratch of the Possible-D-SEP search, sized from p (no fixed-size buffers: a
 * silent truncation of the candidate set would make the search incomplete). */
typedef struct {
  unsigned char *seen, *in, *adj;
  size_t *queue, *set, *idx, *S;
} pds_work;

static void pds_work_free(pds_work *w) {
  free(w->seen), free(w->in), free(w->adj);
  free(w->queue), free(w->set), free(w->idx), free(w->S);
}

static int pds_work_alloc(pds_work *w, size_t p) {
  memset(w, 0, sizeof *w);
  w->seen = malloc(p * p + 1);
  w->in = malloc(p + 1);
  w->adj = malloc(p + 1);
  w->queue = malloc((p * p + 1) * sizeof *w->queue);
  w->set = malloc((p + 1) * sizeof *w->set);
  w->idx = malloc((p + 1) * sizeof *w->idx);
  w->S = malloc((p + 1) * sizeof *w->S);
  if (w->seen && w->in && w->adj && w->queue && w->set && w->idx && w->S) return 0;
  pds_work_free(w);
  return LATENS_ENOMEM;
}

/* Largest subset of Possible-D-SEP tried: opt->fci_pds_depth, else opt->max_depth, else m. */
static size_t pds_dmax(const latens_causal_pc_options *o, size_t m) {
  size_t d = m;
  if (o->fci_pdsep == 1 && o->fci_pds_depth >= 0 && (size_t)o->fci_pds_depth < d) d = (size_t)o->fci_pds_depth;
  if (o->max_depth >= 0 && (size_t)o->max_depth < d) d = (size_t)o->max_depth;
  return d;
}

/* causal-learn's rule: the smallest size d at which some subset of Possible-D-SEP separates;
 * the separating set is the union of all such subsets of that size.  With the full set
 * (fci_pdsep 1), a subset of adj(a) \ {b} is skipped: PC-stable's skeleton already tested
 * every one of them (its frozen adjacency sets contain the final ones, up to the same depth)
 * and found a dependence, since the edge survived; only the sets reaching beyond adj(a) can
 * separate, as in Tetrad's and pcalg's Possible-D-SEP stages. */
static void pds_search(latens_causal_citest *t, const latens_causal_graph *g,
                       const latens_causal_pc_options *o, pds_task *tk, size_t a, size_t b,
                       pds_work *w) {
  size_t m = 0, *idx = w->idx, *S = w->S, *set = w->set;
  unsigned char *in = w->in, *adj = w->adj;
  if (o->fci_pdsep == 2) { /* causal-learn's getPossibleDsep: the adjacencies only */
    for (size_t v = 0; v < g->p; v++)
      if (v != b && ADJ(g, a, v)) set[m++] = v;
  } else {
    m = pdsep(g, a, b, w->seen, w->queue, set);
  }
  int skip_adj = o->fci_pdsep == 1;
  for (size_t i = 0; i < m; i++) adj[i] = (unsigned char)(ADJ(g, a, set[i]) != 0);
  size_t dmax = pds_dmax(o, m);
  for (size_t d = 0; d <= dmax; d++) {
    int any = 0;
    memset(in, 0, m);
    for (size_t i = 0; i < d; i++) idx[i] = i;
    do {
      int outside = 0;
      for (size_t i = 0; i < d; i++) S[i] = set[idx[i]], outside |= !adj[idx[i]];
      if (skip_adj && !outside) continue;
      double pv;
      int st = latens_causal_citest_pvalue(t, a, b, S, d, &pv);
      if (st) {
        tk->status = st;
        return;
      }
      if (pv > o->alpha) {
        any = 1;
        for (size_t i = 0; i < d; i++) in[idx[i]] = 1;
      }
    } while (cg_next_subset(idx, d, m));
    if (any) {
      size_t c = 0;
      for (size_t i = 0; i < m; i++) c += in[i];
      tk->sep = malloc((c + 1) * sizeof *tk->sep);
      if (!tk->sep) {
        tk->status = LATENS_ENOMEM;
        return;
      }
      for (size_t i = 0; i < m; i++)
        if (in[i]) tk->sep[tk->nsep++] = set[i];
      tk->found = 1;
      return;
    }
  }
}

/* Runs the searches of edges [lo, hi) in parallel; the outcome of each edge depends only on
 * the (frozen) graph, so the thread count does not change the result. */
static void pds_batch(latens_causal_citest *t, const latens_causal_graph *g,
                      const latens_causal_pc_options *o, pds_task *tk, long lo, long hi, int nth) {
  (void)nth;
#pragma omp parallel num_threads(nth) if (hi - lo > 1)
  {
    pds_work w;
    int bad = pds_work_alloc(&w, g->p);
#pragma omp for schedule(dynamic)
    for (long q = lo; q < hi; q++) {
      if (bad) {
        tk[q].status = LATENS_ENOMEM;
        continue;
      }
      /* Both Possible-D-SEP(x, y) and Possible-D-SEP(y, x), as Spirtes et al. define it. */
      pds_search(t, g, o, &tk[q], tk[q].x, tk[q].y, &w);
      if (!tk[q].found && !tk[q].status) pds_search(t, g, o, &tk[q], tk[q].y, tk[q].x, &w);
    }
    if (!bad) pds_work_free(&w);
  }
}

/* A required pair stays adjacent (see the skeleton stage): no search for it. */
static int searchable(const latens_causal_graph *g, const latens_causal_knowledge *k, size_t i, size_t j) {
  return ADJ(g, i, j) && !(k && (latens_causal_knowledge_is_required(k, i, j) ||
                                 latens_causal_knowledge_is_required(k, j, i)));
}

static int pds_stage(latens_causal_citest *t, const latens_causal_knowledge *k, latens_causal_graph *g,
                     cg_skel *s, const latens_causal_pc_options *o, const latens_progress *progress) {
  size_t p = g->p, ne = 0;
  for (size_t i = 0; i < p; i++)
    for (size_t j = i + 1; j < p; j++) ne += searchable(g, k, i, j);
  pds_task *tk = calloc(ne + 1, sizeof *tk);
  if (!tk) LATENS_ERROR("fci: out of memory", LATENS_ENOMEM);
  ne = 0;
  for (size_t i = 0; i < p; i++)
    for (size_t j = i + 1; j < p; j++)
      if (searchable(g, k, i, j)) tk[ne].x = i, tk[ne].y = j, ne++;
  int nth = latens_causal_threads(o), st = LATENS_OK;
  /* Batches of edges so the progress callback runs (from this thread) and can stop. */
  long nl = (long)ne, step = 8L * (nth > 0 ? nth : 1);
  for (long lo = 0; lo < nl && !st; lo += step) {
    long hi = lo + step < nl ? lo + step : nl;
    pds_batch(t, g, o, tk, lo, hi, nth);
    for (long q = lo; q < hi && !st; q++) st = tk[q].status;
    if (!st) st = latens_progress_report(progress, "fci possible-d-sep", (double)hi, (double)nl);
  }
  for (size_t q = 0; q < ne && !st; q++)
    if (tk[q].found) st = latens_causal_skel_separate(s, tk[q].x, tk[q].y, tk[q].sep, tk[q].nsep);
  for (size_t q = 0; q < ne; q++) free(tk[q].sep);
  free(tk);
  if (st == LATENS_ENOMEM) LATENS_ERROR("fci: out of memory", st);
  return st;
}

/* ------------------------------------------------------------------ orientation rules */

static int r1_r2(latens_causal_graph *g) {
  size_t p = g->p;
  int ch = 0;
  for (size_t b = 0; b < p; b++)
    for (size_t a = 0; a < p; a++) {
      if (!ADJ(g, a, b)) continue;
      for (size_t c = 0; c < p; c++) {
        if (c == a || !ADJ(g, b, c)) continue;
        /* R1: a *-> b o-* c, a and c nonadjacent => b --> c. */
        if (!ADJ(g, a, c) && M(g, a, b) == A && M(g, c, b) == C) {
          set_at(g, c, b, T), set_at(g, b, c, A);
          ch = 1;
        }
        /* R2: (a --> b *-> c or a *-> b --> c) and a *-o c => a *-> c. */
        if (ADJ(g, a, c) && M(g, a, c) == C && M(g, a, b) == A && M(g, b, c) == A &&
            (M(g, b, a) == T || M(g, c, b) == T)) {
          set_at(g, a, c, A);
          ch = 1;
        }
      }
    }
  return ch;
}

/* R3: a *-> b <-* c, a *-o d o-* c, a and c nonadjacent, d *-o b => d *-> b. */
static int r3(latens_causal_graph *g) {
  size_t p = g->p;
  int ch = 0;
  for (size_t b = 0; b < p; b++)
    for (size_t d = 0; d < p; d++) {
      if (!ADJ(g, d, b) || M(g, d, b) != C) continue;
      for (size_t a = 0; a < p; a++) {
        if (a == d || !ADJ(g, a, b) || M(g, a, b) != A || !ADJ(g, a, d) || M(g, a, d) != C) continue;
        for (size_t c = a + 1; c < p; c++) {
          if (c == d || !ADJ(g, c, b) || M(g, c, b) != A || ADJ(g, a, c)) continue;
          if (!ADJ(g, c, d) || M(g, c, d) != C) continue;
          set_at(g, d, b, A);
          ch = 1;
          a = c = p;
        }
      }
    }
  return ch;
}

/* R4 (discriminating paths): for b o-* c with a <-* b... a --> c, search back from a through
 * colliders that are parents of c for a node d nonadjacent to c. */
static int r4(latens_causal_graph *g, cg_skel *s, size_t *queue, unsigned char *vis) {
  size_t p = g->p;
  int ch = 0;
  for (size_t b = 0; b < p; b++)
    for (size_t c = 0; c < p; c++) {
      if (!ADJ(g, b, c) || M(g, c, b) != C) continue;
      for (size_t a = 0; a < p; a++) {
        /* a is a collider on the path (b *-> a) and a parent of c. */
        if (a == c || !ADJ(g, a, b) || M(g, b, a) != A || !CG_DIRECTED(g, a, c)) continue;
        memset(vis, 0, p);
        size_t qh = 0, qt = 0;
        queue[qt++] = a;
        vis[a] = vis[b] = vis[c] = 1;
        long theta = -1;
        while (qh < qt && theta < 0) {
          size_t u = queue[qh++];
          for (size_t d = 0; d < p && theta < 0; d++) {
            if (vis[d] || !ADJ(g, d, u) || M(g, d, u) != A) continue;
            if (!ADJ(g, d, c)) {
              theta = (long)d;
            } else if (CG_DIRECTED(g, d, c) && M(g, u, d) == A) {
              vis[d] = 1;
              queue[qt++] = d;
            }
          }
        }
        if (theta < 0) continue;
        if (latens_causal_in_sepset(s, (size_t)theta, c, b)) {
          set_at(g, c, b, T), set_at(g, b, c, A);
        } else if (M(g, a, b) != T && M(g, c, b) != T) {
          set_at(g, a, b, A), set_at(g, b, a, A);
          set_at(g, c, b, A), set_at(g, b, c, A);
        } else {
          continue; /* a tail from knowledge at b: no collider over it */
        }
        ch = 1;
        break;
      }
    }
  return ch;
}

/* Potentially directed edge u *-* v towards v: no arrow at u, no tail at v. */
static int pd(const latens_causal_graph *g, size_t u, size_t v) {
  return ADJ(g, u, v) && M(g, v, u) != A && M(g, u, v) != T;
}

/* An uncovered potentially directed path prev, cur, ..., target (depth-first). */
static int updp(const latens_causal_graph *g, size_t prev, size_t cur, size_t target,
                unsigned char *vis, int budget) {
  if (cur == target) return 1;
  if (budget == 0) return 0;
  for (size_t nx = 0; nx < g->p; nx++) {
    if (vis[nx] || !pd(g, cur, nx) || ADJ(g, prev, nx) || nx == prev) continue;
    vis[nx] = 1;
    int ok = updp(g, cur, nx, target, vis, budget - 1);
    vis[nx] = 0;
    if (ok) return 1;
  }
  return 0;
}

/* Is there an uncovered p.d. path a, mu, ..., target? */
static int path_via(const latens_causal_graph *g, size_t a, size_t mu, size_t target,
                    unsigned char *vis, int budget) {
  if (!pd(g, a, mu)) return 0;
  memset(vis, 0, g->p);
  vis[a] = vis[mu] = 1;
  return updp(g, a, mu, target, vis, budget);
}

static int r8_r10(latens_causal_graph *g, unsigned char *vis, int budget) {
  size_t p = g->p;
  int ch = 0;
  for (size_t a = 0; a < p; a++)
    for (size_t c = 0; c < p; c++) {
      /* a o-> c */
      if (!ADJ(g, a, c) || M(g, c, a) != C || M(g, a, c) != A) continue;
      int done = 0;
      /* R8: a --> b --> c or a -o b --> c. */
      for (size_t b = 0; b < p && !done; b++)
        if (b != a && b != c && CG_DIRECTED(g, b, c) && ADJ(g, a, b) && M(g, b, a) == T &&
            (M(g, a, b) == A || M(g, a, b) == C))
          done = 1;
      /* R9: an uncovered p.d. path a, b, ..., c with b and c nonadjacent. */
      for (size_t b = 0; b < p && !done; b++)
        if (b != c && !ADJ(g, b, c) && path_via(g, a, b, c, vis, budget)) done = 1;
      /* R10: b --> c <-- d, uncovered p.d. paths a, mu, ..., b and a, w, ..., d with mu != w
       * nonadjacent. */
      for (size_t b = 0; b < p && !done; b++) {
        if (b == a || !CG_DIRECTED(g, b, c)) continue;
        for (size_t d = b + 1; d < p && !done; d++) {
          if (d == a || !CG_DIRECTED(g, d, c)) continue;
          for (size_t mu = 0; mu < p && !done; mu++) {
            if (mu == c || !path_via(g, a, mu, b, vis, budget)) continue;
            for (size_t w = 0; w < p && !done; w++)
              if (w != mu && w != c && !ADJ(g, mu, w) && path_via(g, a, w, d, vis, budget)) done = 1;
          }
          for (size_t mu = 0; mu < p && !done; mu++) { /* the same with b and d swapped */
            if (mu == c || !path_via(g, a, mu, d, vis, budget)) continue;
            for (size_t w = 0; w < p && !done; w++)
              if (w != mu && w != c && !ADJ(g, mu, w) && path_via(g, a, w, b, vis, budget)) done = 1;
          }
        }
      }
      if (done) {
        set_at(g, c, a, T);
        ch = 1;
      }
    }
  return ch;
}

static int orient(latens_causal_graph *g, cg_skel *s, const latens_causal_pc_options *o,
                  const latens_progress *progress) {
  size_t p = g->p;
  size_t *queue = malloc((p + 1) * sizeof *queue);
  unsigned char *vis = malloc(p + 1);
  if (!queue || !vis) {
    free(queue);
    free(vis);
    LATENS_ERROR("fci: out of memory", LATENS_ENOMEM);
  }
  int budget = o->fci_max_path >= 0 ? o->fci_max_path : (int)p;
  int st = LATENS_OK;
  for (long round = 0; !st; round++) {
    int ch = r1_r2(g);
    ch |= r3(g);
    ch |= r4(g, s, queue, vis);
    if (!ch) ch = r8_r10(g, vis, budget);
    if (!ch) break;
    st = s->err ? s->err : latens_progress_report(progress, "fci orientation", (double)round, 0);
  }
  free(queue);
  free(vis);
  return st;
}

int latens_causal_fci_rules(latens_causal_citest *t, const latens_causal_knowledge *k,
                            const latens_causal_pc_options *opt, int rules,
                            const latens_progress *progress, latens_causal_graph **out) {
  if (out) *out = NULL;
  if (rules != LATENS_CAUSAL_FCI_RULES_ZHANG && rules != LATENS_CAUSAL_FCI_RULES_CAUSALLEARN)
    LATENS_ERRORF(LATENS_EINVAL, "latens_causal_fci_rules: rules = %d is not %d (Zhang) or %d (causal-learn)",
                  rules, LATENS_CAUSAL_FCI_RULES_ZHANG, LATENS_CAUSAL_FCI_RULES_CAUSALLEARN);
  latens_causal_pc_options o;
  cg_skel s;
  latens_causal_graph *g;
  int st = latens_causal_search_begin("latens_causal_fci", t, k, opt, progress, out, &o, &s, &g);
  if (st) return st;
  all_circles(g, &s);
  if (o.fci_pdsep) {
    orient_knowledge(g, k);
    rule0(g, &s);
    st = s.err ? s.err : pds_stage(t, k, g, &s, &o, progress);
    if (!st) all_circles(g, &s);
  }
  if (!st) {
    orient_knowledge(g, k);
    rule0(g, &s);
    if (s.err) st = s.err;
    else if (rules == LATENS_CAUSAL_FCI_RULES_CAUSALLEARN)
      st = latens_causal_fci_orient_cl(g, &s, o.fci_max_path, progress);
    else
      st = orient(g, &s, &o, progress);
  }
  latens_causal_skel_free(&s);
  if (st) {
    latens_causal_graph_free(g);
    return st;
  }
  *out = g;
  return LATENS_OK;
}

int latens_causal_fci(latens_causal_citest *t, const latens_causal_knowledge *k,
                      const latens_causal_pc_options *opt, const latens_progress *progress,
                      latens_causal_graph **out) {
  return latens_causal_fci_rules(t, k, opt, LATENS_CAUSAL_FCI_RULES_ZHANG, progress, out);
}

int latens_causal_graph_pag(const latens_causal_graph *dag, latens_causal_graph **out) {
  if (!out) LATENS_ERROR("latens_causal_graph_pag: out is NULL", LATENS_EINVAL);
  *out = NULL;
  latens_causal_citest *t = latens_causal_citest_alloc_dsep(dag);
  if (!t) return LATENS_EINVAL;
  latens_causal_pc_options o;
  latens_causal_pc_options_default(&o);
  o.threads = 1;
  int st = latens_causal_fci(t, NULL, &o, NULL, out);
  latens_causal_citest_free(t);
  return st;
}
