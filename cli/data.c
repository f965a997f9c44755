/* cli/data.c: placeholder, being written. */
#include "cli.h"
static int run(int argc, char **argv, cli_common *c) {
  (void)argc, (void)argv;
  return cli_fail(c, CLI_EUSAGE, "not written yet");
}
const cli_command cli_cmd_data = {"data", "inspect a data table: data describe FILE", run};
