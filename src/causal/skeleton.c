/* causal/skeleton.c: the PC-stable adjacency search, level-synchronous and parallel. */
#include "skeleton.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

void latens_causal_skel_free(cg_skel *s) {
  if (!s) return;
  if (s->sep)
    for (size_t q = 0; q < s->p * s->p; q++) free(s->sep[q]);
  free(s->sep);
  free(s->nsep);

  free(s->adj);
  free(s->sepd);
  free(s->sepdepth);
  if (s->snap)
    for (int d = 0; d <= s->depth + 1; d++) free(s->snap[d]);
  free(s->snap);
  memset(s, 0, sizeof *s);
}

int latens_causal_threads(const latens_causal_pc_options *o) {
#ifdef _OPENMP
  return o && o->threads > 0 ? o->threads : omp_get_max_threads();
#else
  (void)o;
  return 1;
#endif
}

static int in_sepset_search(cg_skel *s, const unsigned char *A, size_t i, size_t j, size_t v,
                            size_t d, size_t *nb, size_t *idx, size_t *S);

int latens_causal_in_sepset(cg_skel *s, size_t i, size_t j, size_t v) {
  size_t q = cg_pair(s->p, i, j), p = s->p;
  int d = s->sepdepth[q];
  if (d < 0) {
    for (size_t t = 0; t < s->nsep[q]; t++)
      if (s->sep[q][t] == v) return 1;
    return 0;
  }
  if (d == 0) return 0;
  const unsigned char *A = s->snap[d];
  /* Sized from p: a fixed buffer silently truncated the neighbours (wrong colliders). */
  size_t *nb = malloc((3 * p + 1) * sizeof *nb), *idx = nb + p, *S = nb + 2 * p + 1;
  if (!nb) {
    if (!s->err) s->err = LATENS_ENOMEM;
    return 0;
  }
  int r = in_sepset_search(s, A, i, j, v, (size_t)d, nb, idx, S);
  free(nb);
  return r;
}

static int in_sepset_search(cg_skel *s, const unsigned char *A, size_t i, size_t j, size_t v,
                            size_t d, size_t *nb, size_t *idx, size_t *S) {
  size_t p = s->p;
  for (int side = 0; side < 2; side++) {
    size_t a = side ? j : i, b = side ? i : j, m = 0;
    if (!A[a * p + v]) continue;
    for (size_t u = 0; u < p; u++)
      if (u != b && u != v && A[a * p + u]) nb[m++] = u;
    size_t k = d - 1; /* v plus k others */
    if (m < k) continue;
    for (size_t t = 0; t < k; t++) idx[t] = t;
    do {
      S[0] = v;
      for (size_t t = 0; t < k; t++) S[t + 1] = nb[idx[t]];
      double pv;
      int st = latens_causal_citest_pvalue(s->t, i, j, S, k + 1, &pv);
      if (st) {
        if (!s->err) s->err = st;
        return 0;
      }
      if (pv > s->alpha) return 1;
    } while (cg_next_subset(idx, k, m));
  }
  return 0;
}

/* sep(q) <- sep(q) u S (both sorted). */
static int merge(cg_skel *s, size_t q, const size_t *S, size_t k) {
  size_t **sp = &s->sep[q], *np = &s->nsep[q];
  size_t n = *np, *a = *sp;
  size_t *m = malloc((n + k + 1) * sizeof *m), c = 0, i = 0, j = 0;
  if (!m) return LATENS_ENOMEM;
  while (i < n || j < k) {
    if (j == k || (i < n && a[i] < S[j])) m[c++] = a[i++];
    else if (i == n || S[j] < a[i]) m[c++] = S[j++];
    else m[c++] = a[i++], j++;
  }
  free(a);
  *sp = m;
  *np = c;
  return LATENS_OK;
}


int latens_causal_skel_separate(cg_skel *s, size_t i, size_t j, const size_t *S, size_t k) {
  size_t q = cg_pair(s->p, i, j);
  s->adj[i * s->p + j] = s->adj[j * s->p + i] = 0;
  s->sepd[q] = 1;
  s->sepdepth[q] = -1;
  free(s->sep[q]);
  s->sep[q] = NULL;
  s->nsep[q] = 0;
  size_t *sorted = malloc((k + 1) * sizeof *sorted);
  if (!sorted) return LATENS_ENOMEM;
  for (size_t a = 0; a < k; a++) {
    size_t v = S[a], b = a;
    while (b > 0 && sorted[b - 1] > v) sorted[b] = sorted[b - 1], b--;
    sorted[b] = v;
  }
  int st = merge(s, q, sorted, k);
  free(sorted);
  return st;
}

typedef struct {
  size_t x, y;
  int status;
  int indep;
} task;

static void run_subsets(latens_causal_citest *t, task *tk, const size_t *nb, size_t m, size_t d,
                        double alpha, size_t *idx, size_t *S);

/* The subsets S of size d of nb (the neighbours of x without y) in order, until one gives
 * p > alpha. */
static void run_task(latens_causal_citest *t, task *tk, const size_t *nb, size_t m, size_t d,
                     double alpha) {
  size_t buf[128], *idx = buf, *S = buf + 64;
  if (d > 64) { /* rare: conditioning sets beyond 64 variables */
    idx = malloc(2 * d * sizeof *idx);
    if (!idx) {
      tk->status = LATENS_ENOMEM;
      return;
    }
    S = idx + d;
  }
  run_subsets(t, tk, nb, m, d, alpha, idx, S);
  if (idx != buf) free(idx);
}

static void run_subsets(latens_causal_citest *t, task *tk, const size_t *nb, size_t m, size_t d,
                        double alpha, size_t *idx, size_t *S) {
  for (size_t i = 0; i < d; i++) idx[i] = i;
  do {
    for (size_t i = 0; i < d; i++) S[i] = nb[idx[i]];
    double pv;
    int st = latens_causal_citest_pvalue(t, tk->x, tk->y, S, d, &pv);
    if (st) {
      tk->status = st;
      return;
    }
    if (pv > alpha) {
      tk->indep = 1;
      return;
    }
  } while (cg_next_subset(idx, d, m));
}

/* Number of (x, y) pairs to test at depth d with the frozen neighbour lists. */
static size_t list_tasks(const cg_skel *s, const size_t *deg, size_t d, task *out) {
  size_t n = 0, p = s->p;
  for (size_t x = 0; x < p; x++) {
    if (deg[x] < d + 1) continue;
    for (size_t y = 0; y < p; y++)
      if (s->adj[x * p + y]) {
        if (out) {
          memset(&out[n], 0, sizeof *out);
          out[n].x = x, out[n].y = y;
        }
        n++;
      }
  }
  return n;
}

static int depth_level(latens_causal_citest *t, const latens_causal_pc_options *o, cg_skel *s,
                       size_t d, const latens_progress *progress) {
  size_t p = s->p;
  size_t *deg = calloc(p, sizeof *deg), *nbr = malloc((p ? p * p : 1) * sizeof *nbr);
  if (!deg || !nbr) {
    free(deg);
    free(nbr);
    LATENS_ERROR("pc-stable: out of memory", LATENS_ENOMEM);
  }
  for (size_t x = 0; x < p; x++)
    for (size_t y = 0; y < p; y++)
      if (s->adj[x * p + y]) nbr[x * p + deg[x]++] = y;
  size_t nt = list_tasks(s, deg, d, NULL);
  task *tk = malloc((nt ? nt : 1) * sizeof *tk);
  if (!tk) {
    free(deg);
    free(nbr);
    LATENS_ERROR("pc-stable: out of memory", LATENS_ENOMEM);
  }
  list_tasks(s, deg, d, tk);
  s->snap[d] = malloc(p * p);
  if (!s->snap[d]) {
    free(deg), free(nbr), free(tk);
    LATENS_ERROR("pc-stable: out of memory", LATENS_ENOMEM);
  }
  memcpy(s->snap[d], s->adj, p * p);
  double alpha = o->alpha;
  int nth = latens_causal_threads(o);
  (void)nth;
  long ntl = (long)nt;
#pragma omp parallel num_threads(nth) if (nt > 16)
  {
    size_t *nb = malloc(p * sizeof *nb); /* one scratch list per thread */
#pragma omp for schedule(dynamic, 4)
    for (long q = 0; q < ntl; q++) {
      size_t x = tk[q].x, y = tk[q].y, m = 0;
      if (!nb) {
        tk[q].status = LATENS_ENOMEM;
        continue;
      }
      for (size_t a = 0; a < deg[x]; a++)
        if (nbr[x * p + a] != y) nb[m++] = nbr[x * p + a];
      if (m >= d) run_task(t, &tk[q], nb, m, d, alpha);
    }
    free(nb);
  }
  int st = LATENS_OK;
  for (size_t q = 0; q < nt && !st; q++) st = tk[q].status;
  /* Apply in task order: the result does not depend on which thread ran what. */
  for (size_t q = 0; q < nt && !st; q++) {
    if (!tk[q].indep) continue;
    size_t x = tk[q].x, y = tk[q].y, pq = cg_pair(p, x, y);
    s->sepd[pq] = 1;
    s->sepdepth[pq] = (int)d;
    s->adj[x * p + y] = s->adj[y * p + x] = 0;
  }
  free(tk);
  free(deg);
  free(nbr);
  if (st == LATENS_ENOMEM) LATENS_ERROR("pc-stable: out of memory", st);
  if (!st) st = latens_progress_report(progress, "pc-stable skeleton", (double)d + 1, 0);
  return st;
}

/* A required edge is adjacent whatever the tests say: knowledge outranks a test's verdict
 * (which may be a type I error), as in Tetrad, which re-adds required edges after its
 * adjacency search.  Re-added after the search, so the edge never widened the conditioning
 * sets of other pairs. */
static void readd_required(cg_skel *s, const latens_causal_knowledge *k) {
  size_t p = s->p;
  for (size_t i = 0; i < p; i++)
    for (size_t j = i + 1; j < p; j++) {
      if (s->adj[i * p + j] || !(latens_causal_knowledge_is_required(k, i, j) ||
                                 latens_causal_knowledge_is_required(k, j, i)))
        continue;
      size_t q = cg_pair(p, i, j);
      s->adj[i * p + j] = s->adj[j * p + i] = 1;
      s->sepd[q] = 0;
      s->sepdepth[q] = -1;
      free(s->sep[q]);
      s->sep[q] = NULL;
      s->nsep[q] = 0;
    }
}

int latens_causal_skeleton(latens_causal_citest *t, const latens_causal_knowledge *k,
                           const latens_causal_pc_options *o, const latens_progress *progress,
                           cg_skel *s) {
  size_t p = latens_causal_citest_p(t);
  memset(s, 0, sizeof *s);
  if (k && k->p != p)
    LATENS_ERRORF(LATENS_EBADLEN, "pc-stable: knowledge is about %zu variables, the test has %zu", k->p, p);
  if (!latens_mul_size(p, p) || p > 200000)
    LATENS_ERRORF(LATENS_EINVAL, "pc-stable: p = %zu variables is too many", p);
  s->p = p;
  s->adj = malloc(p * p);
  s->sepd = calloc(p * p, 1);
  s->sep = calloc(p * p, sizeof *s->sep);
  s->nsep = calloc(p * p, sizeof *s->nsep);
  s->sepdepth = malloc(p * p * sizeof *s->sepdepth);
  s->snap = calloc(p + 2, sizeof *s->snap);
  s->t = t;
  s->alpha = o->alpha;
  if (!s->adj || !s->sepd || !s->sep || !s->nsep || !s->sepdepth || !s->snap) {
    latens_causal_skel_free(s);
    LATENS_ERROR("pc-stable: out of memory", LATENS_ENOMEM);
  }
  for (size_t q = 0; q < p * p; q++) s->sepdepth[q] = -1;
  for (size_t i = 0; i < p; i++)
    for (size_t j = 0; j < p; j++) {
      int ban = k && latens_causal_knowledge_is_forbidden(k, i, j) &&
                latens_causal_knowledge_is_forbidden(k, j, i);
      s->adj[i * p + j] = i != j && !ban;
      if (ban && i < j) s->sepd[i * p + j] = 1;
    }
  int st = LATENS_OK;
  s->depth = -1;
  for (size_t d = 0;; d++) {
    size_t maxdeg = 0;
    for (size_t x = 0; x < p; x++) {
      size_t c = 0;
      for (size_t y = 0; y < p; y++) c += s->adj[x * p + y];
      if (c > maxdeg) maxdeg = c;
    }
    if (maxdeg < d + 1 || (o->max_depth >= 0 && d > (size_t)o->max_depth)) break;
    st = depth_level(t, o, s, d, progress);
    if (st) break;
    s->depth = (int)d;
  }
  if (!st && k) readd_required(s, k);
  if (st) latens_causal_skel_free(s);
  return st;
}
