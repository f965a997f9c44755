/* r_sde.c: stochastic differential equations (sde.h, sde_infer.h) for R.
 *
 * Models are rebuilt on every call from plain R data (a built-in's name, the matrices of a
 * linear SDE, or R functions), so nothing needs a handle.
 *
 * R functions as drift and diffusion.  The solver calls back into R for every step, so:
 * the ensemble runs on one thread (the calling one: R is not thread-safe); every R
 * allocation and evaluation inside a callback runs under R_ToplevelExec, so an R error or
 * an interrupt never longjmps through the library: it becomes a non-zero callback status,
 * the library returns, the C memory is freed, and then the saved message is raised. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <R_ext/Utils.h>
#include "latens_r.h"

/* ---------------------------------------------------------------- R closures as models */

typedef struct {
  SEXP drift, diffusion, env; /* protected by the caller of the solver */
  size_t d, ng, ntheta;       /* state length, diffusion output length, parameters */
  int failed;                 /* set by the first failing evaluation; later calls refuse */
  char msg[LATENS_R_ERRLEN];
} r_closure;

/* One evaluation, run under R_ToplevelExec. */
typedef struct {
  r_closure *c;
  SEXP fn;
  const char *which;
  double t;
  const double *x, *theta;
  double *out;
  size_t nout;
  int ok;
} r_eval_args;

static void r_eval_body(void *data) {
  r_eval_args *a = (r_eval_args *)data;
  r_closure *c = a->c;
  SEXP tv = PROTECT(Rf_ScalarReal(a->t));
  SEXP xv = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)c->d));
  SEXP th = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)c->ntheta));
  memcpy(REAL(xv), a->x, c->d * sizeof(double));
  if (c->ntheta) memcpy(REAL(th), a->theta, c->ntheta * sizeof(double));
  SEXP call = PROTECT(Rf_lang4(a->fn, tv, xv, th));
  int err = 0;
  SEXP v = R_tryEvalSilent(call, c->env, &err);
  if (err) {
    /* R keeps the error's text for geterrmessage(); the R side set it to a marker before
     * the simulation, so finding the marker means no error was raised: an interrupt. */
    SEXP gm = PROTECT(Rf_lang1(Rf_install("geterrmessage")));
    SEXP m = R_tryEvalSilent(gm, R_BaseEnv, &err);
    const char *txt = !err && Rf_isString(m) && XLENGTH(m) == 1 ? Rf_translateChar(STRING_ELT(m, 0)) : "";
    if (!txt[0] || strstr(txt, "latens: no R error"))
      snprintf(c->msg, sizeof c->msg, "latens: the %s function was interrupted at t = %g",
               a->which, a->t);
    else {
      /* "Error in CALL : MESSAGE" or "Error : MESSAGE": keep the message. */
      const char *colon = strncmp(txt, "Error", 5) ? NULL : strstr(txt, " : ");
      if (colon) txt = colon + 3;
      while (*txt == ' ' || *txt == '\n') txt++;
      snprintf(c->msg, sizeof c->msg, "latens: the %s function failed at t = %g: %s",
               a->which, a->t, txt);
    }
    size_t n = strlen(c->msg);
    while (n && (c->msg[n - 1] == '\n' || c->msg[n - 1] == ' ')) c->msg[--n] = 0;
    UNPROTECT(5);
    return;
  }
  PROTECT(v);
  if ((TYPEOF(v) != REALSXP && TYPEOF(v) != INTSXP && TYPEOF(v) != LGLSXP) ||
      (size_t)XLENGTH(v) != a->nout) {
    snprintf(c->msg, sizeof c->msg,
             "latens: the %s function must return a numeric vector of length %zu, it returned "
             "a %s of length %ld at t = %g",
             a->which, a->nout, Rf_type2char(TYPEOF(v)), (long)XLENGTH(v), a->t);
  } else {
    for (size_t i = 0; i < a->nout; i++) {
      if (TYPEOF(v) == REALSXP) a->out[i] = REAL(v)[i];
      else {
        int k = TYPEOF(v) == INTSXP ? INTEGER(v)[i] : LOGICAL(v)[i];
        a->out[i] = k == NA_INTEGER ? NAN : (double)k;
      }
    }
    a->ok = 1;
  }
  UNPROTECT(5);
}

static int r_eval(r_closure *c, SEXP fn, const char *which, double t, const double *x,
                  const double *theta, double *out, size_t nout) {
  if (c->failed) return LATENS_EFAILED;
  r_eval_args a = {c, fn, which, t, x, theta, out, nout, 0};
  if (!R_ToplevelExec(r_eval_body, &a) && !c->msg[0])
    snprintf(c->msg, sizeof c->msg, "latens: the %s function was interrupted at t = %g", which, t);
  if (!a.ok) {
    if (!c->msg[0])
      snprintf(c->msg, sizeof c->msg, "latens: the %s function failed at t = %g", which, t);
    c->failed = 1;
    return LATENS_EFAILED;
  }
  return 0;
}

static int r_drift(double t, const double *x, const double *theta, void *user, double *f) {
  r_closure *c = (r_closure *)user;
  return r_eval(c, c->drift, "drift", t, x, theta, f, c->d);
}

static int r_diffusion(double t, const double *x, const double *theta, void *user, double *g) {
  r_closure *c = (r_closure *)user;
  return r_eval(c, c->diffusion, "diffusion", t, x, theta, g, c->ng);
}

static int noise_kind(const char *s) {
  static const char *const names[] = {"diagonal", "scalar", "additive", "general"};
  for (int i = 0; i < 4; i++)
    if (!strcmp(s, names[i])) return i;
  Rf_error("latens: noise must be diagonal, scalar, additive or general, not '%s'", s);
}

static SEXP list_get(SEXP list, const char *name) {
  SEXP nm = Rf_getAttrib(list, R_NamesSymbol);
  for (R_xlen_t i = 0; i < XLENGTH(list); i++)
    if (!strcmp(CHAR(STRING_ELT(nm, i)), name)) return VECTOR_ELT(list, i);
  return R_NilValue;
}

/* The model described by spec (a list with `kind` "builtin", "linear" or "r"), with theta
 * (R_NilValue: defaults) and x0 (R_NilValue: the model's).  R errors are raised only before
 * the model exists; afterwards a failure frees it and returns NULL with *err filled. */
static latens_sde_model *sde_model(SEXP spec, SEXP theta, SEXP x0, r_closure *clo, char *err,
                                   size_t nerr) {
  const char *kind = latens_r_string(list_get(spec, "kind"), "model kind");
  latens_sde_model *md = NULL;
  SEXP th = PROTECT(Rf_isNull(theta) ? theta : latens_r_as_vector(theta, "params"));
  SEXP xv = PROTECT(Rf_isNull(x0) ? x0 : latens_r_as_vector(x0, "x0"));
  int st = LATENS_OK;
  if (!strcmp(kind, "builtin")) {
    md = latens_sde_model_builtin(latens_r_string(list_get(spec, "name"), "model"), NULL, 0);
  } else if (!strcmp(kind, "linear")) {
    int ar, ac, gr, gc, br, bc;
    SEXP A = PROTECT(latens_r_as_matrix(list_get(spec, "A"), "params$A", &ar, &ac));
    SEXP G = PROTECT(latens_r_as_matrix(list_get(spec, "G"), "params$G", &gr, &gc));
    SEXP b = list_get(spec, "b");
    if (!Rf_isNull(b)) b = latens_r_as_matrix(b, "params$b", &br, &bc);
    PROTECT(b);
    if (ar != ac || gr != ar || ar < 1 || gc < 1 || (!Rf_isNull(b) && br * bc != ar))
      Rf_error("latens: a linear SDE needs A d x d, G d x m and b of length d (got A %d x %d, "
               "G %d x %d)", ar, ac, gr, gc);
    latens_mat Am = latens_r_mat_view(A), Gm = latens_r_mat_view(G);
    latens_vec bv = latens_vec_view(Rf_isNull(b) ? NULL : REAL(b), (size_t)ar, 1);
    md = latens_sde_model_linear_alloc(&Am, Rf_isNull(b) ? NULL : &bv, &Gm);
    UNPROTECT(3);
  } else if (!strcmp(kind, "r")) {
    int d = latens_r_int(list_get(spec, "d"), "length(x0)", 1, 10000);
    int m = latens_r_int(list_get(spec, "m"), "noise_dim", 1, 10000);
    int nk = noise_kind(latens_r_string(list_get(spec, "noise"), "noise"));
    if (nk == LATENS_SDE_NOISE_DIAGONAL) m = d;
    if (nk == LATENS_SDE_NOISE_SCALAR) m = 1;
    clo->drift = list_get(spec, "drift"), clo->diffusion = list_get(spec, "diffusion");
    clo->env = list_get(spec, "env");
    if (!Rf_isFunction(clo->drift) || !Rf_isFunction(clo->diffusion) ||
        !Rf_isEnvironment(clo->env))
      Rf_error("latens: drift and diffusion must be functions");
    clo->d = (size_t)d, clo->ntheta = Rf_isNull(th) ? 0 : (size_t)XLENGTH(th);
    clo->ng = nk <= LATENS_SDE_NOISE_SCALAR ? (size_t)d : (size_t)d * (size_t)m;
    clo->failed = 0, clo->msg[0] = 0;
    md = latens_sde_model_alloc((size_t)d, (size_t)m, (latens_sde_noise)nk, clo->ntheta);
    if (md) {
      md->drift = r_drift, md->diffusion = r_diffusion, md->user = clo;
      snprintf(md->name, sizeof md->name, "R functions");
    }
  } else {
    Rf_error("latens: unknown model kind '%s'", kind);
  }
  if (!md) st = latens_last_error(NULL) ? latens_last_error(NULL) : LATENS_EFAILED;
  if (!st && Rf_isString(list_get(spec, "calculus")) &&
      !strcmp(CHAR(STRING_ELT(list_get(spec, "calculus"), 0)), "stratonovich"))
    md->calculus = LATENS_SDE_STRATONOVICH;
  if (!st && !Rf_isNull(th)) {
    if ((size_t)XLENGTH(th) != md->ntheta) {
      latens_errorf(__FILE__, __LINE__, LATENS_EBADLEN, "model '%s' takes %zu parameters, got %ld",
                    md->name, md->ntheta, (long)XLENGTH(th));
      st = LATENS_EBADLEN;
    } else {
      st = latens_sde_model_set_params(md, REAL(th), md->ntheta);
    }
  }
  if (!st && !Rf_isNull(xv)) {
    if ((size_t)XLENGTH(xv) != md->d) {
      latens_errorf(__FILE__, __LINE__, LATENS_EBADLEN, "model '%s' has %zu states, x0 has %ld",
                    md->name, md->d, (long)XLENGTH(xv));
      st = LATENS_EBADLEN;
    } else {
      memcpy(md->x0, REAL(xv), md->d * sizeof(double));
    }
  }
  UNPROTECT(2);
  if (st) {
    latens_r_format_error(st, err, nerr);
    latens_sde_model_free(md);
    return NULL;
  }
  return md;
}

/* Named parameter vector of a model. */
static SEXP sde_params(const latens_sde_model *md) {
  SEXP th = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)md->ntheta));
  SEXP nm = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t)md->ntheta));
  for (size_t k = 0; k < md->ntheta; k++) {
    REAL(th)[k] = md->theta[k];
    SET_STRING_ELT(nm, (R_xlen_t)k, Rf_mkChar(md->theta_name[k]));
  }
  Rf_setAttrib(th, R_NamesSymbol, nm);
  UNPROTECT(2);
  return th;
}

/* Facts about a model: list(name, d, m, params, x0). */
static SEXP r_sde_model_info(SEXP spec) {
  r_closure clo;
  char err[LATENS_R_ERRLEN];
  latens_sde_model *md = sde_model(spec, R_NilValue, R_NilValue, &clo, err, sizeof err);
  if (!md) Rf_error("%s", err);
  static const char *const names[] = {"name", "d", "m", "params", "x0"};
  /* Only an out-of-memory R error can strike while md is held (it would leak md). */
  size_t d = md->d, m = md->m;
  SEXP out = PROTECT(latens_r_named_list(5, names));
  SEXP x0 = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)d));
  memcpy(REAL(x0), md->x0, d * sizeof(double));
  SET_VECTOR_ELT(out, 0, Rf_mkString(md->name));
  SET_VECTOR_ELT(out, 3, sde_params(md));
  latens_sde_model_free(md);
  SET_VECTOR_ELT(out, 1, Rf_ScalarInteger((int)d));
  SET_VECTOR_ELT(out, 2, Rf_ScalarInteger((int)m));
  SET_VECTOR_ELT(out, 4, x0);
  UNPROTECT(2);
  return out;
}

/* ---------------------------------------------------------------- simulation */

static void sim_options(SEXP ctrl, latens_sde_options *o) {
  latens_sde_options_default(o);
  const char *s = latens_r_string(list_get(ctrl, "scheme"), "scheme");
  int sc = latens_sde_scheme_from_name(s);
  if (sc < 0) Rf_error("latens: unknown scheme '%s' (em, milstein, sri, sra, heun, implicit-em)", s);
  o->scheme = (latens_sde_scheme)sc;
  o->dt = latens_r_double(list_get(ctrl, "dt"), "dt");
  o->adaptive = latens_r_flag(list_get(ctrl, "adaptive"), "adaptive");
  o->abstol = o->reltol = latens_r_double(list_get(ctrl, "tol"), "tol");
  const char *rn = latens_r_string(list_get(ctrl, "rng"), "rng");
  int rg = latens_sde_rng_from_name(rn);
  if (rg < 0) Rf_error("latens: unknown rng '%s' (philox, fast)", rn);
  o->rng = rg;
}

/* An R matrix (set into out[k]) and a library view of it; size checked against INT_MAX. */
static latens_mat sim_matrix(SEXP out, int k, size_t nr, size_t nc) {
  if ((double)nr * (double)nc > 4.5e15 || nr > 2147483647u || nc > 2147483647u)
    Rf_error("latens: an output of %zu x %zu values is too large (try summary = TRUE or fewer "
             "output times)", nr, nc);
  SEXP x = Rf_allocMatrix(REALSXP, (int)nr, (int)nc);
  SET_VECTOR_ELT(out, k, x);
  return latens_mat_view(REAL(x), nr, nc, nr > 0 ? nr : 1);
}

static SEXP r_sde_simulate(SEXP spec, SEXP theta, SEXP x0, SEXP times, SEXP paths, SEXP ctrl,
                           SEXP seed, SEXP summary, SEXP brownian, SEXP probs) {
  latens_sde_options o;
  sim_options(ctrl, &o);
  size_t np = (size_t)latens_r_int(paths, "paths", 1, 100000000);
  uint64_t sd = latens_r_seed(seed, "seed");
  int summ = latens_r_flag(summary, "summary"), brw = latens_r_flag(brownian, "brownian");
  SEXP tv = PROTECT(latens_r_as_vector(times, "times"));
  SEXP pv = PROTECT(latens_r_as_vector(probs, "probs"));
  size_t nt = (size_t)XLENGTH(tv), nq = (size_t)XLENGTH(pv);
  if (nt < 1) Rf_error("latens: times must hold at least one time");
  /* The model's facts first (a throwaway model), then every R output, so that the model the
   * solver uses is the last allocation and nothing after it can raise an R error. */
  static const char *const names[] = {"x", "W", "mean", "var", "quantiles", "params",
                                      "steps", "rejected", "d", "m", "name"};
  SEXP out = PROTECT(latens_r_named_list(11, names));
  r_closure clo;
  memset(&clo, 0, sizeof clo);
  char err[LATENS_R_ERRLEN];
  latens_sde_model *md = sde_model(spec, theta, x0, &clo, err, sizeof err);
  if (!md) Rf_error("%s", err);
  size_t d = md->d, m = md->m;
  int is_r = md->user == &clo;
  SET_VECTOR_ELT(out, 10, Rf_mkString(md->name)); /* may raise only on out-of-memory */
  SET_VECTOR_ELT(out, 5, sde_params(md));
  latens_sde_model_free(md);
  latens_mat X = {0}, W = {0}, mean = {0}, var = {0}, q = {0};
  if (summ) {
    mean = sim_matrix(out, 2, d, nt), var = sim_matrix(out, 3, d, nt);
    if (nq) q = sim_matrix(out, 4, d * nq, nt);
  } else {
    X = sim_matrix(out, 0, d * nt, np);
    if (brw) W = sim_matrix(out, 1, m * nt, np);
  }
  SET_VECTOR_ELT(out, 8, Rf_ScalarInteger((int)d));
  SET_VECTOR_ELT(out, 9, Rf_ScalarInteger((int)m));
  md = sde_model(spec, theta, x0, &clo, err, sizeof err);
  if (!md) Rf_error("%s", err);
  if (is_r) o.threads = 1; /* R functions: the calling thread only */
  latens_sde_stats stats;
  memset(&stats, 0, sizeof stats);
  latens_r_interrupt intr;
  latens_progress prog = latens_r_progress_init(&intr);
  int st = summ ? latens_sde_ensemble_summary(md, &o, NULL, REAL(tv), nt, np, sd, REAL(pv), nq,
                                              &mean, &var, nq ? &q : NULL, &stats, &prog)
                : latens_sde_ensemble(md, &o, NULL, REAL(tv), nt, np, sd, &X, brw ? &W : NULL,
                                      &stats, &prog);
  if (st) {
    if (clo.failed) snprintf(err, sizeof err, "%s", clo.msg);
    else if (intr.interrupted) snprintf(err, sizeof err, "latens: interrupted");
    else latens_r_format_error(st, err, sizeof err);
  }
  latens_sde_model_free(md);
  if (st) Rf_error("%s", err);
  SET_VECTOR_ELT(out, 6, Rf_ScalarReal((double)stats.steps));
  SET_VECTOR_ELT(out, 7, Rf_ScalarReal((double)stats.rejected));
  UNPROTECT(3);
  return out;
}

/* ---------------------------------------------------------------- latent OU inference */

/* time and value as doubles of one length >= 3; the caller PROTECTs both. */
static latens_sde_data ou_data(SEXP *time, SEXP *value) {
  *time = latens_r_as_vector(*time, "time");
  PROTECT(*time);
  *value = latens_r_as_vector(*value, "value");
  UNPROTECT(1);
  if (XLENGTH(*time) != XLENGTH(*value))
    Rf_error("latens: time has %ld values, value has %ld", (long)XLENGTH(*time),
             (long)XLENGTH(*value));
  latens_sde_data y = {(size_t)XLENGTH(*time), 1, REAL(*time), REAL(*value), 1};
  return y;
}

static SEXP ou_named(const double *th) {
  SEXP v = PROTECT(Rf_allocVector(REALSXP, LATENS_SDE_OU_NPARAM));
  SEXP nm = PROTECT(Rf_allocVector(STRSXP, LATENS_SDE_OU_NPARAM));
  for (int i = 0; i < LATENS_SDE_OU_NPARAM; i++) {
    REAL(v)[i] = th[i];
    SET_STRING_ELT(nm, i, Rf_mkChar(latens_sde_ou_param_name(i)));
  }
  Rf_setAttrib(v, R_NamesSymbol, nm);
  UNPROTECT(2);
  return v;
}

/* theta as 4 finite values, or NULL for R_NilValue. */
static const double *ou_theta(SEXP theta) {
  if (Rf_isNull(theta)) return NULL;
  if (TYPEOF(theta) != REALSXP || XLENGTH(theta) != LATENS_SDE_OU_NPARAM)
    Rf_error("latens: params must be 4 numbers (kappa, mu, sigma, r)");
  return REAL(theta);
}

static SEXP r_sde_ou_fit(SEXP time, SEXP value, SEXP method, SEXP theta0, SEXP particles,
                         SEXP nsub, SEXP seed, SEXP max_iter) {
  latens_sde_fit_options o;
  latens_sde_fit_options_default(&o);
  const char *m = latens_r_string(method, "method");
  if (!strcmp(m, "mle")) o.method = LATENS_SDE_FIT_MLE;
  else if (!strcmp(m, "pf")) o.method = LATENS_SDE_FIT_PF;
  else if (!strcmp(m, "sde-matching")) o.method = LATENS_SDE_FIT_MATCHING;
  else Rf_error("latens: method must be mle, pf or sde-matching, not '%s'", m);
  o.pf.particles = (size_t)latens_r_int(particles, "particles", 1, 100000000);
  o.match.nsub = (size_t)latens_r_int(nsub, "nsub", 1, 1000);
  o.seed = (unsigned long)latens_r_seed(seed, "seed");
  o.optim.max_iter = (size_t)latens_r_int(max_iter, "max_iter", 1, 100000000);
  o.theta0 = ou_theta(theta0);
  latens_r_interrupt intr;
  o.optim.progress = latens_r_progress_init(&intr);
  latens_sde_data y = ou_data(&time, &value);
  PROTECT(time), PROTECT(value);
  latens_sde_fit_result res;
  memset(&res, 0, sizeof res);
  int st = latens_sde_ou_fit(&y, &o, &res);
  if (st && st != LATENS_EMAXITER) latens_r_fail(st); /* no C memory held */
  static const char *const names[] = {"params", "se", "loglik", "objective", "iterations",
                                      "converged", "objective_se"};
  SEXP out = PROTECT(latens_r_named_list(7, names));
  SET_VECTOR_ELT(out, 0, ou_named(res.theta));
  SET_VECTOR_ELT(out, 1, ou_named(res.se));
  SET_VECTOR_ELT(out, 2, Rf_ScalarReal(res.loglik));
  SET_VECTOR_ELT(out, 3, Rf_ScalarReal(res.objective));
  SET_VECTOR_ELT(out, 4, Rf_ScalarInteger((int)res.iterations));
  SET_VECTOR_ELT(out, 5, Rf_ScalarLogical(res.converged && st == LATENS_OK));
  SET_VECTOR_ELT(out, 6, Rf_ScalarReal(res.objective_se));
  UNPROTECT(3);
  return out;
}

static SEXP r_sde_ou_loglik(SEXP time, SEXP value, SEXP theta) {
  const double *th = ou_theta(theta);
  if (!th) Rf_error("latens: params are required");
  latens_sde_data y = ou_data(&time, &value);
  PROTECT(time), PROTECT(value);
  double ll = NAN;
  int st = latens_sde_ou_loglik(th, &y, &ll);
  if (st) latens_r_fail(st);
  UNPROTECT(2);
  return Rf_ScalarReal(ll);
}

/* The SDE-matching posterior of the latent OU at the observation times (mean, variance),
 * fitted on standardised values as latens_sde_ou_fit does (the optimiser sees unit-scale
 * numbers) and mapped back; *loglik gets the bound -loss in the data's units. */
static int ou_matching(const double *th, const latens_sde_data *y, size_t nsub, double *mean,
                       double *var, double *loglik) {
  double mu = 0, ss = 0, n = 0;
  for (size_t k = 0; k < y->T; k++)
    if (!isnan(y->x[k])) mu += y->x[k], n++;
  mu /= n;
  for (size_t k = 0; k < y->T; k++)
    if (!isnan(y->x[k])) ss += (y->x[k] - mu) * (y->x[k] - mu);
  double sc = sqrt(ss / (n - 1));
  if (n < 2 || !(sc > 0))
    LATENS_ERRORF(LATENS_EDOM, "sde-matching needs at least 2 distinct observed values");
  double *xs = (double *)malloc(y->T * sizeof *xs);
  if (!xs) LATENS_ERROR("out of memory", LATENS_ENOMEM);
  for (size_t k = 0; k < y->T; k++) xs[k] = (y->x[k] - mu) / sc;
  latens_sde_data ys = {y->T, 1, y->t, xs, 1};
  double A = -th[0], b = th[0] * (th[1] - mu) / sc, Sg = th[2] * th[2] / (sc * sc);
  double m0 = (th[1] - mu) / sc, P0 = Sg / (2 * th[0]), C = 1.0, R = th[3] / (sc * sc);
  latens_sde_lti M = {1, y->t[0], &A, &b, &Sg, &m0, &P0};
  latens_sde_readout ro = {LATENS_SDE_READOUT_GAUSSIAN, 1, &C, NULL, &R};
  latens_sde_match_options mo;
  latens_sde_match_options_default(&mo);
  mo.nsub = nsub;
  latens_sde_match *w = latens_sde_match_alloc(1, y->t[0], &ys, &mo);
  double *coef = w ? (double *)malloc(latens_sde_match_ncoef(w) * sizeof *coef) : NULL;
  double loss = NAN;
  int st = !w ? (latens_last_error(NULL) ? latens_last_error(NULL) : LATENS_EFAILED)
           : !coef ? LATENS_ENOMEM
                   : latens_sde_match_init(w, &ro, &ys, coef);
  if (!st) st = latens_sde_match_fit_posterior(w, &M, &ro, &ys, NULL, coef, &loss, NULL);
  if (st == LATENS_ENOPROG) st = LATENS_OK; /* flat to rounding: the best point stands */
  if (!st) st = latens_sde_match_posterior(w, coef, y->T, y->t, mean, var);
  for (size_t k = 0; k < y->T && !st; k++) mean[k] = mu + sc * mean[k], var[k] *= sc * sc;
  *loglik = -loss - n * log(sc);
  free(coef), free(xs);
  latens_sde_match_free(w);
  return st;
}

/* Filtered (smooth = 0) or smoothed moments of z at the observation times by the Kalman
 * filter / RTS smoother or the bootstrap particle filter / FFBSi smoother. */
static SEXP r_sde_ou_states(SEXP time, SEXP value, SEXP theta, SEXP method, SEXP smooth,
                            SEXP particles, SEXP seed, SEXP nsub) {
  const double *th = ou_theta(theta);
  if (!th) Rf_error("latens: params are required");
  const char *meth = latens_r_string(method, "method");
  int pf = !strcmp(meth, "pf"), match = !strcmp(meth, "sde-matching");
  int sm = latens_r_flag(smooth, "smooth");
  if (!pf && !match && strcmp(meth, "kalman"))
    Rf_error("latens: method must be kalman, pf or sde-matching, not '%s'", meth);
  if (match && !sm) Rf_error("latens: sde-matching is a smoothing method (use sde_smooth)");
  size_t ns = (size_t)latens_r_int(nsub, "nsub", 1, 1000);
  size_t npart = (size_t)latens_r_int(particles, "particles", 1, 100000000);
  uint64_t sd = latens_r_seed(seed, "seed");
  for (int i = 0; i < LATENS_SDE_OU_NPARAM; i++)
    if (!R_FINITE(th[i]) || (i != 1 && !(th[i] > 0)))
      Rf_error("latens: params: %s = %g must be finite%s", latens_sde_ou_param_name(i), th[i],
               i != 1 ? " and positive" : "");
  latens_sde_data y = ou_data(&time, &value);
  PROTECT(time), PROTECT(value);
  if (y.T < 1) Rf_error("latens: no observations");
  SEXP mean = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)y.T));
  SEXP sdv = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)y.T));
  double A = -th[0], b = th[0] * th[1], Sg = th[2] * th[2], m0 = th[1], P0 = Sg / (2 * th[0]);
  double C = 1.0, R = th[3], ll = NAN;
  latens_sde_lti M = {1, y.t[0], &A, &b, &Sg, &m0, &P0};
  latens_sde_readout ro = {LATENS_SDE_READOUT_GAUSSIAN, 1, &C, NULL, &R};
  int st;
  if (pf) {
    latens_sde_lti_sampler *smp = latens_sde_lti_sampler_alloc(&M);
    latens_sde_pf_options po;
    latens_sde_pf_options_default(&po);
    po.particles = npart;
    po.smooth = sm ? 2 : 0;
    latens_r_interrupt intr;
    po.progress = latens_r_progress_init(&intr);
    latens_rng rng;
    latens_rng_init(&rng, sd, 0);
    latens_sde_pf_result r;
    memset(&r, 0, sizeof r);
    if (sm) r.ms = REAL(mean), r.vs = REAL(sdv);
    else r.mf = REAL(mean), r.vf = REAL(sdv);
    if (smp) {
      latens_sde_pf_model pm = latens_sde_lti_sampler_model(smp);
      st = latens_sde_pf_run(&pm, &ro, &y, &po, &rng, &r);
    } else {
      st = latens_last_error(NULL) ? latens_last_error(NULL) : LATENS_EFAILED;
    }
    char err[LATENS_R_ERRLEN];
    if (st) latens_r_format_error(st, err, sizeof err);
    latens_sde_lti_sampler_free(smp);
    if (st) Rf_error("%s", err);
    ll = r.loglik;
  } else if (match) {
    st = ou_matching(th, &y, ns, REAL(mean), REAL(sdv), &ll);
    if (st) latens_r_fail(st);
  } else {
    st = sm ? latens_sde_lti_smooth(&M, &ro, &y, REAL(mean), REAL(sdv), &ll)
            : latens_sde_lti_filter(&M, &ro, &y, REAL(mean), REAL(sdv), &ll);
    if (st) latens_r_fail(st);
  }
  for (size_t k = 0; k < y.T; k++) REAL(sdv)[k] = sqrt(REAL(sdv)[k]);
  static const char *const names[] = {"mean", "sd", "loglik"};
  SEXP out = PROTECT(latens_r_named_list(3, names));
  SET_VECTOR_ELT(out, 0, mean);
  SET_VECTOR_ELT(out, 1, sdv);
  SET_VECTOR_ELT(out, 2, Rf_ScalarReal(ll));
  UNPROTECT(5);
  return out;
}

/* ---------------------------------------------------------------- any model (latens_sde_ssm) */

/* The settings the R side prepared (.sde_ssm_ctrl), read before any C memory is held. */
typedef struct {
  int poisson, stationary, scheme, smooth, fit, matching;
  const double *C, *m0, *P0;
  int p, d; /* readout rows, and the state dimension the R side expects */
  double r, t0, dt;
  size_t particles, nsamples, nsub, max_iter;
  uint64_t seed;
  const int *flags; /* fit: ntheta + 1 flags */
  int nflags, method;
} ssm_ctrl;

static void ssm_read_ctrl(SEXP ctrl, const char *task, ssm_ctrl *c) {
  memset(c, 0, sizeof *c);
  c->fit = !strcmp(task, "fit"), c->smooth = !strcmp(task, "smooth");
  c->poisson = !strcmp(latens_r_string(list_get(ctrl, "obs"), "obs"), "poisson");
  SEXP C = list_get(ctrl, "C"), m0 = list_get(ctrl, "m0"), P0 = list_get(ctrl, "P0");
  if (TYPEOF(C) != REALSXP || TYPEOF(m0) != REALSXP || TYPEOF(P0) != REALSXP)
    Rf_error("latens: internal: readout and prior must be double");
  c->d = latens_r_int(list_get(ctrl, "d"), "state dimension", 1, 64);
  c->p = latens_r_int(list_get(ctrl, "p"), "observed components", 1, 64);
  if (XLENGTH(C) != (R_xlen_t)c->p * c->d || XLENGTH(m0) != c->d ||
      XLENGTH(P0) != (R_xlen_t)c->d * c->d)
    Rf_error("latens: readout is %ld values for %d x %d, prior %ld and %ld values",
             (long)XLENGTH(C), c->p, c->d, (long)XLENGTH(m0), (long)XLENGTH(P0));
  c->C = REAL(C), c->m0 = REAL(m0), c->P0 = REAL(P0);
  c->stationary = latens_r_flag(list_get(ctrl, "stationary"), "stationary");
  c->r = latens_r_double(list_get(ctrl, "r"), "r");
  c->t0 = latens_r_double(list_get(ctrl, "t0"), "t0");
  c->dt = latens_r_double(list_get(ctrl, "dt"), "dt");
  const char *sc = latens_r_string(list_get(ctrl, "scheme"), "scheme");
  if ((c->scheme = latens_sde_scheme_from_name(sc)) < 0)
    Rf_error("latens: unknown scheme '%s' (em, milstein, sri, sra, heun, implicit-em)", sc);
  c->particles = (size_t)latens_r_int(list_get(ctrl, "particles"), "particles", 1, 100000000);
  c->nsamples = (size_t)latens_r_int(list_get(ctrl, "nsamples"), "nsamples", 1, 100000);
  c->nsub = (size_t)latens_r_int(list_get(ctrl, "nsub"), "nsub", 1, 1000);
  c->max_iter = (size_t)latens_r_int(list_get(ctrl, "max_iter"), "max_iter", 1, 100000000);
  c->seed = latens_r_seed(list_get(ctrl, "seed"), "seed");
  const char *m = latens_r_string(list_get(ctrl, "method"), "method");
  c->matching = !strcmp(m, "sde-matching");
  if (c->fit) {
    SEXP f = list_get(ctrl, "fit");
    if (TYPEOF(f) != INTSXP) Rf_error("latens: internal: fit flags must be integer");
    c->flags = INTEGER(f), c->nflags = (int)XLENGTH(f);
    const char *flt = latens_r_string(list_get(ctrl, "filter"), "filter");
    c->method = !strcmp(m, "pf") ? LATENS_SDE_FILTER_PF
                : !strcmp(flt, "ukf") ? LATENS_SDE_FILTER_UKF : LATENS_SDE_FILTER_EKF;
    if (!c->matching && strcmp(m, "pf") && strcmp(m, "mle"))
      Rf_error("latens: method must be mle, pf or sde-matching, not '%s'", m);
  } else if (!c->matching || !c->smooth) {
    if ((c->method = latens_sde_filter_method_from_name(m)) < 0)
      Rf_error("latens: method must be kalman, ekf, ukf or pf%s, not '%s'",
               c->smooth ? " or sde-matching" : "", m);
  }
}

/* Run the task on md (which the caller frees); outputs into the R vectors. */
static int ssm_run(const ssm_ctrl *c, latens_sde_model *md, const latens_sde_data *y, double *mean,
                   double *var, double *se, latens_sde_ssm_fit_result *res, double *ll) {
  latens_sde_ssm s;
  latens_sde_ssm_init(&s, md);
  s.kind = c->poisson ? LATENS_SDE_READOUT_POISSON : LATENS_SDE_READOUT_GAUSSIAN;
  s.p = (size_t)c->p, s.C = c->C, s.r = c->r, s.t0 = c->t0, s.m0 = c->m0, s.P0 = c->P0;
  s.stationary = c->stationary;
  s.solver.scheme = (latens_sde_scheme)c->scheme, s.solver.dt = c->dt;
  s.particles = c->particles, s.seed = c->seed, s.nsamples = c->nsamples;
  s.match.nsub = c->nsub;
  latens_optim_options o;
  latens_optim_options_default(&o);
  o.max_iter = c->max_iter;
  latens_r_interrupt intr;
  o.progress = latens_r_progress_init(&intr);
  int st;
  if (c->fit || c->matching) {
    int *none = c->fit ? NULL : (int *)calloc(md->ntheta + 1, sizeof *none);
    if (!c->fit && !none) return LATENS_ENOMEM;
    res->se = c->fit ? se : NULL;
    int m = c->method;
    if (m != LATENS_SDE_FILTER_PF && md->linear && !c->poisson) m = LATENS_SDE_FILTER_KALMAN;
    st = c->matching ? latens_sde_ssm_fit_matching(&s, c->fit ? c->flags : none, &o, y, res, mean,
                                                   var)
                     : latens_sde_ssm_fit(&s, (latens_sde_filter_method)m, c->flags, &o, y, res);
    free(none);
    if (c->fit && (!st || st == LATENS_EMAXITER)) {
      memcpy(se + md->ntheta + 1, md->theta, md->ntheta * sizeof *se); /* estimate after se */
      se[2 * md->ntheta + 1] = s.r;
    }
    *ll = c->fit ? res->loglik : res->objective;
  } else {
    st = latens_sde_ssm_filter(&s, (latens_sde_filter_method)c->method, c->smooth, y, mean, var,
                               ll);
  }
  return st;
}

/* filter / smooth / fit of any model behind a linear readout: spec as for simulation, theta
 * the model's parameters (NULL: its own), time (T) and x (p x T, NaN missing), ctrl the
 * settings. */
static SEXP r_sde_ssm(SEXP spec, SEXP theta, SEXP time, SEXP x, SEXP ctrl, SEXP task) {
  const char *tk = latens_r_string(task, "task");
  if (strcmp(tk, "filter") && strcmp(tk, "smooth") && strcmp(tk, "fit"))
    Rf_error("latens: internal: unknown task '%s'", tk);
  ssm_ctrl c;
  ssm_read_ctrl(ctrl, tk, &c);
  int xr, xc;
  SEXP tv = PROTECT(latens_r_as_vector(time, "time"));
  SEXP xm = PROTECT(latens_r_as_matrix(x, "values", &xr, &xc));
  if (xr != c.p || xc != (int)XLENGTH(tv))
    Rf_error("latens: values are %d x %d for %d components at %ld times", xr, xc, c.p,
             (long)XLENGTH(tv));
  r_closure clo;
  memset(&clo, 0, sizeof clo);
  char err[LATENS_R_ERRLEN];
  latens_sde_model *md = sde_model(spec, theta, R_NilValue, &clo, err, sizeof err);
  if (!md) Rf_error("%s", err);
  const size_t d = md->d, nt = md->ntheta, T = (size_t)xc;
  int is_r = md->user == &clo;
  latens_sde_model_free(md);
  if (is_r) Rf_error("latens: filtering and fitting take a built-in or linear model");
  if ((int)d != c.d) Rf_error("latens: the model has %zu states, the readout %d", d, c.d);
  if (c.fit && c.nflags != (int)nt + 1)
    Rf_error("latens: %d fit flags for %zu parameters and r", c.nflags, nt);
  static const char *const names[] = {"mean", "sd", "loglik", "iterations", "params", "se",
                                      "objective", "objective_se", "converged"};
  SEXP out = PROTECT(latens_r_named_list(9, names));
  SEXP mean = Rf_allocMatrix(REALSXP, (int)d, (int)T);
  SET_VECTOR_ELT(out, 0, mean);
  SEXP sdv = Rf_allocMatrix(REALSXP, (int)d, (int)T);
  SET_VECTOR_ELT(out, 1, sdv);
  SEXP sev = Rf_allocVector(REALSXP, (R_xlen_t)(2 * nt + 2)); /* se, then the estimate */
  SET_VECTOR_ELT(out, 5, sev);
  for (size_t k = 0; k < d * T; k++) REAL(mean)[k] = REAL(sdv)[k] = NAN; /* fit: none */
  for (size_t k = 0; k < 2 * nt + 2; k++) REAL(sev)[k] = NAN;
  latens_sde_data y = {T, (size_t)c.p, REAL(tv), REAL(xm), (size_t)c.p};
  latens_sde_ssm_fit_result res;
  memset(&res, 0, sizeof res);
  res.objective_se = NAN;
  double ll = NAN;
  md = sde_model(spec, theta, R_NilValue, &clo, err, sizeof err);
  if (!md) Rf_error("%s", err);
  int st = ssm_run(&c, md, &y, c.fit ? NULL : REAL(mean), c.fit ? NULL : REAL(sdv), REAL(sev),
                   &res, &ll);
  if (st && !(st == LATENS_EMAXITER && (c.fit || c.matching)))
    latens_r_format_error(st, err, sizeof err);
  latens_sde_model_free(md);
  if (st && !(st == LATENS_EMAXITER && (c.fit || c.matching))) Rf_error("%s", err);
  for (size_t k = 0; k < d * T; k++) REAL(sdv)[k] = sqrt(REAL(sdv)[k]);
  SET_VECTOR_ELT(out, 2, Rf_ScalarReal(ll));
  SET_VECTOR_ELT(out, 3, Rf_ScalarInteger((int)res.iterations));
  SET_VECTOR_ELT(out, 6, Rf_ScalarReal(res.objective));
  SET_VECTOR_ELT(out, 7, Rf_ScalarReal(res.objective_se));
  SET_VECTOR_ELT(out, 8, Rf_ScalarLogical(res.converged && st == LATENS_OK));
  UNPROTECT(3);
  return out;
}

const R_CallMethodDef latens_r_sde_calls[] = {
    {"r_sde_ssm", (DL_FUNC)&r_sde_ssm, 6},
    {"r_sde_model_info", (DL_FUNC)&r_sde_model_info, 1},
    {"r_sde_simulate", (DL_FUNC)&r_sde_simulate, 10},
    {"r_sde_ou_fit", (DL_FUNC)&r_sde_ou_fit, 8},
    {"r_sde_ou_loglik", (DL_FUNC)&r_sde_ou_loglik, 3},
    {"r_sde_ou_states", (DL_FUNC)&r_sde_ou_states, 8},
    {NULL, NULL, 0}};
