/* causal/pc.c: PC-stable — skeleton (skeleton.c), unshielded colliders by the sepset rule
 * with causal-learn's conflict options, Meek's rules (meek.c). */
#include "skeleton.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void latens_causal_pc_options_default(latens_causal_pc_options *opt) {
  if (!opt) return;
  opt->alpha = 0.05;
  opt->max_depth = -1;
  opt->uc_priority = LATENS_CAUSAL_UC_PRIORITY_STRONGER;
  opt->threads = 0;
  opt->meek = 1;
  opt->fci_pdsep = 1;
  opt->fci_max_path = -1;
  opt->fci_pds_depth = 3;
}

int latens_causal_check_options(const latens_causal_pc_options *o, const char *fn) {
  if (!(o->alpha > 0 && o->alpha < 1))
    LATENS_ERRORF(LATENS_EDOM, "%s: alpha = %g is not in (0, 1)", fn, o->alpha);
  if (o->uc_priority < 0 || o->uc_priority > 3)
    LATENS_ERRORF(LATENS_EINVAL, "%s: uc_priority = %d is not 0..3", fn, o->uc_priority);
  if (o->threads < 0) LATENS_ERRORF(LATENS_EINVAL, "%s: threads = %d < 0", fn, o->threads);
  if (o->fci_pdsep < 0 || o->fci_pdsep > 2)
    LATENS_ERRORF(LATENS_EINVAL, "%s: fci_pdsep = %d is not 0..2", fn, o->fci_pdsep);
  return LATENS_OK;
}

latens_causal_graph *latens_causal_graph_from_test(const latens_causal_citest *t) {
  size_t p = latens_causal_citest_p(t);
  const char **names = malloc(p * sizeof *names);
  if (!names) LATENS_ERROR_NULL("out of memory", LATENS_ENOMEM);
  for (size_t j = 0; j < p; j++) names[j] = latens_causal_citest_name(t, j);
  latens_causal_graph *g = latens_causal_graph_alloc(p, names);
  free(names);
  return g;
}

/* Orient x --> y (replacing whatever the edge had). */
static void orient(latens_causal_graph *g, size_t x, size_t y) {
  cg_set(g, x, y, LATENS_CAUSAL_TAIL, LATENS_CAUSAL_ARROW);
}

/* causal-learn's priority 1: x --- y becomes x --> y, y --> x becomes x <-> y. */
static void orient_bidir(latens_causal_graph *g, size_t x, size_t y) {
  if (CG_UNDIRECTED(g, x, y)) orient(g, x, y);
  else if (CG_DIRECTED(g, y, x)) cg_set(g, x, y, LATENS_CAUSAL_ARROW, LATENS_CAUSAL_ARROW);
}

typedef struct {
  size_t x, y, z;
  double p;
  size_t order;
} uc;

static int cmp_uc(const void *a, const void *b) {
  const uc *u = a, *v = b;
  if (u->p != v->p) return u->p < v->p ? -1 : 1;
  return u->order < v->order ? -1 : u->order > v->order;
}

/* max p(x _||_ z | S) over S in powerset(adj(x)) u powerset(adj(z)) with y in S (causal-learn's
 * find_cond_sets_with_mid).  A neighbourhood of more than 14 (besides y) contributes only its
 * subsets of at most 2 elements (2^14 sets already), to keep the count of tests bounded. */
static int max_p_with_mid(latens_causal_citest *t, const latens_causal_graph *g, size_t x,
                          size_t z, size_t y, double *best) {
  size_t p = g->p, kmax_x = 0;
  *best = -1;
  for (int side = 0; side < 2; side++) {
    size_t a = side ? z : x, nb[64], m = 0;
    int trunc = 0;
    for (size_t v = 0; v < p; v++)
      if (v != y && CG_ADJ(g, a, v)) {
        if (m == 64) trunc = 1;
        else nb[m++] = v;
      }
    size_t kmax = m > 14 || trunc ? 2 : m;
    if (!side) kmax_x = kmax;
    for (size_t k = 0; k <= kmax; k++) {
      size_t idx[64], S[65];
      for (size_t i = 0; i < k; i++) idx[i] = i;
      do {
        int dup = side && k <= kmax_x; /* a set within adj(x) was tested from x's side */
        for (size_t i = 0; i < k; i++) {
          S[i] = nb[idx[i]];
          if (dup && !CG_ADJ(g, x, S[i])) dup = 0;
        }
        if (dup) continue;
        S[k] = y;
        double pv;
        int st = latens_causal_citest_pvalue(t, x, z, S, k + 1, &pv);
        if (st) return st;
        if (pv > *best) *best = pv;
      } while (cg_next_subset(idx, k, m));
    }
  }
  return LATENS_OK;
}

static int colliders(latens_causal_citest *t, cg_skel *s, const latens_causal_knowledge *k,
                     const latens_causal_pc_options *o, latens_causal_graph *g) {
  size_t p = g->p, n = 0, cap = 64;
  uc *list = malloc(cap * sizeof *list);
  if (!list) LATENS_ERROR("pc-stable: out of memory", LATENS_ENOMEM);
  /* Unshielded triples x - y - z, x < z, in causal-learn's order: by y, then x, then z. */
  for (size_t y = 0; y < p; y++)
    for (size_t x = 0; x < p; x++) {
      if (!s->adj[x * p + y]) continue;
      for (size_t z = x + 1; z < p; z++) {
        if (!s->adj[z * p + y] || s->adj[x * p + z]) continue;
        if (k && (latens_causal_knowledge_is_forbidden(k, x, y) ||
                  latens_causal_knowledge_is_forbidden(k, z, y) ||
                  latens_causal_knowledge_is_required(k, y, x) ||
                  latens_causal_knowledge_is_required(k, y, z)))
          continue;
        if (latens_causal_in_sepset(s, x, z, y)) continue;
        if (o->uc_priority == LATENS_CAUSAL_UC_OVERWRITE) {
          orient(g, x, y), orient(g, z, y);
        } else if (o->uc_priority == LATENS_CAUSAL_UC_BIDIRECTED) {
          orient_bidir(g, x, y), orient_bidir(g, z, y);
        } else if (o->uc_priority == LATENS_CAUSAL_UC_PRIORITY_EXISTING) {
          if (!CG_DIRECTED(g, y, x) && !CG_DIRECTED(g, y, z)) orient(g, x, y), orient(g, z, y);
        } else {
          if (n == cap) {
            uc *nl = realloc(list, 2 * cap * sizeof *nl);
            if (!nl) {
              free(list);
              LATENS_ERROR("pc-stable: out of memory", LATENS_ENOMEM);
            }
            list = nl, cap *= 2;
          }
          list[n] = (uc){x, y, z, 0, n};
          n++;
        }
      }
    }
  int st = LATENS_OK;
  long nl = (long)n;
  int nth = latens_causal_threads(o), *err = calloc(n ? n : 1, sizeof *err);
  (void)nth;
  if (!err) {
    free(list);
    LATENS_ERROR("pc-stable: out of memory", LATENS_ENOMEM);
  }
#pragma omp parallel for schedule(dynamic) num_threads(nth) if (n > 8)
  for (long q = 0; q < nl; q++) err[q] = max_p_with_mid(t, g, list[q].x, list[q].z, list[q].y, &list[q].p);
  for (size_t q = 0; q < n && !st; q++) st = err[q];
  free(err);
  if (!st) st = s->err;
  if (!st) {
    qsort(list, n, sizeof *list, cmp_uc);
    for (size_t q = 0; q < n; q++) {
      size_t x = list[q].x, y = list[q].y, z = list[q].z;
      if (!CG_DIRECTED(g, y, x) && !CG_DIRECTED(g, y, z)) orient(g, x, y), orient(g, z, y);
    }
  }
  free(list);
  return st;
}

/* Edges settled by knowledge before the colliders (causal-learn's orient_by_background_knowledge). */
static void orient_knowledge(latens_causal_graph *g, const latens_causal_knowledge *k) {
  for (size_t i = 0; i < g->p; i++)
    for (size_t j = 0; j < g->p; j++) {
      if (i == j || !CG_UNDIRECTED(g, i, j)) continue;
      if (latens_causal_knowledge_is_required(k, i, j) ||
          (latens_causal_knowledge_is_forbidden(k, j, i) && !latens_causal_knowledge_is_forbidden(k, i, j)))
        orient(g, i, j);
    }
}

int latens_causal_search_begin(const char *fn, latens_causal_citest *t,
                               const latens_causal_knowledge *k, const latens_causal_pc_options *opt,
                               const latens_progress *progress, latens_causal_graph **out,
                               latens_causal_pc_options *o, cg_skel *s, latens_causal_graph **g) {
  if (!out) LATENS_ERRORF(LATENS_EINVAL, "%s: out is NULL", fn);
  *out = NULL;
  if (!t) LATENS_ERRORF(LATENS_EINVAL, "%s: the test is NULL", fn);
  if (opt) *o = *opt;
  else latens_causal_pc_options_default(o);
  int st = latens_causal_check_options(o, fn);
  if (st) return st;
  st = latens_causal_skeleton(t, k, o, progress, s);
  if (st) return st;
  *g = latens_causal_graph_from_test(t);
  if (!*g) {
    latens_causal_skel_free(s);
    return LATENS_ENOMEM;
  }
  return LATENS_OK;
}

int latens_causal_pc(latens_causal_citest *t, const latens_causal_knowledge *k,
                     const latens_causal_pc_options *opt, const latens_progress *progress,
                     latens_causal_graph **out) {
  latens_causal_pc_options o;
  cg_skel s;
  latens_causal_graph *g;
  int st = latens_causal_search_begin("latens_causal_pc", t, k, opt, progress, out, &o, &s, &g);
  if (st) return st;
  for (size_t i = 0; i < s.p; i++)
    for (size_t j = i + 1; j < s.p; j++)
      if (s.adj[i * s.p + j]) cg_set(g, i, j, LATENS_CAUSAL_TAIL, LATENS_CAUSAL_TAIL);
  if (k) orient_knowledge(g, k);
  st = colliders(t, &s, k, &o, g);
  if (!st && o.meek) st = latens_causal_meek(g, k);
  latens_causal_skel_free(&s);
  if (st) {
    latens_causal_graph_free(g);
    return st;
  }
  *out = g;
  return LATENS_OK;
}
