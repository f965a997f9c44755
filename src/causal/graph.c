/* causal/graph.c: the mixed graph with endpoint marks, its CPDAG, and Meek's rules. */
#include "causal_impl.h"

#include <stdlib.h>
#include <string.h>

static char *dupstr(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

latens_causal_graph *latens_causal_graph_alloc(size_t p, const char *const *names) {
  if (p > 1000000) {
    latens_errorf(__FILE__, __LINE__, LATENS_EINVAL, "latens_causal_graph_alloc: p = %zu too large", p);
    return NULL;
  }
  latens_causal_graph *g = calloc(1, sizeof *g);
  size_t cap = p ? p : 1;
  if (!g) LATENS_ERROR_NULL("latens_causal_graph_alloc: out of memory", LATENS_ENOMEM);
  g->cap = cap;
  g->names = calloc(cap, sizeof *g->names);
  g->latent = calloc(cap, sizeof *g->latent);
  g->mark = calloc(latens_mul_size(cap, cap) ? cap * cap : 1, 1);
  if (!g->names || !g->latent || !g->mark) goto nomem;
  for (size_t i = 0; i < p; i++) {
    char buf[32];
    if (names && !names[i]) {
      latens_causal_graph_free(g);
      latens_errorf(__FILE__, __LINE__, LATENS_EINVAL, "latens_causal_graph_alloc: names[%zu] is NULL", i);
      return NULL;
    }
    if (!names) snprintf(buf, sizeof buf, "X%zu", i + 1);
    g->names[i] = dupstr(names ? names[i] : buf);
    if (!g->names[i]) goto nomem;
    g->p = i + 1;
  }
  return g;
nomem:
  latens_causal_graph_free(g);
  LATENS_ERROR_NULL("latens_causal_graph_alloc: out of memory", LATENS_ENOMEM);
}

void latens_causal_graph_free(latens_causal_graph *g) {
  if (!g) return;
  if (g->names)
    for (size_t i = 0; i < g->p; i++) free(g->names[i]);
  free(g->names);
  free(g->latent);
  free(g->mark);
  free(g);
}

latens_causal_graph *latens_causal_graph_copy(const latens_causal_graph *g) {
  if (!g) LATENS_ERROR_NULL("latens_causal_graph_copy: g is NULL", LATENS_EINVAL);
  latens_causal_graph *c = latens_causal_graph_alloc(g->p, (const char *const *)g->names);
  if (!c) return NULL;
  for (size_t i = 0; i < g->p; i++) {
    c->latent[i] = g->latent[i];
    memcpy(&c->mark[i * c->cap], &g->mark[i * g->cap], g->p);
  }
  return c;
}

int latens_causal_graph_add_node(latens_causal_graph *g, const char *name, int latent,
                                 size_t *index) {
  if (!g) LATENS_ERROR("latens_causal_graph_add_node: g is NULL", LATENS_EINVAL);
  if (g->p == g->cap) {
    size_t cap = 2 * g->cap;
    unsigned char *m = calloc(cap * cap, 1);
    char **nm = realloc(g->names, cap * sizeof *nm);
    if (nm) g->names = nm;
    int *lt = realloc(g->latent, cap * sizeof *lt);
    if (lt) g->latent = lt;
    if (!m || !nm || !lt) {
      free(m);
      LATENS_ERROR("latens_causal_graph_add_node: out of memory", LATENS_ENOMEM);
    }
    for (size_t i = 0; i < g->p; i++) memcpy(&m[i * cap], &g->mark[i * g->cap], g->p);
    free(g->mark);
    g->mark = m;
    g->cap = cap;
  }
  char buf[32];
  if (!name) {
    size_t nl = 0;
    for (size_t i = 0; i < g->p; i++) nl += g->latent[i] != 0;
    snprintf(buf, sizeof buf, "L%zu", nl + 1);
  }
  g->names[g->p] = dupstr(name ? name : buf);
  if (!g->names[g->p]) LATENS_ERROR("latens_causal_graph_add_node: out of memory", LATENS_ENOMEM);
  g->latent[g->p] = latent != 0;
  for (size_t i = 0; i <= g->p; i++) CG_MARK(g, i, g->p) = CG_MARK(g, g->p, i) = 0;
  if (index) *index = g->p;
  g->p++;
  return LATENS_OK;
}

size_t latens_causal_graph_nnodes(const latens_causal_graph *g) { return g ? g->p : 0; }

size_t latens_causal_graph_nedges(const latens_causal_graph *g) {
  size_t n = 0;
  if (!g) return 0;
  for (size_t i = 0; i < g->p; i++)
    for (size_t j = i + 1; j < g->p; j++) n += CG_ADJ(g, i, j);
  return n;
}

const char *latens_causal_graph_name(const latens_causal_graph *g, size_t i) {
  return g && i < g->p ? g->names[i] : NULL;
}

long latens_causal_graph_index(const latens_causal_graph *g, const char *name) {
  if (!g || !name) return -1;
  for (size_t i = 0; i < g->p; i++)
    if (strcmp(g->names[i], name) == 0) return (long)i;
  return -1;
}

int latens_causal_graph_set_latent(latens_causal_graph *g, size_t i, int latent) {
  if (!g || i >= g->p)
    LATENS_ERRORF(LATENS_EINVAL, "latens_causal_graph_set_latent: node %zu out of range (p = %zu)",
                  i, g ? g->p : 0);
  g->latent[i] = latent != 0;
  return LATENS_OK;
}

int latens_causal_graph_is_latent(const latens_causal_graph *g, size_t i) {
  return g && i < g->p ? g->latent[i] : -1;
}

static int mark_ok(int m) { return m >= LATENS_CAUSAL_NONE && m <= LATENS_CAUSAL_CIRCLE; }

int latens_causal_graph_set_edge(latens_causal_graph *g, size_t i, size_t j, int mark_i,
                                 int mark_j) {
  if (!g) LATENS_ERROR("latens_causal_graph_set_edge: g is NULL", LATENS_EINVAL);
  if (i >= g->p || j >= g->p || i == j)
    LATENS_ERRORF(LATENS_EINVAL, "latens_causal_graph_set_edge: bad pair (%zu, %zu) with p = %zu",
                  i, j, g->p);
  if (!mark_ok(mark_i) || !mark_ok(mark_j) ||
      ((mark_i == LATENS_CAUSAL_NONE) != (mark_j == LATENS_CAUSAL_NONE)))
    LATENS_ERRORF(LATENS_EINVAL, "latens_causal_graph_set_edge: bad marks (%d, %d)", mark_i, mark_j);
  cg_set(g, i, j, mark_i, mark_j);
  return LATENS_OK;
}

void latens_causal_graph_clear_edges(latens_causal_graph *g) {
  if (g) memset(g->mark, 0, g->cap * g->cap);
}

int latens_causal_graph_mark(const latens_causal_graph *g, size_t i, size_t j) {
  if (!g || i >= g->p || j >= g->p) return LATENS_CAUSAL_NONE;
  return CG_MARK(g, i, j);
}

int latens_causal_graph_adjacent(const latens_causal_graph *g, size_t i, size_t j) {
  return latens_causal_graph_mark(g, i, j) != LATENS_CAUSAL_NONE;
}

static const char *const edge_text[4][4] = {
    /* mark_i \ mark_j: none, tail, arrow, circle */
    {"", "", "", ""},
    {"", "---", "-->", "--o"},
    {"", "<--", "<->", "<-o"},
    {"", "o--", "o->", "o-o"},
};

const char *latens_causal_edge_type(int mark_i, int mark_j) {
  if (!mark_ok(mark_i) || !mark_ok(mark_j)) return "";
  return edge_text[mark_i][mark_j];
}

int latens_causal_edge_parse(const char *type, int *mark_left, int *mark_right) {
  if (type)
    for (int a = 1; a < 4; a++)
      for (int b = 1; b < 4; b++)
        if (strcmp(type, edge_text[a][b]) == 0) {
          if (mark_left) *mark_left = a;
          if (mark_right) *mark_right = b;
          return LATENS_OK;
        }
  LATENS_ERRORF(LATENS_EPARSE, "unknown edge type \"%s\" (expected -->, <--, ---, <->, o->, <-o, o-o, --o or o--)",
                type ? type : "(null)");
}

/* Rank of a mark for canonical printing: the "stronger" mark goes to `to`. */
static int mark_rank(int m) { return m == LATENS_CAUSAL_ARROW ? 2 : m == LATENS_CAUSAL_CIRCLE ? 1 : 0; }

size_t latens_causal_graph_edges(const latens_causal_graph *g, size_t *from, size_t *to,
                                 int *mark_from, int *mark_to, size_t cap) {
  size_t n = 0;
  if (!g) return 0;
  for (size_t i = 0; i < g->p; i++)
    for (size_t j = i + 1; j < g->p; j++) {
      if (!CG_ADJ(g, i, j)) continue;
      size_t a = i, b = j;
      if (mark_rank(CG_MARK(g, b, a)) > mark_rank(CG_MARK(g, a, b))) a = j, b = i;
      if (n < cap) {
        if (from) from[n] = a;
        if (to) to[n] = b;
        if (mark_from) mark_from[n] = CG_MARK(g, b, a);
        if (mark_to) mark_to[n] = CG_MARK(g, a, b);
      }
      n++;
    }
  return n;
}

int latens_causal_graph_is_dag(const latens_causal_graph *g) {
  if (!g) return 0;
  size_t p = g->p;
  for (size_t i = 0; i < p; i++)
    for (size_t j = 0; j < p; j++)
      if (CG_ADJ(g, i, j) && !CG_DIRECTED(g, i, j) && !CG_DIRECTED(g, j, i)) return 0;
  /* Kahn's algorithm: a DAG empties completely. */
  size_t *indeg = calloc(p ? p : 1, sizeof *indeg), *stack = malloc((p ? p : 1) * sizeof *stack);
  int ok = 0;
  if (indeg && stack) {
    size_t top = 0, seen = 0;
    for (size_t j = 0; j < p; j++)
      for (size_t i = 0; i < p; i++) indeg[j] += CG_DIRECTED(g, i, j);
    for (size_t j = 0; j < p; j++)
      if (!indeg[j]) stack[top++] = j;
    while (top) {
      size_t v = stack[--top];
      seen++;
      for (size_t w = 0; w < p; w++)
        if (CG_DIRECTED(g, v, w) && --indeg[w] == 0) stack[top++] = w;
    }
    ok = seen == p;
  }
  free(indeg);
  free(stack);
  return ok;
}

int latens_causal_graph_cpdag(const latens_causal_graph *dag, latens_causal_graph **out) {
  if (!out) LATENS_ERROR("latens_causal_graph_cpdag: out is NULL", LATENS_EINVAL);
  *out = NULL;
  if (!dag || !latens_causal_graph_is_dag(dag))
    LATENS_ERROR("latens_causal_graph_cpdag: the input is not a DAG", LATENS_EINVAL);
  latens_causal_graph *c = latens_causal_graph_copy(dag);
  if (!c) return LATENS_ENOMEM;
  size_t p = dag->p;
  /* Keep exactly the arcs that take part in a v-structure a -> b <- c, a and c nonadjacent. */
  for (size_t a = 0; a < p; a++)
    for (size_t b = 0; b < p; b++) {
      if (!CG_DIRECTED(dag, a, b)) continue;
      int v = 0;
      for (size_t d = 0; d < p && !v; d++)
        v = d != a && CG_DIRECTED(dag, d, b) && !CG_ADJ(dag, a, d);
      if (!v) cg_set(c, a, b, LATENS_CAUSAL_TAIL, LATENS_CAUSAL_TAIL);
    }
  int st = latens_causal_meek(c, NULL);
  if (st) {
    latens_causal_graph_free(c);
    return st;
  }
  *out = c;
  return LATENS_OK;
}
