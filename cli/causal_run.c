/* cli/causal_run.c: `latens causal pc|fci|ges|lingam|cumulant|notears|compare`. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "causal_cli.h"

static const char run_usage[] =
    "usage: latens causal ALGO --data F.csv [--discrete] [--test fisherz|chisq|gsq] [--alpha a]\n"
    "                     [--knowledge K] [--bootstrap B] [--dot] [OPTIONS]\n"
    "ALGO is pc, fci, ges, lingam, cumulant or notears.  F.csv: a table with a header (CSV, or\n"
    "whitespace-separated as bnlearn's .data.txt), one column per variable, no missing cells.\n"
    "Output: an edge list \"from,to,type\" (type -->, ---, <->, o->, o-o or --o), Graphviz\n"
    "with --dot, or with --json {\"nodes\": [...], \"edges\": [{\"from\", \"to\", \"type\"}],\n"
    "\"latent_nodes\": [...]}.\n\n"
    "Options:\n"
    "  --data F         the data table (required)\n"
    "  --discrete       integer-coded discrete data (default: continuous)\n"
    "  --test T         fisherz (continuous default), chisq (discrete default) or gsq\n"
    "  --alpha a        significance level of the CI tests (default 0.05)\n"
    "  --knowledge K    background knowledge: lines \"forbid A B\", \"require A B\",\n"
    "                   \"tier N A B ...\" ('#' comments)\n"
    "  --max-depth D    largest conditioning set (default: unlimited)\n"
    "  --uc-priority P  collider conflicts: 0 overwrite, 1 bidirected, 2 keep existing,\n"
    "                   3 stronger first (default, as causal-learn's stored answers)\n"
    "  --bootstrap B    edge frequencies over B bootstrap resamples (--seed, --threads):\n"
    "                   from,to,type,frequency (or JSON edges with \"frequency\")\n"
    "  --ica            lingam: ICA-LiNGAM (FastICA, seeded by --seed) instead of DirectLiNGAM\n"
    "  --dot            Graphviz DOT output\n"
    "fci only:\n"
    "  --pds-depth N    largest subset of Possible-D-SEP tried as a separating set (default\n"
    "                   3, -1 unlimited: exponential in its size)\n"
    "  --rules R        orientation rules: zhang (default; Zhang 2008, sound and complete)\n"
    "                   or causallearn (causal-learn's fci(): its R4 and its R9/R10, which\n"
    "                   can put tails no data licenses, and its Possible-D-SEP; reproduces\n"
    "                   its answers)\n";

enum {
  OPT_DATA = 256, OPT_DISCRETE, OPT_TEST, OPT_ALPHA, OPT_KNOW, OPT_BOOT, OPT_DOT, OPT_DEPTH,
  OPT_UC, OPT_TRUTH, OPT_EST, OPT_TRUTH_AS, OPT_ICA
};

static int handle(int val, const char *arg, void *user) {
  causal_args *a = user;
  switch (val) {
    case OPT_DATA: a->data = arg; return 0;
    case OPT_DISCRETE: a->discrete = 1; return 0;
    case OPT_TEST:
      if (!strcmp(arg, "fisherz")) a->test = LATENS_CAUSAL_TEST_FISHERZ;
      else if (!strcmp(arg, "chisq")) a->test = LATENS_CAUSAL_TEST_CHISQ;
      else if (!strcmp(arg, "gsq")) a->test = LATENS_CAUSAL_TEST_GSQ;
      else return 1;
      return 0;
    case OPT_ALPHA: return cli_parse_double(arg, &a->opt.alpha) || !(a->opt.alpha > 0 && a->opt.alpha < 1);
    case OPT_KNOW: a->knowledge = arg; return 0;
    case OPT_BOOT: return cli_parse_int(arg, 1, 100000, &a->bootstrap);
    case OPT_DOT: a->dot = 1; return 0;
    case OPT_ICA: a->ica = 1; return 0;
    case OPT_DEPTH: return cli_parse_int(arg, 0, 1000, &a->opt.max_depth);
    case OPT_UC: return cli_parse_int(arg, 0, 3, &a->opt.uc_priority);
    case OPT_TRUTH: a->truth = arg; return 0;
    case OPT_EST: a->estimate = arg; return 0;
    case OPT_TRUTH_AS:
      if (!strcmp(arg, "given")) a->truth_as = 0;
      else if (!strcmp(arg, "cpdag")) a->truth_as = 1;
      else if (!strcmp(arg, "pag")) a->truth_as = 2;
      else return 1;
      return 0;
    default: return 1;
  }
}

/* Line and column of cell (i, j) of t: rows follow the header one per line (no blank lines
 * inside a data table, which the reader would skip). */
static void cell_pos(const latens_table *t, size_t i, size_t j, long *line, long *col) {
  *line = (long)i + 1 + (latens_table_has_header(t) ? 1 : 0);
  *col = (long)j + 1;
}

int causal_load_data(const cli_common *c, const char *path, int discrete, latens_causal_data **out) {
  latens_table_options to;
  latens_table_options_default(&to);
  to.n_na = 0; /* no missing-value tokens: an NA or empty cell is a parse error at its cell */
  latens_table *t = NULL;
  int st = latens_table_read_numeric(path, &to, &t);
  if (st) return cli_fail(c, cli_exit_code(st), "%s", cli_last_error());
  size_t n = latens_table_nrow(t), p = latens_table_ncol(t);
  const latens_mat *x = latens_table_data(t);
  if (discrete)
    for (size_t j = 0; j < p; j++)
      for (size_t i = 0; i < n; i++) {
        double v = LATENS_MAT(x, i, j);
        if (v != floor(v)) {
          long ln, col;
          cell_pos(t, i, j, &ln, &col);
          cli_fail(c, CLI_EUSAGE, "%s:%ld:%ld: %.17g in column %s is not an integer state (--discrete)",
                   path, ln, col, v, latens_table_name(t, j));
          latens_table_free(t);
          return CLI_EUSAGE;
        }
      }
  st = latens_causal_data_from_table(t, discrete, out);
  latens_table_free(t);
  if (st) return cli_fail(c, cli_exit_code(st), "%s: %s", path, cli_last_error());
  return CLI_OK;
}

int causal_write_graph(const cli_common *c, const causal_args *a, const latens_causal_graph *g) {
  cli_out *o = cli_out_open(c);
  if (!o) return CLI_EUSAGE;
  FILE *f = cli_out_stream(o);
  int st = c->json ? latens_causal_graph_write_json(f, g)
           : a->dot ? latens_causal_graph_write_dot(f, g)
                    : latens_causal_graph_write_csv(f, g);
  if (st) cli_fail(c, CLI_EMODEL, "%s", cli_last_error());
  return cli_out_close(o, !st, c) || st ? CLI_EMODEL : CLI_OK;
}

static int parse_common(int argc, char **argv, cli_common *c, causal_args *a, const char *usage) {
  static const struct option extra[] = {
      {"data", required_argument, NULL, OPT_DATA},   {"discrete", no_argument, NULL, OPT_DISCRETE},
      {"test", required_argument, NULL, OPT_TEST},   {"alpha", required_argument, NULL, OPT_ALPHA},
      {"knowledge", required_argument, NULL, OPT_KNOW},
      {"bootstrap", required_argument, NULL, OPT_BOOT}, {"dot", no_argument, NULL, OPT_DOT},
      {"max-depth", required_argument, NULL, OPT_DEPTH},
      {"uc-priority", required_argument, NULL, OPT_UC},
      {"truth", required_argument, NULL, OPT_TRUTH}, {"estimate", required_argument, NULL, OPT_EST},
      {"truth-as", required_argument, NULL, OPT_TRUTH_AS}, {"ica", no_argument, NULL, OPT_ICA},
      {NULL, 0, NULL, 0}};
  memset(a, 0, sizeof *a);
  a->test = -1;
  latens_causal_pc_options_default(&a->opt);
  a->opt.threads = c->threads;
  int first = cli_parse(argc, argv, c, extra, handle, a, usage);
  if (first >= 0 && first < argc) {
    cli_fail(c, CLI_EUSAGE, "unexpected argument '%s' (see --help)", argv[first]);
    return -1;
  }
  a->opt.threads = c->threads;
  return first;
}

/* FCI's own flags (--pds-depth N, --rules R), taken out of argv before the shared parser so
 * that pc refuses them as unknown. */
typedef struct {
  int rules, pds_depth, has_pds_depth;
} fci_flags;

/* Moves argv's other arguments to av (argc + 1 slots); returns their count, or -1 after
 * cli_fail for a bad value. */
static int fci_extract(int argc, char **argv, const cli_common *c, fci_flags *f, char **av) {
  int n = 0;
  for (int i = 0; i < argc; i++) {
    const char *s = argv[i], *v = NULL;
    int which = !strncmp(s, "--pds-depth", 11) ? 1 : !strncmp(s, "--rules", 7) ? 2 : 0;
    const char *rest = which == 1 ? s + 11 : which == 2 ? s + 7 : NULL;
    if (!strcmp(s, "--")) { /* the end of the options */
      while (i < argc) av[n++] = argv[i++];
      break;
    }
    if (!which || (*rest && *rest != '=')) {
      av[n++] = argv[i];
      continue;
    }
    if (*rest == '=') v = rest + 1;
    else if (i + 1 < argc) v = argv[++i];
    else return cli_fail(c, CLI_EUSAGE, "%s needs a value (see --help)", s), -1;
    if (which == 1) {
      if (cli_parse_int(v, -1, 1000, &f->pds_depth))
        return cli_fail(c, CLI_EUSAGE, "--pds-depth %s: expected an integer in -1..1000", v), -1;
      f->has_pds_depth = 1;
    } else if (!strcmp(v, "zhang")) {
      f->rules = LATENS_CAUSAL_FCI_RULES_ZHANG;
    } else if (!strcmp(v, "causallearn")) {
      f->rules = LATENS_CAUSAL_FCI_RULES_CAUSALLEARN;
    } else {
      return cli_fail(c, CLI_EUSAGE, "--rules %s: expected zhang or causallearn", v), -1;
    }
  }
  av[n] = NULL;
  return n;
}

static int run_ci(int argc, char **argv, cli_common *c, const fci_flags *ff) {
  int fci = ff != NULL;
  causal_args a;
  int first = parse_common(argc, argv, c, &a, run_usage);
  if (first == -2) return CLI_OK;
  if (first < 0) return CLI_EUSAGE;
  if (ff && ff->has_pds_depth) a.opt.fci_pds_depth = ff->pds_depth;
  if (ff && ff->rules == LATENS_CAUSAL_FCI_RULES_CAUSALLEARN) {
    if (a.bootstrap) return cli_fail(c, CLI_EUSAGE, "--bootstrap goes with --rules zhang only");
    a.opt.fci_pdsep = 2; /* causal-learn's effective Possible-D-SEP: the adjacencies */
  }
  if (!a.data) return cli_fail(c, CLI_EUSAGE, "missing --data FILE (see --help)");
  if (a.ica) return cli_fail(c, CLI_EUSAGE, "--ica goes with lingam only");
  if (a.test < 0) a.test = a.discrete ? LATENS_CAUSAL_TEST_CHISQ : LATENS_CAUSAL_TEST_FISHERZ;
  if (a.discrete != (a.test != LATENS_CAUSAL_TEST_FISHERZ))
    return cli_fail(c, CLI_EUSAGE, "--test %s needs %s data", a.test == LATENS_CAUSAL_TEST_FISHERZ ? "fisherz" : "chisq/gsq",
                    a.discrete ? "continuous (drop --discrete)" : "discrete (add --discrete)");
  latens_causal_data *d = NULL;
  int rc = causal_load_data(c, a.data, a.discrete, &d);
  if (rc) return rc;
  if (a.bootstrap) {
    if (a.knowledge) rc = cli_fail(c, CLI_EUSAGE, "--bootstrap does not take --knowledge");
    else rc = causal_ci_bootstrap(c, &a, d, fci);
    latens_causal_data_free(d);
    return rc;
  }
  latens_causal_citest *t = latens_causal_citest_alloc(d, a.test, fci);
  latens_causal_knowledge *k = NULL;
  latens_causal_graph *g = NULL;
  if (!t) rc = cli_fail(c, CLI_EMODEL, "%s", cli_last_error());
  else if (a.knowledge) {
    int st = latens_causal_knowledge_read(a.knowledge, t, &k);
    if (st) rc = cli_fail(c, cli_exit_code(st), "%s", cli_last_error());
  }
  if (!rc) {
    cli_progress bar;
    cli_progress_init(&bar, c);
    int st = fci ? latens_causal_fci_rules(t, k, &a.opt, ff->rules, &bar.p, &g)
                 : latens_causal_pc(t, k, &a.opt, &bar.p, &g);
    cli_progress_done(&bar);
    if (st) rc = cli_fail(c, cli_exit_code(st), "%s", cli_last_error());
    else rc = causal_write_graph(c, &a, g);
  }
  latens_causal_graph_free(g);
  latens_causal_knowledge_free(k);
  latens_causal_citest_free(t);
  latens_causal_data_free(d);
  return rc;
}

static int run_pc(int argc, char **argv, cli_common *c) { return run_ci(argc, argv, c, NULL); }

static int run_fci(int argc, char **argv, cli_common *c) {
  fci_flags f = {LATENS_CAUSAL_FCI_RULES_ZHANG, 0, 0};
  char **av = malloc(((size_t)argc + 1) * sizeof *av);
  if (!av) return cli_fail(c, CLI_EMODEL, "out of memory");
  int n = fci_extract(argc, argv, c, &f, av);
  int rc = n < 0 ? CLI_EUSAGE : run_ci(n, av, c, &f);
  free(av);
  return rc;
}

/* Score-based and LiNGAM-type methods come from the causal-score part (latens/causal_score.h). */
static int run_score(int argc, char **argv, cli_common *c) {
  causal_args a;
  int first = parse_common(argc, argv, c, &a, run_usage);
  if (first == -2) return CLI_OK;
  if (first < 0) return CLI_EUSAGE;
  return causal_score_run(c, &a, argv[0]);
}

static const char compare_usage[] =
    "usage: latens causal compare --truth G --estimate G [--truth-as given|cpdag|pag] [OPTIONS]\n"
    "Structural Hamming distance (+1 per adjacency in one graph only, +1 per differing endpoint\n"
    "on a shared adjacency), adjacency and arrowhead precision, recall and F1.  Graphs: the\n"
    "edge-list CSV that `latens causal` writes, or causal-learn's graph.txt (\"k. A --> B\").\n"
    "  --truth-as cpdag  compare against the CPDAG of a true DAG; pag: against its PAG with its\n"
    "                    latent nodes marginalised (default: the truth as given)\n";

static int run_compare(int argc, char **argv, cli_common *c) {
  causal_args a;
  int first = parse_common(argc, argv, c, &a, compare_usage);
  if (first == -2) return CLI_OK;
  if (first < 0) return CLI_EUSAGE;
  if (!a.truth || !a.estimate) return cli_fail(c, CLI_EUSAGE, "need --truth G and --estimate G (see --help)");
  latens_causal_graph *tg = NULL, *eg = NULL, *ref = NULL;
  int rc = CLI_OK, st = latens_causal_graph_read(a.truth, &tg);
  if (!st) st = latens_causal_graph_read(a.estimate, &eg);
  if (st) return latens_causal_graph_free(tg), cli_fail(c, cli_exit_code(st), "%s", cli_last_error());
  if (a.truth_as == 1) st = latens_causal_graph_cpdag(tg, &ref);
  else if (a.truth_as == 2) st = latens_causal_graph_pag(tg, &ref);
  if (st) rc = cli_fail(c, cli_exit_code(st), "--truth-as: %s", cli_last_error());
  latens_causal_compare_result r;
  if (!rc && (st = latens_causal_compare(ref ? ref : tg, eg, &r)))
    rc = cli_fail(c, cli_exit_code(st), "%s", cli_last_error());
  if (!rc) {
    cli_out *o = cli_out_open(c);
    if (!o) rc = CLI_EUSAGE;
    else {
      FILE *f = cli_out_stream(o);
      if (c->json) {
        cli_json j;
        cli_json_begin(&j, f);
        cli_json_key(&j, "shd"), cli_json_int(&j, (long long)r.shd);
        cli_json_key(&j, "adj_precision"), cli_json_number(&j, r.adj_precision);
        cli_json_key(&j, "adj_recall"), cli_json_number(&j, r.adj_recall);
        cli_json_key(&j, "adj_f1"), cli_json_number(&j, r.adj_f1);
        cli_json_key(&j, "arrow_precision"), cli_json_number(&j, r.arrow_precision);
        cli_json_key(&j, "arrow_recall"), cli_json_number(&j, r.arrow_recall);
        cli_json_key(&j, "arrow_f1"), cli_json_number(&j, r.arrow_f1);
        cli_json_key(&j, "tp_adj"), cli_json_int(&j, (long long)r.tp_adj);
        cli_json_key(&j, "fp_adj"), cli_json_int(&j, (long long)r.fp_adj);
        cli_json_key(&j, "fn_adj"), cli_json_int(&j, (long long)r.fn_adj);
        cli_json_end(&j);
      } else {
        fprintf(f, "SHD                 %zu\n", r.shd);
        fprintf(f, "adjacency  P/R/F1   %.4f %.4f %.4f  (tp %zu, fp %zu, fn %zu)\n", r.adj_precision,
                r.adj_recall, r.adj_f1, r.tp_adj, r.fp_adj, r.fn_adj);
        fprintf(f, "arrowhead  P/R/F1   %.4f %.4f %.4f  (tp %zu, fp %zu, fn %zu)\n", r.arrow_precision,
                r.arrow_recall, r.arrow_f1, r.tp_arrow, r.fp_arrow, r.fn_arrow);
      }
      rc = cli_out_close(o, 1, c) ? CLI_EMODEL : CLI_OK;
    }
  }
  latens_causal_graph_free(tg);
  latens_causal_graph_free(eg);
  latens_causal_graph_free(ref);
  return rc;
}

const cli_command cli_causal_pc = {"pc", "PC-stable: CPDAG from CI tests", run_pc};
const cli_command cli_causal_fci = {"fci", "FCI: PAG under latent confounding", run_fci};
const cli_command cli_causal_ges = {"ges", "GES: Gaussian BIC or discrete BDeu score search", run_score};
const cli_command cli_causal_lingam = {"lingam", "DirectLiNGAM / ICA-LiNGAM", run_score};
const cli_command cli_causal_cumulant = {"cumulant", "latent confounders from higher-order cumulants", run_score};
const cli_command cli_causal_notears = {"notears", "NOTEARS continuous DAG optimisation", run_score};
const cli_command cli_causal_compare = {"compare", "SHD and adjacency/arrowhead precision, recall, F1", run_compare};
