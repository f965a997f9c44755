/* latens/causal.h: placeholder until the causal module (local part) lands. */
#ifndef LATENS_CAUSAL_H
#define LATENS_CAUSAL_H
#include <latens/core.h>
#endif
