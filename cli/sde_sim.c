/* cli/sde_sim.c: `latens sde simulate` — paths or summary statistics of a built-in or
 * plug-in SDE model. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
    "usage: latens sde simulate (--model NAME | --plugin F.so) [--params P] [--x0 V,...]\n"
    "                           [--t1 T] [--dt H] [--out-dt D] [--paths N]\n"
    "                           [--scheme em|milstein|sri|sra|heun|implicit-em]\n"
    "                           [--adaptive --tol E] [--stratonovich] [--summary] [--brownian]\n"
    "                           [--rng philox|fast]\n"
    "Simulate paths of dX = f(t, X) dt + g(t, X) dW from t = 0 (or --t0) to --t1 and write\n"
    "them as CSV (path,t,x1..xd[,W1..Wm]), or with --summary the mean, variance and the 5%,\n"
    "50% and 95% quantiles of each component at every output time (t,mean_x1,var_x1,\n"
    "q05_x1,q50_x1,q95_x1,...).  Path p uses random stream (--seed, p): the same seed gives\n"
    "the same paths for any --threads.\n\n"
    "Options:\n"
    "  --model NAME   ou, gbm, cir, double-well, lotka-volterra, lorenz, additive, linear\n"
    "  --plugin F.so  a user model: a shared object exporting\n"
    "                 int latens_sde_plugin_init(latens_sde_model *) (see latens/sde.h)\n"
    "  --params P     comma-separated values in the model's order, or name=value pairs\n"
    "                 (ou: theta,mu,sigma; gbm: mu,sigma; cir: kappa,theta,sigma;\n"
    "                 double-well: sigma; lotka-volterra: a,b,c,e,s1,s2; lorenz:\n"
    "                 sigma,rho,beta,alpha; additive: a,b; linear: A11,A21,..,b1,..,G11,..)\n"
    "  --dim D        linear: state dimension (default 1); --noise-dim M: Brownian (default D)\n"
    "  --x0 V,...     initial state (default: the model's)\n"
    "  --t0 T, --t1 T time span (default 0 and 1)\n"
    "  --dt H         step (adaptive: the first trial step) (default 0.001)\n"
    "  --out-dt D     spacing of the output grid (default: --dt; the last point is --t1)\n"
    "  --paths N      number of paths (default 1)\n"
    "  --scheme S     em (default), milstein, sri, sra, heun, implicit-em\n"
    "  --stratonovich read f and g as a Stratonovich SDE (heun, milstein; Ito by default)\n"
    "  --adaptive     adaptive steps with an error estimate (sri or sra) on a Brownian tree\n"
    "  --tol E        adaptive absolute and relative tolerance (default 0.001)\n"
    "  --summary      statistics over paths instead of the paths\n"
    "  --brownian     also write the driving Brownian path W(t) - W(t0) (columns W1..Wm)\n"
    "  --rng R        philox (default): path p draws from the Philox stream (--seed, p);\n"
    "                 fast: from lane p mod 16 of the xoshiro128++ stream (--seed, p/16),\n"
    "                 single-precision Box-Muller normals (|z| <= 6.56) made sixteen paths\n"
    "                 at a time, 3-4x faster per normal (fixed steps only; latens/rng.h)\n"
    "  --json         one JSON object: settings, step counts and (with --summary) statistics\n";

enum {
  OPT_MODEL = 256, OPT_PLUGIN, OPT_PARAMS, OPT_X0, OPT_T0, OPT_T1, OPT_DT, OPT_OUTDT, OPT_PATHS,
  OPT_SCHEME, OPT_ADAPTIVE, OPT_TOL, OPT_SUMMARY, OPT_BROWNIAN, OPT_DIM, OPT_NDIM, OPT_STRAT,
  OPT_RNG
};

typedef struct {
  const char *model, *plugin, *params, *x0;
  double t0, t1, dt, outdt, tol;
  unsigned long paths;
  int scheme, adaptive, summary, brownian, dim, ndim, strat, rng;
} sim_args;

static int handle(int val, const char *arg, void *user) {
  sim_args *a = user;
  switch (val) {
  case OPT_MODEL: a->model = arg; return 0;
  case OPT_PLUGIN: a->plugin = arg; return 0;
  case OPT_PARAMS: a->params = arg; return 0;
  case OPT_X0: a->x0 = arg; return 0;
  case OPT_T0: return cli_parse_double(arg, &a->t0) || !isfinite(a->t0);
  case OPT_T1: return cli_parse_double(arg, &a->t1) || !isfinite(a->t1);
  case OPT_DT: return cli_parse_double(arg, &a->dt) || !(a->dt > 0) || !isfinite(a->dt);
  case OPT_OUTDT: return cli_parse_double(arg, &a->outdt) || !(a->outdt > 0) || !isfinite(a->outdt);
  case OPT_TOL: return cli_parse_double(arg, &a->tol) || !(a->tol > 0) || !isfinite(a->tol);
  case OPT_PATHS: return cli_parse_ulong(arg, &a->paths) || a->paths == 0 || a->paths > 100000000UL;
  case OPT_SCHEME: return (a->scheme = latens_sde_scheme_from_name(arg)) < 0;
  case OPT_ADAPTIVE: a->adaptive = 1; return 0;
  case OPT_RNG: return (a->rng = latens_sde_rng_from_name(arg)) < 0;
  case OPT_SUMMARY: a->summary = 1; return 0;
  case OPT_BROWNIAN: a->brownian = 1; return 0;
  case OPT_STRAT: a->strat = 1; return 0;
  case OPT_DIM: return cli_parse_int(arg, 1, 1000, &a->dim);
  case OPT_NDIM: return cli_parse_int(arg, 1, 1000, &a->ndim);
  default: return 1;
  }
}

/* --params: "v1,v2,..." in order, or "name=v,...".  Returns a CLI_ code. */
static int set_params(const cli_common *c, latens_sde_model *md, const char *spec) {
  char *s = strdup(spec), *save = NULL;
  if (!s) return cli_fail(c, CLI_EMODEL, "out of memory");
  double *th = malloc((md->ntheta + 1) * sizeof *th);
  if (!th) {
    free(s);
    return cli_fail(c, CLI_EMODEL, "out of memory");
  }
  memcpy(th, md->theta, md->ntheta * sizeof *th);
  size_t pos = 0;
  int rc = CLI_OK;
  for (char *tok = strtok_r(s, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(tok, '=');
    long k = (long)pos;
    if (eq) {
      *eq = 0;
      if ((k = latens_sde_model_param_index(md, tok)) < 0) {
        rc = cli_fail(c, CLI_EUSAGE, "--params: model '%s' has no parameter '%s'", md->name, tok);
        break;
      }
    } else if (pos >= md->ntheta) {
      rc = cli_fail(c, CLI_EUSAGE, "--params: model '%s' takes %zu parameters, got more", md->name,
                    md->ntheta);
      break;
    }
    const char *num = eq ? eq + 1 : tok;
    if (cli_parse_double(num, &th[k])) {
      rc = cli_fail(c, CLI_EUSAGE, "--params: '%s' is not a number (parameter %s)", num,
                    md->theta_name[k]);
      break;
    }
    pos = (size_t)k + 1;
  }
  if (!rc) {
    int st = latens_sde_model_set_params(md, th, md->ntheta);
    if (st) rc = cli_fail(c, CLI_EUSAGE, "--params: %s", cli_last_error());
  }
  free(th), free(s);
  return rc;
}

static int set_x0(const cli_common *c, latens_sde_model *md, const char *spec) {
  char *s = strdup(spec), *save = NULL;
  if (!s) return cli_fail(c, CLI_EMODEL, "out of memory");
  size_t i = 0;
  int rc = CLI_OK;
  for (char *tok = strtok_r(s, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save), i++) {
    double v;
    if (i >= md->d) rc = cli_fail(c, CLI_EUSAGE, "--x0: model '%s' has %zu states", md->name, md->d);
    else if (cli_parse_double(tok, &v) || !isfinite(v))
      rc = cli_fail(c, CLI_EUSAGE, "--x0: '%s' is not a finite number", tok);
    else md->x0[i] = v;
  }
  if (!rc && i != md->d)
    rc = cli_fail(c, CLI_EUSAGE, "--x0: %zu values for %zu states", i, md->d);
  free(s);
  return rc;
}

static latens_sde_model *make_model(const cli_common *c, const sim_args *a, int *rc) {
  latens_sde_model *md = NULL;
  if (a->plugin) md = latens_sde_model_plugin(a->plugin);
  else if (!strcmp(a->model, "linear")) {
    size_t d = (size_t)a->dim, m = a->ndim ? (size_t)a->ndim : d;
    latens_mat *A = latens_mat_alloc(d, d), *G = latens_mat_alloc(d, m);
    if (A && G) {
      for (size_t i = 0; i < d; i++) {
        LATENS_MAT(A, i, i) = -1; /* a stable default: unit mean reversion, unit noise */
        if (i < m) LATENS_MAT(G, i, i) = 1;
      }
      md = latens_sde_model_linear_alloc(A, NULL, G);
    }
    latens_mat_free(A), latens_mat_free(G);
  } else md = latens_sde_model_builtin(a->model, NULL, 0);
  if (!md) {
    *rc = cli_fail(c, a->plugin ? CLI_EUSAGE : cli_exit_code(LATENS_EINVAL), "%s", cli_last_error());
    return NULL;
  }
  if (a->strat) md->calculus = LATENS_SDE_STRATONOVICH;
  *rc = a->params ? set_params(c, md, a->params) : CLI_OK;
  if (!*rc && a->x0) *rc = set_x0(c, md, a->x0);
  if (*rc) {
    latens_sde_model_free(md);
    return NULL;
  }
  return md;
}

/* Output grid t0, t0 + D, ..., t1 (the last interval may be shorter). */
static double *make_grid(const sim_args *a, size_t *nt) {
  double D = a->outdt > 0 ? a->outdt : a->dt, span = a->t1 - a->t0;
  double nf = ceil(span / D * (1 - 1e-12));
  if (!(nf < 1e8)) return NULL;
  size_t n = (size_t)nf + 1;
  double *t = malloc(n * sizeof *t);
  if (!t) return NULL;
  for (size_t k = 0; k + 1 < n; k++) t[k] = a->t0 + (double)k * D;
  t[n - 1] = a->t1;
  *nt = n;
  return t;
}

static void put(FILE *f, double x) {
  char b[40];
  cli_format_number(b, sizeof b, x);
  fputs(b, f);
}

static void write_paths(FILE *f, const latens_sde_model *md, const double *t, size_t nt,
                        size_t np, const latens_mat *X, const latens_mat *W) {
  fputs("path,t", f);
  for (size_t i = 0; i < md->d; i++) fprintf(f, ",x%zu", i + 1);
  for (size_t q = 0; W && q < md->m; q++) fprintf(f, ",W%zu", q + 1);
  fputc('\n', f);
  for (size_t p = 0; p < np; p++)
    for (size_t k = 0; k < nt; k++) {
      fprintf(f, "%zu,", p + 1);
      put(f, t[k]);
      for (size_t i = 0; i < md->d; i++) fputc(',', f), put(f, LATENS_MAT(X, i + k * md->d, p));
      for (size_t q = 0; W && q < md->m; q++) fputc(',', f), put(f, LATENS_MAT(W, q + k * md->m, p));
      fputc('\n', f);
    }
}

static const double probs[3] = {0.05, 0.5, 0.95};
static const char *const qname[3] = {"q05", "q50", "q95"};

static void write_summary(FILE *f, const latens_sde_model *md, const double *t, size_t nt,
                          const latens_mat *mean, const latens_mat *var, const latens_mat *q) {
  size_t d = md->d;
  fputs("t", f);
  for (size_t i = 0; i < d; i++) {
    fprintf(f, ",mean_x%zu,var_x%zu", i + 1, i + 1);
    for (int j = 0; j < 3; j++) fprintf(f, ",%s_x%zu", qname[j], i + 1);
  }
  fputc('\n', f);
  for (size_t k = 0; k < nt; k++) {
    put(f, t[k]);
    for (size_t i = 0; i < d; i++) {
      fputc(',', f), put(f, LATENS_MAT(mean, i, k));
      fputc(',', f), put(f, LATENS_MAT(var, i, k));
      for (size_t j = 0; j < 3; j++) fputc(',', f), put(f, LATENS_MAT(q, i + j * d, k));
    }
    fputc('\n', f);
  }
}

static void json_rows(cli_json *j, const char *key, const latens_mat *M, size_t i0, size_t d,
                      size_t nt) {
  cli_json_key(j, key), cli_json_array(j);
  for (size_t i = 0; i < d; i++) {
    cli_json_array(j);
    for (size_t k = 0; k < nt; k++) cli_json_number(j, LATENS_MAT(M, i0 + i, k));
    cli_json_close(j, ']');
  }
  cli_json_close(j, ']');
}

static void write_json(FILE *f, const latens_sde_model *md, const sim_args *a,
                       const latens_sde_options *o, const latens_sde_stats *st, const double *t,
                       size_t nt, const latens_mat *mean, const latens_mat *var,
                       const latens_mat *q) {
  cli_json j;
  cli_json_begin(&j, f);
  cli_json_key(&j, "model"), cli_json_string(&j, md->name);
  cli_json_key(&j, "params"), cli_json_object(&j);
  for (size_t k = 0; k < md->ntheta; k++) cli_json_key(&j, md->theta_name[k]), cli_json_number(&j, md->theta[k]);
  cli_json_close(&j, '}');
  cli_json_key(&j, "scheme"), cli_json_string(&j, latens_sde_scheme_name(o->scheme));
  cli_json_key(&j, "calculus"), cli_json_string(&j, md->calculus == LATENS_SDE_ITO ? "ito" : "stratonovich");
  cli_json_key(&j, "adaptive"), cli_json_bool(&j, o->adaptive);
  cli_json_key(&j, "rng"), cli_json_string(&j, latens_sde_rng_name(o->rng));
  cli_json_key(&j, "paths"), cli_json_int(&j, (long long)a->paths);
  cli_json_key(&j, "steps"), cli_json_int(&j, (long long)st->steps);
  cli_json_key(&j, "rejected"), cli_json_int(&j, (long long)st->rejected);
  if (mean) {
    cli_json_key(&j, "t"), cli_json_array(&j);
    for (size_t k = 0; k < nt; k++) cli_json_number(&j, t[k]);
    cli_json_close(&j, ']');
    json_rows(&j, "mean", mean, 0, md->d, nt);
    json_rows(&j, "var", var, 0, md->d, nt);
    for (size_t i = 0; i < 3; i++) json_rows(&j, qname[i], q, i * md->d, md->d, nt);
  }
  cli_json_end(&j);
}

static int check_args(const cli_common *c, const sim_args *a) {
  if (!a->model == !a->plugin) return cli_fail(c, CLI_EUSAGE, "give one of --model NAME or --plugin F.so");
  if (!(a->t1 > a->t0)) return cli_fail(c, CLI_EUSAGE, "--t1 %g must exceed --t0 %g", a->t1, a->t0);
  if (a->adaptive && a->scheme != LATENS_SDE_SRI && a->scheme != LATENS_SDE_SRA)
    return cli_fail(c, CLI_EUSAGE, "--adaptive needs --scheme sri or sra");
  if (a->adaptive && a->rng == LATENS_SDE_RNG_FAST)
    return cli_fail(c, CLI_EUSAGE, "--adaptive needs --rng philox (its Brownian tree addresses "
                    "draws by position)");
  if (a->brownian && a->summary) return cli_fail(c, CLI_EUSAGE, "--brownian writes paths: not with --summary");
  return CLI_OK;
}

static int simulate(const cli_common *c, const sim_args *a, latens_sde_model *md, cli_progress *bar) {
  latens_sde_options o;
  latens_sde_options_default(&o);
  o.scheme = a->scheme, o.dt = a->dt, o.adaptive = a->adaptive, o.threads = c->threads;
  o.rng = a->rng;
  o.abstol = o.reltol = a->tol;
  size_t nt = 0, np = a->paths;
  double *t = make_grid(a, &nt);
  if (!t) return cli_fail(c, CLI_EUSAGE, "output grid too large (--out-dt)");
  latens_mat *X = NULL, *W = NULL, *mean = NULL, *var = NULL, *q = NULL;
  latens_sde_stats st;
  int status;
  if (a->summary) {
    mean = latens_mat_alloc(md->d, nt), var = latens_mat_alloc(md->d, nt);
    q = latens_mat_alloc(3 * md->d, nt);
    status = !mean || !var || !q ? LATENS_ENOMEM
             : latens_sde_ensemble_summary(md, &o, NULL, t, nt, np, c->seed, probs, 3, mean, var,
                                           q, &st, &bar->p);
  } else {
    X = latens_mat_alloc(md->d * nt, np);
    if (a->brownian) W = latens_mat_alloc(md->m * nt, np);
    status = !X || (a->brownian && !W) ? LATENS_ENOMEM
             : latens_sde_ensemble(md, &o, NULL, t, nt, np, c->seed, X, W, &st, &bar->p);
  }
  cli_progress_done(bar);
  int rc = CLI_OK;
  int unallocated = a->summary ? !mean || !var || !q : !X || (a->brownian && !W);
  if (status && unallocated) /* the library was not called: no error of its to quote */
    rc = cli_fail(c, cli_exit_code(status), "no memory for the output of %zu paths x %zu output "
                  "times x %zu states (try --summary or a coarser --out-dt)", np, nt, md->d);
  else if (status) rc = cli_fail(c, cli_exit_code(status), "%s", cli_last_error());
  else {
    cli_out *out = cli_out_open(c);
    if (!out) rc = CLI_EUSAGE;
    else {
      FILE *f = cli_out_stream(out);
      if (c->json) write_json(f, md, a, &o, &st, t, nt, mean, var, q);
      else if (a->summary) write_summary(f, md, t, nt, mean, var, q);
      else write_paths(f, md, t, nt, np, X, W);
      rc = cli_out_close(out, 1, c) ? CLI_EMODEL : CLI_OK;
    }
  }
  latens_mat_free(X), latens_mat_free(W), latens_mat_free(mean), latens_mat_free(var);
  latens_mat_free(q);
  free(t);
  return rc;
}

static int run(int argc, char **argv, cli_common *c) {
  static const struct option extra[] = {
      {"model", required_argument, NULL, OPT_MODEL},   {"plugin", required_argument, NULL, OPT_PLUGIN},
      {"params", required_argument, NULL, OPT_PARAMS}, {"x0", required_argument, NULL, OPT_X0},
      {"t0", required_argument, NULL, OPT_T0},         {"t1", required_argument, NULL, OPT_T1},
      {"dt", required_argument, NULL, OPT_DT},         {"out-dt", required_argument, NULL, OPT_OUTDT},
      {"paths", required_argument, NULL, OPT_PATHS},   {"scheme", required_argument, NULL, OPT_SCHEME},
      {"adaptive", no_argument, NULL, OPT_ADAPTIVE},   {"tol", required_argument, NULL, OPT_TOL},
      {"summary", no_argument, NULL, OPT_SUMMARY},     {"brownian", no_argument, NULL, OPT_BROWNIAN},
      {"stratonovich", no_argument, NULL, OPT_STRAT},  {"rng", required_argument, NULL, OPT_RNG},
      {"dim", required_argument, NULL, OPT_DIM},       {"noise-dim", required_argument, NULL, OPT_NDIM},
      {NULL, 0, NULL, 0}};
  sim_args a = {.t0 = 0, .t1 = 1, .dt = 1e-3, .tol = 1e-3, .paths = 1, .scheme = LATENS_SDE_EM, .dim = 1};
  int first = cli_parse(argc, argv, c, extra, handle, &a, usage);
  if (first == -2) return CLI_OK;
  if (first < 0) return CLI_EUSAGE;
  if (first < argc) return cli_fail(c, CLI_EUSAGE, "unexpected argument '%s'", argv[first]);
  int rc = check_args(c, &a);
  if (rc) return rc;
  latens_sde_model *md = make_model(c, &a, &rc);
  if (!md) return rc;
  cli_progress bar;
  cli_progress_init(&bar, c);
  rc = simulate(c, &a, md, &bar);
  latens_sde_model_free(md);
  return rc;
}

const cli_command cli_sde_simulate = {"simulate", "simulate paths or summary statistics of an SDE", run};
