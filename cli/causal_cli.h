/* cli/causal_cli.h: what the `latens causal` files share. */
#ifndef LATENS_CLI_CAUSAL_H
#define LATENS_CLI_CAUSAL_H
#include "cli.h"

typedef struct {
  const char *data, *knowledge, *truth, *estimate;
  int discrete, test, bootstrap, dot, truth_as, ica;
  latens_causal_pc_options opt;
} causal_args;

/* Read --data (CSV or whitespace table with a header); one error line naming file:line:col. */
int causal_load_data(const cli_common *c, const char *path, int discrete, latens_causal_data **out);
/* The graph as edge-list CSV, DOT (a->dot) or JSON (c->json), to stdout or -o. */
int causal_write_graph(const cli_common *c, const causal_args *a, const latens_causal_graph *g);
/* ges | lingam | cumulant | notears (cli/causal_score_run.c). */
int causal_score_run(const cli_common *c, const causal_args *a, const char *algo);
/* --bootstrap B of pc (fci = 0) or fci: edge frequencies over B resamples. */
int causal_ci_bootstrap(const cli_common *c, causal_args *a, const latens_causal_data *d, int fci);

#endif
