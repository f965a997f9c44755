/* cli/sde_fit.c: `latens sde filter|smooth|fit` — a latent Ornstein-Uhlenbeck process behind
 * a noisy 1-D series observed at (possibly irregular) times, and the sde section of
 * `latens demo`. */
#include <config.h>

#include "cli.h"
#include "sde_infer_cli.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char common_help[] =
    "The model: dz = kappa (mu - z) dt + sigma dW, z stationary at the first time, observed\n"
    "as x = z + N(0, r).  The data file has the time in its first column and the series in\n"
    "the second (or --column); missing values (NA, empty) are allowed, times must not\n"
    "decrease.\n\n"
    "Options:\n"
    "  --data FILE      observations (CSV or whitespace-separated; '-' is standard input)\n"
    "  --column C       value column, by name or 1-based number (default 2)\n"
    "  --model ou       the latent OU model; any other model (--model NAME, --plugin F.so):\n"
    "                   see `latens sde fit --model double-well --help`\n"
    "  --particles N    particle count for --method pf (default 1000; fit: 500)\n"
    "  --nsub K         spline pieces between observation times for sde-matching (default 3)\n";

static const char fit_usage[] =
    "usage: latens sde fit --method mle|pf|sde-matching --data FILE [OPTIONS]\n"
    "Estimate (kappa, mu, sigma, r) by exact Kalman maximum likelihood (mle), particle\n"
    "likelihood with common random numbers (pf), or SDE matching with a Gaussian spline\n"
    "posterior (sde-matching).  Standard errors come from the Kalman likelihood's observed\n"
    "information at the estimate.  --json: {\"params\": {...}, \"loglik\": x, \"iterations\": n,\n"
    "...} with loglik the exact log-likelihood at the estimate, \"objective\" the method's\n"
    "own (pf: re-estimated at the estimate by 8 particle filters on streams the fit never\n"
    "used, log of their mean likelihood) and \"objective_se\" its Monte Carlo standard error\n"
    "(0 for mle and sde-matching).  The re-estimating filters run on --threads threads.\n"
    "  --params LIST    starting point kappa=K,mu=M,sigma=S,r=R (default: from the data)\n";

static const char filter_usage[] =
    "usage: latens sde filter --data FILE [--params LIST] [--method kalman|pf] [OPTIONS]\n"
    "Filtered mean and standard deviation of the latent z at each observation time, as CSV\n"
    "(time,value,mean,sd) or with --json.  Without --params the Kalman MLE is used.\n"
    "  --params LIST    kappa=K,mu=M,sigma=S,r=R\n"
    "  --method M       kalman (exact, default) or pf (bootstrap particle filter, --seed)\n";

static const char smooth_usage[] =
    "usage: latens sde smooth --data FILE [--params LIST] [--method kalman|pf|sde-matching]\n"
    "Smoothed mean and standard deviation of the latent z at each observation time, as CSV\n"
    "(time,value,mean,sd) or with --json.  Without --params the Kalman MLE is used.\n"
    "  --params LIST    kappa=K,mu=M,sigma=S,r=R\n"
    "  --method M       kalman (RTS, default), pf (particle filter, backward simulation) or\n"
    "                   sde-matching (the SDE-matching posterior for the given parameters)\n";

enum { OPT_DATA = 256, OPT_METHOD, OPT_PARAMS, OPT_PARTICLES, OPT_NSUB, OPT_COLUMN, OPT_MODEL };
enum { M_MLE, M_PF, M_MATCHING, M_KALMAN };

typedef struct {
  const char *data, *column, *method_name;
  int method;
  int have_params;
  double theta[LATENS_SDE_OU_NPARAM];
  unsigned long particles;
  unsigned long nsub;
} args;

static int parse_params(const char *s, double *th) {
  int seen = 0;
  char buf[512];
  if (strlen(s) >= sizeof buf) return 1;
  strcpy(buf, s);
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(tok, '=');
    if (!eq) return 1;
    *eq = 0;
    int k = -1;
    for (int i = 0; i < LATENS_SDE_OU_NPARAM; i++)
      if (!strcmp(tok, latens_sde_ou_param_name(i))) k = i;
    if (k < 0 || cli_parse_double(eq + 1, &th[k]) || !isfinite(th[k])) return 1;
    if (k != 1 && !(th[k] > 0)) return 1;
    seen |= 1 << k;
  }
  return seen != 15;
}

static int handle(int val, const char *arg, void *user) {
  args *a = user;
  switch (val) {
  case OPT_DATA: a->data = arg; return 0;
  case OPT_COLUMN: a->column = arg; return 0;
  case OPT_MODEL: return strcmp(arg, "ou") != 0;
  case OPT_METHOD:
    a->method_name = arg;
    if (!strcmp(arg, "mle"))
      a->method = M_MLE;
    else if (!strcmp(arg, "pf"))
      a->method = M_PF;
    else if (!strcmp(arg, "sde-matching"))
      a->method = M_MATCHING;
    else if (!strcmp(arg, "kalman"))
      a->method = M_KALMAN;
    else
      return 1;
    return 0;
  case OPT_PARAMS: a->have_params = 1; return parse_params(arg, a->theta);
  case OPT_PARTICLES:
    return cli_parse_ulong(arg, &a->particles) || a->particles == 0 || a->particles > 100000000UL;
  case OPT_NSUB: return cli_parse_ulong(arg, &a->nsub) || a->nsub == 0 || a->nsub > 1000;
  default: return 1;
  }
}

static const struct option extra[] = {{"data", required_argument, NULL, OPT_DATA},
                                      {"method", required_argument, NULL, OPT_METHOD},
                                      {"params", required_argument, NULL, OPT_PARAMS},
                                      {"particles", required_argument, NULL, OPT_PARTICLES},
                                      {"nsub", required_argument, NULL, OPT_NSUB},
                                      {"column", required_argument, NULL, OPT_COLUMN},
                                      {"model", required_argument, NULL, OPT_MODEL},
                                      {NULL, 0, NULL, 0}};

/* A series: times and values (T), owned. */
typedef struct {
  size_t T;
  double *t, *x;
} series;

static void series_free(series *s) { free(s->t), free(s->x); }

/* Read time and value columns; bad times are named by file:line:column. */
static int read_series(const cli_common *c, const char *path, const char *column, series *s) {
  latens_table *tab = NULL;
  int st = latens_table_read_numeric(path, NULL, &tab);
  if (st) return cli_fail(c, cli_exit_code(st), "%s", cli_last_error());
  size_t n = latens_table_nrow(tab), p = latens_table_ncol(tab), vc = 1;
  size_t line0 = 1 + (size_t)latens_table_has_header(tab);
  int rc = CLI_OK;
  if (column) {
    unsigned long k;
    vc = p;
    if (!cli_parse_ulong(column, &k) && k >= 1 && k <= p) vc = k - 1;
    for (size_t j = 0; j < p && vc == p; j++)
      if (!strcmp(latens_table_name(tab, j), column)) vc = j;
    if (vc == p || vc == 0)
      rc = cli_fail(c, CLI_EUSAGE, "%s: no value column '%s' (the first column is the time)", path,
                    column);
  }
  if (!rc && (p < 2 || n < 3))
    rc = cli_fail(c, CLI_EUSAGE,
                  "%s: need a time and a value column and at least 3 rows (found %zu x %zu)", path,
                  n, p);
  if (rc) {
    latens_table_free(tab);
    return rc;
  }
  const latens_mat *D = latens_table_data(tab);
  s->T = n, s->t = malloc(n * sizeof *s->t), s->x = malloc(n * sizeof *s->x);
  if (!s->t || !s->x) rc = cli_fail(c, CLI_EMODEL, "out of memory");
  for (size_t i = 0; i < n && !rc; i++) {
    s->t[i] = LATENS_MAT(D, i, 0), s->x[i] = LATENS_MAT(D, i, vc);
    if (isnan(s->t[i]))
      rc = cli_fail(c, CLI_EUSAGE, "%s:%zu:1: missing time", path, line0 + i);
    else if (i && s->t[i] < s->t[i - 1])
      rc = cli_fail(c, CLI_EUSAGE, "%s:%zu:1: time %g is before the previous time %g", path,
                    line0 + i, s->t[i], s->t[i - 1]);
  }
  latens_table_free(tab);
  if (rc) series_free(s);
  return rc;
}

static void json_params(cli_json *j, const char *key, const double *th) {
  cli_json_key(j, key), cli_json_object(j);
  for (int i = 0; i < LATENS_SDE_OU_NPARAM; i++)
    cli_json_key(j, latens_sde_ou_param_name(i)), cli_json_number(j, th[i]);
  cli_json_close(j, '}');
}

static void text_params(FILE *f, const double *th, const double *se) {
  char a[32], b[32];
  for (int i = 0; i < LATENS_SDE_OU_NPARAM; i++) {
    cli_format_number(a, sizeof a, th[i]);
    fprintf(f, "%-6s %s", latens_sde_ou_param_name(i), a);
    if (se && isfinite(se[i])) cli_format_number(b, sizeof b, se[i]), fprintf(f, "  (se %s)", b);
    fputc('\n', f);
  }
}

static int do_fit(const cli_common *c, const args *a, const series *s, int method,
                  latens_sde_fit_result *res) {
  latens_sde_fit_options o;
  latens_sde_fit_options_default(&o);
  o.method = method == M_PF         ? LATENS_SDE_FIT_PF
             : method == M_MATCHING ? LATENS_SDE_FIT_MATCHING
                                    : LATENS_SDE_FIT_MLE;
  if (a->particles) o.pf.particles = a->particles;
  if (a->nsub) o.match.nsub = a->nsub;
  o.seed = c->seed;
  if (a->have_params) o.theta0 = a->theta;
  latens_sde_data y = {s->T, 1, s->t, s->x, 1};
  cli_progress bar;
  cli_progress_init(&bar, c);
  o.optim.progress = bar.p;
  int st = latens_sde_ou_fit(&y, &o, res);
  cli_progress_done(&bar);
  if (st && st != LATENS_EMAXITER) return cli_fail(c, cli_exit_code(st), "%s", cli_last_error());
  if (st && !c->quiet) fprintf(stderr, "%s: warning: iteration limit reached\n", c->prog);
  return CLI_OK;
}

static int setup(int argc, char **argv, cli_common *c, args *a, const char *usage, series *s) {
  memset(a, 0, sizeof *a);
  a->method = -1;
  char help[4096];
  snprintf(help, sizeof help, "%s%s", usage, common_help);
  int first = cli_parse(argc, argv, c, extra, handle, a, help);
  if (first == -2) return -1;
  if (first < 0) return CLI_EUSAGE;
  if (first < argc) return cli_fail(c, CLI_EUSAGE, "unexpected operand '%s'", argv[first]);
  if (!a->data) return cli_fail(c, CLI_EUSAGE, "--data FILE is required");
  return read_series(c, a->data, a->column, s);
}

static int fit_run(int argc, char **argv, cli_common *c) {
  if (cli_sde_generic_wanted(argc, argv)) return cli_sde_generic_run(argc, argv, c, CLI_SDE_FIT);
  args a;
  series s = {0};
  int rc = setup(argc, argv, c, &a, fit_usage, &s);
  if (rc) return rc < 0 ? CLI_OK : rc;
  if (a.method != M_MLE && a.method != M_PF && a.method != M_MATCHING) {
    series_free(&s);
    if (!a.method_name) return cli_fail(c, CLI_EUSAGE, "--method mle|pf|sde-matching is required");
    return cli_fail(c, CLI_EUSAGE, "--method %s is not a fitting method (mle|pf|sde-matching)",
                    a.method_name);
  }
  latens_sde_fit_result res;
  rc = do_fit(c, &a, &s, a.method, &res);
  cli_out *out = rc ? NULL : cli_out_open(c);
  if (!rc && !out) rc = CLI_EUSAGE;
  if (!rc) {
    FILE *f = cli_out_stream(out);
    if (c->json) {
      cli_json j;
      cli_json_begin(&j, f);
      json_params(&j, "params", res.theta);
      cli_json_key(&j, "loglik"), cli_json_number(&j, res.loglik);
      cli_json_key(&j, "iterations"), cli_json_int(&j, (long long)res.iterations);
      cli_json_key(&j, "method"), cli_json_string(&j, a.method_name);
      json_params(&j, "se", res.se);
      cli_json_key(&j, "objective"), cli_json_number(&j, res.objective);
      cli_json_key(&j, "objective_se"), cli_json_number(&j, res.objective_se);
      cli_json_key(&j, "converged"), cli_json_bool(&j, res.converged);
      cli_json_key(&j, "n"), cli_json_int(&j, (long long)s.T);
      cli_json_end(&j);
    } else {
      char ll[32], ob[32];
      cli_format_number(ll, sizeof ll, res.loglik), cli_format_number(ob, sizeof ob, res.objective);
      fprintf(f, "method %s, %zu observations, %zu iterations%s\n", a.method_name, s.T,
              res.iterations, res.converged ? "" : " (not converged)");
      text_params(f, res.theta, res.se);
      fprintf(f, "loglik %s\nobjective %s", ll, ob);
      if (isfinite(res.objective_se) && res.objective_se > 0)
        cli_format_number(ob, sizeof ob, res.objective_se), fprintf(f, "  (se %s)", ob);
      fputc('\n', f);
    }
    rc = cli_out_close(out, 1, c) ? CLI_EUSAGE : CLI_OK;
  }
  series_free(&s);
  return rc;
}

/* Filtered or smoothed moments by the chosen method; loglik as that method defines it. */
static int states(const cli_common *c, const args *a, const series *s, int smooth, const double *th,
                  double *mean, double *sd, double *loglik, size_t *iters) {
  latens_sde_data y = {s->T, 1, s->t, s->x, 1};
  double A = -th[0], b = th[0] * th[1], Sg = th[2] * th[2], m0 = th[1], P0 = Sg / (2 * th[0]);
  double C = 1.0, R = th[3];
  latens_sde_lti M = {1, s->t[0], &A, &b, &Sg, &m0, &P0};
  latens_sde_readout ro = {LATENS_SDE_READOUT_GAUSSIAN, 1, &C, NULL, &R};
  int st = LATENS_OK;
  if (a->method == M_PF) {
    latens_sde_lti_sampler *smp = latens_sde_lti_sampler_alloc(&M);
    latens_sde_pf_model pm = latens_sde_lti_sampler_model(smp);
    latens_sde_pf_options o;
    latens_sde_pf_options_default(&o);
    if (a->particles) o.particles = a->particles;
    o.smooth = smooth ? 2 : 0; /* backward simulation: no path degeneracy */
    latens_rng rng;
    latens_rng_init(&rng, c->seed, 0);
    latens_sde_pf_result r = {0};
    if (smooth)
      r.ms = mean, r.vs = sd;
    else
      r.mf = mean, r.vf = sd;
    /* A failed alloc already reported its cause (not necessarily memory): keep its status. */
    st = smp ? latens_sde_pf_run(&pm, &ro, &y, &o, &rng, &r) : latens_last_error(NULL);
    latens_sde_lti_sampler_free(smp);
    *loglik = r.loglik;
  } else if (a->method == M_MATCHING) {
    /* Fit the spline posterior on standardised values (see latens_sde_ou_fit), map back. */
    double mu = 0, var = 0, n = 0;
    for (size_t k = 0; k < s->T; k++)
      if (!isnan(s->x[k])) mu += s->x[k], n++;
    mu /= n;
    for (size_t k = 0; k < s->T; k++)
      if (!isnan(s->x[k])) var += (s->x[k] - mu) * (s->x[k] - mu);
    double scale = sqrt(var / (n - 1)), *xs = malloc(s->T * sizeof *xs);
    if (!xs) return cli_fail(c, CLI_EMODEL, "out of memory");
    if (n < 2 || !(scale > 0)) {
      free(xs);
      return cli_fail(c, CLI_EUSAGE, "%s: need at least 2 distinct observed values", a->data);
    }
    for (size_t k = 0; k < s->T; k++) xs[k] = (s->x[k] - mu) / scale;
    latens_sde_data ys = {s->T, 1, s->t, xs, 1};
    b = th[0] * (th[1] - mu) / scale, m0 = (th[1] - mu) / scale, Sg /= scale * scale;
    P0 /= scale * scale, R /= scale * scale;
    latens_sde_match_options mo;
    latens_sde_match_options_default(&mo);
    if (a->nsub) mo.nsub = a->nsub;
    latens_sde_match *w = latens_sde_match_alloc(1, s->t[0], &ys, &mo);
    double *coef = w ? malloc(latens_sde_match_ncoef(w) * sizeof *coef) : NULL, loss = NAN;
    st = !w      ? latens_last_error(NULL)
         : !coef ? LATENS_ENOMEM
                 : latens_sde_match_init(w, &ro, &ys, coef);
    if (!st) st = latens_sde_match_fit_posterior(w, &M, &ro, &ys, NULL, coef, &loss, iters);
    if (st == LATENS_ENOPROG) st = LATENS_OK; /* flat to rounding: the best point is kept */
    if (!st) st = latens_sde_match_posterior(w, coef, s->T, s->t, mean, sd);
    for (size_t k = 0; k < s->T && !st; k++) mean[k] = mu + scale * mean[k], sd[k] *= scale * scale;
    *loglik = -loss - n * log(scale);
    free(coef), free(xs);
    latens_sde_match_free(w);
  } else {
    st = smooth ? latens_sde_lti_smooth(&M, &ro, &y, mean, sd, loglik)
                : latens_sde_lti_filter(&M, &ro, &y, mean, sd, loglik);
  }
  if (st) return cli_fail(c, cli_exit_code(st), "%s", cli_last_error());
  for (size_t k = 0; k < s->T; k++) sd[k] = sqrt(sd[k]);
  return CLI_OK;
}

static int states_run(int argc, char **argv, cli_common *c, int smooth) {
  if (cli_sde_generic_wanted(argc, argv))
    return cli_sde_generic_run(argc, argv, c, smooth ? CLI_SDE_SMOOTH : CLI_SDE_FILTER);
  args a;
  series s = {0};
  int rc = setup(argc, argv, c, &a, smooth ? smooth_usage : filter_usage, &s);
  if (rc) return rc < 0 ? CLI_OK : rc;
  if (a.method == -1) a.method = M_KALMAN, a.method_name = "kalman";
  if (a.method == M_MLE || (!smooth && a.method == M_MATCHING)) {
    series_free(&s);
    return cli_fail(c, CLI_EUSAGE, "--method %s is not a %s method", a.method_name,
                    smooth ? "smoothing" : "filtering");
  }
  size_t iters = 0;
  latens_sde_fit_result fit;
  if (!a.have_params) {
    if ((rc = do_fit(c, &a, &s, M_MLE, &fit))) {
      series_free(&s);
      return rc;
    }
    memcpy(a.theta, fit.theta, sizeof a.theta), iters = fit.iterations;
  }
  double *mean = malloc(2 * s.T * sizeof *mean), *sd = mean ? mean + s.T : NULL, ll = NAN;
  size_t it2 = 0;
  rc = mean ? states(c, &a, &s, smooth, a.theta, mean, sd, &ll, &it2)
            : cli_fail(c, CLI_EMODEL, "out of memory");
  cli_out *out = rc ? NULL : cli_out_open(c);
  if (!rc && !out) rc = CLI_EUSAGE;
  if (!rc) {
    FILE *f = cli_out_stream(out);
    char b1[32], b2[32], b3[32], b4[32];
    if (c->json) {
      cli_json j;
      cli_json_begin(&j, f);
      json_params(&j, "params", a.theta);
      cli_json_key(&j, "loglik"), cli_json_number(&j, ll);
      cli_json_key(&j, "iterations"), cli_json_int(&j, (long long)(iters + it2));
      cli_json_key(&j, "method"), cli_json_string(&j, a.method_name);
      const char *keys[3] = {"time", "mean", "sd"};
      const double *vals[3] = {s.t, mean, sd};
      for (int q = 0; q < 3; q++) {
        cli_json_key(&j, keys[q]), cli_json_array(&j);
        for (size_t k = 0; k < s.T; k++) cli_json_number(&j, vals[q][k]);
        cli_json_close(&j, ']');
      }
      cli_json_end(&j);
    } else {
      fputs("time,value,mean,sd\n", f);
      for (size_t k = 0; k < s.T; k++) {
        cli_format_number(b1, sizeof b1, s.t[k]), cli_format_number(b2, sizeof b2, s.x[k]);
        cli_format_number(b3, sizeof b3, mean[k]), cli_format_number(b4, sizeof b4, sd[k]);
        fprintf(f, "%s,%s,%s,%s\n", b1, isnan(s.x[k]) ? "NA" : b2, b3, b4);
      }
    }
    rc = cli_out_close(out, 1, c) ? CLI_EUSAGE : CLI_OK;
  }
  free(mean);
  series_free(&s);
  return rc;
}

static int filter_run(int argc, char **argv, cli_common *c) { return states_run(argc, argv, c, 0); }
static int smooth_run(int argc, char **argv, cli_common *c) { return states_run(argc, argv, c, 1); }

const cli_command cli_sde_filter = {
    "filter", "filtered latent states of a noisy series (Kalman, particle filter)", filter_run};
const cli_command cli_sde_smooth = {
    "smooth", "smoothed latent states (RTS, particle smoother, SDE matching)", smooth_run};
const cli_command cli_sde_fit = {"fit", "fit a latent SDE (--method mle|pf|sde-matching)",
                                 fit_run};

/* ---- demo: the Nile flows (1871-1970) as a noisy latent OU, fitted twice: by the exact
 * Kalman likelihood and by SDE matching, which never simulates the SDE and maximises a lower
 * bound that is tight at the exact posterior, so the two estimates should agree. */
int cli_demo_sde(const cli_common *c, const char *dir, FILE *out, cli_json *j) {
  char path[4096];
  snprintf(path, sizeof path, "%s/nile.csv", dir);
  series s = {0};
  args a;
  memset(&a, 0, sizeof a);
  int rc = read_series(c, path, NULL, &s);
  if (rc) return rc;
  latens_sde_fit_result r[2];
  static const char *const names[2] = {"kalman-mle", "sde-matching"};
  for (int m = 0; m < 2 && !rc; m++) rc = do_fit(c, &a, &s, m ? M_MATCHING : M_MLE, &r[m]);
  if (rc) {
    series_free(&s);
    return rc;
  }
  if (j) {
    cli_json_key(j, "sde"), cli_json_object(j);
    cli_json_key(j, "data"), cli_json_string(j, "nile.csv");
    cli_json_key(j, "model"), cli_json_string(j, "ou");
    for (int m = 0; m < 2; m++) {
      cli_json_key(j, m ? "sde_matching" : "mle"), cli_json_object(j);
      json_params(j, "params", r[m].theta);
      json_params(j, "se", r[m].se);
      cli_json_key(j, "loglik"), cli_json_number(j, r[m].loglik);
      cli_json_key(j, "objective"), cli_json_number(j, r[m].objective);
      cli_json_key(j, "iterations"), cli_json_int(j, (long long)r[m].iterations);
      cli_json_close(j, '}');
    }
    cli_json_close(j, '}');
  } else {
    fprintf(out, "sde: latent Ornstein-Uhlenbeck fit to the Nile flows (%zu years)\n", s.T);
    fprintf(out, "  dz = kappa (mu - z) dt + sigma dW, flow = z + N(0, r)\n");
    fprintf(out, "  %-13s %10s %10s %10s %10s %11s %6s\n", "method", "kappa", "mu", "sigma", "r",
            "loglik", "iters");
    for (int m = 0; m < 2; m++)
      fprintf(out, "  %-13s %10.4g %10.5g %10.4g %10.5g %11.4f %6zu\n", names[m], r[m].theta[0],
              r[m].theta[1], r[m].theta[2], r[m].theta[3], r[m].loglik, r[m].iterations);
    fprintf(out, "  %-13s %10.2g %10.3g %10.2g %10.3g\n", "(kalman se)", r[0].se[0], r[0].se[1],
            r[0].se[2], r[0].se[3]);
    fprintf(out, "  SDE matching's bound at its estimate: %.4f (exact log-likelihood %.4f)\n",
            r[1].objective, r[1].loglik);
  }
  series_free(&s);
  return CLI_OK;
}
