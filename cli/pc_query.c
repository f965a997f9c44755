/* cli/pc_query.c: `latens pc loglik|marginal|conditional|map|sample` on a saved circuit.
 *
 * Data: CSV with or without a header (detected: a header has a non-numeric cell; the
 * density-estimation benchmark's files have none), NA, ? or an empty cell for a missing value.
 * Every cell is checked against the model before any work: a discrete variable takes a
 * category 0..ncat-1, a continuous one a finite number; the first bad cell is named as
 * file:line:column. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OPT_MODEL = 256, OPT_DATA, OPT_QUERY, OPT_NSAMP };

typedef struct {
  const char *model, *data, *query;
  unsigned long nsamples;
  int has_n;
} args;

static int handle(int val, const char *arg, void *user) {
  args *a = user;
  switch (val) {
  case OPT_MODEL: a->model = arg; return 0;
  case OPT_DATA: a->data = arg; return 0;
  case OPT_QUERY: a->query = arg; return 0;
  case OPT_NSAMP: a->has_n = 1; return cli_parse_ulong(arg, &a->nsamples) || a->nsamples == 0 || a->nsamples > (1ul << 28);
  default: return 1;
  }
}

static const char DATA_HELP[] =
    "Data: CSV, with a header or without (the density-estimation benchmark's 0/1 files);\n"
    "NA, ? or an empty cell is a missing value.  One column per model variable.\n";

/* Read F and check it against the model; *header gets the column names (or NULL). */
static int read_data(const cli_common *c, const char *path, const latens_pc *pc, latens_mat **X,
                     latens_table **tab) {
  latens_table *t = NULL;
  int st = latens_table_read_numeric(path, NULL, &t);
  if (st) return cli_fail(c, cli_exit_code(st), "%s", cli_last_error());
  size_t n = latens_table_nrow(t), p = latens_table_ncol(t), nv = latens_pc_nvars(pc);
  size_t line0 = 1 + (size_t)latens_table_has_header(t);
  if (n == 0) {
    latens_table_free(t);
    return cli_fail(c, CLI_EUSAGE, "%s: no data rows", path);
  }
  if (p != nv) {
    latens_table_free(t);
    return cli_fail(c, CLI_EUSAGE, "%s:%zu: %zu columns, the model has %zu variables", path, line0, p, nv);
  }
  const latens_mat *D = latens_table_data(t);
  for (size_t i = 0; i < n; i++) /* row order, so the first bad line is named */
    for (size_t j = 0; j < p; j++) {
      double x = LATENS_MAT(D, i, j);
      size_t k = latens_pc_ncat(pc, j);
      if (isnan(x) || (k ? x >= 0 && x < (double)k && x == floor(x) : isfinite(x))) continue;
      char num[40];
      cli_format_number(num, sizeof num, x);
      int code;
      if (k == 2) code = cli_fail(c, CLI_EUSAGE, "%s:%zu:%zu: %s is not 0, 1 or missing (binary variable %zu)", path, line0 + i, j + 1, num, j);
      else if (k) code = cli_fail(c, CLI_EUSAGE, "%s:%zu:%zu: %s is not a category 0..%zu of variable %zu", path, line0 + i, j + 1, num, k - 1, j);
      else code = cli_fail(c, CLI_EUSAGE, "%s:%zu:%zu: %s is not finite", path, line0 + i, j + 1, num);
      latens_table_free(t);
      return code;
    }
  *X = latens_table_release_data(t);
  if (tab) *tab = t;
  else latens_table_free(t);
  return CLI_OK;
}

static int load_model(const cli_common *c, const char *path, latens_pc **pc) {
  if (!path) return cli_fail(c, CLI_EUSAGE, "--model FILE is required (see --help)");
  int st = latens_pc_load(path, pc);
  if (st) return cli_fail(c, cli_exit_code(st), "%s", cli_last_error());
  return CLI_OK;
}

/* Per-row numbers to -o or stdout; with --json a summary on stdout instead of stdout rows. */
static int emit_values(const cli_common *c, const latens_vec *v, size_t nvars, const char *key) {
  if (c->output || !c->json) {
    cli_out *o = cli_out_open(c);
    if (!o) return cli_fail(c, CLI_EUSAGE, "%s", cli_last_error());
    FILE *f = cli_out_stream(o);
    char buf[40];
    for (size_t i = 0; i < v->n; i++) {
      cli_format_number(buf, sizeof buf, LATENS_VEC(v, i));
      fprintf(f, "%s\n", LATENS_VEC(v, i) == -INFINITY ? "-Inf" : buf);
    }
    if (cli_out_close(o, 1, c)) return CLI_EUSAGE;
  }
  if (c->json) {
    double s = 0;
    for (size_t i = 0; i < v->n; i++) s += LATENS_VEC(v, i);
    double mean = s / (double)v->n;
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_key(&j, key);
    cli_json_number(&j, mean);
    cli_json_key(&j, "n");
    cli_json_int(&j, (long long)v->n);
    cli_json_key(&j, "bits_per_dim");
    cli_json_number(&j, -mean / ((double)nvars * log(2.0)));
    cli_json_end(&j);
  }
  return CLI_OK;
}

/* A completed table (map, sample) as CSV, with the input's header when it had one. */
static int emit_table(const cli_common *c, const latens_mat *X, const latens_table *t) {
  cli_out *o = cli_out_open(c);
  if (!o) return cli_fail(c, CLI_EUSAGE, "%s", cli_last_error());
  FILE *f = cli_out_stream(o);
  if (t && latens_table_has_header(t)) {
    for (size_t j = 0; j < X->ncol; j++) {
      if (j) fputc(',', f);
      cli_fputs_printable(f, latens_table_name(t, j));
    }
    fputc('\n', f);
  }
  char buf[40];
  for (size_t i = 0; i < X->nrow; i++)
    for (size_t j = 0; j < X->ncol; j++) {
      cli_format_number(buf, sizeof buf, LATENS_MAT(X, i, j));
      fprintf(f, "%s%c", buf, j + 1 < X->ncol ? ',' : '\n');
    }
  return cli_out_close(o, 1, c) ? CLI_EUSAGE : CLI_OK;
}

/* Comma-separated 0-based column indices or header names. */
static int parse_query(const cli_common *c, const char *s, const latens_table *t, size_t nv,
                       size_t **q, size_t *nq) {
  if (!s || !*s) return cli_fail(c, CLI_EUSAGE, "--query VARS is required (comma-separated 0-based indices or column names)");
  size_t cap = 1;
  for (const char *p = s; *p; p++) cap += *p == ',';
  *q = malloc(cap * sizeof **q);
  char *dup = strdup(s), *save = NULL;
  *nq = 0;
  for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    unsigned long v;
    size_t idx = (size_t)-1;
    if (!cli_parse_ulong(tok, &v) && v < nv) idx = v;
    for (size_t j = 0; idx == (size_t)-1 && t && latens_table_has_header(t) && j < nv; j++)
      if (!strcmp(latens_table_name(t, j), tok)) idx = j;
    if (idx == (size_t)-1) {
      int code = cli_fail(c, CLI_EUSAGE, "--query: \"%s\" is neither a column index 0..%zu nor a column name", tok, nv - 1);
      free(dup), free(*q), *q = NULL;
      return code;
    }
    (*q)[(*nq)++] = idx;
  }
  free(dup);
  if (*nq == 0) {
    free(*q), *q = NULL;
    return cli_fail(c, CLI_EUSAGE, "--query names no variable");
  }
  return CLI_OK;
}

typedef enum { Q_LOGLIK, Q_MARGINAL, Q_CONDITIONAL, Q_MAP, Q_SAMPLE } qkind;

static const char *const USAGE[] = {
    "Usage: latens pc loglik --model M --data F [-o FILE] [--json]\n"
    "Log-likelihood of each row (missing values marginalised), one number per line to -o or\n"
    "stdout; --json prints {\"mean_loglik\": x, \"n\": n, \"bits_per_dim\": b} instead.\n",
    "Usage: latens pc marginal --model M --data F [-o FILE] [--json]\n"
    "Marginal log-probability of each row's observed entries (NA marginalised); output as\n"
    "for loglik.\n",
    "Usage: latens pc conditional --model M --data F --query VARS [-o FILE] [--json]\n"
    "log p(x_Q | x_E) per row: Q = VARS (comma-separated 0-based indices or column names,\n"
    "observed in every row), E = the other observed entries.  --json: {\"mean_logcond\", \"n\",\n"
    "\"bits_per_dim\"}.\n",
    "Usage: latens pc map --model M --data F [-o FILE] [--json]\n"
    "Fills each row's missing entries with the MAP completion (max-product with backtracking:\n"
    "exact for deterministic circuits, otherwise the usual MPE approximation) and writes the\n"
    "completed CSV; --json prints {\"n\", \"mean_logp\", \"exact\"} on stdout.\n",
    "Usage: latens pc sample --model M -n N [--seed S] [-o FILE]\n"
    "       latens pc sample --model M --data F [--seed S] [-o FILE]\n"
    "N unconditional samples, or one sample per row of F conditioned on its observed entries,\n"
    "as CSV.\n",
};

static int run_query(int argc, char **argv, cli_common *c, qkind kind) {
  static const struct option extra[] = {{"model", required_argument, NULL, OPT_MODEL},
                                        {"data", required_argument, NULL, OPT_DATA},
                                        {"query", required_argument, NULL, OPT_QUERY},
                                        {"nsamples", required_argument, NULL, OPT_NSAMP},
                                        {"n", required_argument, NULL, OPT_NSAMP},
                                        {0, 0, 0, 0}};
  args a = {0};
  char usage[1200];
  snprintf(usage, sizeof usage, "%s%s", USAGE[kind], DATA_HELP);
  int first = cli_parse(argc, argv, c, extra, handle, &a, usage);
  if (first == -2) return CLI_OK;
  if (first < 0) return CLI_EUSAGE;
  if (first < argc) return cli_fail(c, CLI_EUSAGE, "unexpected operand '%s'", argv[first]);
  if (kind != Q_SAMPLE && !a.data) return cli_fail(c, CLI_EUSAGE, "--data FILE is required (see --help)");
  if (kind == Q_SAMPLE && !a.data == !a.has_n) return cli_fail(c, CLI_EUSAGE, "give either -n N or --data F (see --help)");
  if (kind != Q_CONDITIONAL && a.query) return cli_fail(c, CLI_EUSAGE, "--query is for `latens pc conditional`");
  if (kind != Q_SAMPLE && a.has_n) return cli_fail(c, CLI_EUSAGE, "-n is for `latens pc sample`");
  latens_pc *pc = NULL;
  latens_mat *X = NULL;
  latens_table *t = NULL;
  latens_vec *v = NULL;
  size_t *q = NULL, nq = 0;
  int code;
  if ((code = load_model(c, a.model, &pc))) return code;
  size_t nv = latens_pc_nvars(pc);
  if (a.data) code = read_data(c, a.data, pc, &X, &t);
  else if (!(X = latens_mat_alloc(a.nsamples, nv))) code = cli_fail(c, CLI_EMODEL, "out of memory");
  else for (size_t k = 0; k < a.nsamples * nv; k++) X->data[k] = NAN;
  if (!code && kind == Q_CONDITIONAL) code = parse_query(c, a.query, t, nv, &q, &nq);
  if (!code && !(v = latens_vec_alloc(X->nrow))) code = cli_fail(c, CLI_EMODEL, "out of memory");
  int st = LATENS_OK;
  if (!code) {
    latens_rng rng;
    latens_rng_init(&rng, c->seed, 0);
    switch (kind) {
    case Q_LOGLIK:
    case Q_MARGINAL: st = latens_pc_loglik(pc, X, v, NULL); break;
    case Q_CONDITIONAL: st = latens_pc_conditional(pc, X, q, nq, v, NULL); break;
    case Q_MAP: st = latens_pc_map(pc, X, v, NULL); break;
    case Q_SAMPLE: st = latens_pc_sample(pc, X, &rng, NULL); break;
    }
    if (st) code = cli_fail(c, cli_exit_code(st), "%s", cli_last_error());
  }
  if (!code && kind <= Q_MARGINAL) code = emit_values(c, v, nv, "mean_loglik");
  if (!code && kind == Q_CONDITIONAL) code = emit_values(c, v, nq, "mean_logcond");
  if (!code && kind >= Q_MAP) code = emit_table(c, X, t);
  if (!code && kind == Q_MAP && c->json) {
    double s = 0;
    for (size_t i = 0; i < v->n; i++) s += LATENS_VEC(v, i);
    cli_json j;
    cli_json_begin(&j, stdout);
    cli_json_key(&j, "n");
    cli_json_int(&j, (long long)v->n);
    cli_json_key(&j, "mean_logp");
    cli_json_number(&j, s / (double)v->n);
    cli_json_key(&j, "exact");
    cli_json_bool(&j, latens_pc_is_deterministic(pc));
    cli_json_end(&j);
  }
  free(q);
  latens_vec_free(v);
  latens_mat_free(X);
  latens_table_free(t);
  latens_pc_free(pc);
  return code;
}

static int run_loglik(int argc, char **argv, cli_common *c) { return run_query(argc, argv, c, Q_LOGLIK); }
static int run_marginal(int argc, char **argv, cli_common *c) { return run_query(argc, argv, c, Q_MARGINAL); }
static int run_conditional(int argc, char **argv, cli_common *c) { return run_query(argc, argv, c, Q_CONDITIONAL); }
static int run_map(int argc, char **argv, cli_common *c) { return run_query(argc, argv, c, Q_MAP); }
static int run_sample(int argc, char **argv, cli_common *c) { return run_query(argc, argv, c, Q_SAMPLE); }

const cli_command cli_pc_loglik = {"loglik", "log-likelihood of each row under a circuit", run_loglik};
const cli_command cli_pc_marginal = {"marginal", "marginal log-probability with NA marginalised", run_marginal};
const cli_command cli_pc_conditional = {"conditional", "log p(x_Q | x_E) per row", run_conditional};
const cli_command cli_pc_map = {"map", "MAP completion of missing entries", run_map};
const cli_command cli_pc_sample = {"sample", "unconditional or conditional samples", run_sample};
