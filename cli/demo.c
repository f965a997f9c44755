/* cli/demo.c: `latens demo` — every module that exists, on the small real data in data/.
 * Each module issue adds its section here; a section prints what it found and, where a
 * published figure exists, that figure beside it. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"

static const char usage[] =
    "usage: latens demo [--data DIR] [OPTIONS] [core|pc|gp|sde|causal ...]\n"
    "Run every module (or the ones named) on the small real data bundled with latens and\n"
    "print what it found.\n"
    "  --data DIR     the bundled data folder (default: $LATENS_DATADIR, else the installed\n"
    "                 copy, else the source tree's data/)\n";

enum { OPT_DATA = 256 };

static int handle(int val, const char *arg, void *user) {
  if (val != OPT_DATA) return 1;
  *(const char **)user = arg;
  return 0;
}

static int has_file(const char *dir, const char *name) {
  char path[4096];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static const char *find_data_dir(const char *flag) {
  if (flag) return flag;
  const char *env = getenv("LATENS_DATADIR");
  if (env && *env) return env;
  if (has_file(LATENS_PKGDATADIR, "nile.csv")) return LATENS_PKGDATADIR;
  return LATENS_SRCDATADIR;
}

/* ---- core: the Nile local-level model.
 * y_t = mu_t + eps_t, mu_{t+1} = mu_t + eta_t; eps ~ N(0, s2e), eta ~ N(0, s2h).  The level's
 * prior is diffuse, which is exact when the filter starts from the first observation:
 * mu_1 | y_1 ~ N(y_1, s2e).  Durbin & Koopman (2012, sec. 2.10) report the maximum-likelihood
 * estimates s2e = 15099, s2h = 1469.1 for this data. */
typedef struct {
  const double *y;
  size_t n;
  latens_kalman_workspace *w;
  double *mf, *Pf, *mp, *Pp; /* filtered and predicted moments, kept for the smoother */
} nile_model;

static int nile_filter(nile_model *nm, double s2e, double s2h, double *loglik) {
  double m = nm->y[0], P = s2e, A = 1.0, Q = s2h, H = 1.0, R = s2e;
  latens_vec mv = latens_vec_view(&m, 1, 1), Rv = latens_vec_view(&R, 1, 1);
  latens_mat Pm = latens_mat_view(&P, 1, 1, 1), Am = latens_mat_view(&A, 1, 1, 1);
  latens_mat Qm = latens_mat_view(&Q, 1, 1, 1), Hm = latens_mat_view(&H, 1, 1, 1);
  *loglik = 0.0;
  nm->mf[0] = m, nm->Pf[0] = P;
  for (size_t t = 1; t < nm->n; t++) {
    double y = nm->y[t], ll;
    latens_vec yv = latens_vec_view(&y, 1, 1);
    int rc = latens_kalman_predict(&Am, NULL, &Qm, &mv, &Pm, nm->w);
    nm->mp[t] = m, nm->Pp[t] = P;
    if (!rc) rc = latens_kalman_update(&yv, NULL, &Hm, NULL, &Rv, &mv, &Pm, &ll, nm->w);
    if (rc) return rc;
    *loglik += ll;
    nm->mf[t] = m, nm->Pf[t] = P;
  }
  return LATENS_OK;
}

static int nile_negloglik(const double *x, size_t n, void *user, double *f, double *grad) {
  (void)n, (void)grad; /* Nelder-Mead: f only */
  double ll;
  int rc = nile_filter(user, x[0], x[1], &ll);
  *f = -ll;
  return rc;
}

/* Smoothed level in place of mf (RTS, backwards). */
static int nile_smooth(nile_model *nm) {
  double A = 1.0;
  latens_mat Am = latens_mat_view(&A, 1, 1, 1);
  for (size_t t = nm->n - 1; t-- > 0;) {
    latens_vec mf = latens_vec_view(nm->mf + t, 1, 1), mp = latens_vec_view(nm->mp + t + 1, 1, 1);
    latens_vec ms1 = latens_vec_view(nm->mf + t + 1, 1, 1);
    latens_mat Pf = latens_mat_view(nm->Pf + t, 1, 1, 1), Pp = latens_mat_view(nm->Pp + t + 1, 1, 1, 1);
    latens_mat Ps1 = latens_mat_view(nm->Pf + t + 1, 1, 1, 1);
    int rc = latens_kalman_smooth(&Am, &mf, &Pf, &mp, &Pp, &ms1, &Ps1, &mf, &Pf, NULL, nm->w);
    if (rc) return rc;
  }
  return LATENS_OK;
}

static int demo_core(const cli_common *c, const char *dir, FILE *out, cli_json *j) {
  char path[4096];
  snprintf(path, sizeof path, "%s/nile.csv", dir);
  latens_table *tab = NULL;
  int rc = latens_table_read_numeric(path, NULL, &tab);
  if (rc) return cli_fail(c, cli_exit_code(rc), "%s", cli_last_error());
  const latens_mat *d = latens_table_data(tab);
  size_t n = latens_table_nrow(tab);
  if (latens_table_ncol(tab) < 2 || n < 3) {
    latens_table_free(tab);
    return cli_fail(c, CLI_EUSAGE, "%s: expected columns time,value and at least 3 rows", path);
  }
  const double *year = d->data, *y = d->data + d->ld;
  double *buf = calloc(4 * n, sizeof *buf);
  nile_model nm = {y, n, latens_kalman_workspace_alloc(1, 1), buf, buf + n, buf + 2 * n, buf + 3 * n};
  if (!buf || !nm.w) {
    free(buf), latens_kalman_workspace_free(nm.w), latens_table_free(tab);
    return cli_fail(c, CLI_EMODEL, "out of memory");
  }

  /* Start both variances at half the sample variance; optimise in log space (lower bound 0). */
  double mean = 0, var = 0;
  for (size_t t = 0; t < n; t++) mean += y[t] / n;
  for (size_t t = 0; t < n; t++) var += (y[t] - mean) * (y[t] - mean) / (n - 1);
  double x[2] = {var / 2, var / 2}, lower[2] = {0, 0};
  latens_optim_options opt;
  latens_optim_options_default(&opt);
  opt.method = LATENS_OPTIM_SIMPLEX;
  opt.xtol = 1e-10;
  cli_progress bar;
  cli_progress_init(&bar, c);
  opt.progress = bar.p;
  latens_optim_result res = {.x = x};
  rc = latens_optim_minimize(nile_negloglik, x, 2, &nm, lower, NULL, &opt, &res);
  cli_progress_done(&bar);
  double loglik = 0;
  if (!rc) rc = nile_filter(&nm, x[0], x[1], &loglik);
  if (!rc) rc = nile_smooth(&nm);
  if (rc) {
    free(buf), latens_kalman_workspace_free(nm.w), latens_table_free(tab);
    return cli_fail(c, CLI_EMODEL, "Nile local-level fit: %s", cli_last_error());
  }
  /* The dam at Aswan (1898-1902) shows as the largest drop of the smoothed level. */
  size_t drop = 1;
  for (size_t t = 1; t < n; t++)
    if (nm.mf[t] - nm.mf[t - 1] < nm.mf[drop] - nm.mf[drop - 1]) drop = t;

  if (j) {
    cli_json_key(j, "core");
    cli_json_object(j);
    cli_json_key(j, "nile_local_level");
    cli_json_object(j);
    cli_json_key(j, "sigma2_eps"), cli_json_number(j, x[0]);
    cli_json_key(j, "sigma2_eta"), cli_json_number(j, x[1]);
    cli_json_key(j, "loglik"), cli_json_number(j, loglik);
    cli_json_key(j, "iterations"), cli_json_int(j, (long long)res.iterations);
    cli_json_key(j, "published_sigma2_eps"), cli_json_number(j, 15099.0);
    cli_json_key(j, "published_sigma2_eta"), cli_json_number(j, 1469.1);
    cli_json_key(j, "largest_level_drop_year"), cli_json_number(j, year[drop]);
    cli_json_close(j, '}');
    cli_json_close(j, '}');
  } else {
    fprintf(out, "core: Nile flow %g-%g (%zu years), local-level model by Kalman filter, RTS "
                 "smoother and Nelder-Mead\n", year[0], year[n - 1], n);
    fprintf(out, "  observation variance  %10.1f   (Durbin & Koopman 2012: 15099)\n", x[0]);
    fprintf(out, "  level variance        %10.1f   (Durbin & Koopman 2012: 1469.1)\n", x[1]);
    fprintf(out, "  log-likelihood        %10.2f   (diffuse prior, %zu iterations)\n", loglik,
            res.iterations);
    fprintf(out, "  smoothed level        %10.0f in %g, %.0f in %g; largest drop %g -> %g "
                 "(the Aswan dam)\n", nm.mf[0], year[0], nm.mf[n - 1], year[n - 1],
            year[drop - 1], year[drop]);
  }
  free(buf), latens_kalman_workspace_free(nm.w), latens_table_free(tab);
  return CLI_OK;
}

static int run(int argc, char **argv, cli_common *c) {
  const char *data_flag = NULL;
  static const struct option extra[] = {{"data", required_argument, NULL, OPT_DATA}, {0, 0, 0, 0}};
  int first = cli_parse(argc, argv, c, extra, handle, &data_flag, usage);
  if (first == -2) return CLI_OK;
  if (first < 0) return CLI_EUSAGE;
  static const struct {
    const char *name;
    int (*run)(const cli_common *, const char *, FILE *, cli_json *);
  } sections[] = {{"core", demo_core},  {"pc", cli_demo_pc},         {"gp", cli_demo_gp},
                  {"sde", cli_demo_sde}, {"causal", cli_demo_causal}};
  enum { NSECTIONS = sizeof sections / sizeof *sections };
  int wanted[NSECTIONS] = {0}, any = 0;
  for (int a = first; a < argc; a++) {
    size_t k = 0;
    while (k < NSECTIONS && strcmp(argv[a], sections[k].name) != 0) k++;
    if (k == NSECTIONS) return cli_fail(c, CLI_EUSAGE, "unknown demo section '%s'", argv[a]);
    wanted[k] = any = 1;
  }
  const char *dir = find_data_dir(data_flag);
  if (!has_file(dir, "nile.csv"))
    return cli_fail(c, CLI_EUSAGE, "%s: bundled data not found (use --data DIR or LATENS_DATADIR)", dir);

  /* The report is built in memory and written only when every section succeeded: a script
   * never sees half a JSON object. */
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  if (!mem) return cli_fail(c, CLI_EMODEL, "out of memory");
  cli_json j;
  if (c->json) cli_json_begin(&j, mem);
  else {
    char *real = realpath(dir, NULL); /* "build/../data" reads better as the folder itself */
    fprintf(mem, "latens %s demo (data: %s)\n\n", latens_version(), real ? real : dir);
    free(real);
  }
  int rc = CLI_OK, shown = 0;
  for (size_t k = 0; k < NSECTIONS && rc == CLI_OK; k++) {
    if (any && !wanted[k]) continue;
    if (shown++ && !c->json) fputc('\n', mem);
    rc = sections[k].run(c, dir, mem, c->json ? &j : NULL);
  }
  if (c->json && rc == CLI_OK) cli_json_end(&j);
  if (fclose(mem) != 0 && rc == CLI_OK) rc = cli_fail(c, CLI_EMODEL, "out of memory");
  if (rc == CLI_OK) {
    cli_out *o = cli_out_open(c);
    if (!o) rc = CLI_EUSAGE;
    else {
      fwrite(text, 1, len, cli_out_stream(o));
      rc = cli_out_close(o, 1, c);
    }
  }
  free(text);
  return rc;
}

const cli_command cli_cmd_demo = {"demo", "run every module on the bundled real data", run};
