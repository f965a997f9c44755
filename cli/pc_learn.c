/* cli/pc_learn.c: `latens pc learn` (structure + parameter learning on binary or categorical
 * data) and the pc section of `latens demo`. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"

static const char learn_usage[] =
    "usage: latens pc learn --train F --valid F [--structure hclt|rat|cltree|pic] [--latents K]\n"
    "                       [--components M] [--epochs N] [--batch B] [--seed S]\n"
    "                       [--categories C|C1,C2,...|auto] -o model.pc\n"
    "Learn a probabilistic circuit from binary or categorical data and write it (latens-pc\n"
    "text format).  Data: CSV, one sample per row (the density-estimation benchmark's\n"
    "headerless files, or a table with a header); NA, ? or an empty cell is a missing value.\n"
    "Binary data are 0/1; with --categories, integer codes 0..C-1 per column.\n"
    "Prints the train and validation mean log-likelihood (--json: one object).\n\n"
    "Options:\n"
    "  --train F       training data (required)\n"
    "  --valid F       validation data: early stopping and the reported validation LL\n"
    "  --structure S   hclt (default: mixture of hidden Chow-Liu trees, EM), cltree (Chow-Liu\n"
    "                  tree, closed form), rat (RAT-SPN, EM), pic (integral circuit over the\n"
    "                  Chow-Liu tree, materialised by quadrature, Adam)\n"
    "  --latents K     hclt/rat: states per latent (default 16; rat: sums per region);\n"
    "                  pic: quadrature points (default 64)\n"
    "  --components M  hclt: trees in the mixture (default 1); rat: repetitions (default 8)\n"
    "  --epochs N      EM epochs per phase, pic: Adam steps / 100 (default 100)\n"
    "  --batch B       mini-batch size (default 1024; pic 256)\n"
    "  --lvd SRC       hclt: latent variable distillation before EM; SRC is 'kmeans' (the\n"
    "                  built-in teacher: k-means on each latent's tree neighbourhood) or a CSV\n"
    "                  of an external teacher's assignments, M*n columns of states 0..K-1 or\n"
    "                  M*n*K columns of responsibilities, one row per training row\n"
    "  --categories C  categorical data (hclt, cltree, rat): every column has C categories,\n"
    "                  or one count per column (C1,C2,...), or 'auto': one more than the\n"
    "                  largest code in the training data; codes outside 0..C-1 are refused\n"
    "  --pseudocount A hclt: Laplace smoothing of the EM M-step, A pseudo-counts spread over\n"
    "                  each distribution (default 0.1)\n"
    "  --soften B      hclt, binary data: EM on softened data, each value kept with probability\n"
    "                  B in (0.5, 1] and flipped otherwise (default 1: off)\n"
    "  -o FILE         the model file (required), written atomically\n";

enum { OPT_TRAIN = 256, OPT_VALID, OPT_STRUCT, OPT_LATENTS, OPT_COMP, OPT_EPOCHS, OPT_BATCH, OPT_LVD,
       OPT_CAT, OPT_SOFTEN, OPT_PSEUDO };

typedef struct {
  const char *train, *valid, *structure, *lvd, *categories;
  int K, M, epochs, batch;
  size_t *ncat; /* categorical data: categories per column (NULL: binary) */
  double soften; /* hclt --soften (0: the library's default) */
  double pseudo; /* hclt --pseudocount (NaN: the library's default) */
} learn_args;

static int handle(int val, const char *arg, void *user) {
  learn_args *a = user;
  switch (val) {
  case OPT_TRAIN: a->train = arg; return 0;
  case OPT_VALID: a->valid = arg; return 0;
  case OPT_STRUCT:
    a->structure = arg;
    return strcmp(arg, "hclt") && strcmp(arg, "rat") && strcmp(arg, "cltree") && strcmp(arg, "pic");
  case OPT_LATENTS: return cli_parse_int(arg, 2, 4096, &a->K);
  case OPT_COMP: return cli_parse_int(arg, 1, 1000, &a->M);
  case OPT_EPOCHS: return cli_parse_int(arg, 1, 1000000, &a->epochs);
  case OPT_BATCH: return cli_parse_int(arg, 1, 1 << 24, &a->batch);
  case OPT_LVD: a->lvd = arg; return 0;
  case OPT_CAT: a->categories = arg; return 0;
  case OPT_SOFTEN: return cli_parse_double(arg, &a->soften) || !(a->soften > 0.5 && a->soften <= 1.0);
  case OPT_PSEUDO: return cli_parse_double(arg, &a->pseudo) || !(a->pseudo >= 0.0);
  default: return 1;
  }
}

/* One cell's complaint, or NULL when v is a valid code (NaN: missing).  nc 0: binary. */
static const char *bad_code(double v, size_t nc) {
  if (isnan(v)) return NULL;
  if (!nc) return v == 0.0 || v == 1.0 ? NULL : "is not 0 or 1 (binary data; NA for missing)";
  if (v != floor(v)) return "is not an integer category code";
  if (v < 0.0) return "is negative (category codes are 0..C-1)";
  if (v >= (double)nc) return "is not below the column's declared categories";
  return NULL;
}

/* Binary data (ncat NULL) or categorical codes 0..ncat[j]-1, with file:line:column for the
 * first bad value.  ncol 0: any.  Returns a CLI_ code (after cli_fail) or CLI_OK, *out set. */
static int read_data(const cli_common *c, const char *path, size_t ncol, const size_t *ncat,
                     latens_mat **out) {
  latens_table *t = NULL;
  int rc = latens_table_read_numeric(path, NULL, &t);
  if (rc) return cli_fail(c, cli_exit_code(rc), "%s", cli_last_error());
  size_t N = latens_table_nrow(t), p = latens_table_ncol(t), line0 = 1 + (size_t)latens_table_has_header(t);
  if (N == 0) {
    latens_table_free(t);
    return cli_fail(c, CLI_EUSAGE, "%s: no data rows", path);
  }
  if (ncol && p != ncol) {
    latens_table_free(t);
    return cli_fail(c, CLI_EUSAGE, "%s:%zu: %zu columns, the training data has %zu", path, line0, p, ncol);
  }
  const latens_mat *X = latens_table_data(t);
  for (size_t i = 0; i < N; i++) /* row order, so the first bad line is named */
    for (size_t j = 0; j < p; j++) {
      double v = LATENS_MAT(X, i, j);
      const char *why = bad_code(v, ncat ? ncat[j] : 0);
      if (!why) continue;
      char num[40];
      cli_format_number(num, sizeof num, v);
      latens_table_free(t);
      if (ncat && v >= (double)ncat[j] && v == floor(v))
        return cli_fail(c, CLI_EUSAGE, "%s:%zu:%zu: value %s %s (%zu)", path, line0 + i, j + 1,
                        num, why, ncat[j]);
      return cli_fail(c, CLI_EUSAGE, "%s:%zu:%zu: value %s %s", path, line0 + i, j + 1, num, why);
    }
  *out = latens_table_release_data(t);
  latens_table_free(t);
  return CLI_OK;
}

static int read_binary(const cli_common *c, const char *path, size_t ncol, latens_mat **out) {
  return read_data(c, path, ncol, NULL, out);
}

/* --categories: C for every column, C1,C2,... one per column, or auto (largest code + 1 in
 * the training file, which is then read as codes; at least 2).  a->ncat gets ncol entries. */
static int parse_categories(const cli_common *c, learn_args *a, const char *path, latens_mat **tr) {
  int rc = CLI_OK;
  if (!strcmp(a->categories, "auto")) {
    size_t big = (size_t)1 << 24;
    latens_table *t = NULL;
    int st = latens_table_read_numeric(path, NULL, &t);
    if (st) return cli_fail(c, cli_exit_code(st), "%s", cli_last_error());
    const latens_mat *D = latens_table_data(t);
    size_t line0 = 1 + (size_t)latens_table_has_header(t);
    if (!(a->ncat = malloc((D->ncol ? D->ncol : 1) * sizeof *a->ncat))) rc = cli_fail(c, CLI_EMODEL, "out of memory");
    for (size_t j = 0; !rc && j < D->ncol; j++) a->ncat[j] = 2;
    for (size_t i = 0; !rc && i < D->nrow; i++)
      for (size_t j = 0; !rc && j < D->ncol; j++) {
        double v = LATENS_MAT(D, i, j);
        const char *why = bad_code(v, big);
        char num[40];
        cli_format_number(num, sizeof num, v);
        if (why) rc = cli_fail(c, CLI_EUSAGE, "%s:%zu:%zu: value %s %s", path, line0 + i, j + 1, num, why);
        else if (!isnan(v) && (size_t)v + 1 > a->ncat[j]) a->ncat[j] = (size_t)v + 1;
      }
    latens_table_free(t);
    return rc ? rc : read_data(c, path, 0, a->ncat, tr);
  }
  size_t cnt = 1;
  for (const char *q = a->categories; *q; q++) cnt += *q == ',';
  size_t *v = malloc(cnt * sizeof *v);
  if (!v) return cli_fail(c, CLI_EMODEL, "out of memory");
  const char *q = a->categories;
  for (size_t k = 0; k < cnt; k++) {
    char *end;
    unsigned long x = strtoul(q, &end, 10);
    if (end == q || (*end && *end != ',') || x < 2 || x > ((unsigned long)1 << 24) || *q == '-') {
      free(v);
      return cli_fail(c, CLI_EUSAGE, "--categories '%s': entry %zu is not a count 2..16777216 "
                      "(C, C1,C2,... or auto)", a->categories, k + 1);
    }
    v[k] = (size_t)x, q = *end ? end + 1 : end;
  }
  latens_table *t = NULL; /* the column count decides how a single C spreads */
  int st = latens_table_read_numeric(path, NULL, &t);
  if (st) return free(v), cli_fail(c, cli_exit_code(st), "%s", cli_last_error());
  size_t p = latens_table_ncol(t);
  latens_table_free(t);
  if (cnt != 1 && cnt != p) {
    free(v);
    return cli_fail(c, CLI_EUSAGE, "--categories has %zu counts, %s has %zu columns", cnt, path, p);
  }
  a->ncat = malloc((p ? p : 1) * sizeof *a->ncat);
  if (!a->ncat) return free(v), cli_fail(c, CLI_EMODEL, "out of memory");
  for (size_t j = 0; j < p; j++) a->ncat[j] = v[cnt == 1 ? 0 : j];
  free(v);
  return read_data(c, path, 0, a->ncat, tr);
}

static double mean_ll(const latens_pc *pc, const latens_mat *X) {
  if (!X) return NAN;
  latens_vec *ll = latens_vec_alloc(X->nrow);
  double s = 0.0;
  if (!ll || latens_pc_loglik(pc, X, ll, NULL)) s = NAN;
  for (size_t i = 0; ll && i < X->nrow; i++) s += LATENS_VEC(ll, i);
  latens_vec_free(ll);
  return s / (double)X->nrow;
}

/* Latent variable distillation: tables from the teacher's assignments, EM fine-tunes them. */
static int distill(const char *src, latens_pc_hclt *h, const latens_mat *tr, latens_rng *rng) {
  if (strcmp(src, "kmeans")) return latens_pc_hclt_fit_latents_file(h, tr, src, 0.1);
  latens_mat *Z = latens_mat_alloc(tr->nrow, h->M * h->n);
  int st = Z ? latens_pc_hclt_teacher_kmeans(h, tr, 10, rng, Z) : LATENS_ENOMEM;
  if (!st) st = latens_pc_hclt_fit_latents(h, tr, Z, 0.1);
  latens_mat_free(Z);
  return st;
}

static int learn_hclt(const learn_args *a, const latens_mat *tr, const latens_mat *va,
                      latens_rng *rng, cli_progress *bar, latens_pc **pc) {
  latens_pc_hclt *h = NULL;
  int st;
  if (!strcmp(a->structure, "cltree")) {
    st = latens_pc_cltree_fit_cat(tr, a->ncat, 0.1, &h);
  } else {
    st = latens_pc_hclt_structure_cat(tr, a->ncat, (size_t)a->K, (size_t)a->M, rng, &h);
    if (!st && a->lvd) st = distill(a->lvd, h, tr, rng);
    latens_pc_hclt_em_options o;
    latens_pc_hclt_em_options_default(&o);
    o.epochs_minibatch = o.epochs_full = (size_t)a->epochs;
    o.batch = (size_t)a->batch;
    if (a->soften > 0.0) o.soften = a->soften;
    if (a->pseudo == a->pseudo) o.pseudocount = a->pseudo;
    if (!st) st = latens_pc_hclt_em(h, tr, va, &o, rng, &bar->p, NULL);
  }
  if (!st) st = latens_pc_hclt_to_circuit(h, pc);
  latens_pc_hclt_free(h);
  return st;
}

static int learn_rat(const learn_args *a, const latens_mat *tr, const latens_mat *va,
                     latens_rng *rng, cli_progress *bar, latens_pc **pc) {
  size_t depth = 0;
  while (((size_t)2 << depth) <= tr->ncol && depth < 4) depth++;
  int st = latens_pc_rat_alloc_cat(tr->ncol, a->ncat, depth, (size_t)a->M, (size_t)a->K,
                                   (size_t)a->K, rng, pc);
  latens_pc_em_options o;
  latens_pc_em_options_default(&o);
  o.epochs = (size_t)a->epochs, o.batch_size = (size_t)a->batch;
  if (!st) st = latens_pc_em(*pc, tr, va, &o, rng, &bar->p, NULL);
  return st;
}

static int learn_pic(const learn_args *a, const latens_mat *tr, const latens_mat *va,
                     latens_rng *rng, cli_progress *bar, latens_pc **pc) {
  latens_pc_hclt *clt = NULL, *mat = NULL;
  latens_pc_pic *p = NULL;
  int st = latens_pc_cltree_fit(tr, 0.1, &clt);
  /* A NULL from the allocators carries its reason (bad sizes, overflow) in the last error. */
  if (!st && !(p = latens_pc_pic_alloc(tr->ncol, clt->parent, NULL, rng)))
    st = latens_last_error(NULL) ? latens_last_error(NULL) : LATENS_ENOMEM;
  latens_pc_pic_train_options o;
  latens_pc_pic_train_options_default(&o);
  o.K = (size_t)a->K, o.batch = (size_t)a->batch, o.steps = 100 * (size_t)a->epochs;
  if (!st) st = latens_pc_pic_train(p, tr, va, &o, rng, &bar->p, NULL);
  if (!st && !(mat = latens_pc_hclt_alloc(tr->ncol, o.K, 1, clt->parent)))
    st = latens_last_error(NULL) ? latens_last_error(NULL) : LATENS_ENOMEM;
  if (!st) st = latens_pc_pic_materialize(p, o.K, mat);
  if (!st) st = latens_pc_hclt_to_circuit(mat, pc);
  latens_pc_hclt_free(clt), latens_pc_hclt_free(mat), latens_pc_pic_free(p);
  return st;
}

/* The summary goes to stdout, or to stderr when the model itself is written there (-o -). */
static void report(const cli_common *c, const learn_args *a, const latens_pc *pc,
                   const latens_mat *tr, const latens_mat *va, double secs) {
  double lt = mean_ll(pc, tr), lv = mean_ll(pc, va);
  FILE *f = strcmp(c->output, "-") ? stdout : stderr;
  if (c->json) {
    cli_json j;
    cli_json_begin(&j, f);
    cli_json_key(&j, "structure"), cli_json_string(&j, a->structure);
    cli_json_key(&j, "vars"), cli_json_int(&j, (long long)tr->ncol);
    cli_json_key(&j, "n_train"), cli_json_int(&j, (long long)tr->nrow);
    cli_json_key(&j, "n_valid"), cli_json_int(&j, va ? (long long)va->nrow : 0);
    cli_json_key(&j, "train_loglik"), cli_json_number(&j, lt);
    cli_json_key(&j, "valid_loglik"), cli_json_number(&j, lv);
    cli_json_key(&j, "units"), cli_json_int(&j, (long long)latens_pc_nunits(pc));
    cli_json_key(&j, "edges"), cli_json_int(&j, (long long)latens_pc_nedges(pc));
    cli_json_key(&j, "params"), cli_json_int(&j, (long long)latens_pc_nparams(pc));
    cli_json_key(&j, "seconds"), cli_json_number(&j, secs);
    cli_json_key(&j, "model"), cli_json_string(&j, c->output);
    cli_json_end(&j);
  } else if (!c->quiet) {
    fprintf(f, "structure %s: %zu units, %zu edges, %zu parameters, %.1f s\n", a->structure,
            latens_pc_nunits(pc), latens_pc_nedges(pc), latens_pc_nparams(pc), secs);
    fprintf(f, "train mean log-likelihood %.4f (%zu rows)\n", lt, tr->nrow);
    if (va) fprintf(f, "valid mean log-likelihood %.4f (%zu rows)\n", lv, va->nrow);
  }
}

static int run_learn(int argc, char **argv, cli_common *c) {
  learn_args a = {NULL, NULL, "hclt", NULL, NULL, 0, 0, 100, 0, NULL, 0.0, NAN};
  static const struct option extra[] = {
      {"train", required_argument, NULL, OPT_TRAIN},   {"valid", required_argument, NULL, OPT_VALID},
      {"structure", required_argument, NULL, OPT_STRUCT}, {"latents", required_argument, NULL, OPT_LATENTS},
      {"components", required_argument, NULL, OPT_COMP}, {"epochs", required_argument, NULL, OPT_EPOCHS},
      {"batch", required_argument, NULL, OPT_BATCH},   {"lvd", required_argument, NULL, OPT_LVD},
      {"categories", required_argument, NULL, OPT_CAT}, {"soften", required_argument, NULL, OPT_SOFTEN},
      {"pseudocount", required_argument, NULL, OPT_PSEUDO},
      {0, 0, 0, 0}};
  int first = cli_parse(argc, argv, c, extra, handle, &a, learn_usage);
  if (first == -2) return CLI_OK;
  if (first < 0) return CLI_EUSAGE;
  if (first < argc) return cli_fail(c, CLI_EUSAGE, "unexpected operand '%s'", argv[first]);
  if (!a.train) return cli_fail(c, CLI_EUSAGE, "--train F is required");
  if (!c->output) return cli_fail(c, CLI_EUSAGE, "-o model.pc is required");
  int pic = !strcmp(a.structure, "pic"), rat = !strcmp(a.structure, "rat");
  if (a.lvd && strcmp(a.structure, "hclt"))
    return cli_fail(c, CLI_EUSAGE, "--lvd applies to --structure hclt, not %s", a.structure);
  if (a.categories && pic)
    return cli_fail(c, CLI_EUSAGE, "--categories (categorical data) applies to --structure "
                    "hclt, cltree or rat, not pic");
  if (!a.K) a.K = pic ? 64 : 16;
  if (!a.M) a.M = rat ? 8 : 1;
  if (!a.batch) a.batch = pic ? 256 : 1024;
  latens_mat *tr = NULL, *va = NULL;
  int rc = a.categories ? parse_categories(c, &a, a.train, &tr) : read_binary(c, a.train, 0, &tr);
  if (!rc && a.valid) rc = read_data(c, a.valid, tr->ncol, a.ncat, &va);
  if (rc) return latens_mat_free(tr), free(a.ncat), rc;
  cli_out *o = cli_out_open(c); /* before the work: an unwritable path fails at once */
  if (!o) return latens_mat_free(tr), latens_mat_free(va), free(a.ncat), CLI_EUSAGE;
  latens_rng rng;
  latens_rng_init(&rng, c->seed, 0);
  cli_progress bar;
  cli_progress_init(&bar, c);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  latens_pc *pc = NULL;
  int st = pic ? learn_pic(&a, tr, va, &rng, &bar, &pc)
           : rat ? learn_rat(&a, tr, va, &rng, &bar, &pc)
                 : learn_hclt(&a, tr, va, &rng, &bar, &pc);
  cli_progress_done(&bar);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (st) {
    rc = cli_fail(c, cli_exit_code(st), "%s", cli_last_error());
    cli_out_close(o, 0, c);
    latens_mat_free(tr), latens_mat_free(va), latens_pc_free(pc), free(a.ncat);
    return rc;
  }
  st = latens_pc_write(pc, cli_out_stream(o));
  if (cli_out_close(o, !st, c) || st) rc = cli_fail(c, CLI_EMODEL, "writing the model: %s", cli_last_error());
  if (!rc) report(c, &a, pc, tr, va, (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
  latens_mat_free(tr), latens_mat_free(va), latens_pc_free(pc), free(a.ncat);
  return rc;
}

const cli_command cli_pc_learn = {"learn", "learn a circuit (HCLT, Chow-Liu, RAT-SPN, PIC) from binary or categorical data", run_learn};

/* ---------------------------------------------------------------- demo */

static void print_row(FILE *f, const latens_mat *X, size_t i) {
  for (size_t j = 0; j < X->ncol; j++) fputc(isnan(LATENS_MAT(X, i, j)) ? '?' : LATENS_MAT(X, i, j) == 1.0 ? '1' : '0', f);
}

static void json_row(cli_json *j, const latens_mat *X, size_t i) {
  cli_json_array(j);
  for (size_t v = 0; v < X->ncol; v++) {
    double x = LATENS_MAT(X, i, v);
    if (isnan(x)) cli_json_null(j);
    else cli_json_int(j, (long long)x);
  }
  cli_json_close(j, ']');
}

/* An HCLT (K = 8, two trees, a few EM epochs: a couple of seconds) on nltcs; the test mean
 * log-likelihood beside the published -6.00 of the full recipe, a MAP completion of a test
 * row with its second half hidden, and three samples. */
int cli_demo_pc(const cli_common *c, const char *dir, FILE *out, cli_json *j) {
  char path[3][4096];
  const char *split[3] = {"train", "valid", "test"};
  latens_mat *D[3] = {NULL, NULL, NULL};
  int rc = CLI_OK;
  for (int s = 0; s < 3 && !rc; s++) {
    snprintf(path[s], sizeof path[s], "%s/nltcs.%s.data", dir, split[s]);
    rc = read_binary(c, path[s], s ? D[0]->ncol : 0, &D[s]);
  }
  latens_rng rng;
  latens_rng_init(&rng, c->seed, 0);
  latens_pc_hclt *h = NULL;
  latens_pc *pc = NULL;
  latens_pc_hclt_em_options o;
  latens_pc_hclt_em_options_default(&o);
  o.epochs_minibatch = 10, o.epochs_full = 10;
  int st = rc ? LATENS_OK : latens_pc_hclt_structure(D[0], 8, 2, &rng, &h);
  if (!rc && !st) st = latens_pc_hclt_em(h, D[0], D[1], &o, &rng, NULL, NULL);
  if (!rc && !st) st = latens_pc_hclt_to_circuit(h, &pc);
  const size_t n = D[0] ? D[0]->ncol : 0, ns = 3;
  latens_mat *Q = latens_mat_alloc(1 + ns, n ? n : 1);
  double test_ll = NAN;
  if (!rc && !st && !Q) st = LATENS_ENOMEM;
  if (!rc && !st) {
    test_ll = mean_ll(pc, D[2]);
    for (size_t v = 0; v < n; v++) LATENS_MAT(Q, 0, v) = v < n / 2 ? LATENS_MAT(D[2], 0, v) : NAN;
    for (size_t i = 1; i <= ns; i++)
      for (size_t v = 0; v < n; v++) LATENS_MAT(Q, i, v) = NAN;
  }
  latens_mat ev = Q ? latens_mat_submatrix(Q, 0, 0, 1, n) : (latens_mat){0};
  latens_mat cmp = Q ? latens_mat_submatrix(Q, 0, 0, 1, n) : (latens_mat){0};
  latens_mat *E = latens_mat_alloc(1, n ? n : 1);
  if (!rc && !st && E) latens_mat_copy(E, &ev);
  if (!rc && !st) st = latens_pc_map(pc, &cmp, NULL, NULL);
  latens_mat smp = Q ? latens_mat_submatrix(Q, 1, 0, ns, n) : (latens_mat){0};
  if (!rc && !st) st = latens_pc_sample(pc, &smp, &rng, NULL);
  if (!rc && st) rc = cli_fail(c, CLI_EMODEL, "pc demo: %s", cli_last_error());
  if (!rc && j) {
    cli_json_key(j, "pc");
    cli_json_object(j);
    cli_json_key(j, "dataset"), cli_json_string(j, "nltcs");
    cli_json_key(j, "structure"), cli_json_string(j, "hclt");
    cli_json_key(j, "test_loglik"), cli_json_number(j, test_ll);
    cli_json_key(j, "published_hclt_test_loglik"), cli_json_number(j, -6.00);
    cli_json_key(j, "map_evidence"), json_row(j, E, 0);
    cli_json_key(j, "map_completion"), json_row(j, Q, 0);
    cli_json_key(j, "samples"), cli_json_array(j);
    for (size_t i = 1; i <= ns; i++) json_row(j, Q, i);
    cli_json_close(j, ']');
    cli_json_close(j, '}');
  } else if (!rc) {
    fprintf(out, "pc: hidden Chow-Liu tree mixture (K = 8, 2 trees, EM) on nltcs, %zu variables, "
                 "%zu training rows\n", n, D[0]->nrow);
    fprintf(out, "  test mean log-likelihood  %8.4f   (published, full recipe: -6.00)\n", test_ll);
    fprintf(out, "  MAP completion            "), print_row(out, E, 0), fputs(" -> ", out);
    print_row(out, Q, 0), fputc('\n', out);
    for (size_t i = 1; i <= ns; i++) fprintf(out, "  sample %zu                  ", i), print_row(out, Q, i), fputc('\n', out);
  }
  for (int s = 0; s < 3; s++) latens_mat_free(D[s]);
  latens_mat_free(Q), latens_mat_free(E), latens_pc_hclt_free(h), latens_pc_free(pc);
  return rc;
}
