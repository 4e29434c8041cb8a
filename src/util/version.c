/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fp_version (freqpilot/version.h): the library's own version, for programs linked against a
 * libfreqpilot.so that may be newer than the headers they were built with. */
#include "freqpilot/version.h"

const char *fp_version(void)
{
    return FREQPILOT_VERSION;
}
