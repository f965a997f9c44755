/* latens/causal_score.h: placeholder until the causal module (score part) lands. */
#ifndef LATENS_CAUSAL_SCORE_H
#define LATENS_CAUSAL_SCORE_H
#include <latens/core.h>
#include <latens/causal.h>
#endif
