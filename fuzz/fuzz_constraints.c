/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer harness: the constraints INI parser (inih + our handler) on arbitrary text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/optimize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    fp_constraints c;
    fp_constraints_init(&c);
    fp_error err;
    if (fp_constraints_parse(text, "fuzz.ini", &c, &err) == FP_OK) {
        double b;
        const char *cat;
        for (size_t i = 0; i < c.napps; i++)
            if (fp_constraints_lookup(&c, c.apps[i].app, &b, &cat) != 0 || !(b >= 0.0))
                abort();
    }
    free(text);
    return 0;
}
