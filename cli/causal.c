/* cli/causal.c: `latens causal SUBCOMMAND` — the group's table; each subcommand lives in its own
 * cli/causal_*.c file. */
#include <config.h>

#include "cli.h"

static const cli_command *const subs[] = {
    &cli_causal_pc,
    &cli_causal_fci,
    &cli_causal_ges,
    &cli_causal_lingam,
    &cli_causal_cumulant,
    &cli_causal_notears,
    &cli_causal_compare,
};

static int run(int argc, char **argv, cli_common *c) {
  return cli_group_run(argc, argv, c, "latens causal: causal discovery, with and without latent confounders.", subs, sizeof subs / sizeof *subs);
}

const cli_command cli_cmd_causal = {"causal", "causal discovery, with and without latent confounders", run};
