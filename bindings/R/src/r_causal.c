/* r_causal.c: causal discovery (causal.h, causal_score.h) for R.
 *
 * Graphs cross the boundary as plain R data: node names, latent flags and the endpoint-mark
 * matrix M with M[i, j] the mark at j on the edge between i and j (latens' codes: 0 none,
 * 1 tail, 2 arrow, 3 circle), so i --> j is M[i, j] = 2, M[j, i] = 1.  The R side builds
 * the edge data frame and the S3 object. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "latens_r.h"

static SEXP list_get(SEXP list, const char *name) {
  SEXP nm = Rf_getAttrib(list, R_NamesSymbol);
  if (Rf_isNull(nm)) return R_NilValue;
  for (R_xlen_t i = 0; i < XLENGTH(list); i++)
    if (!strcmp(CHAR(STRING_ELT(nm, i)), name)) return VECTOR_ELT(list, i);
  return R_NilValue;
}

/* Option `name` of the list opts, or def when absent. */
static double opt_num(SEXP opts, const char *name, double def) {
  SEXP v = list_get(opts, name);
  return Rf_isNull(v) ? def : latens_r_double(v, name);
}

/* ---------------------------------------------------------------- graphs */

/* list(nodes, latent, marks) of g; the caller PROTECTs.  Raises only on out-of-memory. */
static SEXP graph_to_r(const latens_causal_graph *g) {
  size_t p = latens_causal_graph_nnodes(g);
  static const char *const names[] = {"nodes", "latent", "marks"};
  SEXP out = PROTECT(latens_r_named_list(3, names));
  SEXP nodes = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t)p));
  SEXP lat = PROTECT(Rf_allocVector(LGLSXP, (R_xlen_t)p));
  SEXP marks = PROTECT(Rf_allocMatrix(INTSXP, (int)p, (int)p));
  for (size_t i = 0; i < p; i++) {
    SET_STRING_ELT(nodes, (R_xlen_t)i, Rf_mkCharCE(latens_causal_graph_name(g, i), CE_UTF8));
    LOGICAL(lat)[i] = latens_causal_graph_is_latent(g, i) == 1;
    for (size_t j = 0; j < p; j++)
      INTEGER(marks)[i + j * p] = i == j ? 0 : latens_causal_graph_mark(g, i, j);
  }
  SET_VECTOR_ELT(out, 0, nodes);
  SET_VECTOR_ELT(out, 1, lat);
  SET_VECTOR_ELT(out, 2, marks);
  UNPROTECT(4);
  return out;
}

/* A C graph from R's (nodes, latent, marks).  R errors are raised before allocating; after,
 * a failure returns NULL with err filled. */
static latens_causal_graph *graph_from_r(SEXP nodes, SEXP latent, SEXP marks, const char *what,
                                         char *err, size_t nerr) {
  if (!Rf_isString(nodes)) Rf_error("latens: %s: nodes must be a character vector", what);
  size_t p = (size_t)XLENGTH(nodes);
  if (p < 1) Rf_error("latens: %s has no nodes", what);
  SEXP dim = Rf_getAttrib(marks, R_DimSymbol);
  if (TYPEOF(marks) != INTSXP || Rf_isNull(dim) || (size_t)INTEGER(dim)[0] != p ||
      (size_t)INTEGER(dim)[1] != p)
    Rf_error("latens: %s: the mark matrix must be an integer %zu x %zu matrix", what, p, p);
  if (TYPEOF(latent) != LGLSXP || (size_t)XLENGTH(latent) != p)
    Rf_error("latens: %s: latent must be %zu logical values", what, p);
  const int *M = INTEGER(marks);
  for (size_t i = 0; i < p; i++)
    for (size_t j = 0; j < p; j++) {
      int a = M[i + j * p], b = M[j + i * p];
      if (a == NA_INTEGER || a < 0 || a > 3)
        Rf_error("latens: %s: mark [%zu, %zu] = %d is not 0 (none), 1 (tail), 2 (arrow) or "
                 "3 (circle)", what, i + 1, j + 1, a);
      if ((a == 0) != (b == 0) || (i == j && a))
        Rf_error("latens: %s: marks [%zu, %zu] = %d and [%zu, %zu] = %d do not describe one "
                 "edge", what, i + 1, j + 1, a, j + 1, i + 1, b);
    }
  const char **nm = (const char **)R_alloc(p, sizeof *nm);
  for (size_t i = 0; i < p; i++) nm[i] = Rf_translateCharUTF8(STRING_ELT(nodes, (R_xlen_t)i));
  latens_causal_graph *g = latens_causal_graph_alloc(p, nm);
  int st = g ? LATENS_OK : LATENS_ENOMEM;
  for (size_t i = 0; i < p && !st; i++) {
    if (LOGICAL(latent)[i] == TRUE) st = latens_causal_graph_set_latent(g, i, 1);
    for (size_t j = i + 1; j < p && !st; j++)
      if (M[i + j * p]) st = latens_causal_graph_set_edge(g, i, j, M[j + i * p], M[i + j * p]);
  }
  if (st) {
    latens_r_format_error(st, err, nerr);
    latens_causal_graph_free(g);
    return NULL;
  }
  return g;
}

/* ---------------------------------------------------------------- data and options */

/* The data set of the numeric matrix x with column names `names`; the caller PROTECTed x.
 * NULL with err filled on failure. */
static latens_causal_data *causal_data(SEXP x, SEXP names, int discrete, char *err, size_t nerr) {
  latens_mat v = latens_r_mat_view(x);
  size_t p = v.ncol;
  if (!Rf_isString(names) || (size_t)XLENGTH(names) != p)
    Rf_error("latens: data needs %zu column names", p);
  const char **nm = (const char **)R_alloc(p, sizeof *nm);
  for (size_t j = 0; j < p; j++) nm[j] = Rf_translateCharUTF8(STRING_ELT(names, (R_xlen_t)j));
  latens_causal_data *d = NULL;
  int st = latens_causal_data_alloc(&v, nm, discrete, &d);
  if (st) {
    latens_r_format_error(st, err, nerr);
    return NULL;
  }
  return d;
}

static void pc_options(SEXP opts, latens_causal_pc_options *o) {
  latens_causal_pc_options_default(o);
  o->alpha = opt_num(opts, "alpha", o->alpha);
  o->max_depth = (int)opt_num(opts, "max_depth", o->max_depth);
  o->uc_priority = (int)opt_num(opts, "uc_priority", o->uc_priority);
  o->threads = (int)opt_num(opts, "threads", 0);
  o->fci_pds_depth = (int)opt_num(opts, "pds_depth", o->fci_pds_depth);
}

/* Everything a method needs: options of every kind (only the method's are read). */
typedef struct {
  latens_causal_pc_method_options pc;
  latens_causal_lingam_options lingam;
  latens_causal_cumulant_options cumulant;
  latens_causal_notears_options notears;
  latens_causal_ges_options ges;
} method_opts;

static void method_options(SEXP opts, method_opts *m) {
  latens_causal_pc_method_options_default(&m->pc);
  pc_options(opts, &m->pc.pc);
  m->pc.test = (int)opt_num(opts, "test", -1);
  latens_causal_lingam_options_default(&m->lingam);
  m->lingam.prune_alpha = opt_num(opts, "prune_alpha", m->lingam.prune_alpha);
  m->lingam.threads = m->pc.pc.threads;
  latens_causal_cumulant_options_default(&m->cumulant);
  m->cumulant.root_z = opt_num(opts, "root_z", m->cumulant.root_z);
  m->cumulant.min_corr = opt_num(opts, "min_corr", m->cumulant.min_corr);
  m->cumulant.prune = opt_num(opts, "prune", m->cumulant.prune);
  latens_causal_notears_options_default(&m->notears);
  m->notears.lambda1 = opt_num(opts, "lambda1", m->notears.lambda1);
  m->notears.w_threshold = opt_num(opts, "w_threshold", m->notears.w_threshold);
  m->notears.standardize = (int)opt_num(opts, "standardize", m->notears.standardize);
  latens_causal_ges_options_default(&m->ges);
  m->ges.score = (int)opt_num(opts, "score", m->ges.score);
  m->ges.penalty_discount = opt_num(opts, "penalty_discount", m->ges.penalty_discount);
  m->ges.ess = opt_num(opts, "ess", m->ges.ess);
  m->ges.max_parents = (int)opt_num(opts, "max_parents", m->ges.max_parents);
}

/* Knowledge about p variables from list(forbid, require: k x 2 integer matrices of 1-based
 * indices; tier: p integers or NULL).  Indices were checked on the R side. */
static latens_causal_knowledge *knowledge(SEXP kn, size_t p, int *st) {
  *st = LATENS_OK;
  if (Rf_isNull(kn)) return NULL;
  latens_causal_knowledge *k = latens_causal_knowledge_alloc(p);
  if (!k) {
    *st = LATENS_ENOMEM;
    return NULL;
  }
  const char *parts[2] = {"forbid", "require"};
  for (int q = 0; q < 2 && !*st; q++) {
    SEXP e = list_get(kn, parts[q]);
    if (Rf_isNull(e)) continue;
    size_t n = (size_t)XLENGTH(e) / 2;
    const int *E = INTEGER(e);
    for (size_t r = 0; r < n && !*st; r++) {
      size_t i = (size_t)E[r] - 1, j = (size_t)E[r + n] - 1;
      *st = q ? latens_causal_knowledge_require(k, i, j) : latens_causal_knowledge_forbid(k, i, j);
    }
  }
  SEXP tier = list_get(kn, "tier");
  for (size_t i = 0; !Rf_isNull(tier) && i < p && !*st; i++)
    *st = latens_causal_knowledge_set_tier(k, i, INTEGER(tier)[i]);
  if (*st) {
    latens_causal_knowledge_free(k);
    return NULL;
  }
  return k;
}

static int test_code(const char *s) {
  if (!strcmp(s, "fisherz")) return LATENS_CAUSAL_TEST_FISHERZ;
  if (!strcmp(s, "chisq")) return LATENS_CAUSAL_TEST_CHISQ;
  if (!strcmp(s, "gsq")) return LATENS_CAUSAL_TEST_GSQ;
  Rf_error("latens: test must be fisherz, chisq or gsq, not '%s'", s);
}

/* ---------------------------------------------------------------- one run */

/* What a run returns besides the graph. */
typedef struct {
  double *B, *W, score;
  size_t *order;
  latens_causal_cumulant_result *cum;
} extras;

static int run_method(const char *algo, const latens_causal_data *d, latens_causal_citest *t,
                      const latens_causal_knowledge *k, method_opts *mo, uint64_t seed,
                      const latens_progress *prog, extras *ex, latens_causal_graph **g) {
  size_t p = latens_causal_data_p(d);
  if (!strcmp(algo, "pc")) return latens_causal_pc(t, k, &mo->pc.pc, prog, g);
  if (!strcmp(algo, "fci")) return latens_causal_fci(t, k, &mo->pc.pc, prog, g);
  if (!strcmp(algo, "ges")) return latens_causal_ges(d, &mo->ges, prog, g, &ex->score);
  if (!strcmp(algo, "cumulant")) return latens_causal_cumulant(d, &mo->cumulant, prog, &ex->cum, g);
  if (!strcmp(algo, "notears")) {
    ex->W = (double *)calloc(p * p, sizeof(double));
    return ex->W ? latens_causal_notears(d, &mo->notears, prog, ex->W, g) : LATENS_ENOMEM;
  }
  ex->B = (double *)calloc(p * p, sizeof(double));
  ex->order = (size_t *)calloc(p, sizeof(size_t));
  if (!ex->B || !ex->order) return LATENS_ENOMEM;
  if (!strcmp(algo, "lingam-direct"))
    return latens_causal_direct_lingam(d, &mo->lingam, prog, ex->order, ex->B, g);
  latens_rng rng;
  latens_rng_init(&rng, seed, 0);
  return latens_causal_ica_lingam(d, &mo->lingam, &rng, ex->order, ex->B, g);
}

static SEXP real_matrix(const double *x, size_t nr, size_t nc) {
  SEXP m = PROTECT(Rf_allocMatrix(REALSXP, (int)nr, (int)nc));
  if (nr > 0 && nc > 0) memcpy(REAL(m), x, nr * nc * sizeof(double));
  UNPROTECT(1);
  return m;
}

/* list(graph, B, W, order, score, Lambda) for R; frees nothing. */
static SEXP run_result(const latens_causal_graph *g, const extras *ex, size_t p) {
  static const char *const names[] = {"graph", "B", "W", "order", "score", "Lambda"};
  SEXP out = PROTECT(latens_r_named_list(6, names));
  SET_VECTOR_ELT(out, 0, graph_to_r(g));
  if (ex->B) SET_VECTOR_ELT(out, 1, real_matrix(ex->B, p, p));
  if (ex->cum) SET_VECTOR_ELT(out, 1, real_matrix(ex->cum->B, p, p));
  if (ex->cum) SET_VECTOR_ELT(out, 5, real_matrix(ex->cum->Lambda, p, ex->cum->q));
  if (ex->W) SET_VECTOR_ELT(out, 2, real_matrix(ex->W, p, p));
  if (ex->order) {
    SEXP o = Rf_allocVector(INTSXP, (R_xlen_t)p);
    SET_VECTOR_ELT(out, 3, o);
    for (size_t i = 0; i < p; i++) INTEGER(o)[i] = (int)ex->order[i] + 1;
  }
  SET_VECTOR_ELT(out, 4, Rf_ScalarReal(ex->score));
  UNPROTECT(1);
  return out;
}

static void extras_free(extras *ex) {
  free(ex->B), free(ex->W), free(ex->order);
  latens_causal_cumulant_result_free(ex->cum);
}

/* One method on the data x (numeric matrix, column names `names`).  test: "fisherz", ...
 * (PC and FCI); kn: knowledge list or NULL. */
static SEXP r_causal_run(SEXP x, SEXP names, SEXP discrete, SEXP algo, SEXP test, SEXP opts,
                         SEXP kn, SEXP seed) {
  const char *a = latens_r_string(algo, "method");
  int disc = latens_r_flag(discrete, "discrete");
  uint64_t sd = latens_r_seed(seed, "seed");
  int ci = !strcmp(a, "pc") || !strcmp(a, "fci");
  int tc = ci ? test_code(latens_r_string(test, "test")) : 0;
  method_opts mo;
  method_options(opts, &mo);
  int nr, nc;
  x = PROTECT(latens_r_as_matrix(x, "data", &nr, &nc));
  char err[LATENS_R_ERRLEN];
  latens_causal_data *d = causal_data(x, names, disc, err, sizeof err);
  if (!d) Rf_error("%s", err);
  int st = LATENS_OK;
  latens_causal_citest *t = ci ? latens_causal_citest_alloc(d, tc, !strcmp(a, "fci")) : NULL;
  if (ci && !t) st = latens_last_error(NULL) ? latens_last_error(NULL) : LATENS_EFAILED;
  latens_causal_knowledge *k = st ? NULL : knowledge(kn, (size_t)nc, &st);
  latens_r_interrupt intr;
  latens_progress prog = latens_r_progress_init(&intr);
  extras ex = {NULL, NULL, NAN, NULL, NULL};
  latens_causal_graph *g = NULL;
  if (!st) st = run_method(a, d, t, k, &mo, sd, &prog, &ex, &g);
  if (st) latens_r_format_error(st, err, sizeof err);
  latens_causal_knowledge_free(k);
  latens_causal_citest_free(t);
  latens_causal_data_free(d);
  if (st) {
    extras_free(&ex);
    latens_causal_graph_free(g);
    Rf_error("%s", err);
  }
  /* Only an out-of-memory R error can strike while g and ex are held. */
  SEXP out = PROTECT(run_result(g, &ex, (size_t)nc));
  extras_free(&ex);
  latens_causal_graph_free(g);
  UNPROTECT(2);
  return out;
}

/* PC or FCI with the d-separation oracle of the DAG (nodes, latent, marks). */
static SEXP r_causal_oracle(SEXP nodes, SEXP latent, SEXP marks, SEXP algo, SEXP opts) {
  const char *a = latens_r_string(algo, "method");
  int fci = !strcmp(a, "fci");
  latens_causal_pc_options o;
  pc_options(opts, &o);
  char err[LATENS_R_ERRLEN];
  latens_causal_graph *dag = graph_from_r(nodes, latent, marks, "dag", err, sizeof err);
  if (!dag) Rf_error("%s", err);
  latens_causal_citest *t = latens_causal_citest_alloc_dsep(dag);
  int st = t ? LATENS_OK : (latens_last_error(NULL) ? latens_last_error(NULL) : LATENS_EINVAL);
  latens_causal_graph *g = NULL;
  if (!st) st = fci ? latens_causal_fci(t, NULL, &o, NULL, &g) : latens_causal_pc(t, NULL, &o, NULL, &g);
  if (st) latens_r_format_error(st, err, sizeof err);
  latens_causal_citest_free(t);
  latens_causal_graph_free(dag);
  if (st) Rf_error("%s", err);
  SEXP out = PROTECT(graph_to_r(g));
  latens_causal_graph_free(g);
  UNPROTECT(1);
  return out;
}

/* ---------------------------------------------------------------- bootstrap */

static SEXP r_causal_bootstrap(SEXP x, SEXP names, SEXP discrete, SEXP algo, SEXP test,
                               SEXP opts, SEXP replicates, SEXP seed) {
  const char *a = latens_r_string(algo, "method");
  int disc = latens_r_flag(discrete, "discrete");
  uint64_t sd = latens_r_seed(seed, "seed");
  size_t B = (size_t)latens_r_int(replicates, "bootstrap", 1, 100000);
  int ci = !strcmp(a, "pc") || !strcmp(a, "fci");
  method_opts mo;
  method_options(opts, &mo);
  if (ci) mo.pc.test = test_code(latens_r_string(test, "test"));
  mo.pc.pc.threads = 1; /* replicates run in parallel already */
  latens_causal_method_fn *fn;
  void *user;
  if (!strcmp(a, "pc")) fn = latens_causal_method_pc, user = &mo.pc;
  else if (!strcmp(a, "fci")) fn = latens_causal_method_fci, user = &mo.pc;
  else if (!strcmp(a, "ges")) fn = latens_causal_method_ges, user = &mo.ges;
  else if (!strcmp(a, "cumulant")) fn = latens_causal_method_cumulant, user = &mo.cumulant;
  else if (!strcmp(a, "notears")) fn = latens_causal_method_notears, user = &mo.notears;
  else if (!strcmp(a, "lingam-direct")) fn = latens_causal_method_direct_lingam, user = &mo.lingam;
  else if (!strcmp(a, "lingam-ica")) fn = latens_causal_method_ica_lingam, user = &mo.lingam;
  else Rf_error("latens: unknown method '%s'", a);
  int threads = (int)opt_num(opts, "threads", 0);
  int nr, nc;
  x = PROTECT(latens_r_as_matrix(x, "data", &nr, &nc));
  size_t p = (size_t)nc;
  SEXP freq = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)(LATENS_CAUSAL_BOOT_NTYPES * p * p)));
  char err[LATENS_R_ERRLEN];
  latens_causal_data *d = causal_data(x, names, disc, err, sizeof err);
  if (!d) Rf_error("%s", err);
  latens_rng rng;
  latens_rng_init(&rng, sd, 0);
  latens_r_interrupt intr;
  latens_progress prog = latens_r_progress_init(&intr);
  latens_causal_bootstrap_result *r = NULL;
  int st = latens_causal_bootstrap(d, fn, user, B, &rng, threads, &prog, &r);
  if (st) latens_r_format_error(st, err, sizeof err);
  latens_causal_data_free(d);
  if (st) Rf_error("%s", err);
  memcpy(REAL(freq), r->freq, LATENS_CAUSAL_BOOT_NTYPES * p * p * sizeof(double));
  double failed = (double)r->failed;
  latens_causal_bootstrap_result_free(r);
  SEXP dims = PROTECT(Rf_allocVector(INTSXP, 3));
  INTEGER(dims)[0] = (int)p, INTEGER(dims)[1] = (int)p, INTEGER(dims)[2] = LATENS_CAUSAL_BOOT_NTYPES;
  Rf_setAttrib(freq, R_DimSymbol, dims);
  static const char *const names_out[] = {"freq", "failed"};
  SEXP out = PROTECT(latens_r_named_list(2, names_out));
  SET_VECTOR_ELT(out, 0, freq);
  SET_VECTOR_ELT(out, 1, Rf_ScalarReal(failed));
  UNPROTECT(4);
  return out;
}

/* ---------------------------------------------------------------- compare, CPDAG */

static SEXP r_causal_compare(SEXP tn, SEXP tl, SEXP tm, SEXP en, SEXP el, SEXP em, SEXP as) {
  const char *how = latens_r_string(as, "truth_as");
  if (strcmp(how, "given") && strcmp(how, "cpdag") && strcmp(how, "pag"))
    Rf_error("latens: truth_as must be given, cpdag or pag, not '%s'", how);
  char err[LATENS_R_ERRLEN];
  /* Validate both before allocating either (graph_from_r raises R errors before it allocates). */
  latens_causal_graph *e = graph_from_r(en, el, em, "estimate", err, sizeof err);
  if (!e) Rf_error("%s", err);
  latens_causal_graph_free(e);
  latens_causal_graph *t = graph_from_r(tn, tl, tm, "truth", err, sizeof err);
  if (!t) Rf_error("%s", err);
  e = graph_from_r(en, el, em, "estimate", err, sizeof err);
  int st = e ? LATENS_OK : LATENS_ENOMEM;
  latens_causal_graph *ref = NULL;
  if (!st && !strcmp(how, "cpdag")) st = latens_causal_graph_cpdag(t, &ref);
  if (!st && !strcmp(how, "pag")) st = latens_causal_graph_pag(t, &ref);
  latens_causal_compare_result r;
  if (!st) st = latens_causal_compare(ref ? ref : t, e, &r);
  if (st) latens_r_format_error(st, err, sizeof err);
  latens_causal_graph_free(t), latens_causal_graph_free(e), latens_causal_graph_free(ref);
  if (st) Rf_error("%s", err);
  static const char *const names[] = {"shd", "tp_adj", "fp_adj", "fn_adj", "adj_precision",
                                      "adj_recall", "adj_f1", "tp_arrow", "fp_arrow",
                                      "fn_arrow", "arrow_precision", "arrow_recall", "arrow_f1"};
  double v[13] = {(double)r.shd, (double)r.tp_adj, (double)r.fp_adj, (double)r.fn_adj,
                  r.adj_precision, r.adj_recall, r.adj_f1, (double)r.tp_arrow,
                  (double)r.fp_arrow, (double)r.fn_arrow, r.arrow_precision, r.arrow_recall,
                  r.arrow_f1};
  SEXP out = PROTECT(latens_r_named_list(13, names));
  for (int i = 0; i < 13; i++) SET_VECTOR_ELT(out, i, Rf_ScalarReal(v[i]));
  UNPROTECT(1);
  return out;
}

/* The CPDAG of a DAG, or the PAG of a DAG with latent nodes (pag = TRUE). */
static SEXP r_causal_equivalence(SEXP nodes, SEXP latent, SEXP marks, SEXP pag) {
  int want_pag = latens_r_flag(pag, "pag");
  char err[LATENS_R_ERRLEN];
  latens_causal_graph *g = graph_from_r(nodes, latent, marks, "dag", err, sizeof err);
  if (!g) Rf_error("%s", err);
  latens_causal_graph *out = NULL;
  int st = want_pag ? latens_causal_graph_pag(g, &out) : latens_causal_graph_cpdag(g, &out);
  if (st) latens_r_format_error(st, err, sizeof err);
  latens_causal_graph_free(g);
  if (st) Rf_error("%s", err);
  SEXP r = PROTECT(graph_to_r(out));
  latens_causal_graph_free(out);
  UNPROTECT(1);
  return r;
}

const R_CallMethodDef latens_r_causal_calls[] = {
    {"r_causal_run", (DL_FUNC)&r_causal_run, 8},
    {"r_causal_oracle", (DL_FUNC)&r_causal_oracle, 5},
    {"r_causal_bootstrap", (DL_FUNC)&r_causal_bootstrap, 8},
    {"r_causal_compare", (DL_FUNC)&r_causal_compare, 7},
    {"r_causal_equivalence", (DL_FUNC)&r_causal_equivalence, 4},
    {NULL, NULL, 0}};
