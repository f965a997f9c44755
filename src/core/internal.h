/* core/internal.h: helpers shared by latens' own source files; not installed. */
#ifndef LATENS_CORE_INTERNAL_H
#define LATENS_CORE_INTERNAL_H

#include <config.h>
#include <stddef.h>
#include <stdint.h>
#include <latens/common.h>

/* Overflow-checked n*m for allocation sizes: returns 0 on overflow (callers treat as ENOMEM). */
static inline size_t latens_mul_size(size_t n, size_t m) {
  if (n != 0 && m > SIZE_MAX / n) return 0;
  return n * m;
}

/* Hidden helpers: visible across liblatens' objects, not exported. */
#define LATENS_INTERNAL __attribute__((visibility("hidden")))

#endif
