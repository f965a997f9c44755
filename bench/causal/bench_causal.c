/* bench/causal/bench_causal.c: wall time of PC-stable and FCI.
 *
 * PC-stable on alarm (37 discrete variables, 10,000 samples, chi-square, alpha 0.05) and on
 * linear-Gaussian data from random DAGs with p = 50, 100, 200, 1000 (n = 5000, expected
 * degree 2, Fisher-z); FCI on alarm and insurance.  Beside each figure, in the same run:
 *   - a naive C reference: the same PC/FCI driver with a CI test written the obvious way
 *     (chi-square: sort the rows by conditioning configuration, one table per stratum;
 *     Fisher-z: the correlation submatrix recomputed from the raw data and inverted by LU
 *     for every test), no cache; for FCI, whose naive run takes minutes (204 s against 8 s
 *     on alarm), the library's test without the cache.  Both must return the same graph.
 *   - causal-learn, when CAUSALLEARN_DIR points at a checkout runnable with python3 (numpy,
 *     scipy, networkx): its pc / fci on the same file, same test and alpha; otherwise its
 *     ratio is printed as "unavailable".
 * Data: LATENS_BNLEARN10K, else $LATENS_SRCDIR/../shared/data/bnlearn10k; the discrete
 * cases are skipped with a message when it is absent.  LATENS_BENCH_QUICK=1 skips p = 1000. */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_linalg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <latens/latens.h>
#include "../bench.h"

/* ------------------------------------------------------------ naive reference tests */

typedef struct {
  const latens_causal_data *d;
} naive_ctx;

typedef struct {
  uint64_t key;
  int x, y;
} row;

static int cmp_row(const void *a, const void *b) {
  uint64_t u = ((const row *)a)->key, v = ((const row *)b)->key;
  return u < v ? -1 : u > v;
}

static int naive_chisq(void *user, size_t x, size_t y, const size_t *S, size_t k, double *pv) {
  const latens_causal_data *d = ((naive_ctx *)user)->d;
  size_t n = latens_causal_data_n(d), cx = latens_causal_data_levels(d, x), cy = latens_causal_data_levels(d, y);
  row *r = malloc(n * sizeof *r);
  double *cnt = malloc(cx * cy * sizeof *cnt), *rs = malloc(cx * sizeof *rs), *cs = malloc(cy * sizeof *cs);
  for (size_t i = 0; i < n; i++) {
    uint64_t key = 0;
    for (size_t j = 0; j < k; j++)
      key = key * latens_causal_data_levels(d, S[j]) + (uint64_t)latens_causal_data_codes(d, S[j])[i];
    r[i] = (row){key, latens_causal_data_codes(d, x)[i], latens_causal_data_codes(d, y)[i]};
  }
  qsort(r, n, sizeof *r, cmp_row);
  double stat = 0, df = 0;
  for (size_t a = 0; a < n;) {
    size_t b = a;
    while (b < n && r[b].key == r[a].key) b++;
    memset(cnt, 0, cx * cy * sizeof *cnt), memset(rs, 0, cx * sizeof *rs), memset(cs, 0, cy * sizeof *cs);
    for (size_t i = a; i < b; i++) cnt[r[i].x * cy + r[i].y]++, rs[r[i].x]++, cs[r[i].y]++;
    double N = (double)(b - a);
    size_t zr = 0, zc = 0;
    for (size_t u = 0; u < cx; u++) zr += rs[u] == 0;
    for (size_t v = 0; v < cy; v++) zc += cs[v] == 0;
    df += (double)(cx - 1 - zr) * (double)(cy - 1 - zc);
    for (size_t u = 0; u < cx; u++)
      for (size_t v = 0; v < cy; v++) {
        double E = rs[u] * cs[v] / N;
        if (E > 0) stat += (cnt[u * cy + v] - E) * (cnt[u * cy + v] - E) / E;
      }
    a = b;
  }
  *pv = df > 0 ? gsl_cdf_chisq_Q(stat, df) : 1.0;
  free(r), free(cnt), free(rs), free(cs);
  return 0;
}

static int naive_fisherz(void *user, size_t x, size_t y, const size_t *S, size_t k, double *pv) {
  const latens_causal_data *d = ((naive_ctx *)user)->d;
  const latens_mat *X = latens_causal_data_matrix(d);
  size_t n = X->nrow, m = k + 2, *v = malloc(m * sizeof *v);
  v[0] = x, v[1] = y;
  for (size_t j = 0; j < k; j++) v[j + 2] = S[j];
  double *mean = calloc(m, sizeof *mean);
  gsl_matrix *C = gsl_matrix_calloc(m, m), *P = gsl_matrix_alloc(m, m);
  for (size_t a = 0; a < m; a++) {
    for (size_t i = 0; i < n; i++) mean[a] += LATENS_MAT(X, i, v[a]);
    mean[a] /= (double)n;
  }
  for (size_t a = 0; a < m; a++)
    for (size_t b = 0; b <= a; b++) {
      double s = 0;
      for (size_t i = 0; i < n; i++) s += (LATENS_MAT(X, i, v[a]) - mean[a]) * (LATENS_MAT(X, i, v[b]) - mean[b]);
      gsl_matrix_set(C, a, b, s), gsl_matrix_set(C, b, a, s);
    }
  gsl_permutation *perm = gsl_permutation_alloc(m);
  int sg;
  gsl_linalg_LU_decomp(C, perm, &sg);
  gsl_linalg_LU_invert(C, perm, P);
  double r = -gsl_matrix_get(P, 0, 1) / sqrt(gsl_matrix_get(P, 0, 0) * gsl_matrix_get(P, 1, 1));
  r = fmax(-1 + 1e-7, fmin(1 - 1e-7, r));
  *pv = erfc(fabs(sqrt((double)n - (double)k - 3) * atanh(r)) / M_SQRT2);
  gsl_permutation_free(perm), gsl_matrix_free(C), gsl_matrix_free(P), free(mean), free(v);
  return 0;
}

/* ------------------------------------------------------------------- causal-learn hook */

/* Seconds causal-learn takes for algo (pc | fci) on a space- or comma-separated file with a
 * header, or -1 when it is not available. */
static double causallearn_time(const char *algo, const char *file, const char *test) {
  const char *dir = getenv("CAUSALLEARN_DIR");
  if (!dir || !*dir) return -1;
  char cmd[8192];
  snprintf(cmd, sizeof cmd,
           "PYTHONPATH='%s' python3 -c \"\n"
           "import time, numpy as np\n"
           "from causallearn.search.ConstraintBased.PC import pc\n"
           "from causallearn.search.ConstraintBased.FCI import fci\n"
           "d = np.loadtxt('%s', skiprows=1, delimiter=None if open('%s').readline().count(',') == 0 else ',')\n"
           "t = time.time()\n"
           "if '%s' == 'pc': pc(d, 0.05, '%s', stable=True, uc_rule=0, uc_priority=-1, show_progress=False)\n"
           "else: fci(d, '%s', 0.05, show_progress=False)\n"
           "print(time.time() - t)\n\" 2>/dev/null",
           dir, file, file, algo, test, test);
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  double t = -1;
  if (fscanf(p, "%lf", &t) != 1) t = -1;
  pclose(p);
  return t;
}

static const char *naive_label = "naive";
static void report(const char *what, double t, double tnaive, int same, double tcl) {
  printf("%-34s latens %9.3f s", what, t);
  if (tnaive > 0) printf("   %s %9.3f s (x%.1f, same graph: %s)", naive_label, tnaive, tnaive / t, same ? "yes" : "NO");
  else printf("   naive %9s", "skipped");
  if (tcl > 0) printf("   causal-learn %8.2f s (x%.0f)\n", tcl, tcl / t);
  else printf("   causal-learn ratio: unavailable\n");
  fflush(stdout);
}

static int same_graph(const latens_causal_graph *a, const latens_causal_graph *b) {
  size_t p = latens_causal_graph_nnodes(a);
  for (size_t i = 0; i < p; i++)
    for (size_t j = 0; j < p; j++)
      if (latens_causal_graph_mark(a, i, j) != latens_causal_graph_mark(b, i, j)) return 0;
  return 1;
}

/* One PC or FCI run with the library's test (cache as given) and with the naive one. */
static void run_case(const char *what, latens_causal_data *d, int test, int fci, int naive,
                     const char *file) {
  latens_causal_pc_options o;
  latens_causal_pc_options_default(&o);
  latens_causal_citest *t = latens_causal_citest_alloc(d, test, fci);
  latens_causal_graph *g = NULL, *gn = NULL;
  double t1, t2 = -1;
  BENCH_BEST(1, t1, {
    latens_causal_graph_free(g);
    g = NULL;
    if (fci) latens_causal_fci(t, NULL, &o, NULL, &g);
    else latens_causal_pc(t, NULL, &o, NULL, &g);
  });
  if (naive) {
    naive_ctx ctx = {d};
    /* naive 2: the library's own test without the cache (FCI, where the naive test takes
     * minutes: 204 s against 8 s on alarm when measured). */
    latens_causal_citest *tn = naive == 2 ? latens_causal_citest_alloc(d, test, 0)
                                          : latens_causal_citest_alloc_custom(
        latens_causal_data_p(d), NULL, test == LATENS_CAUSAL_TEST_CHISQ ? naive_chisq : naive_fisherz, &ctx, 0);
    BENCH_BEST(1, t2, {
      if (fci) latens_causal_fci(tn, NULL, &o, NULL, &gn);
      else latens_causal_pc(tn, NULL, &o, NULL, &gn);
    });
    latens_causal_citest_free(tn);
  }
  naive_label = naive == 2 ? "uncached" : "naive";
  double tcl = file ? causallearn_time(fci ? "fci" : "pc", file, test == LATENS_CAUSAL_TEST_CHISQ ? "chisq" : "fisherz") : -1;
  report(what, t1, t2, g && gn && same_graph(g, gn), tcl);
  latens_causal_graph_free(g), latens_causal_graph_free(gn);
  latens_causal_citest_free(t);
}

static latens_causal_data *load_net(const char *dir, const char *net, char *path, size_t n) {
  snprintf(path, n, "%s/%s.data.txt", dir, net);
  latens_table *tab = NULL;
  if (latens_table_read_numeric(path, NULL, &tab)) return NULL;
  latens_causal_data *d = NULL;
  latens_causal_data_from_table(tab, 1, &d);
  latens_table_free(tab);
  return d;
}

static latens_causal_data *gaussian(size_t p, size_t n, uint64_t seed) {
  uint64_t s = seed;
  double pr = 2.0 / (double)(p - 1);
  latens_mat *x = latens_mat_alloc(n, p);
  /* Sparse parents: for each pair i < j an edge with probability 2 / (p - 1). */
  size_t *pa = malloc(p * 64 * sizeof *pa), *np = calloc(p, sizeof *np);
  double *w = malloc(p * 64 * sizeof *w);
  for (size_t j = 0; j < p; j++)
    for (size_t i = 0; i < j; i++)
      if (0.5 * (bench_unif(&s) + 1) < pr && np[j] < 64) {
        double u = bench_unif(&s);
        pa[j * 64 + np[j]] = i, w[j * 64 + np[j]++] = (u < 0 ? -1 : 1) * (0.5 + fabs(u));
      }
  for (size_t j = 0; j < p; j++)
    for (size_t r = 0; r < n; r++) {
      double u1 = 0.5 * (bench_unif(&s) + 1), u2 = 0.5 * (bench_unif(&s) + 1);
      double v = sqrt(-2 * log(u1 > 1e-300 ? u1 : 1e-300)) * cos(2 * M_PI * u2);
      for (size_t q = 0; q < np[j]; q++) v += w[j * 64 + q] * LATENS_MAT(x, r, pa[j * 64 + q]);
      LATENS_MAT(x, r, j) = v;
    }
  latens_causal_data *d = NULL;
  latens_causal_data_alloc(x, NULL, 0, &d);
  latens_mat_free(x), free(pa), free(np), free(w);
  return d;
}

int main(void) {
  latens_set_error_handler_off();
  printf("threads: %d (OMP_NUM_THREADS / --threads)\n", latens_max_threads());
  const char *env = getenv("LATENS_BNLEARN10K"), *src = getenv("LATENS_SRCDIR");
  char dir[4096], path[4200];
  if (env) snprintf(dir, sizeof dir, "%s", env);
  else snprintf(dir, sizeof dir, "%s/../shared/data/bnlearn10k", src ? src : ".");
  const char *only = getenv("LATENS_BENCH_ONLY"); /* "gauss" or "discrete" */
  latens_causal_data *alarm = only && !strcmp(only, "gauss") ? NULL : load_net(dir, "alarm", path, sizeof path);
  if (!alarm && !(only && !strcmp(only, "gauss"))) {
    printf("PC/FCI on alarm, insurance: skipped (%s not found; set LATENS_BNLEARN10K)\n", dir);
  } else {
    run_case("PC-stable alarm (chisq, 10k)", alarm, LATENS_CAUSAL_TEST_CHISQ, 0, 1, path);
    run_case("FCI alarm (chisq, 10k)", alarm, LATENS_CAUSAL_TEST_CHISQ, 1, 2, path);
    latens_causal_data *ins = load_net(dir, "insurance", path, sizeof path);
    if (ins) run_case("FCI insurance (chisq, 10k)", ins, LATENS_CAUSAL_TEST_CHISQ, 1, 2, path);
    latens_causal_data_free(ins);
  }
  latens_causal_data_free(alarm);
  const char *quick = getenv("LATENS_BENCH_QUICK");
  size_t ps[4] = {50, 100, 200, 1000};
  for (int q = 0; q < 4 && !(only && !strcmp(only, "discrete")); q++) {
    if (ps[q] == 1000 && quick && *quick == '1') continue;
    latens_causal_data *d = gaussian(ps[q], 5000, 1000 + ps[q]);
    char what[64];
    snprintf(what, sizeof what, "PC-stable Gaussian p=%zu n=5000", ps[q]);
    /* The naive test recomputes covariances from 5000 rows per test: only the small p. */
    run_case(what, d, LATENS_CAUSAL_TEST_FISHERZ, 0, ps[q] <= 100, NULL);
    latens_causal_data_free(d);
  }
  return 0;
}
