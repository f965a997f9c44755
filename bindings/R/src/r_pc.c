/* r_pc.c: probabilistic circuits (pc.h, pc_learn.h) for R.
 *
 * A circuit lives in C behind an external pointer of type "latens_pc" (freed by its
 * finaliser).  Data arrive as double matrices (n x nvars, NA = NaN = missing) and are passed
 * to the library without a copy; queries that fill in values (MAP, sampling) work on a fresh
 * R matrix so the caller's data are never modified. */
#include <string.h>
#include "latens_r.h"

#define PC_TYPE "latens_pc"

LATENS_R_FINALIZER(pc_finalize, latens_pc, latens_pc_free)

static SEXP pc_wrap(latens_pc *pc) { return latens_r_handle_new(pc, PC_TYPE, pc_finalize); }

static const latens_pc *pc_get(SEXP x) {
  return (const latens_pc *)latens_r_handle(x, PC_TYPE, "model");
}

/* Data for pc: a double matrix with nvars columns.  The caller PROTECTs the result. */
static SEXP pc_data(const latens_pc *pc, SEXP x, const char *what) {
  int nr, nc;
  SEXP m = latens_r_as_matrix(x, what, &nr, &nc);
  if ((size_t)nc != latens_pc_nvars(pc))
    Rf_error("latens: %s has %d columns, the circuit has %d variables", what, nc,
             (int)latens_pc_nvars(pc));
  if (nr < 1) Rf_error("latens: %s has no rows", what);
  return m;
}

/* Learners, as `latens pc learn` (cli/pc_learn.c) does them, so a seed gives the CLI's model. */
typedef struct {
  size_t K, M, epochs, batch;
  int kmeans;          /* latent variable distillation from the built-in k-means teacher */
  const latens_mat *Z; /* ... or from these assignments (M n states or M n K responsibilities) */
} learn_opts;

/* Latent variable distillation: tables from the teacher's assignments, EM fine-tunes them. */
static int distill(const learn_opts *a, latens_pc_hclt *h, const latens_mat *tr, latens_rng *rng) {
  if (a->Z && a->Z->ncol == h->M * h->n) return latens_pc_hclt_fit_latents(h, tr, a->Z, 0.1);
  if (a->Z && a->Z->ncol == h->M * h->n * h->K) return latens_pc_hclt_fit_soft(h, tr, a->Z, 0.1);
  if (a->Z)
    LATENS_ERRORF(LATENS_EBADLEN, "lvd has %zu columns: expected %zu (states) or %zu "
                  "(responsibilities) for %zu components x %zu variables x %zu states",
                  a->Z->ncol, h->M * h->n, h->M * h->n * h->K, h->M, h->n, h->K);
  latens_mat *Z = latens_mat_alloc(tr->nrow, h->M * h->n);
  int st = Z ? latens_pc_hclt_teacher_kmeans(h, tr, 10, rng, Z) : LATENS_ENOMEM;
  if (!st) st = latens_pc_hclt_fit_latents(h, tr, Z, 0.1);
  latens_mat_free(Z);
  return st;
}

static int learn_hclt(int cltree, const learn_opts *a, const latens_mat *tr,
                      const latens_mat *va, latens_rng *rng, const latens_progress *p,
                      latens_pc **out) {
  latens_pc_hclt *h = NULL;
  int st;
  if (cltree) {
    st = latens_pc_cltree_fit(tr, 0.1, &h);
  } else {
    st = latens_pc_hclt_structure(tr, a->K, a->M, rng, &h);
    if (!st && (a->kmeans || a->Z)) st = distill(a, h, tr, rng);
    latens_pc_hclt_em_options o;
    latens_pc_hclt_em_options_default(&o);
    o.epochs_minibatch = o.epochs_full = a->epochs;
    o.batch = a->batch;
    if (!st) st = latens_pc_hclt_em(h, tr, va, &o, rng, p, NULL);
  }
  if (!st) st = latens_pc_hclt_to_circuit(h, out);
  latens_pc_hclt_free(h);
  return st;
}

static int learn_rat(const learn_opts *a, const latens_mat *tr, const latens_mat *va,
                     latens_rng *rng, const latens_progress *p, latens_pc **out) {
  size_t depth = 0;
  while (((size_t)2 << depth) <= tr->ncol && depth < 4) depth++;
  int st = latens_pc_rat_alloc(tr->ncol, depth, a->M, a->K, a->K, rng, out);
  latens_pc_em_options o;
  latens_pc_em_options_default(&o);
  o.epochs = a->epochs, o.batch_size = a->batch;
  if (!st) st = latens_pc_em(*out, tr, va, &o, rng, p, NULL);
  return st;
}

static int learn_pic(const learn_opts *a, const latens_mat *tr, const latens_mat *va,
                     latens_rng *rng, const latens_progress *p, latens_pc **out) {
  latens_pc_hclt *clt = NULL, *mat = NULL;
  latens_pc_pic *pic = NULL;
  int st = latens_pc_cltree_fit(tr, 0.1, &clt);
  if (!st && !(pic = latens_pc_pic_alloc(tr->ncol, clt->parent, NULL, rng))) st = LATENS_ENOMEM;
  latens_pc_pic_train_options o;
  latens_pc_pic_train_options_default(&o);
  o.K = a->K, o.batch = a->batch, o.steps = 100 * a->epochs;
  if (!st) st = latens_pc_pic_train(pic, tr, va, &o, rng, p, NULL);
  if (!st && !(mat = latens_pc_hclt_alloc(tr->ncol, a->K, 1, clt->parent))) st = LATENS_ENOMEM;
  if (!st) st = latens_pc_pic_materialize(pic, a->K, mat);
  if (!st) st = latens_pc_hclt_to_circuit(mat, out);
  latens_pc_hclt_free(clt), latens_pc_hclt_free(mat), latens_pc_pic_free(pic);
  return st;
}

/* lvd: NULL, "kmeans" or a double matrix of assignments with one row per training row. */
static SEXP r_pc_learn(SEXP train, SEXP valid, SEXP structure, SEXP latents, SEXP components,
                       SEXP epochs, SEXP batch, SEXP seed, SEXP lvd) {
  int nr, nc, vr = 0, vc = 0, zr = 0, zc = 0;
  SEXP tr = PROTECT(latens_r_as_matrix(train, "train", &nr, &nc));
  SEXP va = Rf_isNull(valid) ? R_NilValue : latens_r_as_matrix(valid, "valid", &vr, &vc);
  PROTECT(va);
  SEXP z = Rf_isNull(lvd) || Rf_isString(lvd) ? R_NilValue : latens_r_as_matrix(lvd, "lvd", &zr, &zc);
  PROTECT(z);
  if (nr < 1 || nc < 1) Rf_error("latens: train is empty (%d x %d)", nr, nc);
  if (!Rf_isNull(va) && vc != nc)
    Rf_error("latens: valid has %d columns, train has %d", vc, nc);
  if (!Rf_isNull(va) && vr < 1) Rf_error("latens: valid has no rows");
  if (!Rf_isNull(z) && zr != nr) Rf_error("latens: lvd has %d rows, train has %d", zr, nr);
  const char *s = latens_r_string(structure, "structure");
  learn_opts a = {0, 0, 0, 0, 0, NULL};
  a.K = (size_t)latens_r_int(latents, "latents", 2, 4096);
  a.M = (size_t)latens_r_int(components, "components", 1, 1000);
  a.epochs = (size_t)latens_r_int(epochs, "epochs", 1, 1000000);
  a.batch = (size_t)latens_r_int(batch, "batch", 1, 1 << 24);
  if (Rf_isString(lvd) && strcmp(latens_r_string(lvd, "lvd"), "kmeans"))
    Rf_error("latens: lvd must be \"kmeans\" or a matrix of assignments");
  a.kmeans = Rf_isString(lvd);
  if ((a.kmeans || !Rf_isNull(z)) && strcmp(s, "hclt"))
    Rf_error("latens: lvd applies to structure \"hclt\", not \"%s\"", s);
  latens_rng rng;
  latens_rng_init(&rng, latens_r_seed(seed, "seed"), 0);
  latens_mat T = latens_r_mat_view(tr), V, Z;
  const latens_mat *vp = NULL;
  if (!Rf_isNull(va)) V = latens_r_mat_view(va), vp = &V;
  if (!Rf_isNull(z)) Z = latens_r_mat_view(z), a.Z = &Z;
  latens_r_interrupt intr;
  latens_progress prog = latens_r_progress_init(&intr);
  latens_pc *pc = NULL;
  int st;
  if (!strcmp(s, "hclt") || !strcmp(s, "cltree"))
    st = learn_hclt(!strcmp(s, "cltree"), &a, &T, vp, &rng, &prog, &pc);
  else if (!strcmp(s, "rat"))
    st = learn_rat(&a, &T, vp, &rng, &prog, &pc);
  else if (!strcmp(s, "pic"))
    st = learn_pic(&a, &T, vp, &rng, &prog, &pc);
  else
    Rf_error("latens: structure must be hclt, cltree, rat or pic, not '%s'", s);
  char err[LATENS_R_ERRLEN];
  if (st) latens_r_format_error(st, err, sizeof err);
  if (st) latens_pc_free(pc);
  UNPROTECT(3);
  if (st) Rf_error("%s", err);
  return pc_wrap(pc);
}

static SEXP r_pc_info(SEXP model) {
  const latens_pc *pc = pc_get(model);
  static const char *const names[] = {"nvars", "ncat", "units", "edges", "params",
                                      "deterministic"};
  size_t n = latens_pc_nvars(pc);
  SEXP out = PROTECT(latens_r_named_list(6, names));
  SEXP ncat = PROTECT(Rf_allocVector(INTSXP, (R_xlen_t)n));
  for (size_t j = 0; j < n; j++) INTEGER(ncat)[j] = (int)latens_pc_ncat(pc, j);
  SET_VECTOR_ELT(out, 0, Rf_ScalarInteger((int)n));
  SET_VECTOR_ELT(out, 1, ncat);
  SET_VECTOR_ELT(out, 2, Rf_ScalarReal((double)latens_pc_nunits(pc)));
  SET_VECTOR_ELT(out, 3, Rf_ScalarReal((double)latens_pc_nedges(pc)));
  SET_VECTOR_ELT(out, 4, Rf_ScalarReal((double)latens_pc_nparams(pc)));
  SET_VECTOR_ELT(out, 5, Rf_ScalarLogical(latens_pc_is_deterministic(pc)));
  UNPROTECT(2);
  return out;
}

static SEXP r_pc_loglik(SEXP model, SEXP data) {
  const latens_pc *pc = pc_get(model);
  SEXP x = PROTECT(pc_data(pc, data, "data"));
  latens_mat X = latens_r_mat_view(x);
  SEXP ll = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)X.nrow));
  latens_vec v = latens_vec_view(REAL(ll), X.nrow, 1);
  int st = latens_pc_loglik(pc, &X, &v, NULL);
  if (st) latens_r_fail(st); /* nothing of ours to free: R reclaims the vectors */
  UNPROTECT(2);
  return ll;
}

static SEXP r_pc_conditional(SEXP model, SEXP data, SEXP query) {
  const latens_pc *pc = pc_get(model);
  SEXP x = PROTECT(pc_data(pc, data, "data"));
  latens_mat X = latens_r_mat_view(x);
  R_xlen_t nq = XLENGTH(query);
  if (TYPEOF(query) != INTSXP || nq < 1) Rf_error("latens: query must name at least one column");
  size_t *q = (size_t *)R_alloc((size_t)nq, sizeof *q); /* R reclaims it after the call */
  for (R_xlen_t k = 0; k < nq; k++) {
    int c = INTEGER(query)[k];
    if (c == NA_INTEGER || c < 1 || (size_t)c > X.ncol)
      Rf_error("latens: query column %d is not in 1..%d", c, (int)X.ncol);
    q[k] = (size_t)c - 1;
  }
  SEXP out = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)X.nrow));
  latens_vec v = latens_vec_view(REAL(out), X.nrow, 1);
  int st = latens_pc_conditional(pc, &X, q, (size_t)nq, &v, NULL);
  if (st) latens_r_fail(st);
  UNPROTECT(2);
  return out;
}

/* A fresh copy of the evidence for the queries that write into it. */
static SEXP pc_fresh(const latens_pc *pc, SEXP evidence) {
  SEXP x = PROTECT(pc_data(pc, evidence, "evidence"));
  SEXP out = Rf_duplicate(x);
  UNPROTECT(1);
  return out;
}

static SEXP r_pc_map(SEXP model, SEXP evidence) {
  const latens_pc *pc = pc_get(model);
  SEXP x = PROTECT(pc_fresh(pc, evidence));
  latens_mat X = latens_r_mat_view(x);
  SEXP lp = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)X.nrow));
  latens_vec v = latens_vec_view(REAL(lp), X.nrow, 1);
  int st = latens_pc_map(pc, &X, &v, NULL);
  if (st) latens_r_fail(st);
  static const char *const names[] = {"map", "logp"};
  SEXP out = PROTECT(latens_r_named_list(2, names));
  SET_VECTOR_ELT(out, 0, x);
  SET_VECTOR_ELT(out, 1, lp);
  UNPROTECT(3);
  return out;
}

static SEXP r_pc_sample(SEXP model, SEXP evidence, SEXP seed) {
  const latens_pc *pc = pc_get(model);
  SEXP x = PROTECT(pc_fresh(pc, evidence));
  latens_mat X = latens_r_mat_view(x);
  latens_rng rng;
  latens_rng_init(&rng, latens_r_seed(seed, "seed"), 0);
  int st = latens_pc_sample(pc, &X, &rng, NULL);
  if (st) latens_r_fail(st);
  UNPROTECT(1);
  return x;
}

static SEXP r_pc_read(SEXP path) {
  const char *p = R_ExpandFileName(latens_r_string(path, "file"));
  latens_pc *pc = NULL;
  int st = latens_pc_load(p, &pc);
  if (st) latens_r_fail(st); /* latens_pc_load frees its partial circuit */
  return pc_wrap(pc);
}

static SEXP r_pc_write(SEXP model, SEXP path) {
  const latens_pc *pc = pc_get(model);
  int st = latens_pc_save(pc, R_ExpandFileName(latens_r_string(path, "file")));
  if (st) latens_r_fail(st);
  return R_NilValue;
}

static SEXP r_pc_params(SEXP model) {
  const latens_pc *pc = pc_get(model);
  size_t n = latens_pc_nparams(pc);
  SEXP out = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)n));
  if (n) memcpy(REAL(out), latens_pc_params(pc), n * sizeof(double));
  UNPROTECT(1);
  return out;
}

const R_CallMethodDef latens_r_pc_calls[] = {
    {"r_pc_learn", (DL_FUNC)&r_pc_learn, 9},
    {"r_pc_info", (DL_FUNC)&r_pc_info, 1},
    {"r_pc_loglik", (DL_FUNC)&r_pc_loglik, 2},
    {"r_pc_conditional", (DL_FUNC)&r_pc_conditional, 3},
    {"r_pc_map", (DL_FUNC)&r_pc_map, 2},
    {"r_pc_sample", (DL_FUNC)&r_pc_sample, 3},
    {"r_pc_read", (DL_FUNC)&r_pc_read, 1},
    {"r_pc_write", (DL_FUNC)&r_pc_write, 2},
    {"r_pc_params", (DL_FUNC)&r_pc_params, 1},
    {NULL, NULL, 0}};
