/* causal/io.c: graphs as edge-list CSV, DOT and JSON; reading graph.txt, edge lists and
 * causal-learn's adjacency-matrix encoding. */
#include "causal_impl.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int list(const latens_causal_graph *g, size_t **from, size_t **to, int **mf, int **mt,
                size_t *n) {
  *n = latens_causal_graph_edges(g, NULL, NULL, NULL, NULL, 0);
  size_t c = *n ? *n : 1;
  *from = malloc(c * sizeof **from);
  *to = malloc(c * sizeof **to);
  *mf = malloc(c * sizeof **mf);
  *mt = malloc(c * sizeof **mt);
  if (!*from || !*to || !*mf || !*mt) {
    free(*from), free(*to), free(*mf), free(*mt);
    LATENS_ERROR("graph output: out of memory", LATENS_ENOMEM);
  }
  latens_causal_graph_edges(g, *from, *to, *mf, *mt, *n);
  return LATENS_OK;
}

/* CSV field: quoted when it holds a delimiter, quote or line break. */
static void csv_field(FILE *f, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

static int finish(FILE *f, const char *what) {
  if (ferror(f)) LATENS_ERRORF(LATENS_EIO, "%s: write error", what);
  return LATENS_OK;
}

int latens_causal_graph_write_csv(FILE *f, const latens_causal_graph *g) {
  if (!f || !g) LATENS_ERROR("latens_causal_graph_write_csv: NULL argument", LATENS_EINVAL);
  size_t *from, *to, n;
  int *mf, *mt;
  int st = list(g, &from, &to, &mf, &mt, &n);
  if (st) return st;
  fputs("from,to,type\n", f);
  /* Nodes first, in index order, so that reading the file back keeps indices and flags. */
  for (size_t i = 0; i < g->p; i++) {
    csv_field(f, g->names[i]);
    fputs(g->latent[i] ? ",,latent\n" : ",,\n", f);
  }
  for (size_t e = 0; e < n; e++) {
    csv_field(f, g->names[from[e]]);
    fputc(',', f);
    csv_field(f, g->names[to[e]]);
    fprintf(f, ",%s\n", latens_causal_edge_type(mf[e], mt[e]));
  }
  free(from), free(to), free(mf), free(mt);
  return finish(f, "latens_causal_graph_write_csv");
}

static void dot_id(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', f);
    fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
  }
  fputc('"', f);
}

static const char *dot_mark(int m) {
  return m == LATENS_CAUSAL_ARROW ? "normal" : m == LATENS_CAUSAL_CIRCLE ? "odot" : "none";
}

int latens_causal_graph_write_dot(FILE *f, const latens_causal_graph *g) {
  if (!f || !g) LATENS_ERROR("latens_causal_graph_write_dot: NULL argument", LATENS_EINVAL);
  size_t *from, *to, n;
  int *mf, *mt;
  int st = list(g, &from, &to, &mf, &mt, &n);
  if (st) return st;
  fputs("digraph G {\n", f);
  for (size_t i = 0; i < g->p; i++) {
    fputs("  ", f);
    dot_id(f, g->names[i]);
    fputs(g->latent[i] ? " [shape=ellipse, style=dashed];\n" : " [shape=box];\n", f);
  }
  for (size_t e = 0; e < n; e++) {
    fputs("  ", f);
    dot_id(f, g->names[from[e]]);
    fputs(" -> ", f);
    dot_id(f, g->names[to[e]]);
    fprintf(f, " [dir=both, arrowtail=%s, arrowhead=%s];\n", dot_mark(mf[e]), dot_mark(mt[e]));
  }
  fputs("}\n", f);
  free(from), free(to), free(mf), free(mt);
  return finish(f, "latens_causal_graph_write_dot");
}

static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20 || c == 0x7f) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

int latens_causal_graph_write_json(FILE *f, const latens_causal_graph *g) {
  if (!f || !g) LATENS_ERROR("latens_causal_graph_write_json: NULL argument", LATENS_EINVAL);
  size_t *from, *to, n;
  int *mf, *mt;
  int st = list(g, &from, &to, &mf, &mt, &n);
  if (st) return st;
  fputs("{\"nodes\": [", f);
  for (size_t i = 0, c = 0; i < g->p; i++) {
    if (g->latent[i]) continue;
    if (c++) fputs(", ", f);
    json_str(f, g->names[i]);
  }
  fputs("], \"edges\": [", f);
  for (size_t e = 0; e < n; e++) {
    fputs(e ? ", {\"from\": " : "{\"from\": ", f);
    json_str(f, g->names[from[e]]);
    fputs(", \"to\": ", f);
    json_str(f, g->names[to[e]]);
    fprintf(f, ", \"type\": \"%s\"}", latens_causal_edge_type(mf[e], mt[e]));
  }
  fputs("], \"latent_nodes\": [", f);
  for (size_t i = 0, c = 0; i < g->p; i++) {
    if (!g->latent[i]) continue;
    if (c++) fputs(", ", f);
    json_str(f, g->names[i]);
  }
  fputs("]}\n", f);
  free(from), free(to), free(mf), free(mt);
  return finish(f, "latens_causal_graph_write_json");
}

/* ---------------------------------------------------------------------------- reading */

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  size_t n = strlen(s);
  while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
  return s;
}

/* Node index by name, adding it (observed) when absent. */
static int node(latens_causal_graph *g, const char *name, size_t *idx) {
  long i = latens_causal_graph_index(g, name);
  if (i >= 0) {
    *idx = (size_t)i;
    return LATENS_OK;
  }
  return latens_causal_graph_add_node(g, name, 0, idx);
}

/* Split a CSV line of at most 3 fields (quotes as written by write_csv). */
static int csv_split(char *s, char **fld, int max) {
  int n = 0;
  for (;;) {
    if (n == max) return -1;
    char *out = s;
    fld[n++] = s;
    if (*s == '"') {
      s++;
      for (;;) {
        if (!*s) return -1;
        if (*s == '"' && s[1] == '"') *out++ = '"', s += 2;
        else if (*s == '"') {
          s++;
          break;
        } else *out++ = *s++;
      }
      if (*s && *s != ',') return -1;
    } else {
      while (*s && *s != ',') *out++ = *s++;
    }
    int more = *s == ',';
    if (*s) s++;
    *out = 0;
    fld[n - 1] = trim(fld[n - 1]);
    if (!more) return n;
  }
}

static int add_edge_line(latens_causal_graph *g, const char *a, const char *b, const char *type,
                         const char *path, long ln) {
  int ml = 0, mr = 0, st;
  for (int a = 1; a < 4 && !ml; a++) /* parsed here, not by edge_parse, to report path:line */
    for (int b = 1; b < 4 && !ml; b++)
      if (strcmp(type, latens_causal_edge_type(a, b)) == 0) ml = a, mr = b;
  if (!ml) LATENS_ERRORF(LATENS_EPARSE, "%s:%ld: unknown edge type \"%s\"", path, ln, type);
  size_t i, j;
  if ((st = node(g, a, &i)) || (st = node(g, b, &j))) return st;
  if (i == j) LATENS_ERRORF(LATENS_EPARSE, "%s:%ld: a self-loop on \"%s\"", path, ln, a);
  if (CG_ADJ(g, i, j)) LATENS_ERRORF(LATENS_EPARSE, "%s:%ld: a second edge between \"%s\" and \"%s\"", path, ln, a, b);
  cg_set(g, i, j, ml, mr);
  return LATENS_OK;
}

static int read_lines(FILE *f, const char *path, latens_causal_graph *g) {
  char line[65536];
  int st = LATENS_OK, fmt = 0; /* 0 unknown, 1 graph.txt, 2 CSV */
  int section = 0;             /* graph.txt: 1 after "Graph Nodes:", 2 after "Graph Edges:" */
  for (long ln = 1; !st && fgets(line, sizeof line, f); ln++) {
    if (!strchr(line, '\n') && !feof(f)) LATENS_ERRORF(LATENS_EPARSE, "%s:%ld: line too long", path, ln);
    char *s = trim(line);
    if (!*s) continue;
    if (fmt == 0) {
      if (strcmp(s, "Graph Nodes:") == 0) {
        fmt = 1, section = 1;
        continue;
      }
      if (strncmp(s, "from,to", 7) == 0) {
        fmt = 2;
        continue;
      }
      LATENS_ERRORF(LATENS_EPARSE, "%s:%ld: expected \"Graph Nodes:\" or a \"from,to,type\" header", path, ln);
    }
    if (fmt == 1) {
      if (strcmp(s, "Graph Edges:") == 0) {
        section = 2;
        continue;
      }
      if (section == 1) {
        /* Split on ';' in place (strtok keeps hidden state: not reentrant). */
        for (char *tok = s, *end; tok && !st; tok = end ? end + 1 : NULL) {
          end = strchr(tok, ';');
          if (end) *end = 0;
          size_t idx;
          if (*trim(tok)) st = node(g, trim(tok), &idx);
        }
        continue;
      }
      /* "k. A --> B" */
      char *dot = strchr(s, '.');
      char a[1024], ty[8], b[1024], extra[2];
      if (!dot || sscanf(dot + 1, " %1023s %7s %1023s %1s", a, ty, b, extra) != 3)
        LATENS_ERRORF(LATENS_EPARSE, "%s:%ld: expected \"k. A --> B\"", path, ln);
      st = add_edge_line(g, a, b, ty, path, ln);
    } else {
      char *fld[3];
      int n = csv_split(s, fld, 3);
      if (n < 2) LATENS_ERRORF(LATENS_EPARSE, "%s:%ld: expected from,to,type", path, ln);
      if (n == 3 && !*fld[1]) { /* an isolated or latent node */
        size_t idx;
        st = node(g, fld[0], &idx);
        if (!st && strcmp(fld[2], "latent") == 0) g->latent[idx] = 1;
        else if (!st && *fld[2]) LATENS_ERRORF(LATENS_EPARSE, "%s:%ld: expected \"name,,\" or \"name,,latent\"", path, ln);
      } else if (n == 3 && *fld[0]) {
        st = add_edge_line(g, fld[0], fld[1], fld[2], path, ln);
      } else if (n == 2 && *fld[0] && !*fld[1]) {
        size_t idx;
        st = node(g, fld[0], &idx);
      } else {
        LATENS_ERRORF(LATENS_EPARSE, "%s:%ld: expected from,to,type", path, ln);
      }
    }
  }
  if (!st && ferror(f)) LATENS_ERRORF(LATENS_EIO, "%s: read error", path);
  if (!st && fmt == 0) LATENS_ERRORF(LATENS_EPARSE, "%s: empty graph file", path);
  return st;
}

int latens_causal_graph_read(const char *path, latens_causal_graph **out) {
  if (!out) LATENS_ERROR("latens_causal_graph_read: out is NULL", LATENS_EINVAL);
  *out = NULL;
  if (!path) LATENS_ERROR("latens_causal_graph_read: path is NULL", LATENS_EINVAL);
  FILE *f = fopen(path, "r");
  if (!f) LATENS_ERRORF(LATENS_EIO, "%s: cannot open: %s", path, strerror(errno));
  latens_causal_graph *g = latens_causal_graph_alloc(0, NULL);
  if (!g) {
    fclose(f);
    return LATENS_ENOMEM;
  }
  int st = read_lines(f, path, g);
  fclose(f);
  if (st) {
    latens_causal_graph_free(g);
    return st;
  }
  *out = g;
  return LATENS_OK;
}

int latens_causal_graph_read_causallearn(const char *path, size_t p, const char *const *names,
                                         latens_causal_graph **out) {
  if (!out) LATENS_ERROR("latens_causal_graph_read_causallearn: out is NULL", LATENS_EINVAL);
  *out = NULL;
  if (!path || p == 0) LATENS_ERROR("latens_causal_graph_read_causallearn: NULL path or p = 0", LATENS_EINVAL);
  FILE *f = fopen(path, "r");
  if (!f) LATENS_ERRORF(LATENS_EIO, "%s: cannot open: %s", path, strerror(errno));
  int *G = malloc(p * p * sizeof *G);
  latens_causal_graph *g = latens_causal_graph_alloc(p, names);
  int st = G && g ? LATENS_OK : LATENS_ENOMEM;
  for (size_t q = 0; q < p * p && !st; q++) {
    int v;
    if (fscanf(f, "%d", &v) != 1 || v < -1 || v > 2) {
      latens_errorf(__FILE__, __LINE__, st = LATENS_EPARSE, "%s: entry %zu (row %zu) missing or not -1, 0, 1, 2",
                    path, q + 1, q / p + 1);
    } else G[q] = v;
  }
  fclose(f);
  for (size_t i = 0; i < p && !st; i++)
    for (size_t j = i + 1; j < p && !st; j++) {
      /* G[i][j] is the mark at i: -1 tail, 1 arrow, 2 circle. */
      int a = G[i * p + j], b = G[j * p + i];
      if (!a && !b) continue;
      if (!a || !b) {
        latens_errorf(__FILE__, __LINE__, st = LATENS_EPARSE, "%s: G[%zu][%zu] = %d but G[%zu][%zu] = %d", path,
                      i, j, a, j, i, b);
        break;
      }
      static const int mk[4] = {LATENS_CAUSAL_TAIL, 0, LATENS_CAUSAL_ARROW, LATENS_CAUSAL_CIRCLE};
      cg_set(g, i, j, mk[a + 1], mk[b + 1]);
    }
  free(G);
  if (st) {
    latens_causal_graph_free(g);
    return st;
  }
  *out = g;
  return LATENS_OK;
}
