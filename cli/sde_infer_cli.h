/* cli/sde_infer_cli.h: the any-model engine behind `latens sde filter|smooth|fit` (private to
 * cli/sde_fit.c and cli/sde_infer_cli.c). */
#ifndef LATENS_CLI_SDE_INFER_CLI_H
#define LATENS_CLI_SDE_INFER_CLI_H

#include "cli.h"

enum { CLI_SDE_FILTER = 0, CLI_SDE_SMOOTH = 1, CLI_SDE_FIT = 2 };

/* Whether the command line asks for the any-model engine rather than the latent-OU
 * interface: --plugin, a --model other than ou, or an option only the engine knows. */
int cli_sde_generic_wanted(int argc, char **argv);

/* Run `latens sde filter|smooth|fit` (which: CLI_SDE_*) through latens_sde_ssm. */
int cli_sde_generic_run(int argc, char **argv, cli_common *c, int which);

#endif
