/* cli/causal_demo.c: the causal section of `latens demo` — PC-stable on the Sachs et al.
 * (2005) flow-cytometry data, scored against the 18-edge consensus network. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "causal_cli.h"

static char *join(const char *dir, const char *file) {
  size_t n = strlen(dir) + strlen(file) + 2;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s/%s", dir, file);
  return s;
}

/* Concentrations span orders of magnitude and are right-skewed: Fisher-z is run on their
 * logarithms (every value is positive), the usual preprocessing of this data set. */
static int log_data(const latens_table *t, latens_causal_data **out) {
  const latens_mat *x = latens_table_data(t);
  size_t n = x->nrow, p = x->ncol;
  latens_mat *lx = latens_mat_alloc(n, p);
  const char **names = malloc(p * sizeof *names);
  int st = lx && names ? LATENS_OK : LATENS_ENOMEM;
  for (size_t j = 0; j < p && !st; j++) {
    names[j] = latens_table_name(t, j);
    for (size_t i = 0; i < n; i++) {
      double v = LATENS_MAT(x, i, j);
      LATENS_MAT(lx, i, j) = v > 0 ? log(v) : NAN;
    }
  }
  if (!st) st = latens_causal_data_alloc(lx, names, 0, out);
  latens_mat_free(lx);
  free(names);
  return st;
}

/* Each edge of g with its verdict against the consensus graph truth; returns 0 or CLI_EMODEL. */
static int edges_vs(const latens_causal_graph *g, const latens_causal_graph *truth, FILE *out,
                    cli_json *j) {
  size_t ne = latens_causal_graph_edges(g, NULL, NULL, NULL, NULL, 0);
  size_t *from = malloc((ne + 1) * sizeof *from), *to = malloc((ne + 1) * sizeof *to);
  int *mf = malloc((ne + 1) * sizeof *mf), *mt = malloc((ne + 1) * sizeof *mt);
  if (!from || !to || !mf || !mt) {
    free(from), free(to), free(mf), free(mt);
    return CLI_EMODEL;
  }
  latens_causal_graph_edges(g, from, to, mf, mt, ne);
  if (j) cli_json_key(j, "edges"), cli_json_array(j);
  for (size_t e = 0; e < ne; e++) {
    const char *a = latens_causal_graph_name(g, from[e]), *b = latens_causal_graph_name(g, to[e]);
    long ta = latens_causal_graph_index(truth, a), tb = latens_causal_graph_index(truth, b);
    const char *verdict = latens_causal_graph_is_latent(g, from[e]) == 1 ? "from a latent node" : "not in consensus";
    if (ta >= 0 && tb >= 0 && latens_causal_graph_adjacent(truth, (size_t)ta, (size_t)tb)) {
      int same = latens_causal_graph_mark(truth, (size_t)ta, (size_t)tb) == mt[e] &&
                 latens_causal_graph_mark(truth, (size_t)tb, (size_t)ta) == mf[e];
      verdict = same ? "consensus, same direction" : "consensus adjacency";
    }
    const char *type = latens_causal_edge_type(mf[e], mt[e]);
    if (j) {
      cli_json_object(j);
      cli_json_key(j, "from"), cli_json_string(j, a);
      cli_json_key(j, "to"), cli_json_string(j, b);
      cli_json_key(j, "type"), cli_json_string(j, type);
      cli_json_key(j, "verdict"), cli_json_string(j, verdict);
      cli_json_close(j, '}');
    } else {
      size_t w = strlen(a) + strlen(b);
      fputs("    ", out);
      cli_fputs_printable(out, a);
      fprintf(out, " %s ", type);
      cli_fputs_printable(out, b);
      fprintf(out, "%*s%s\n", (int)(w < 24 ? 24 - w : 1), "", verdict);
    }
  }
  if (j) cli_json_close(j, ']');
  free(from), free(to), free(mf), free(mt);
  return CLI_OK;
}

/* The estimate's observed part against the consensus: adjacency precision/recall/F1, SHD. */
static int score(const latens_causal_graph *g, const latens_causal_graph *truth,
                 latens_causal_compare_result *r) {
  /* The cumulant method appends latent nodes after the observed ones: compare those only. */
  size_t p = latens_causal_graph_nnodes(truth);
  const char **names = malloc(p * sizeof *names);
  if (!names) return LATENS_ENOMEM;
  for (size_t i = 0; i < p; i++) names[i] = latens_causal_graph_name(g, i);
  latens_causal_graph *o = latens_causal_graph_alloc(p, names);
  free(names);
  if (!o) return LATENS_ENOMEM;
  for (size_t i = 0; i < p; i++)
    for (size_t k = i + 1; k < p; k++)
      if (latens_causal_graph_adjacent(g, i, k))
        latens_causal_graph_set_edge(o, i, k, latens_causal_graph_mark(g, k, i), latens_causal_graph_mark(g, i, k));
  int st = latens_causal_compare(truth, o, r);
  latens_causal_graph_free(o);
  return st;
}

static void summary(const char *what, const latens_causal_compare_result *r, FILE *out, cli_json *j) {
  if (j) {
    cli_json_key(j, "shd"), cli_json_int(j, (long long)r->shd);
    cli_json_key(j, "adj_precision"), cli_json_number(j, r->adj_precision);
    cli_json_key(j, "adj_recall"), cli_json_number(j, r->adj_recall);
    cli_json_key(j, "adj_f1"), cli_json_number(j, r->adj_f1);
  } else {
    fprintf(out, "  %s: adjacency precision %.2f, recall %.2f, F1 %.2f; SHD %zu against the consensus\n",
            what, r->adj_precision, r->adj_recall, r->adj_f1, r->shd);
  }
}

int cli_demo_causal(const cli_common *c, const char *dir, FILE *out, cli_json *j) {
  char *dpath = join(dir, "sachs.csv"), *gpath = join(dir, "sachs_consensus.csv");
  latens_table *t = NULL;
  latens_causal_data *d = NULL, *raw = NULL;
  latens_causal_citest *ci = NULL;
  latens_causal_graph *truth = NULL, *g = NULL, *cg = NULL;
  int rc = CLI_OK, st = dpath && gpath ? LATENS_OK : LATENS_ENOMEM;
  if (!st) st = latens_table_read_numeric(dpath, NULL, &t);
  if (!st) st = log_data(t, &d);
  if (!st) st = latens_causal_data_from_table(t, 0, &raw);
  if (!st) st = latens_causal_graph_read(gpath, &truth);
  if (!st) st = (ci = latens_causal_citest_alloc(d, LATENS_CAUSAL_TEST_FISHERZ, 0)) ? LATENS_OK : LATENS_ENOMEM;
  latens_causal_pc_options o;
  latens_causal_pc_options_default(&o);
  o.alpha = 0.01;
  o.threads = c->threads;
  if (!st) st = latens_causal_pc(ci, NULL, &o, NULL, &g);
  /* The cumulant method needs the non-Gaussianity the logarithm would remove: raw data. */
  if (!st) st = latens_causal_cumulant(raw, NULL, NULL, NULL, &cg);
  latens_causal_compare_result r, rc2;
  if (!st) st = score(g, truth, &r);
  if (!st) st = score(cg, truth, &rc2);
  if (st) {
    rc = cli_fail(c, cli_exit_code(st), "causal demo: %s", cli_last_error());
    goto done;
  }
  size_t nl = latens_causal_graph_nnodes(cg) - latens_causal_data_p(raw);
  if (j) {
    cli_json_key(j, "causal"), cli_json_object(j);
    cli_json_key(j, "data"), cli_json_string(j, "sachs");
    cli_json_key(j, "consensus_edges"), cli_json_int(j, (long long)latens_causal_graph_nedges(truth));
    cli_json_key(j, "pc"), cli_json_object(j);
    cli_json_key(j, "method"), cli_json_string(j, "pc-stable fisherz alpha 0.01 on log data");
    rc = edges_vs(g, truth, out, j);
    summary("PC", &r, out, j);
    cli_json_close(j, '}');
    cli_json_key(j, "cumulant"), cli_json_object(j);
    cli_json_key(j, "latent_nodes"), cli_json_int(j, (long long)nl);
    if (!rc) rc = edges_vs(cg, truth, out, j);
    summary("cumulant", &rc2, out, j);
    cli_json_close(j, '}');
    cli_json_close(j, '}');
  } else {
    fprintf(out, "causal: Sachs et al. 2005 flow cytometry, %zu cells x %zu proteins, against the\n"
                 "  %zu-edge consensus network\n  PC-stable (Fisher-z on log concentrations, alpha 0.01):\n",
            latens_causal_data_n(d), latens_causal_data_p(d), latens_causal_graph_nedges(truth));
    rc = edges_vs(g, truth, out, NULL);
    summary("PC-stable", &r, out, NULL);
    fprintf(out, "  higher-order cumulants (Cai et al. 2023; raw data), %zu latent node%s:\n", nl, nl == 1 ? "" : "s");
    if (!rc) rc = edges_vs(cg, truth, out, NULL);
    summary("cumulant", &rc2, out, NULL);
  }
  if (rc) rc = cli_fail(c, CLI_EMODEL, "out of memory");
done:
  latens_causal_graph_free(g);
  latens_causal_graph_free(cg);
  latens_causal_graph_free(truth);
  latens_causal_citest_free(ci);
  latens_causal_data_free(d);
  latens_causal_data_free(raw);
  latens_table_free(t);
  free(dpath);
  free(gpath);
  return rc;
}
