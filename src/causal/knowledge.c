/* causal/knowledge.c: background knowledge — required and forbidden edges, tiers. */
#include "causal_impl.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

latens_causal_knowledge *latens_causal_knowledge_alloc(size_t p) {
  if (p == 0 || !latens_mul_size(p, p))
    LATENS_ERROR_NULL("latens_causal_knowledge_alloc: p must be positive", LATENS_EINVAL);
  latens_causal_knowledge *k = calloc(1, sizeof *k);
  if (!k) LATENS_ERROR_NULL("latens_causal_knowledge_alloc: out of memory", LATENS_ENOMEM);
  k->p = p;
  k->forbid = calloc(p * p, 1);
  k->require = calloc(p * p, 1);
  k->tier = calloc(p, sizeof *k->tier);
  if (!k->forbid || !k->require || !k->tier) {
    latens_causal_knowledge_free(k);
    LATENS_ERROR_NULL("latens_causal_knowledge_alloc: out of memory", LATENS_ENOMEM);
  }
  return k;
}

void latens_causal_knowledge_free(latens_causal_knowledge *k) {
  if (!k) return;
  free(k->forbid);
  free(k->require);
  free(k->tier);
  free(k);
}

static int pair_ok(const latens_causal_knowledge *k, size_t i, size_t j, const char *fn) {
  if (!k) LATENS_ERRORF(LATENS_EINVAL, "%s: knowledge is NULL", fn);
  if (i >= k->p || j >= k->p || i == j)
    LATENS_ERRORF(LATENS_EINVAL, "%s: bad pair (%zu, %zu) with p = %zu", fn, i, j, k->p);
  return LATENS_OK;
}

int latens_causal_knowledge_forbid(latens_causal_knowledge *k, size_t i, size_t j) {
  int st = pair_ok(k, i, j, "latens_causal_knowledge_forbid");
  if (st) return st;
  if (k->require[i * k->p + j])
    LATENS_ERRORF(LATENS_EINVAL, "knowledge: %zu --> %zu is both required and forbidden", i, j);
  k->forbid[i * k->p + j] = 1;
  return LATENS_OK;
}

int latens_causal_knowledge_require(latens_causal_knowledge *k, size_t i, size_t j) {
  int st = pair_ok(k, i, j, "latens_causal_knowledge_require");
  if (st) return st;
  if (k->forbid[i * k->p + j] || k->require[j * k->p + i])
    LATENS_ERRORF(LATENS_EINVAL, "knowledge: %zu --> %zu conflicts with a forbidden or opposite required edge",
                  i, j);
  k->require[i * k->p + j] = 1;
  return LATENS_OK;
}

int latens_causal_knowledge_set_tier(latens_causal_knowledge *k, size_t i, int tier) {
  if (!k || i >= k->p || tier < 0)
    LATENS_ERRORF(LATENS_EINVAL, "latens_causal_knowledge_set_tier: bad node %zu or tier %d", i, tier);
  k->tier[i] = tier;
  return LATENS_OK;
}

int latens_causal_knowledge_is_forbidden(const latens_causal_knowledge *k, size_t i, size_t j) {
  if (!k || i >= k->p || j >= k->p || i == j) return 0;
  if (k->require[i * k->p + j]) return 0;
  return k->forbid[i * k->p + j] || k->tier[i] > k->tier[j];
}

int latens_causal_knowledge_is_required(const latens_causal_knowledge *k, size_t i, size_t j) {
  if (!k || i >= k->p || j >= k->p || i == j) return 0;
  return k->require[i * k->p + j];
}

static char *next_tok(char **s) {
  char *p = *s;
  while (*p && isspace((unsigned char)*p)) p++;
  if (!*p) return NULL;
  char *t = p;
  while (*p && !isspace((unsigned char)*p)) p++;
  if (*p) *p++ = 0;
  *s = p;
  return t;
}

static long find_var(const latens_causal_citest *t, const char *name) {
  size_t p = latens_causal_citest_p(t);
  for (size_t j = 0; j < p; j++)
    if (strcmp(latens_causal_citest_name(t, j), name) == 0) return (long)j;
  return -1;
}

int latens_causal_knowledge_read(const char *path, const latens_causal_citest *t,
                                 latens_causal_knowledge **out) {
  if (!out) LATENS_ERROR("latens_causal_knowledge_read: out is NULL", LATENS_EINVAL);
  *out = NULL;
  if (!path || !t) LATENS_ERROR("latens_causal_knowledge_read: NULL path or test", LATENS_EINVAL);
  FILE *f = fopen(path, "r");
  if (!f) LATENS_ERRORF(LATENS_EIO, "%s: cannot open: %s", path, strerror(errno));
  latens_causal_knowledge *k = latens_causal_knowledge_alloc(latens_causal_citest_p(t));
  if (!k) {
    fclose(f);
    return LATENS_ENOMEM;
  }
  char line[8192];
  int st = LATENS_OK;
  for (long ln = 1; !st && fgets(line, sizeof line, f); ln++) {
    if (!strchr(line, '\n') && !feof(f)) { /* else the tail would parse as a line of its own */
      latens_errorf(__FILE__, __LINE__, st = LATENS_EPARSE, "%s:%ld: line longer than %zu bytes", path, ln,
                    sizeof line - 2);
      break;
    }
    char *hash = strchr(line, '#'), *s = line;
    if (hash) *hash = 0;
    char *kw = next_tok(&s);
    if (!kw) continue;
    if (strcmp(kw, "forbid") == 0 || strcmp(kw, "require") == 0) {
      char *a = next_tok(&s), *b = next_tok(&s), *extra = next_tok(&s);
      long i = a ? find_var(t, a) : -1, j = b ? find_var(t, b) : -1;
      if (!a || !b || extra) {
        latens_errorf(__FILE__, __LINE__, st = LATENS_EPARSE, "%s:%ld: expected \"%s A B\"", path, ln, kw);
      } else if (i < 0 || j < 0) {
        latens_errorf(__FILE__, __LINE__, st = LATENS_EPARSE, "%s:%ld:%ld: unknown variable \"%s\"", path, ln,
                      (long)((i < 0 ? a : b) - line) + 1, i < 0 ? a : b);
      } else if (i == j) {
        latens_errorf(__FILE__, __LINE__, st = LATENS_EPARSE, "%s:%ld: an edge needs two different variables",
                      path, ln);
      } else {
        st = kw[0] == 'f' ? latens_causal_knowledge_forbid(k, (size_t)i, (size_t)j)
                          : latens_causal_knowledge_require(k, (size_t)i, (size_t)j);
        if (st) latens_errorf(__FILE__, __LINE__, st, "%s:%ld: conflicting statement", path, ln);
      }
    } else if (strcmp(kw, "tier") == 0) {
      char *num = next_tok(&s), *end = NULL;
      long tier = num ? strtol(num, &end, 10) : -1;
      if (!num || *end || tier < 0 || tier > 1000000) {
        latens_errorf(__FILE__, __LINE__, st = LATENS_EPARSE, "%s:%ld: expected \"tier N A B ...\" with N >= 0",
                      path, ln);
      }
      for (char *a; !st && (a = next_tok(&s));) {
        long i = find_var(t, a);
        if (i < 0) latens_errorf(__FILE__, __LINE__, st = LATENS_EPARSE, "%s:%ld:%ld: unknown variable \"%s\"", path, ln,
                                (long)(a - line) + 1, a);
        else k->tier[i] = (int)tier;
      }
    } else {
      latens_errorf(__FILE__, __LINE__, st = LATENS_EPARSE,
                    "%s:%ld:%ld: unknown statement \"%s\" (expected forbid, require or tier)", path, ln,
                    (long)(kw - line) + 1, kw);
    }
  }
  fclose(f);
  if (st) {
    latens_causal_knowledge_free(k);
    return st;
  }
  *out = k;
  return LATENS_OK;
}
