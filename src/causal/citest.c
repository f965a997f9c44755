/* causal/citest.c: conditional-independence tests — Fisher-z, chi-square / G^2, the
 * d-separation oracle and user tests — behind one thread-safe interface with an optional
 * cache. */
#include "citest_impl.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct cache_entry {
  struct cache_entry *next;
  uint64_t hash;
  size_t x, y, k;
  double p;
  size_t S[];
} cache_entry;

struct latens_causal_citest {
  int kind;
  size_t p;
  const latens_causal_data *d;  /* FISHERZ, CHISQ, GSQ */
  latens_causal_graph *dag;     /* DSEP: a copy */
  size_t *obs;                  /* DSEP: observed index -> node */
  char **names;                 /* DSEP, CUSTOM */
  latens_causal_test_fn *fn;    /* CUSTOM */
  void *user;
  int cache;
  pthread_mutex_t lock;
  cache_entry **table;
  size_t nbucket, nentry;
  unsigned long long count;
};

static latens_causal_citest *base_alloc(int kind, size_t p, int cache) {
  latens_causal_citest *t = calloc(1, sizeof *t);
  if (!t) LATENS_ERROR_NULL("latens_causal_citest_alloc: out of memory", LATENS_ENOMEM);
  t->kind = kind;
  t->p = p;
  t->cache = cache != 0;
  if (pthread_mutex_init(&t->lock, NULL)) {
    free(t);
    LATENS_ERROR_NULL("latens_causal_citest_alloc: cannot create a mutex", LATENS_EFAILED);
  }
  if (t->cache) {
    t->nbucket = 1024;
    t->table = calloc(t->nbucket, sizeof *t->table);
    if (!t->table) {
      latens_causal_citest_free(t);
      LATENS_ERROR_NULL("latens_causal_citest_alloc: out of memory", LATENS_ENOMEM);
    }
  }
  return t;
}

static char **copy_names(size_t p, const char *const *names) {
  char **c = calloc(p ? p : 1, sizeof *c);
  if (!c) return NULL;
  for (size_t j = 0; j < p; j++) {
    char buf[32];
    const char *s = names && names[j] ? names[j] : (snprintf(buf, sizeof buf, "X%zu", j + 1), buf);
    c[j] = malloc(strlen(s) + 1);
    if (!c[j]) {
      for (size_t i = 0; i < j; i++) free(c[i]);
      free(c);
      return NULL;
    }
    strcpy(c[j], s);
  }
  return c;
}

latens_causal_citest *latens_causal_citest_alloc(const latens_causal_data *d, int test, int cache) {
  if (!d) LATENS_ERROR_NULL("latens_causal_citest_alloc: d is NULL", LATENS_EINVAL);
  int disc = latens_causal_data_is_discrete(d);
  if (test == LATENS_CAUSAL_TEST_FISHERZ && disc)
    LATENS_ERROR_NULL("latens_causal_citest_alloc: fisherz needs continuous data (the data set is discrete)",
                      LATENS_EINVAL);
  if ((test == LATENS_CAUSAL_TEST_CHISQ || test == LATENS_CAUSAL_TEST_GSQ) && !disc)
    LATENS_ERROR_NULL("latens_causal_citest_alloc: chisq/gsq need discrete data (the data set is continuous)",
                      LATENS_EINVAL);
  if (test != LATENS_CAUSAL_TEST_FISHERZ && test != LATENS_CAUSAL_TEST_CHISQ &&
      test != LATENS_CAUSAL_TEST_GSQ) {
    latens_errorf(__FILE__, __LINE__, LATENS_EINVAL,
                  "latens_causal_citest_alloc: test %d is not a data test (use _alloc_dsep or _alloc_custom)", test);
    return NULL;
  }
  latens_causal_citest *t = base_alloc(test, latens_causal_data_p(d), cache);
  if (t) t->d = d;
  return t;
}

latens_causal_citest *latens_causal_citest_alloc_dsep(const latens_causal_graph *dag) {
  if (!dag || !latens_causal_graph_is_dag(dag))
    LATENS_ERROR_NULL("latens_causal_citest_alloc_dsep: the graph is not a DAG", LATENS_EINVAL);
  size_t nobs = 0;
  for (size_t i = 0; i < dag->p; i++) nobs += !dag->latent[i];
  latens_causal_citest *t = base_alloc(LATENS_CAUSAL_TEST_DSEP, nobs, 0);
  if (!t) return NULL;
  t->dag = latens_causal_graph_copy(dag);
  t->obs = malloc((nobs ? nobs : 1) * sizeof *t->obs);
  t->names = calloc(nobs ? nobs : 1, sizeof *t->names);
  if (!t->dag || !t->obs || !t->names) {
    latens_causal_citest_free(t);
    LATENS_ERROR_NULL("latens_causal_citest_alloc_dsep: out of memory", LATENS_ENOMEM);
  }
  for (size_t i = 0, m = 0; i < dag->p; i++)
    if (!dag->latent[i]) {
      t->obs[m] = i;
      t->names[m] = malloc(strlen(dag->names[i]) + 1);
      if (!t->names[m]) {
        latens_causal_citest_free(t);
        LATENS_ERROR_NULL("latens_causal_citest_alloc_dsep: out of memory", LATENS_ENOMEM);
      }
      strcpy(t->names[m++], dag->names[i]);
    }
  return t;
}

latens_causal_citest *latens_causal_citest_alloc_custom(size_t p, const char *const *names,
                                                        latens_causal_test_fn *fn, void *user,
                                                        int cache) {
  if (!fn || p < 2) LATENS_ERROR_NULL("latens_causal_citest_alloc_custom: fn is NULL or p < 2", LATENS_EINVAL);
  latens_causal_citest *t = base_alloc(LATENS_CAUSAL_TEST_CUSTOM, p, cache);
  if (!t) return NULL;
  t->fn = fn;
  t->user = user;
  t->names = copy_names(p, names);
  if (!t->names) {
    latens_causal_citest_free(t);
    LATENS_ERROR_NULL("latens_causal_citest_alloc_custom: out of memory", LATENS_ENOMEM);
  }
  return t;
}

void latens_causal_citest_free(latens_causal_citest *t) {
  if (!t) return;
  for (size_t b = 0; t->table && b < t->nbucket; b++)
    for (cache_entry *e = t->table[b], *nx; e; e = nx) {
      nx = e->next;
      free(e);
    }
  free(t->table);
  if (t->names)
    for (size_t j = 0; j < t->p; j++) free(t->names[j]);
  free(t->names);
  free(t->obs);
  latens_causal_graph_free(t->dag);
  pthread_mutex_destroy(&t->lock);
  free(t);
}

size_t latens_causal_citest_p(const latens_causal_citest *t) { return t ? t->p : 0; }

const char *latens_causal_citest_name(const latens_causal_citest *t, size_t j) {
  if (!t || j >= t->p) return NULL;
  return t->d ? latens_causal_data_name(t->d, j) : t->names[j];
}

unsigned long long latens_causal_citest_count(const latens_causal_citest *t) {
  return t ? __atomic_load_n(&t->count, __ATOMIC_RELAXED) : 0;
}

int latens_causal_citest_kind(const latens_causal_citest *t) { return t ? t->kind : -1; }

/* ------------------------------------------------------------------------------ cache */

static uint64_t key_hash(size_t x, size_t y, const size_t *S, size_t k) {
  uint64_t h = 1469598103934665603ull;
  h = (h ^ x) * 1099511628211ull;
  h = (h ^ y) * 1099511628211ull;
  for (size_t i = 0; i < k; i++) h = (h ^ (S[i] + 0x9e37u)) * 1099511628211ull;
  return h ^ (h >> 29);
}

static int cache_find(latens_causal_citest *t, uint64_t h, size_t x, size_t y, const size_t *S,
                      size_t k, double *p) {
  int found = 0;
  pthread_mutex_lock(&t->lock);
  for (cache_entry *e = t->table[h & (t->nbucket - 1)]; e; e = e->next)
    if (e->hash == h && e->x == x && e->y == y && e->k == k &&
        (k == 0 || memcmp(e->S, S, k * sizeof *S) == 0)) {
      *p = e->p;
      found = 1;
      break;
    }
  pthread_mutex_unlock(&t->lock);
  return found;
}

static void cache_put(latens_causal_citest *t, uint64_t h, size_t x, size_t y, const size_t *S,
                      size_t k, double p) {
  cache_entry *e = malloc(sizeof *e + k * sizeof *S);
  if (!e) return; /* a cache miss later is harmless */
  e->hash = h, e->x = x, e->y = y, e->k = k, e->p = p;
  if (k) memcpy(e->S, S, k * sizeof *S);
  pthread_mutex_lock(&t->lock);
  if (t->nentry > 2 * t->nbucket) {
    size_t nb = 4 * t->nbucket;
    cache_entry **tb = calloc(nb, sizeof *tb);
    if (tb) {
      for (size_t b = 0; b < t->nbucket; b++)
        for (cache_entry *c = t->table[b], *nx; c; c = nx) {
          nx = c->next;
          c->next = tb[c->hash & (nb - 1)];
          tb[c->hash & (nb - 1)] = c;
        }
      free(t->table);
      t->table = tb;
      t->nbucket = nb;
    }
  }
  e->next = t->table[h & (t->nbucket - 1)];
  t->table[h & (t->nbucket - 1)] = e;
  t->nentry++;
  pthread_mutex_unlock(&t->lock);
}

/* ------------------------------------------------------------------------- dispatch */

static int dsep(const latens_causal_citest *t, size_t x, size_t y, const size_t *S, size_t k,
                double *pv);

int latens_causal_citest_pvalue(latens_causal_citest *t, size_t x, size_t y, const size_t *S,
                                size_t k, double *pvalue) {
  if (!t || !pvalue || (k && !S))
    LATENS_ERROR("latens_causal_citest_pvalue: NULL argument", LATENS_EINVAL);
  if (x == y || x >= t->p || y >= t->p)
    LATENS_ERRORF(LATENS_EINVAL, "latens_causal_citest_pvalue: bad pair (%zu, %zu) with p = %zu", x, y, t->p);
  size_t sbuf[64], *s = k <= 64 ? sbuf : malloc(k * sizeof *s);
  if (!s) LATENS_ERROR("latens_causal_citest_pvalue: out of memory", LATENS_ENOMEM);
  for (size_t i = 0; i < k; i++) {
    size_t v = S[i], j = i;
    if (v >= t->p || v == x || v == y) {
      if (s != sbuf) free(s);
      LATENS_ERRORF(LATENS_EINVAL, "latens_causal_citest_pvalue: S[%zu] = %zu is out of range or x/y", i, v);
    }
    while (j > 0 && s[j - 1] > v) s[j] = s[j - 1], j--; /* insertion sort: k is small */
    if (j > 0 && s[j - 1] == v) {
      if (s != sbuf) free(s);
      LATENS_ERRORF(LATENS_EINVAL, "latens_causal_citest_pvalue: %zu repeated in S", v);
    }
    s[j] = v;
  }
  if (x > y) {
    size_t tmp = x;
    x = y, y = tmp;
  }
  uint64_t h = 0;
  int st = LATENS_OK;
  if (t->cache) {
    h = key_hash(x, y, s, k);
    if (cache_find(t, h, x, y, s, k, pvalue)) goto done;
  }
  switch (t->kind) {
    case LATENS_CAUSAL_TEST_FISHERZ:
      st = latens_causal_fisherz(t->d, x, y, s, k, pvalue);
      break;
    case LATENS_CAUSAL_TEST_CHISQ:
    case LATENS_CAUSAL_TEST_GSQ:
      st = latens_causal_chisq(t->d, x, y, s, k, t->kind == LATENS_CAUSAL_TEST_GSQ, pvalue);
      break;
    case LATENS_CAUSAL_TEST_DSEP:
      st = dsep(t, x, y, s, k, pvalue);
      break;
    default:
      st = t->fn(t->user, x, y, s, k, pvalue);
      if (!st && !(*pvalue >= 0 && *pvalue <= 1)) {
        double v = *pvalue;
        if (s != sbuf) free(s);
        LATENS_ERRORF(LATENS_EDOM, "user CI test returned p-value %g for (%zu, %zu | %zu variables)", v, x, y, k);
      }
  }
  __atomic_fetch_add(&t->count, 1ull, __ATOMIC_RELAXED);
  if (!st && t->cache) cache_put(t, h, x, y, s, k, *pvalue);
done:
  if (s != sbuf) free(s);
  return st;
}

/* d-separation by the reachability ("Bayes ball") search of Koller & Friedman (2009, alg. 3.1):
 * trails leave x; a node reached going down may pass up only if it is an ancestor of S. */
static int dsep(const latens_causal_citest *t, size_t x, size_t y, const size_t *S, size_t k,
                double *pv) {
  const latens_causal_graph *g = t->dag;
  size_t V = g->p;
  unsigned char *flag = calloc(V, 4); /* [0]: in S, [1]: ancestor of S, [2]: visited up, [3]: down */
  size_t *queue = malloc((2 * V + 1) * sizeof *queue);
  if (!flag || !queue) {
    free(flag);
    free(queue);
    LATENS_ERROR("d-separation: out of memory", LATENS_ENOMEM);
  }
  size_t nx = t->obs[x], ny = t->obs[y], qh = 0, qt = 0;
  for (size_t i = 0; i < k; i++) {
    size_t v = t->obs[S[i]];
    flag[4 * v] = 1;
    if (!flag[4 * v + 1]) flag[4 * v + 1] = 1, queue[qt++] = v;
  }
  while (qh < qt) {
    size_t v = queue[qh++];
    for (size_t u = 0; u < V; u++)
      if (CG_DIRECTED(g, u, v) && !flag[4 * u + 1]) flag[4 * u + 1] = 1, queue[qt++] = u;
  }
  /* Entries (node << 1 | dir): dir 1 = arrived from a child (going up), 0 = from a parent. */
  qh = qt = 0;
  queue[qt++] = nx << 1 | 1;
  flag[4 * nx + 2] = 1;
  int reach = 0;
  while (qh < qt && !reach) {
    size_t e = queue[qh++], v = e >> 1;
    int up = (int)(e & 1);
    if (v == ny) {
      reach = 1;
      break;
    }
    int inS = flag[4 * v];
    for (size_t u = 0; u < V; u++) {
      if (!CG_ADJ(g, u, v)) continue;
      int to_parent = CG_DIRECTED(g, u, v); /* u is a parent of v */
      int go;
      if (up) go = !inS; /* from a child: pass to parents and children unless blocked by S */
      else go = to_parent ? flag[4 * v + 1] != 0 : !inS; /* collider needs an ancestor of S */
      if (!go) continue;
      size_t slot = to_parent ? 2 : 3, ent = to_parent ? (u << 1 | 1) : (u << 1);
      if (!flag[4 * u + slot]) flag[4 * u + slot] = 1, queue[qt++] = ent;
    }
  }
  free(flag);
  free(queue);
  *pv = reach ? 0.0 : 1.0;
  return LATENS_OK;
}
