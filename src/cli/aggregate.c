/* SPDX-License-Identifier: GPL-3.0-or-later */
/* placeholder until the aggregate command lands (helper in progress) */
#include "cli/cli.h"
int cmd_aggregate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("aggregate: not built yet");
    return EXIT_FAIL;
}
