/* bench/bench.h: a monotonic clock and a best-of-N timer for the benchmarks. */
#ifndef LATENS_BENCH_H
#define LATENS_BENCH_H
#include <stdint.h>
#include <time.h>

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

/* splitmix64 mapped to (-1, 1): fixed test data on every platform, independent of the
 * library's own generators (so the code under test never makes its own inputs). */
static inline double bench_unif(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return 2.0 * ((z >> 11) * 0x1.0p-53) - 1.0;
}
#endif
