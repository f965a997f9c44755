/* cli/sde_infer_cli.c: `latens sde filter|smooth|fit` for any built-in or plug-in model
 * behind a linear readout (latens_sde_ssm): parameters by name, the observation model, the
 * prior of z(t0), multi-column data with missing values. */
#include <config.h>

#include "sde_infer_cli.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage_head[] =
    "usage: latens sde %s (--model NAME | --plugin F.so) --data FILE [OPTIONS]\n";

static const char usage_body[] =
    "Any model: dz = f(z) dt + g(z) dW (latens sde simulate --help lists the built-ins),\n"
    "observed at the data's times through a linear readout x = C z + N(0, r I) (--obs\n"
    "gaussian) or x ~ Poisson(exp(C z)) (--obs poisson).  The data file has the time in its\n"
    "first column and one column per observed component; missing values (NA, empty) are\n"
    "allowed.  The parameters are the model's (by name) and r, the observation noise\n"
    "variance (named r_obs when the model has a parameter r).\n"
    "(--model ou alone keeps the latent-OU interface, kappa,mu,sigma,r; with any option of\n"
    "this engine, e.g. --obs gaussian, it is the built-in ou: theta,mu,sigma and r.)\n\n"
    "Options:\n"
    "  --data FILE        observations (CSV or whitespace-separated; '-' is standard input)\n"
    "  --column LIST      value columns, by name or 1-based number (default: 2..p+1)\n"
    "  --model NAME       ou, gbm, cir, double-well, lotka-volterra, lorenz, additive, linear\n"
    "  --plugin F.so      a user model (see latens/sde.h, latens_sde_plugin_init)\n"
    "  --dim D            linear: state dimension (default 1)\n"
    "  --params LIST      name=value,... (or values in order; r last): starting values for\n"
    "                     fit, the values used by filter and smooth (default: the model's\n"
    "                     defaults, r = a tenth of the data's variance)\n"
    "  --fit-params LIST  names to estimate (default: all, and r for --obs gaussian)\n"
    "  --obs KIND         gaussian (default) or poisson\n"
    "  --readout ROWS     C as rows 'c11,c12,..;c21,..' (default: observe the first component)\n"
    "  --z0 LIST          prior of z(t0): mean,sd for each component, or one pair for all\n"
    "                     (default: stationary for ou, else mean x0 and sd max(1, |x0|))\n"
    "  --t0 T             time of the prior (default: the first observation time)\n"
    "  --dt H             solver step between observation times for pf (default 0.001)\n"
    "  --scheme S         pf solver scheme (em, milstein, sri, ...; default em)\n"
    "  --filter ekf|ukf   the Gaussian likelihood of --method mle on nonlinear models (ekf)\n"
    "  --particles N      particles for pf (default 1000; fit: 500)\n"
    "  --nsub K           spline pieces between observation times for sde-matching (3)\n"
    "  --nsamples N       Monte Carlo draws per quadrature node for sde-matching (16)\n";

static const char fit_text[] =
    "Estimate the parameters: mle (exact Kalman for linear models, else the EKF or UKF\n"
    "likelihood), pf (particle likelihood with common random numbers, Nelder-Mead) or\n"
    "sde-matching (Monte Carlo SDE matching, additive noise).  Standard errors from the\n"
    "Gaussian likelihood's observed information.  --json: {\"params\": {...}, \"loglik\": x,\n"
    "\"iterations\": n, \"method\", \"model\", \"stderr\", ...}.\n"
    "  --method M         mle, pf or sde-matching (required)\n";

static const char states_text[] =
    "%s mean and standard deviation of each latent component at the observation times, as\n"
    "CSV (time,value(s),mean,sd per component) or with --json, at the given parameters;\n"
    "loglik is the method's (kalman exact, ekf/ukf Gaussian approximation, pf unbiased\n"
    "estimate, sde-matching its bound).\n"
    "  --method M         kalman (default for linear models), ekf (default otherwise), ukf,\n"
    "                     pf (default for --obs poisson)%s\n";

enum {
  OPT_DATA = 256, OPT_COLUMN, OPT_MODEL, OPT_PLUGIN, OPT_DIM, OPT_PARAMS, OPT_FITP, OPT_OBS,
  OPT_READOUT, OPT_Z0, OPT_T0, OPT_DT, OPT_SCHEME, OPT_FILTER, OPT_PARTICLES, OPT_NSUB,
  OPT_NSAMPLES, OPT_METHOD
};

static const struct option extra[] = {
    {"data", required_argument, NULL, OPT_DATA},       {"column", required_argument, NULL, OPT_COLUMN},
    {"model", required_argument, NULL, OPT_MODEL},     {"plugin", required_argument, NULL, OPT_PLUGIN},
    {"dim", required_argument, NULL, OPT_DIM},         {"params", required_argument, NULL, OPT_PARAMS},
    {"fit-params", required_argument, NULL, OPT_FITP}, {"obs", required_argument, NULL, OPT_OBS},
    {"readout", required_argument, NULL, OPT_READOUT}, {"z0", required_argument, NULL, OPT_Z0},
    {"t0", required_argument, NULL, OPT_T0},           {"dt", required_argument, NULL, OPT_DT},
    {"scheme", required_argument, NULL, OPT_SCHEME},   {"filter", required_argument, NULL, OPT_FILTER},
    {"particles", required_argument, NULL, OPT_PARTICLES},
    {"nsub", required_argument, NULL, OPT_NSUB},       {"nsamples", required_argument, NULL, OPT_NSAMPLES},
    {"method", required_argument, NULL, OPT_METHOD},   {NULL, 0, NULL, 0}};

int cli_sde_generic_wanted(int argc, char **argv) {
  static const char *const own[] = {"--plugin", "--fit-params", "--obs", "--readout", "--z0",
                                    "--t0", "--dt", "--scheme", "--filter", "--nsamples", "--dim"};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--")) break;
    for (size_t k = 0; k < sizeof own / sizeof *own; k++) {
      size_t n = strlen(own[k]);
      if (!strncmp(a, own[k], n) && (a[n] == 0 || a[n] == '=')) return 1;
    }
    const char *v = !strcmp(a, "--model") && i + 1 < argc ? argv[i + 1]
                    : !strncmp(a, "--model=", 8)          ? a + 8
                                                          : NULL;
    if (v && strcmp(v, "ou")) return 1;
    v = !strcmp(a, "--method") && i + 1 < argc ? argv[i + 1]
        : !strncmp(a, "--method=", 9)          ? a + 9
                                               : NULL;
    if (v && (!strcmp(v, "ekf") || !strcmp(v, "ukf"))) return 1;
  }
  return 0;
}

typedef struct {
  const char *data, *column, *model, *plugin, *params, *fitp, *readout, *z0, *method;
  const char *filter;
  int dim, obs, scheme, have_t0;
  double t0, dt;
  unsigned long particles, nsub, nsamples;
} gargs;

static int handle(int val, const char *arg, void *user) {
  gargs *a = user;
  switch (val) {
  case OPT_DATA: a->data = arg; return 0;
  case OPT_COLUMN: a->column = arg; return 0;
  case OPT_MODEL: a->model = arg; return 0;
  case OPT_PLUGIN: a->plugin = arg; return 0;
  case OPT_DIM: return cli_parse_int(arg, 1, 64, &a->dim);
  case OPT_PARAMS: a->params = arg; return 0;
  case OPT_FITP: a->fitp = arg; return 0;
  case OPT_OBS:
    a->obs = !strcmp(arg, "gaussian") ? LATENS_SDE_READOUT_GAUSSIAN
             : !strcmp(arg, "poisson") ? LATENS_SDE_READOUT_POISSON
                                       : -1;
    return a->obs < 0;
  case OPT_READOUT: a->readout = arg; return 0;
  case OPT_Z0: a->z0 = arg; return 0;
  case OPT_T0: a->have_t0 = 1; return cli_parse_double(arg, &a->t0) || !isfinite(a->t0);
  case OPT_DT: return cli_parse_double(arg, &a->dt) || !(a->dt > 0) || !isfinite(a->dt);
  case OPT_SCHEME: return (a->scheme = latens_sde_scheme_from_name(arg)) < 0;
  case OPT_FILTER: a->filter = arg; return strcmp(arg, "ekf") && strcmp(arg, "ukf");
  case OPT_PARTICLES:
    return cli_parse_ulong(arg, &a->particles) || a->particles == 0 || a->particles > 100000000UL;
  case OPT_NSUB: return cli_parse_ulong(arg, &a->nsub) || a->nsub == 0 || a->nsub > 1000;
  case OPT_NSAMPLES:
    return cli_parse_ulong(arg, &a->nsamples) || a->nsamples == 0 || a->nsamples > 100000;
  case OPT_METHOD: a->method = arg; return 0;
  default: return 1;
  }
}

/* Everything a run owns. */
typedef struct {
  latens_sde_model *md;
  size_t d, p, T, np; /* states, observed components, times, parameters (theta, r) */
  double *C, *m0, *P0, *t, *x, *full; /* full: np values */
  int *fit;
  char **vname; /* p value column names */
  const char *rname; /* the observation noise: "r", or "r_obs" when the model has an r */
  latens_table *tab;
} grun;

static void grun_free(grun *g) {
  latens_sde_model_free(g->md);
  free(g->C), free(g->m0), free(g->t), free(g->x), free(g->full), free(g->fit), free(g->vname);
  latens_table_free(g->tab);
}

static const char *pname(const grun *g, size_t k) {
  return k < g->md->ntheta ? g->md->theta_name[k] : g->rname;
}

static long param_index(const grun *g, const char *name) {
  if (!strcmp(name, g->rname)) return (long)g->md->ntheta;
  return latens_sde_model_param_index(g->md, name);
}

static int make_model(const cli_common *c, const gargs *a, grun *g) {
  if (!a->model == !a->plugin)
    return cli_fail(c, CLI_EUSAGE, "give one of --model NAME or --plugin F.so");
  if (a->plugin) {
    g->md = latens_sde_model_plugin(a->plugin);
  } else if (!strcmp(a->model, "linear")) {
    size_t d = a->dim ? (size_t)a->dim : 1;
    latens_mat *A = latens_mat_alloc(d, d), *G = latens_mat_alloc(d, d);
    if (A && G) {
      for (size_t i = 0; i < d; i++) LATENS_MAT(A, i, i) = -1, LATENS_MAT(G, i, i) = 1;
      g->md = latens_sde_model_linear_alloc(A, NULL, G);
    }
    latens_mat_free(A), latens_mat_free(G);
  } else {
    g->md = latens_sde_model_builtin(a->model, NULL, 0);
  }
  if (!g->md) return cli_fail(c, CLI_EUSAGE, "%s", cli_last_error());
  g->d = g->md->d, g->np = g->md->ntheta + 1;
  g->rname = latens_sde_model_param_index(g->md, "r") < 0 ? "r" : "r_obs";
  g->full = malloc(g->np * sizeof *g->full), g->fit = calloc(g->np, sizeof *g->fit);
  if (!g->full || !g->fit) return cli_fail(c, CLI_EMODEL, "out of memory");
  memcpy(g->full, g->md->theta, g->md->ntheta * sizeof *g->full);
  g->full[g->np - 1] = NAN; /* r: from the data unless given */
  return CLI_OK;
}

/* --params: name=value or positional values (theta in order, then r). */
static int parse_params(const cli_common *c, const char *spec, grun *g, int *have_r) {
  char *s = strdup(spec), *save = NULL;
  if (!s) return cli_fail(c, CLI_EMODEL, "out of memory");
  size_t pos = 0;
  int rc = CLI_OK;
  for (char *tok = strtok_r(s, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(tok, '=');
    long k = (long)pos;
    if (eq) *eq = 0;
    if (eq && (k = param_index(g, tok)) < 0)
      rc = cli_fail(c, CLI_EUSAGE, "--params: model '%s' has no parameter '%s'", g->md->name, tok);
    else if (!eq && pos >= g->np)
      rc = cli_fail(c, CLI_EUSAGE, "--params: model '%s' takes %zu parameters and r, got more",
                    g->md->name, g->np - 1);
    else if (cli_parse_double(eq ? eq + 1 : tok, &g->full[k]) || !isfinite(g->full[k]))
      rc = cli_fail(c, CLI_EUSAGE, "--params: '%s' is not a finite number (parameter %s)",
                    eq ? eq + 1 : tok, pname(g, (size_t)k));
    else if ((size_t)k == g->np - 1 && !(g->full[k] > 0))
      rc = cli_fail(c, CLI_EUSAGE, "--params: %s = %g must be > 0", g->rname, g->full[k]);
    if ((size_t)k == g->np - 1) *have_r = 1;
    pos = (size_t)k + 1;
  }
  free(s);
  if (!rc && g->md->ntheta && latens_sde_model_set_params(g->md, g->full, g->md->ntheta))
    rc = cli_fail(c, CLI_EUSAGE, "--params: %s", cli_last_error());
  return rc;
}

static int parse_fitp(const cli_common *c, const gargs *a, grun *g) {
  if (!a->fitp) {
    for (size_t k = 0; k < g->np; k++)
      g->fit[k] = k + 1 < g->np || a->obs == LATENS_SDE_READOUT_GAUSSIAN;
    return CLI_OK;
  }
  char *s = strdup(a->fitp), *save = NULL;
  if (!s) return cli_fail(c, CLI_EMODEL, "out of memory");
  int rc = CLI_OK;
  for (char *tok = strtok_r(s, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
    long k = param_index(g, tok);
    if (k < 0)
      rc = cli_fail(c, CLI_EUSAGE, "--fit-params: model '%s' has no parameter '%s'", g->md->name,
                    tok);
    else if ((size_t)k + 1 == g->np && a->obs != LATENS_SDE_READOUT_GAUSSIAN)
      rc = cli_fail(c, CLI_EUSAGE, "--fit-params: %s is not a parameter of --obs poisson",
                    g->rname);
    else
      g->fit[k] = 1;
  }
  free(s);
  return rc;
}

/* --readout "c11,c12;c21,c22": p rows of d values. */
static int parse_readout(const cli_common *c, const char *spec, grun *g) {
  size_t p = 1, d = g->d;
  for (const char *q = spec; spec && *q; q++) p += *q == ';';
  if (!spec) p = 1;
  g->p = p;
  if (!(g->C = calloc(p * d, sizeof *g->C))) return cli_fail(c, CLI_EMODEL, "out of memory");
  if (!spec) {
    g->C[0] = 1.0;
    return CLI_OK;
  }
  char *s = strdup(spec), *rs = NULL;
  if (!s) return cli_fail(c, CLI_EMODEL, "out of memory");
  int rc = CLI_OK;
  size_t i = 0;
  for (char *row = strtok_r(s, ";", &rs); row && !rc; row = strtok_r(NULL, ";", &rs), i++) {
    size_t j = 0;
    char *cs = NULL;
    for (char *tok = strtok_r(row, ",", &cs); tok && !rc; tok = strtok_r(NULL, ",", &cs), j++) {
      double v;
      if (j >= d || cli_parse_double(tok, &v) || !isfinite(v))
        rc = cli_fail(c, CLI_EUSAGE, "--readout: row %zu: '%s' is not a finite number or "
                      "there are more than %zu columns (the state dimension)", i + 1, tok, d);
      else
        g->C[i + j * p] = v;
    }
    if (!rc && j != d)
      rc = cli_fail(c, CLI_EUSAGE, "--readout: row %zu has %zu values for %zu states", i + 1, j,
                    d);
  }
  if (!rc && i != p) rc = cli_fail(c, CLI_EUSAGE, "--readout: empty row");
  free(s);
  return rc;
}

/* --z0 "m,s" (all components) or "m1,s1,m2,s2,..."; default x0 with sd max(1, |x0|). */
static int parse_z0(const cli_common *c, const char *spec, grun *g) {
  const size_t d = g->d;
  g->m0 = calloc(d + d * d, sizeof *g->m0);
  if (!g->m0) return cli_fail(c, CLI_EMODEL, "out of memory");
  g->P0 = g->m0 + d;
  double v[2 * 64];
  size_t n = 0;
  char *s = spec ? strdup(spec) : NULL, *save = NULL;
  if (spec && !s) return cli_fail(c, CLI_EMODEL, "out of memory");
  int rc = CLI_OK;
  for (char *tok = s ? strtok_r(s, ",", &save) : NULL; tok && !rc;
       tok = strtok_r(NULL, ",", &save), n++)
    if (n >= 2 * d || cli_parse_double(tok, &v[n]) || !isfinite(v[n]))
      rc = cli_fail(c, CLI_EUSAGE, "--z0: '%s' is not a finite number, or more than %zu values",
                    tok, 2 * d);
  free(s);
  if (rc) return rc;
  if (spec && n != 2 && n != 2 * d)
    return cli_fail(c, CLI_EUSAGE, "--z0: %zu values; give mean,sd once or for each of the %zu "
                    "components", n, d);
  for (size_t i = 0; i < d; i++) {
    double m = spec ? v[n == 2 ? 0 : 2 * i] : g->md->x0[i];
    double sd = spec ? v[n == 2 ? 1 : 2 * i + 1] : fmax(1.0, fabs(g->md->x0[i]));
    if (!(sd > 0)) return cli_fail(c, CLI_EUSAGE, "--z0: sd %g of component %zu must be > 0", sd, i + 1);
    g->m0[i] = m, g->P0[i + i * d] = sd * sd;
  }
  return CLI_OK;
}

/* Value column j (0-based) by name or 1-based number; the time column 0 is not a value. */
static int find_column(const latens_table *tab, const char *name, size_t *j) {
  size_t p = latens_table_ncol(tab);
  unsigned long k;
  if (!cli_parse_ulong(name, &k) && k >= 2 && k <= p) {
    *j = k - 1;
    return 0;
  }
  for (size_t q = 1; q < p; q++)
    if (!strcmp(latens_table_name(tab, q), name)) {
      *j = q;
      return 0;
    }
  return 1;
}

static int read_data(const cli_common *c, const gargs *a, grun *g) {
  int st = latens_table_read_numeric(a->data, NULL, &g->tab);
  if (st) return cli_fail(c, cli_exit_code(st), "%s", cli_last_error());
  const latens_table *tab = g->tab;
  size_t n = latens_table_nrow(tab), nc = latens_table_ncol(tab), p = g->p;
  size_t line0 = 1 + (size_t)latens_table_has_header(tab), *col = malloc(p * sizeof *col);
  if (!col) return cli_fail(c, CLI_EMODEL, "out of memory");
  int rc = CLI_OK;
  char *s = a->column ? strdup(a->column) : NULL, *save = NULL;
  size_t q = 0;
  for (char *tok = s ? strtok_r(s, ",", &save) : NULL; tok && !rc;
       tok = strtok_r(NULL, ",", &save), q++)
    if (q >= p)
      rc = cli_fail(c, CLI_EUSAGE, "--column: more than %zu value columns (the readout has %zu "
                    "rows)", p, p);
    else if (find_column(tab, tok, &col[q]))
      rc = cli_fail(c, CLI_EUSAGE, "--column: %s: no value column '%s' (the first column is the "
                    "time)", a->data, tok);
  free(s);
  if (!rc && a->column && q != p)
    rc = cli_fail(c, CLI_EUSAGE, "--column: %zu value columns for a readout of %zu rows", q, p);
  for (q = 0; !rc && !a->column && q < p; q++) col[q] = q + 1;
  if (!rc && (nc < p + 1 || n < 2))
    rc = cli_fail(c, CLI_EUSAGE, "%s: need a time column, %zu value column(s) and at least 2 rows "
                  "(found %zu x %zu)", a->data, p, n, nc);
  if (!rc && (!(g->t = malloc(n * sizeof *g->t)) || !(g->x = malloc(n * p * sizeof *g->x)) ||
              !(g->vname = malloc(p * sizeof *g->vname))))
    rc = cli_fail(c, CLI_EMODEL, "out of memory");
  const latens_mat *D = rc ? NULL : latens_table_data(tab);
  for (q = 0; !rc && q < p; q++) g->vname[q] = (char *)latens_table_name(tab, col[q]);
  for (size_t i = 0; i < n && !rc; i++) {
    g->t[i] = LATENS_MAT(D, i, 0);
    if (isnan(g->t[i]))
      rc = cli_fail(c, CLI_EUSAGE, "%s:%zu:1: missing time", a->data, line0 + i);
    else if (i && g->t[i] < g->t[i - 1])
      rc = cli_fail(c, CLI_EUSAGE, "%s:%zu:1: time %g is before the previous time %g", a->data,
                    line0 + i, g->t[i], g->t[i - 1]);
    for (q = 0; q < p && !rc; q++) {
      double v = g->x[q + i * p] = LATENS_MAT(D, i, col[q]);
      if (a->obs == LATENS_SDE_READOUT_POISSON && !isnan(v) && !(v >= 0 && v == floor(v)))
        rc = cli_fail(c, CLI_EUSAGE, "%s:%zu:%zu: %g is not a count (--obs poisson)", a->data,
                      line0 + i, col[q] + 1, v);
    }
  }
  g->T = n;
  free(col);
  return rc;
}

/* r by default: a tenth of the observed values' variance (pooled over components). */
static double default_r(const grun *g) {
  double s1 = 0, s2 = 0, n = 0;
  for (size_t i = 0; i < g->T * g->p; i++)
    if (!isnan(g->x[i])) s1 += g->x[i], s2 += g->x[i] * g->x[i], n++;
  double v = n > 1 ? (s2 - s1 * s1 / n) / (n - 1) : 1.0;
  return v > 0 && isfinite(v) ? 0.1 * v : 1.0;
}

/* Parse everything into g and s; returns a CLI_ code (-1: --help was printed). */
static int setup(int argc, char **argv, cli_common *c, int which, gargs *a, grun *g,
                 latens_sde_ssm *s) {
  char help[8192];
  static const char *const verbs[] = {"filter", "smooth", "fit"};
  int off = snprintf(help, sizeof help, usage_head, verbs[which]);
  if (which == CLI_SDE_FIT)
    off += snprintf(help + off, sizeof help - off, "%s", fit_text);
  else
    off += snprintf(help + off, sizeof help - off, states_text,
                    which ? "Smoothed" : "Filtered", which ? ", sde-matching" : "");
  snprintf(help + off, sizeof help - off, "%s", usage_body);
  memset(a, 0, sizeof *a), memset(g, 0, sizeof *g);
  a->obs = LATENS_SDE_READOUT_GAUSSIAN, a->scheme = LATENS_SDE_EM;
  int first = cli_parse(argc, argv, c, extra, handle, a, help);
  if (first == -2) return -1;
  if (first < 0) return CLI_EUSAGE;
  if (first < argc) return cli_fail(c, CLI_EUSAGE, "unexpected operand '%s'", argv[first]);
  if (!a->data) return cli_fail(c, CLI_EUSAGE, "--data FILE is required");
  int rc, have_r = 0;
  if ((rc = make_model(c, a, g))) return rc;
  if (a->params && (rc = parse_params(c, a->params, g, &have_r))) return rc;
  if ((rc = parse_fitp(c, a, g)) || (rc = parse_readout(c, a->readout, g)) ||
      (rc = parse_z0(c, a->z0, g)) || (rc = read_data(c, a, g)))
    return rc;
  if (!have_r) g->full[g->np - 1] = default_r(g);
  latens_sde_ssm_init(s, g->md);
  s->kind = (latens_sde_readout_kind)a->obs, s->p = g->p, s->C = g->C, s->r = g->full[g->np - 1];
  s->t0 = a->have_t0 ? a->t0 : g->t[0];
  if (!(s->t0 <= g->t[0]))
    return cli_fail(c, CLI_EUSAGE, "--t0 %g is after the first observation time %g", s->t0, g->t[0]);
  s->m0 = g->m0, s->P0 = g->P0;
  s->stationary = !a->z0 && !strcmp(g->md->name, "ou") && g->md->linear;
  s->solver.scheme = (latens_sde_scheme)a->scheme;
  if (a->dt > 0) s->solver.dt = a->dt;
  if (a->particles) s->particles = a->particles;
  else if (which == CLI_SDE_FIT) s->particles = 500;
  if (a->nsub) s->match.nsub = a->nsub;
  if (a->nsamples) s->nsamples = a->nsamples;
  s->seed = c->seed;
  return CLI_OK;
}

static void json_named(cli_json *j, const char *key, const grun *g, const double *v) {
  cli_json_key(j, key), cli_json_object(j);
  for (size_t k = 0; k < g->np; k++) cli_json_key(j, pname(g, k)), cli_json_number(j, v[k]);
  cli_json_close(j, '}');
}

static void put(FILE *f, double x) {
  char b[40];
  cli_format_number(b, sizeof b, x);
  fputs(b, f);
}

/* The current parameter values (theta from the model, r from s). */
static void current(const grun *g, const latens_sde_ssm *s, double *v) {
  memcpy(v, g->md->theta, g->md->ntheta * sizeof *v);
  v[g->np - 1] = s->r;
}

static int write_states(const cli_common *c, const grun *g, const latens_sde_ssm *s,
                        const char *method, double ll, double ll_se, size_t iters,
                        const double *mean, const double *var) {
  cli_out *out = cli_out_open(c);
  if (!out) return CLI_EUSAGE;
  FILE *f = cli_out_stream(out);
  const size_t d = g->d, p = g->p, T = g->T;
  double *v = malloc(g->np * sizeof *v);
  if (!v) {
    cli_out_close(out, 0, c);
    return cli_fail(c, CLI_EMODEL, "out of memory");
  }
  current(g, s, v);
  if (c->json) {
    cli_json j;
    cli_json_begin(&j, f);
    json_named(&j, "params", g, v);
    cli_json_key(&j, "loglik"), cli_json_number(&j, ll);
    /* matching: "loglik" is the bound, re-estimated on fresh draws, and this its MC error */
    if (!isnan(ll_se)) cli_json_key(&j, "objective_se"), cli_json_number(&j, ll_se);
    cli_json_key(&j, "iterations"), cli_json_int(&j, (long long)iters);
    cli_json_key(&j, "method"), cli_json_string(&j, method);
    cli_json_key(&j, "model"), cli_json_string(&j, g->md->name);
    cli_json_key(&j, "time"), cli_json_array(&j);
    for (size_t k = 0; k < T; k++) cli_json_number(&j, g->t[k]);
    cli_json_close(&j, ']');
    /* One latent component: flat arrays (as the OU interface); more: one array each. */
    for (int q = 0; q < 2; q++) {
      cli_json_key(&j, q ? "sd" : "mean"), cli_json_array(&j);
      for (size_t i = 0; i < d; i++) {
        if (d > 1) cli_json_array(&j);
        for (size_t k = 0; k < T; k++)
          cli_json_number(&j, q ? sqrt(var[i + k * d]) : mean[i + k * d]);
        if (d > 1) cli_json_close(&j, ']');
      }
      cli_json_close(&j, ']');
    }
    cli_json_end(&j);
  } else {
    fputs("time", f);
    for (size_t q = 0; q < p; q++)
      p == 1 ? fputs(",value", f) : fprintf(f, ",value%zu", q + 1);
    for (size_t i = 0; i < d; i++)
      d == 1 ? fputs(",mean,sd", f) : fprintf(f, ",mean%zu,sd%zu", i + 1, i + 1);
    fputc('\n', f);
    for (size_t k = 0; k < T; k++) {
      put(f, g->t[k]);
      for (size_t q = 0; q < p; q++) {
        fputc(',', f);
        isnan(g->x[q + k * p]) ? (void)fputs("NA", f) : put(f, g->x[q + k * p]);
      }
      for (size_t i = 0; i < d; i++)
        fputc(',', f), put(f, mean[i + k * d]), fputc(',', f), put(f, sqrt(var[i + k * d]));
      fputc('\n', f);
    }
  }
  free(v);
  return cli_out_close(out, 1, c) ? CLI_EUSAGE : CLI_OK;
}

/* SDE matching takes the prior as given: OU's stationary law at the current values. */
static void matching_prior(grun *g, latens_sde_ssm *s) {
  if (!s->stationary) return;
  s->stationary = 0;
  double th = g->md->theta[0], sg = g->md->theta[2];
  g->m0[0] = g->md->theta[1], g->P0[0] = th > 0 ? sg * sg / (2 * th) : 1.0;
}

static int states_run(const cli_common *c, const gargs *a, grun *g, latens_sde_ssm *s, int smooth) {
  const char *mname = a->method                                 ? a->method
                      : a->obs == LATENS_SDE_READOUT_POISSON ? "pf"
                      : g->md->linear                        ? "kalman"
                                                             : "ekf";
  int m = latens_sde_filter_method_from_name(mname), matching = 0;
  if (m < 0 && smooth && !strcmp(mname, "sde-matching")) matching = 1;
  else if (m < 0)
    return cli_fail(c, CLI_EUSAGE, "--method %s is not a %s method (kalman|ekf|ukf|pf%s)", mname,
                    smooth ? "smoothing" : "filtering", smooth ? "|sde-matching" : "");
  if (matching && (g->md->noise != LATENS_SDE_NOISE_ADDITIVE || a->obs != LATENS_SDE_READOUT_GAUSSIAN))
    return cli_fail(c, CLI_EUSAGE, "--method sde-matching needs additive noise and --obs gaussian "
                    "(model '%s'): use ekf, ukf or pf", g->md->name);
  if (m != LATENS_SDE_FILTER_PF && a->obs != LATENS_SDE_READOUT_GAUSSIAN)
    return cli_fail(c, CLI_EUSAGE, "--obs poisson needs --method pf");
  if (m == LATENS_SDE_FILTER_KALMAN && !g->md->linear)
    return cli_fail(c, CLI_EUSAGE, "--method kalman needs a linear model ('%s' is not: use ekf, "
                    "ukf or pf)", g->md->name);
  latens_sde_data y = {g->T, g->p, g->t, g->x, g->p};
  const size_t tot = g->T * g->d;
  double *mean = malloc(2 * tot * sizeof *mean), *var = mean ? mean + tot : NULL, ll = NAN,
         ll_se = NAN;
  if (!mean) return cli_fail(c, CLI_EMODEL, "out of memory");
  size_t iters = 0;
  int st;
  cli_progress bar;
  cli_progress_init(&bar, c);
  if (matching) { /* the posterior for the given parameters: nothing is estimated */
    matching_prior(g, s);
    int *none = calloc(g->np, sizeof *none);
    latens_sde_ssm_fit_result r = {0};
    latens_optim_options o;
    latens_optim_options_default(&o);
    o.max_iter = 5000, o.progress = bar.p;
    st = !none ? LATENS_ENOMEM : LATENS_OK;
    if (!st) st = latens_sde_ssm_fit_matching(s, none, &o, &y, &r, mean, var);
    free(none);
    ll = r.objective, ll_se = r.objective_se, iters = r.iterations;
  } else {
    st = latens_sde_ssm_filter(s, (latens_sde_filter_method)m, smooth, &y, mean, var, &ll);
  }
  cli_progress_done(&bar);
  if (st == LATENS_EMAXITER) { /* the best posterior found is still the answer asked for */
    if (!c->quiet) fprintf(stderr, "%s: warning: iteration limit reached\n", c->prog);
    st = LATENS_OK;
  }
  int rc = st ? cli_fail(c, cli_exit_code(st), "%s", cli_last_error())
              : write_states(c, g, s, matching ? "sde-matching" : mname, ll, ll_se, iters,
                             mean, var);
  free(mean);
  return rc;
}

static int write_fit(const cli_common *c, const grun *g, const latens_sde_ssm *s,
                     const char *method, const char *lik, const latens_sde_ssm_fit_result *r) {
  cli_out *out = cli_out_open(c);
  if (!out) return CLI_EUSAGE;
  FILE *f = cli_out_stream(out);
  double *v = malloc(g->np * sizeof *v);
  if (!v) {
    cli_out_close(out, 0, c);
    return cli_fail(c, CLI_EMODEL, "out of memory");
  }
  current(g, s, v);
  size_t nobs = 0;
  for (size_t i = 0; i < g->T * g->p; i++) nobs += !isnan(g->x[i]);
  if (c->json) {
    cli_json j;
    cli_json_begin(&j, f);
    json_named(&j, "params", g, v);
    cli_json_key(&j, "loglik"), cli_json_number(&j, r->loglik);
    cli_json_key(&j, "iterations"), cli_json_int(&j, (long long)r->iterations);
    cli_json_key(&j, "method"), cli_json_string(&j, method);
    cli_json_key(&j, "likelihood"), cli_json_string(&j, lik);
    cli_json_key(&j, "model"), cli_json_string(&j, g->md->name);
    json_named(&j, "stderr", g, r->se);
    cli_json_key(&j, "fitted"), cli_json_array(&j);
    for (size_t k = 0; k < g->np; k++)
      if (g->fit[k]) cli_json_string(&j, pname(g, k));
    cli_json_close(&j, ']');
    cli_json_key(&j, "objective"), cli_json_number(&j, r->objective);
    cli_json_key(&j, "objective_se"), cli_json_number(&j, r->objective_se);
    cli_json_key(&j, "converged"), cli_json_bool(&j, r->converged);
    cli_json_key(&j, "n"), cli_json_int(&j, (long long)g->T);
    cli_json_key(&j, "observed"), cli_json_int(&j, (long long)nobs);
    cli_json_end(&j);
  } else {
    fprintf(f, "model %s, method %s (%s likelihood), %zu times, %zu iterations%s\n", g->md->name,
            method, lik, g->T, r->iterations, r->converged ? "" : " (not converged)");
    for (size_t k = 0; k < g->np; k++) {
      fprintf(f, "%-8s ", pname(g, k));
      put(f, v[k]);
      if (!g->fit[k]) fputs("  (fixed)", f);
      else if (isfinite(r->se[k])) fputs("  (se ", f), put(f, r->se[k]), fputc(')', f);
      fputc('\n', f);
    }
    fputs("loglik ", f), put(f, r->loglik), fputs("\nobjective ", f), put(f, r->objective);
    fputc('\n', f);
  }
  free(v);
  return cli_out_close(out, 1, c) ? CLI_EUSAGE : CLI_OK;
}

static int fit_run(const cli_common *c, const gargs *a, grun *g, latens_sde_ssm *s) {
  if (!a->method) return cli_fail(c, CLI_EUSAGE, "--method mle|pf|sde-matching is required");
  int pf = !strcmp(a->method, "pf"), mle = !strcmp(a->method, "mle");
  int matching = !strcmp(a->method, "sde-matching");
  if (!pf && !mle && !matching)
    return cli_fail(c, CLI_EUSAGE, "--method %s is not a fitting method (mle|pf|sde-matching)",
                    a->method);
  if (matching && (g->md->noise != LATENS_SDE_NOISE_ADDITIVE || a->obs != LATENS_SDE_READOUT_GAUSSIAN))
    return cli_fail(c, CLI_EUSAGE, "--method sde-matching needs additive noise and --obs gaussian "
                    "('%s' has %s noise): use mle or pf", g->md->name,
                    g->md->noise == LATENS_SDE_NOISE_ADDITIVE ? "additive" : "state-dependent");
  if (mle && a->obs != LATENS_SDE_READOUT_GAUSSIAN)
    return cli_fail(c, CLI_EUSAGE, "--obs poisson needs --method pf");
  int any = 0;
  for (size_t k = 0; k < g->np; k++) any |= g->fit[k];
  if (!any) return cli_fail(c, CLI_EUSAGE, "--fit-params: nothing to estimate");
  latens_sde_filter_method m = pf                ? LATENS_SDE_FILTER_PF
                               : g->md->linear && a->obs == LATENS_SDE_READOUT_GAUSSIAN
                                   ? LATENS_SDE_FILTER_KALMAN
                               : a->filter && !strcmp(a->filter, "ukf") ? LATENS_SDE_FILTER_UKF
                                                                        : LATENS_SDE_FILTER_EKF;
  if (matching) matching_prior(g, s);
  latens_sde_data y = {g->T, g->p, g->t, g->x, g->p};
  latens_sde_ssm_fit_result r = {0};
  double *se = malloc(g->np * sizeof *se);
  if (!se) return cli_fail(c, CLI_EMODEL, "out of memory");
  r.se = se;
  latens_optim_options o;
  latens_optim_options_default(&o);
  o.max_iter = 5000;
  cli_progress bar;
  cli_progress_init(&bar, c);
  o.progress = bar.p;
  int st = matching ? latens_sde_ssm_fit_matching(s, g->fit, &o, &y, &r, NULL, NULL)
                    : latens_sde_ssm_fit(s, m, g->fit, &o, &y, &r);
  cli_progress_done(&bar);
  int rc = CLI_OK;
  if (st && st != LATENS_EMAXITER) rc = cli_fail(c, cli_exit_code(st), "%s", cli_last_error());
  else if (st && !c->quiet) fprintf(stderr, "%s: warning: iteration limit reached\n", c->prog);
  const char *lik = matching ? (g->md->linear ? "kalman" : "ekf") : latens_sde_filter_method_name(m);
  if (!rc) rc = write_fit(c, g, s, a->method, lik, &r);
  free(se);
  return rc;
}

int cli_sde_generic_run(int argc, char **argv, cli_common *c, int which) {
  gargs a;
  grun g;
  latens_sde_ssm s;
  int rc = setup(argc, argv, c, which, &a, &g, &s);
  if (!rc) rc = which == CLI_SDE_FIT ? fit_run(c, &a, &g, &s) : states_run(c, &a, &g, &s, which);
  grun_free(&g);
  return rc < 0 ? CLI_OK : rc;
}
