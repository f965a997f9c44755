/* causal/bootstrap.c: bootstrap edge frequencies for any method, and the adaptors that let
 * the built-in methods run under it.
 *
 * Replicate b draws its rows and runs its method from its own stream split(root, b), so
 * what it computes does not depend on which thread runs it; the counts are integers added
 * after the parallel loop in replicate order, so the frequencies do not depend on the
 * thread count either. */
#include "score_impl.h"

#include <stdlib.h>
#include <string.h>

int latens_causal_method_direct_lingam(const latens_causal_data *d, void *user, latens_rng *rng,
                                       latens_causal_graph **out) {
  (void)rng;
  return latens_causal_direct_lingam(d, user, NULL, NULL, NULL, out);
}

int latens_causal_method_ica_lingam(const latens_causal_data *d, void *user, latens_rng *rng,
                                    latens_causal_graph **out) {
  return latens_causal_ica_lingam(d, user, rng, NULL, NULL, out);
}

int latens_causal_method_cumulant(const latens_causal_data *d, void *user, latens_rng *rng,
                                  latens_causal_graph **out) {
  (void)rng;
  return latens_causal_cumulant(d, user, NULL, NULL, out);
}

int latens_causal_method_notears(const latens_causal_data *d, void *user, latens_rng *rng,
                                 latens_causal_graph **out) {
  (void)rng;
  return latens_causal_notears(d, user, NULL, NULL, out);
}

int latens_causal_method_ges(const latens_causal_data *d, void *user, latens_rng *rng,
                             latens_causal_graph **out) {
  (void)rng;
  return latens_causal_ges(d, user, NULL, out, NULL);
}

void latens_causal_pc_method_options_default(latens_causal_pc_method_options *opt) {
  if (!opt) return;
  opt->test = -1;
  opt->cache = 1;
  latens_causal_pc_options_default(&opt->pc);
}

static int pc_or_fci(const latens_causal_data *d, void *user, latens_causal_graph **out, int fci) {
  latens_causal_pc_method_options o;
  latens_causal_pc_method_options_default(&o);
  if (user) o = *(const latens_causal_pc_method_options *)user;
  if (!d) LATENS_ERROR("latens_causal_method_pc: data is NULL", LATENS_EINVAL);
  const int test = o.test >= 0 ? o.test
                   : latens_causal_data_is_discrete(d) ? LATENS_CAUSAL_TEST_CHISQ
                                                       : LATENS_CAUSAL_TEST_FISHERZ;
  latens_causal_citest *t = latens_causal_citest_alloc(d, test, o.cache);
  if (!t) return LATENS_EFAILED; /* reported by latens_causal_citest_alloc */
  const int status = fci ? latens_causal_fci(t, NULL, &o.pc, NULL, out)
                         : latens_causal_pc(t, NULL, &o.pc, NULL, out);
  latens_causal_citest_free(t);
  return status;
}

int latens_causal_method_pc(const latens_causal_data *d, void *user, latens_rng *rng,
                            latens_causal_graph **out) {
  (void)rng;
  return pc_or_fci(d, user, out, 0);
}

int latens_causal_method_fci(const latens_causal_data *d, void *user, latens_rng *rng,
                             latens_causal_graph **out) {
  (void)rng;
  return pc_or_fci(d, user, out, 1);
}

void latens_causal_bootstrap_result_free(latens_causal_bootstrap_result *r) {
  if (!r) return;
  free(r->freq), free(r);
}

/* Edge type index and direction for marks (mi at i, mj at j); -1 for none. */
static int edge_type(int mi, int mj, int *swap) {
  const int T = LATENS_CAUSAL_TAIL, A = LATENS_CAUSAL_ARROW, C = LATENS_CAUSAL_CIRCLE;
  *swap = 0;
  if (mi == T && mj == A) return LATENS_CAUSAL_BOOT_DIRECTED;
  if (mi == A && mj == T) return *swap = 1, LATENS_CAUSAL_BOOT_DIRECTED;
  if (mi == T && mj == T) return LATENS_CAUSAL_BOOT_UNDIRECTED;
  if (mi == A && mj == A) return LATENS_CAUSAL_BOOT_BIDIRECTED;
  if (mi == C && mj == A) return LATENS_CAUSAL_BOOT_PARTIAL;
  if (mi == A && mj == C) return *swap = 1, LATENS_CAUSAL_BOOT_PARTIAL;
  if (mi == C && mj == C) return LATENS_CAUSAL_BOOT_NONDIRECTED;
  if (mi == T && mj == C) return LATENS_CAUSAL_BOOT_TAILCIRCLE;
  if (mi == C && mj == T) return *swap = 1, LATENS_CAUSAL_BOOT_TAILCIRCLE;
  return -1;
}

/* Adds g's edges among the first p nodes to cnt, and a bidirected pair for every two
 * observed children of one latent node. */
static void count_graph(const latens_causal_graph *g, size_t p, unsigned *cnt) {
  const size_t N = latens_causal_graph_nnodes(g);
  for (size_t i = 0; i < p && i < N; i++)
    for (size_t j = i + 1; j < p && j < N; j++) {
      if (!latens_causal_graph_adjacent(g, i, j)) continue;
      int swap;
      const int t = edge_type(latens_causal_graph_mark(g, j, i), latens_causal_graph_mark(g, i, j), &swap);
      if (t >= 0) cnt[((size_t)t * p + (swap ? i : j)) * p + (swap ? j : i)]++;
    }
  for (size_t l = p; l < N; l++) {
    if (latens_causal_graph_is_latent(g, l) != 1) continue;
    for (size_t i = 0; i < p; i++)
      for (size_t j = i + 1; j < p; j++)
        if (latens_causal_graph_mark(g, l, i) == LATENS_CAUSAL_ARROW &&
            latens_causal_graph_mark(g, l, j) == LATENS_CAUSAL_ARROW)
          cnt[((size_t)LATENS_CAUSAL_BOOT_BIDIRECTED * p + j) * p + i]++;
  }
}

/* One replicate: resample, run, count into cnt (zeroed here). */
static int replicate(const latens_causal_data *d, latens_causal_method_fn *method, void *user,
                     const latens_rng *root, size_t b, size_t *rows, unsigned *cnt) {
  const size_t n = latens_causal_data_n(d), p = latens_causal_data_p(d);
  latens_rng r;
  latens_rng_split(&r, root, (uint64_t)b);
  for (size_t t = 0; t < n; t++) rows[t] = (size_t)(latens_rng_uniform(&r) * (double)n) % n;
  memset(cnt, 0, LATENS_CAUSAL_BOOT_NTYPES * p * p * sizeof *cnt);
  latens_causal_data *rd = NULL;
  latens_causal_graph *g = NULL;
  int status = latens_causal_data_resample(d, rows, n, &rd);
  if (status == LATENS_OK) status = method(rd, user, &r, &g);
  if (status == LATENS_OK && g) count_graph(g, p, cnt);
  latens_causal_graph_free(g);
  latens_causal_data_free(rd);
  return status;
}

int latens_causal_bootstrap(const latens_causal_data *d, latens_causal_method_fn *method,
                            void *user, size_t replicates, const latens_rng *rng, int threads,
                            const latens_progress *progress, latens_causal_bootstrap_result **res) {
  static const char fn[] = "latens_causal_bootstrap";
  if (!d || !method || !res || !rng) LATENS_ERRORF(LATENS_EINVAL, "%s: NULL argument", fn);
  *res = NULL;
  if (replicates == 0) LATENS_ERRORF(LATENS_EINVAL, "%s: replicates = 0", fn);
  if (threads < 0) LATENS_ERRORF(LATENS_EDOM, "%s: threads = %d < 0", fn, threads);
  const size_t n = latens_causal_data_n(d), p = latens_causal_data_p(d);
  const size_t ncnt = LATENS_CAUSAL_BOOT_NTYPES * p * p;
  const int nt = CS_NTHREADS(threads);
  latens_causal_bootstrap_result *r = calloc(1, sizeof *r);
  unsigned long long *tot = calloc(ncnt, sizeof *tot);
  unsigned *cnt = malloc((size_t)nt * ncnt * sizeof *cnt);
  size_t *rows = malloc((size_t)nt * (n ? n : 1) * sizeof *rows);
  if (r) r->freq = malloc(ncnt * sizeof *r->freq);
  if (!r || !r->freq || !tot || !cnt || !rows) {
    latens_causal_bootstrap_result_free(r), free(tot), free(cnt), free(rows);
    LATENS_ERRORF(LATENS_ENOMEM, "%s: no memory for p = %zu, %d threads", fn, p, nt);
  }
  size_t failed = 0;
  int status = LATENS_OK;
  const size_t block = 4 * (size_t)nt;
  for (size_t b0 = 0; b0 < replicates && status == LATENS_OK; b0 += block) {
    const long long b1 = (long long)(b0 + block < replicates ? b0 + block : replicates);
    size_t nfail = 0;
#pragma omp parallel num_threads(nt) reduction(+ : nfail)
    {
#ifdef _OPENMP
      const size_t me = (size_t)omp_get_thread_num();
#else
      const size_t me = 0;
#endif
      unsigned *c = cnt + me * ncnt;
      size_t *rw = rows + me * n;
#pragma omp for schedule(dynamic, 1)
      for (long long b = (long long)b0; b < b1; b++) {
        if (replicate(d, method, user, rng, (size_t)b, rw, c) != LATENS_OK) {
          nfail++;
          continue;
        }
#pragma omp critical(latens_causal_bootstrap_sum)
        for (size_t k = 0; k < ncnt; k++) tot[k] += c[k]; /* integers: order-free */
      }
    }
    failed += nfail;
    status = latens_progress_report(progress, "bootstrap", (double)b1, (double)replicates);
  }
  if (status == LATENS_OK && failed == replicates) {
    status = LATENS_EFAILED;
    latens_errorf(__FILE__, __LINE__, status, "%s: all %zu replicates failed", fn, replicates);
  }
  if (status == LATENS_OK) {
    r->p = p, r->replicates = replicates, r->failed = failed;
    for (size_t k = 0; k < ncnt; k++) r->freq[k] = (double)tot[k] / (double)replicates;
    *res = r;
  } else {
    latens_causal_bootstrap_result_free(r);
  }
  free(tot), free(cnt), free(rows);
  return status;
}
