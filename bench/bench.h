/* bench/bench.h: a monotonic clock and a best-of-N timer for the benchmarks. */
#ifndef LATENS_BENCH_H
#define LATENS_BENCH_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Best wall time of `reps` runs of `body` (a statement): the minimum is the least noisy
 * estimate on a shared machine. */
#define BENCH_BEST(reps, out_seconds, body)                                                   \
  do {                                                                                        \
    double best_ = 1e300;                                                                     \
    for (int r_ = 0; r_ < (reps); r_++) {                                                     \
      double t0_ = bench_now();                                                               \
      body;                                                                                   \
      double t_ = bench_now() - t0_;                                                          \
      if (t_ < best_) best_ = t_;                                                             \
    }                                                                                         \
    (out_seconds) = best_;                                                                    \
  } while (0)

/* mkstemp of $TMPDIR/latens-bench-STEM-XXXXXX into path (n bytes). */
static inline int bench_mkstemp(char *path, size_t n, const char *stem) {
  const char *root = getenv("TMPDIR");
  snprintf(path, n, "%s/latens-bench-%s-XXXXXX", root && *root ? root : "/tmp", stem);
  return mkstemp(path);
}

/* Tuning knobs from the environment: NAME's value, or dflt when unset or empty. */
static inline size_t bench_env_size(const char *name, size_t dflt) {
  const char *v = getenv(name);
  return v && *v ? (size_t)strtoul(v, NULL, 10) : dflt;
}

static inline double bench_env_double(const char *name, double dflt) {
  const char *v = getenv(name);
  return v && *v ? strtod(v, NULL) : dflt;
}

#include "../tests/splitmix.h"
#define bench_unif latens_splitmix_unif
#endif
