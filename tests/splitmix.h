/* tests/splitmix.h: splitmix64 mapped to (-1, 1), fixed test and benchmark data on every
 * platform, independent of the library's own generators (so the code under test never makes
 * its own inputs).  Shared by tests/ and bench/. */
#ifndef LATENS_TESTS_SPLITMIX_H
#define LATENS_TESTS_SPLITMIX_H
#include <stdint.h>

static inline double latens_splitmix_unif(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return 2.0 * ((z >> 11) * 0x1.0p-53) - 1.0;
}
#endif
