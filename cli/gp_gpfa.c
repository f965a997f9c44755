/* cli/gp_gpfa.c: `latens gp gpfa` — Gaussian-process factor analysis of many units (spike
 * counts or continuous signals) with K smooth latent trajectories. */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
    "usage: latens gp gpfa --data F.csv --latents K [OPTIONS]\n"
    "Fit K latent Gaussian processes x(t) read out by every unit n as c_n^T x(t) + d_n:\n"
    "Poisson counts with a log link (default) or Gaussian signals.  Prints a CSV with columns\n"
    "trial,time,x1..xK: the orthonormalised posterior latent means (Yu et al. 2009: the\n"
    "loading matrix's left singular vectors as axes, ordered by singular value); with --json,\n"
    "a summary instead (objective, iterations, loadings, offsets).\n\n"
    "Data: a CSV (or whitespace) table with a header; one column per unit, every numeric\n"
    "column that is not the time or trial column is a unit.  Empty or NA cells are missing.\n"
    "Rows of one trial are in time order; trials are the distinct values of --trial-col, in\n"
    "order of first appearance (default: all rows are one trial).\n\n"
    "Options:\n"
    "  --data F            the table (required)\n"
    "  --latents K         number of latents, 1..64 and at most the number of units (required)\n"
    "  --time-col NAME     column of times (non-decreasing within a trial); default: row\n"
    "                      index within the trial times --dt\n"
    "  --trial-col NAME    column of trial labels (numbers)\n"
    "  --dt X              bin width when there is no time column (default 1)\n"
    "  --likelihood L      poisson (default) or gaussian\n"
    "  --kernel K          one kernel term: matern12|matern32|matern52|matern72|hida-matern...\n"
    "                      (default matern32), variance 1 (the loadings carry the scale)\n"
    "  --lengthscale X     the latents' lengthscale in time units (default 10 x the median\n"
    "                      time step)\n"
    "  --iterations N      outer iterations (E step + readout update), default 30\n"
    "  --learn-timescales  also learn each latent's lengthscale (variance stays 1), starting\n"
    "                      from --lengthscale or its default: after every readout update a\n"
    "                      simplex search on each log-lengthscale maximises the Gaussian\n"
    "                      log-likelihood (or the Poisson ELBO); --json reports them as\n"
    "                      \"lengthscales\" (off by default: the given lengthscale is kept)\n";

enum { OPT_DATA = 256, OPT_LATENTS, OPT_TIME, OPT_TRIAL, OPT_DT, OPT_LIK, OPT_KERNEL, OPT_ELL, OPT_ITER, OPT_LEARN };

typedef struct {
  const char *data, *tcol, *rcol, *kernel, *lik;
  int K, iters, learn;
  double dt, ell;
} args;

static int handle(int val, const char *arg, void *user) {
  args *a = user;
  switch (val) {
  case OPT_DATA: a->data = arg; return 0;
  case OPT_LATENTS: return cli_parse_int(arg, 1, 64, &a->K);
  case OPT_TIME: a->tcol = arg; return 0;
  case OPT_TRIAL: a->rcol = arg; return 0;
  case OPT_DT: return cli_parse_double(arg, &a->dt) || !(a->dt > 0) || isinf(a->dt);
  case OPT_LIK: a->lik = arg; return 0;
  case OPT_KERNEL: a->kernel = arg; return 0;
  case OPT_ELL: return cli_parse_double(arg, &a->ell) || !(a->ell > 0) || isinf(a->ell);
  case OPT_ITER: return cli_parse_int(arg, 1, 100000, &a->iters);
  case OPT_LEARN: a->learn = 1; return 0;
  default: return 1;
  }
}

/* The data regrouped into trials: times and a T_r x N block per trial. */
typedef struct {
  size_t R, N, nrow;
  size_t *T;
  double **t, **Y;
  double *label;
  size_t *unit_col; /* table column of each unit */
} dataset;

static void dataset_free(dataset *d) {
  for (size_t r = 0; r < d->R; r++) free(d->t[r]), free(d->Y[r]);
  free(d->T), free(d->t), free(d->Y), free(d->label), free(d->unit_col);
}

static int find_col(const cli_common *c, const latens_table *tb, const char *path, const char *name,
                    size_t *j) {
  for (size_t k = 0; k < latens_table_ncol(tb); k++)
    if (!strcmp(latens_table_name(tb, k), name)) return *j = k, CLI_OK;
  return cli_fail(c, CLI_EUSAGE, "%s: no column '%s'", path, name);
}

/* Assign rows to trials (first-appearance order of the label) and check every cell. */
static int regroup(const cli_common *c, const args *a, const latens_table *tb, size_t jt, size_t jr,
                   dataset *d) {
  const latens_mat *X = latens_table_data(tb);
  const size_t n = latens_table_nrow(tb), line0 = 1 + (size_t)latens_table_has_header(tb);
  size_t *trial = malloc((n ? n : 1) * sizeof *trial);
  d->label = malloc((n ? n : 1) * sizeof *d->label);
  if (!trial || !d->label) return free(trial), cli_fail(c, CLI_EMODEL, "out of memory");
  d->R = 0;
  for (size_t i = 0; i < n; i++) {
    double lab = a->rcol ? LATENS_MAT(X, i, jr) : 0;
    if (!isfinite(lab))
      return free(trial), cli_fail(c, CLI_EUSAGE, "%s:%zu:%zu: missing trial label", a->data, line0 + i, jr + 1);
    size_t r = 0;
    while (r < d->R && d->label[r] != lab) r++;
    if (r == d->R) d->label[d->R++] = lab;
    trial[i] = r;
  }
  d->T = calloc(d->R, sizeof *d->T), d->t = calloc(d->R, sizeof *d->t), d->Y = calloc(d->R, sizeof *d->Y);
  if (!d->T || !d->t || !d->Y) return free(trial), cli_fail(c, CLI_EMODEL, "out of memory");
  for (size_t i = 0; i < n; i++) d->T[trial[i]]++;
  for (size_t r = 0; r < d->R; r++) {
    d->t[r] = malloc(d->T[r] * sizeof **d->t), d->Y[r] = malloc(d->T[r] * d->N * sizeof **d->Y);
    if (!d->t[r] || !d->Y[r]) return free(trial), cli_fail(c, CLI_EMODEL, "out of memory");
  }
  const int pois = !strcmp(a->lik, "poisson");
  size_t *fill = calloc(d->R, sizeof *fill);
  if (!fill) return free(trial), cli_fail(c, CLI_EMODEL, "out of memory");
  int rc = CLI_OK;
  for (size_t i = 0; i < n && !rc; i++) {
    size_t r = trial[i], k = fill[r]++;
    double tt = a->tcol ? LATENS_MAT(X, i, jt) : (double)k * a->dt;
    if (!isfinite(tt))
      rc = cli_fail(c, CLI_EUSAGE, "%s:%zu:%zu: missing time", a->data, line0 + i, jt + 1);
    else if (k && tt < d->t[r][k - 1])
      rc = cli_fail(c, CLI_EUSAGE, "%s:%zu:%zu: time %g is before the previous row of its trial "
                    "(%g): sort the rows", a->data, line0 + i, jt + 1, tt, d->t[r][k - 1]);
    if (rc) break;
    d->t[r][k] = tt;
    d->nrow++;
    for (size_t u = 0; u < d->N && !rc; u++) {
      double y = LATENS_MAT(X, i, d->unit_col[u]);
      if (isinf(y)) /* NaN is missing; an infinite cell is an error the library would report
                       without its place in the file */
        rc = cli_fail(c, CLI_EUSAGE, "%s:%zu:%zu: value %g is not finite", a->data, line0 + i,
                      d->unit_col[u] + 1, y);
      else if (pois && !isnan(y) && !(y >= 0 && y == floor(y)))
        rc = cli_fail(c, CLI_EUSAGE, "%s:%zu:%zu: count %g is not a non-negative integer (use "
                      "--likelihood gaussian for signals)", a->data, line0 + i, d->unit_col[u] + 1, y);
      d->Y[r][k + u * d->T[r]] = y;
    }
  }
  free(fill), free(trial);
  /* the library would name a 0-based unit index; the user knows the column */
  for (size_t u = 0; u < d->N && !rc; u++) {
    size_t seen = 0;
    for (size_t i = 0; i < n; i++) seen += !isnan(LATENS_MAT(X, i, d->unit_col[u]));
    if (!seen)
      rc = cli_fail(c, CLI_EUSAGE, "%s: column %zu ('%s') has no value in any row", a->data,
                    d->unit_col[u] + 1, latens_table_name(tb, d->unit_col[u]));
  }
  return rc;
}

static int read_data(const cli_common *c, const args *a, dataset *d) {
  latens_table *tb = NULL;
  int st = latens_table_read_numeric(a->data, NULL, &tb);
  if (st) return cli_fail(c, cli_exit_code(st), "%s", cli_last_error());
  size_t jt = (size_t)-1, jr = (size_t)-1, p = latens_table_ncol(tb);
  int rc = CLI_OK;
  if (a->tcol) rc = find_col(c, tb, a->data, a->tcol, &jt);
  if (!rc && a->rcol) rc = find_col(c, tb, a->data, a->rcol, &jr);
  if (!rc && !(d->unit_col = malloc((p ? p : 1) * sizeof *d->unit_col)))
    rc = cli_fail(c, CLI_EMODEL, "out of memory");
  for (size_t j = 0; !rc && j < p; j++)
    if (j != jt && j != jr) d->unit_col[d->N++] = j;
  if (!rc && latens_table_nrow(tb) == 0) rc = cli_fail(c, CLI_EUSAGE, "%s: no data rows", a->data);
  if (!rc && d->N < (size_t)a->K)
    rc = cli_fail(c, CLI_EUSAGE, "%s: %zu unit column(s), fewer than --latents %d", a->data, d->N, a->K);
  if (!rc) rc = regroup(c, a, tb, jt, jr, d);
  latens_table_free(tb);
  return rc;
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* 10 x the median positive step (1 when every step is zero). */
static double default_lengthscale(const dataset *d) {
  size_t m = 0;
  double *s = malloc((d->nrow ? d->nrow : 1) * sizeof *s);
  if (!s) return 10.0;
  for (size_t r = 0; r < d->R; r++)
    for (size_t i = 1; i < d->T[r]; i++)
      if (d->t[r][i] > d->t[r][i - 1]) s[m++] = d->t[r][i] - d->t[r][i - 1];
  qsort(s, m, sizeof *s, cmp_double);
  double v = m ? 10.0 * s[m / 2] : 10.0;
  free(s);
  return v;
}

/* One kernel term with variance 1 and the chosen lengthscale. */
static latens_gp_kernel *make_kernel(const cli_common *c, const args *a, double ell) {
  latens_gp_kernel *k = latens_gp_kernel_parse(a->kernel);
  if (!k) return cli_fail(c, CLI_EUSAGE, "--kernel: %s", cli_last_error()), NULL;
  if (latens_gp_kernel_nterms(k) != 1) {
    latens_gp_kernel_free(k);
    return cli_fail(c, CLI_EUSAGE, "--kernel '%s': gpfa takes one kernel term", a->kernel), NULL;
  }
  latens_gp_term term;
  latens_gp_kernel_get_term(k, 0, &term);
  latens_gp_kernel_free(k);
  term.variance = 1.0, term.lengthscale = ell;
  k = latens_gp_kernel_alloc(&term, 1);
  if (!k) cli_fail(c, CLI_EUSAGE, "--kernel: %s", cli_last_error());
  return k;
}

static int regular_grid(const double *t, size_t T) {
  if (T < 3) return 1;
  double step = (t[T - 1] - t[0]) / (double)(T - 1);
  for (size_t i = 1; i < T; i++)
    if (fabs(t[i] - t[i - 1] - step) > 1e-10 * fmax(fabs(step), 1e-300) * (double)T) return 0;
  return 1;
}

static void print_json(FILE *f, const args *a, const dataset *d, const latens_gp_gpfa *g, int st,
                       double ell, const double *ells) {
  const size_t K = (size_t)a->K, N = d->N, it = latens_gp_gpfa_iterations(g);
  double *C = malloc(N * K * sizeof *C), *off = malloc(N * sizeof *off), *noise = malloc(N * sizeof *noise);
  cli_json j;
  cli_json_begin(&j, f);
  cli_json_key(&j, "latents"), cli_json_int(&j, (long long)K);
  cli_json_key(&j, "units"), cli_json_int(&j, (long long)N);
  cli_json_key(&j, "trials"), cli_json_int(&j, (long long)d->R);
  cli_json_key(&j, "rows"), cli_json_int(&j, (long long)d->nrow);
  cli_json_key(&j, "likelihood"), cli_json_string(&j, a->lik);
  cli_json_key(&j, "kernel"), cli_json_string(&j, a->kernel);
  cli_json_key(&j, "lengthscale"), cli_json_number(&j, ell);
  cli_json_key(&j, "learn_timescales"), cli_json_bool(&j, a->learn);
  cli_json_key(&j, "lengthscales"), cli_json_array(&j);
  for (size_t k = 0; k < K; k++) cli_json_number(&j, ells[k]);
  cli_json_close(&j, ']');
  cli_json_key(&j, "objective"), cli_json_number(&j, it ? latens_gp_gpfa_trace(g)[it - 1] : NAN);
  cli_json_key(&j, "objective_kind"),
      cli_json_string(&j, strcmp(a->lik, "gaussian") ? "elbo" : "loglik");
  cli_json_key(&j, "iterations"), cli_json_int(&j, (long long)it);
  cli_json_key(&j, "converged"), cli_json_bool(&j, st == LATENS_OK);
  if (C && off && noise) {
    latens_gp_gpfa_readout(g, C, N, off, noise);
    cli_json_key(&j, "offsets"), cli_json_array(&j);
    for (size_t n = 0; n < N; n++) cli_json_number(&j, off[n]);
    cli_json_close(&j, ']');
    cli_json_key(&j, "loadings"), cli_json_array(&j);
    for (size_t n = 0; n < N; n++) {
      cli_json_array(&j);
      for (size_t k = 0; k < K; k++) cli_json_number(&j, C[n + k * N]);
      cli_json_close(&j, ']');
    }
    cli_json_close(&j, ']');
    if (!strcmp(a->lik, "gaussian")) {
      cli_json_key(&j, "noise"), cli_json_array(&j);
      for (size_t n = 0; n < N; n++) cli_json_number(&j, noise[n]);
      cli_json_close(&j, ']');
    }
  }
  cli_json_end(&j);
  free(C), free(off), free(noise);
}

static int print_csv(FILE *f, const args *a, const dataset *d, const latens_gp_gpfa *g) {
  const size_t K = (size_t)a->K;
  char buf[40];
  fputs("trial,time", f);
  for (size_t k = 0; k < K; k++) fprintf(f, ",x%zu", k + 1);
  fputc('\n', f);
  for (size_t r = 0; r < d->R; r++) {
    double *x = malloc(d->T[r] * K * sizeof *x);
    if (!x) return 1;
    if (latens_gp_gpfa_orthonormal(g, r, x, d->T[r], NULL, 0)) { /* no garbage rows */
      free(x);
      return 2;
    }
    for (size_t i = 0; i < d->T[r]; i++) {
      cli_format_number(buf, sizeof buf, d->label[r]);
      fputs(buf, f);
      cli_format_number(buf, sizeof buf, d->t[r][i]);
      fprintf(f, ",%s", buf);
      for (size_t k = 0; k < K; k++) {
        cli_format_number(buf, sizeof buf, x[i + k * d->T[r]]);
        fprintf(f, ",%s", buf);
      }
      fputc('\n', f);
    }
    free(x);
  }
  return 0;
}

/* --learn-timescales: one kernel per latent, learnt; their lengthscales into ells. */
static int fit_learn(const latens_gp_gpfa_options *o, const dataset *d, const latens_gp_kernel *k,
                     size_t K, const double **Y, const size_t *ld, const latens_progress *p,
                     latens_gp_gpfa **g, double *ells) {
  latens_gp_kernel *kk[64] = {NULL};
  int st = LATENS_OK;
  for (size_t i = 0; i < K && !st; i++)
    if (!(kk[i] = latens_gp_kernel_clone(k))) st = LATENS_ENOMEM;
  if (!st)
    st = latens_gp_gpfa_fit_timescales(kk, K, (const double *const *)d->t, d->T, Y, ld, d->R,
                                       d->N, o, 30, p, g);
  for (size_t i = 0; i < K; i++) {
    latens_gp_term term;
    if (kk[i] && !latens_gp_kernel_get_term(kk[i], 0, &term)) ells[i] = term.lengthscale;
    latens_gp_kernel_free(kk[i]);
  }
  return st;
}

static int fit(const cli_common *c, const args *a, const dataset *d, latens_gp_kernel *k,
               latens_gp_gpfa **g, int *status, double *ells) {
  size_t dim = latens_gp_kernel_dim(k);
  size_t dims[64];
  for (int i = 0; i < a->K; i++) dims[i] = dim;
  latens_gp_ssm **pr = calloc(d->R, sizeof *pr);
  const double **Y = malloc(d->R * sizeof *Y);
  size_t *ld = malloc(d->R * sizeof *ld);
  int rc = !pr || !Y || !ld ? cli_fail(c, CLI_EMODEL, "out of memory") : CLI_OK;
  for (size_t r = 0; r < d->R && !rc; r++) {
    pr[r] = latens_gp_ssm_alloc((size_t)a->K, dims, d->T[r], regular_grid(d->t[r], d->T[r]));
    int st = pr[r] ? LATENS_OK : LATENS_ENOMEM;
    for (int i = 0; i < a->K && !st; i++) st = latens_gp_ssm_set_kernel(pr[r], (size_t)i, k, d->t[r]);
    if (st) rc = cli_fail(c, cli_exit_code(st), "%s", cli_last_error());
    Y[r] = d->Y[r], ld[r] = d->T[r];
  }
  if (!rc) {
    latens_gp_gpfa_options o;
    latens_gp_gpfa_options_default(&o);
    o.lik = strcmp(a->lik, "gaussian") ? LATENS_GP_CVI_POISSON : LATENS_GP_CVI_GAUSSIAN;
    o.max_iter = (size_t)a->iters;
    cli_progress bar;
    cli_progress_init(&bar, c);
    if (a->learn)
      *status = fit_learn(&o, d, k, (size_t)a->K, Y, ld, &bar.p, g, ells);
    else
      *status = latens_gp_gpfa_fit((const latens_gp_ssm *const *)pr, Y, ld, d->R, d->N, &o, &bar.p, g);
    cli_progress_done(&bar);
    if (*status != LATENS_OK && *status != LATENS_EMAXITER)
      rc = cli_fail(c, cli_exit_code(*status), "%s", cli_last_error());
  }
  for (size_t r = 0; pr && r < d->R; r++) latens_gp_ssm_free(pr[r]);
  free(pr), free(Y), free(ld);
  return rc;
}

static int run(int argc, char **argv, cli_common *c) {
  static const struct option extra[] = {
      {"data", required_argument, NULL, OPT_DATA},     {"latents", required_argument, NULL, OPT_LATENTS},
      {"time-col", required_argument, NULL, OPT_TIME}, {"trial-col", required_argument, NULL, OPT_TRIAL},
      {"dt", required_argument, NULL, OPT_DT},         {"likelihood", required_argument, NULL, OPT_LIK},
      {"kernel", required_argument, NULL, OPT_KERNEL}, {"lengthscale", required_argument, NULL, OPT_ELL},
      {"iterations", required_argument, NULL, OPT_ITER},
      {"learn-timescales", no_argument, NULL, OPT_LEARN}, {NULL, 0, NULL, 0}};
  args a = {NULL, NULL, NULL, "matern32", "poisson", 0, 30, 0, 1.0, NAN};
  int first = cli_parse(argc, argv, c, extra, handle, &a, usage);
  if (first == -2) return CLI_OK;
  if (first < 0) return CLI_EUSAGE;
  if (first < argc) return cli_fail(c, CLI_EUSAGE, "unexpected operand '%s'", argv[first]);
  if (!a.data) return cli_fail(c, CLI_EUSAGE, "--data F.csv is required");
  if (a.K == 0) return cli_fail(c, CLI_EUSAGE, "--latents K is required");
  if (strcmp(a.lik, "poisson") && strcmp(a.lik, "gaussian"))
    return cli_fail(c, CLI_EUSAGE, "--likelihood '%s': expected poisson or gaussian", a.lik);
  dataset d;
  memset(&d, 0, sizeof d);
  int rc = read_data(c, &a, &d);
  double ell = isnan(a.ell) ? default_lengthscale(&d) : a.ell;
  latens_gp_kernel *k = rc ? NULL : make_kernel(c, &a, ell);
  if (!rc && !k) rc = CLI_EUSAGE;
  latens_gp_gpfa *g = NULL;
  int st = LATENS_OK;
  double ells[64];
  for (size_t i = 0; i < 64; i++) ells[i] = ell;
  if (!rc) rc = fit(c, &a, &d, k, &g, &st, ells);
  if (!rc) {
    cli_out *o = cli_out_open(c);
    if (!o) rc = CLI_EMODEL;
    else {
      int bad = 0;
      if (c->json) print_json(cli_out_stream(o), &a, &d, g, st, ell, ells);
      else bad = print_csv(cli_out_stream(o), &a, &d, g);
      if (bad) cli_fail(c, CLI_EMODEL, "%s", bad == 1 ? "out of memory" : cli_last_error());
      rc = (cli_out_close(o, !bad, c) || bad) ? CLI_EMODEL : CLI_OK;
    }
  }
  latens_gp_gpfa_free(g);
  latens_gp_kernel_free(k);
  dataset_free(&d);
  return rc;
}

const cli_command cli_gp_gpfa = {"gpfa", "Gaussian-process factor analysis of many units", run};
