/* cli/gp.c: `latens gp SUBCOMMAND` — the group's table; each subcommand lives in its own
 * cli/gp_*.c file. */
#include <config.h>

#include "cli.h"

static const cli_command *const subs[] = {
    &cli_gp_fit,
    &cli_gp_loglik,
    &cli_gp_smooth,
    &cli_gp_predict,
    &cli_gp_gpfa,
};

static int run(int argc, char **argv, cli_common *c) {
  return cli_group_run(argc, argv, c, "latens gp: latent Gaussian-process trajectories in linear time.", subs, sizeof subs / sizeof *subs);
}

const cli_command cli_cmd_gp = {"gp", "latent Gaussian-process trajectories in linear time", run};
