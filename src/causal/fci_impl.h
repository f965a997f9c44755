/* causal/fci_impl.h: FCI's private entry points shared by its source files. */
#ifndef LATENS_CAUSAL_FCI_IMPL_H
#define LATENS_CAUSAL_FCI_IMPL_H

#include "skeleton.h"

/* The orientation phase after the final rule R0 as causal-learn's fci() runs it (see
 * fci_cl.c): its rule order and loop, its R4 (discriminating paths decided by two CI tests
 * before the separating set), and its R8-R10 (R9/R10 on semi-directed reachability, not on
 * uncovered potentially directed paths).  max_path bounds the discriminating-path search
 * (-1 unlimited).  Returns LATENS_OK, LATENS_ENOMEM, a CI-test error or LATENS_EINTERRUPTED. */
LATENS_INTERNAL int latens_causal_fci_orient_cl(latens_causal_graph *g, cg_skel *s, int max_path,
                                                const latens_progress *progress);

#endif
