/* cli/pc.c: `latens pc SUBCOMMAND` — the group's table; each subcommand lives in its own
 * cli/pc_*.c file. */
#include <config.h>

#include "cli.h"

static const cli_command *const subs[] = {
    &cli_pc_learn,
    &cli_pc_loglik,
    &cli_pc_marginal,
    &cli_pc_conditional,
    &cli_pc_map,
    &cli_pc_sample,
};

static int run(int argc, char **argv, cli_common *c) {
  return cli_group_run(argc, argv, c, "latens pc: probabilistic circuits: learn, query, sample.", subs, sizeof subs / sizeof *subs);
}

const cli_command cli_cmd_pc = {"pc", "probabilistic circuits: learn, query, sample", run};
