/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_TESTUTIL_H
#define FP_TESTUTIL_H
/* Helpers shared by the cmocka unit tests. Include after <cmocka.h>'s prerequisites. */
#include <stddef.h>

/* Real data folder (FREQPILOT_DATA_DIR, default ../shared/data) or NULL when absent. */
const char *tu_data_dir(void);
/* Full path of a file under the real data folder; NULL when the data is absent. */
const char *tu_data_path(const char *rel);
/* Full path under tests/data (FREQPILOT_TEST_DATA). */
const char *tu_fixture(const char *rel);
/* Writes content (len bytes) to a new temporary file and returns its path (static buffer ring). */
const char *tu_write_temp(const char *content, size_t len);
/* Copies the file from to the file to (created or truncated): 0, or -1 on any error. */
int tu_copy_file(const char *from, const char *to);
/* Messages a callback collects (an fp_diag's warnings, the paths a lister hands out): all
 * counted in n, the first TU_MSGS_MAX kept. */
#define TU_MSGS_MAX 64
typedef struct tu_msgs {
    int n;
    char text[TU_MSGS_MAX][600];
} tu_msgs;
/* Adds msg to the tu_msgs at user (an fp_diag's warn callback). */
void tu_msgs_add(void *user, const char *msg);
/* Skips the current cmocka test with a message when the real data is absent. */
#define TU_REQUIRE_DATA()                                                                          \
    do {                                                                                           \
        if (!tu_data_dir()) {                                                                      \
            print_message("skipped: real data not found (set FREQPILOT_DATA_DIR)\n");              \
            skip();                                                                                \
        }                                                                                          \
    } while (0)
/*
 * The main() of a test file, which runs its cmocka tests as the group "tests":
 * TU_MAIN(cmocka_unit_test(test_a), cmocka_unit_test(test_b)); TU_MAIN_GROUP(setup, teardown,
 * ...) with group fixtures.
 */
#define TU_MAIN_GROUP(SETUP, TEARDOWN, ...)                                                        \
    int main(void)                                                                                 \
    {                                                                                              \
        const struct CMUnitTest tests[] = {__VA_ARGS__};                                           \
        return cmocka_run_group_tests(tests, SETUP, TEARDOWN);                                     \
    }
#define TU_MAIN(...) TU_MAIN_GROUP(NULL, NULL, __VA_ARGS__)
#endif
