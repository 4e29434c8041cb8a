/* SPDX-License-Identifier: GPL-3.0-or-later */
/* freqpilotd's protocol parser, policy file and Slurm readers (src/service/). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "freqpilot/freqpilotd.h"
#include "service/policy.h"
#include "service/slurm_jobs.h"
#include "testutil.h"

static fp_status parse(const char *line, fp_svc_request *r, fp_error *err)
{
    return fp_svc_request_parse(line, strlen(line), r, err);
}

static void test_requests(void **state)
{
    (void)state;
    fp_svc_request r;
    fp_error err;
    assert_int_equal(parse("{\"op\":\"hello\"}\n", &r, &err), FP_OK);
    assert_int_equal(r.op, FP_SVC_HELLO);
    assert_int_equal(r.id_kind, 0);
    assert_int_equal(parse("{\"op\":\"lock\",\"gpu\":\"GPU-fa4e0000-0000-4000-8000-000000000000\","
                           "\"min_mhz\":900,\"max_mhz\":1410,\"app_fallback\":true,\"id\":7}\r\n",
                           &r, &err),
                     FP_OK);
    assert_int_equal(r.op, FP_SVC_LOCK);
    assert_string_equal(r.gpu, "GPU-fa4e0000-0000-4000-8000-000000000000");
    assert_int_equal(r.min_mhz, 900);
    assert_int_equal(r.max_mhz, 1410);
    assert_int_equal(r.app_fallback, 1);
    assert_int_equal(r.id_kind, 1);
    assert_int_equal(r.id_int, 7);
    assert_int_equal(
        parse("{\"op\":\"power_limit\",\"gpu\":\"0\",\"watts\":175.5,\"id\":\"a\"}", &r, &err),
        FP_OK);
    assert_true(r.watts == 175.5);
    assert_string_equal(r.id_str, "a");
    assert_int_equal(parse("{\"op\":\"restore\",\"uid\":1001,\"force\":true}", &r, &err), FP_OK);
    assert_int_equal(r.uid, 1001);
    assert_int_equal(r.force, 1);
    assert_int_equal(parse("{\"op\":\"restore\"}", &r, &err), FP_OK);
    assert_int_equal(r.uid, -1);
    assert_int_equal(r.all, 0);
}

static void refused(const char *line, const char *words)
{
    fp_svc_request r;
    memset(&r, 0x5a, sizeof r);
    fp_svc_request before = r;
    fp_error err;
    fp_error_clear(&err);
    fp_status st = parse(line, &r, &err);
    if (st != FP_ERR_PARSE || !strstr(err.msg, words))
        print_error("%s -> %d '%s' (expected '%s')\n", line, st, err.msg, words);
    assert_int_equal(st, FP_ERR_PARSE);
    assert_non_null(strstr(err.msg, words));
    assert_memory_equal(&r, &before, sizeof r); /* nothing filled on failure */
}

static void test_bad_requests(void **state)
{
    (void)state;
    refused("", "not JSON");
    refused("{\"op\":\"lock\"", "not JSON");
    refused("[1,2]", "expected a JSON object");
    refused("{\"op\":\"hello\"} {}", "not JSON");
    refused("{\"gpu\":\"0\"}", "expected \"op\"");
    refused("{\"op\":\"format_disk\"}", "unknown op \"format_disk\"");
    refused("{\"op\":\"hello\",\"gpu\":\"0\"}", "unknown key \"gpu\"");
    refused("{\"op\":\"lock\",\"gpu\":\"0\",\"min_mhz\":900}", "needs max_mhz");
    refused("{\"op\":\"lock\",\"gpu\":\"0\",\"min_mhz\":900,\"max_mhz\":800}",
            "min_mhz is above max_mhz");
    refused("{\"op\":\"lock\",\"gpu\":\"0\",\"min_mhz\":900.5,\"max_mhz\":1000}",
            "expected an integer");
    refused("{\"op\":\"lock\",\"gpu\":\"0\",\"min_mhz\":-1065,\"max_mhz\":1000}",
            "expected 1..100000");
    refused("{\"op\":\"lock\",\"gpu\":\"0\",\"min_mhz\":4294968706,\"max_mhz\":4294968706}",
            "expected 1..100000");
    refused("{\"op\":\"lock\",\"gpu\":\"../../etc\",\"min_mhz\":9,\"max_mhz\":9}", "\"gpu\"");
    refused("{\"op\":\"lock\",\"gpu\":\"\",\"min_mhz\":9,\"max_mhz\":9}", "\"gpu\"");
    refused("{\"op\":\"power_limit\",\"gpu\":\"0\",\"watts\":0}", "\"watts\"");
    refused("{\"op\":\"power_limit\",\"gpu\":\"0\",\"watts\":1e20}", "\"watts\"");
    refused("{\"op\":\"power_limit\",\"gpu\":\"0\",\"watts\":\"150\"}", "\"watts\"");
    refused("{\"op\":\"restore\",\"uid\":-1}", "\"uid\"");
    refused("{\"op\":\"restore\",\"uid\":1,\"all\":true}", "at most one");
    refused("{\"op\":\"hello\",\"op\":\"hello\"}", "not JSON"); /* duplicate key */
    refused("{\"op\":\"hello\",\"protocol\":2}", "protocol 1");
    refused("{\"op\":\"hello\",\"id\":\"0123456789012345678901234567890123456789012345678901"
            "234567890123456789\"}",
            "\"id\"");
    refused("{\"op\":\"hello\"}\n{\"op\":\"hello\"}", "one line");
    refused("{\"op\":\"hel\\u0000lo\"}", "not JSON");
    char big[FP_SVC_MAX_LINE + 16];
    memset(big, ' ', sizeof big - 1);
    big[sizeof big - 1] = 0;
    memcpy(big, "{\"op\":\"hello\"}", 14);
    refused(big, "longer than");
}

static void test_roundtrip(void **state)
{
    (void)state;
    const char *lines[] = {
        "{\"op\":\"lock\",\"gpu\":\"1\",\"min_mhz\":210,\"max_mhz\":1410,\"id\":-5}",
        "{\"op\":\"power_limit\",\"gpu\":\"GPU-x\",\"watts\":0.1}",
        "{\"op\":\"restore\",\"gpu\":\"MIG-1.2\",\"force\":true,\"id\":\"x y\"}",
        "{\"op\":\"info\",\"gpu\":\"3\"}",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        fp_svc_request a, b;
        fp_error err;
        assert_int_equal(parse(lines[i], &a, &err), FP_OK);
        char *text = fp_svc_request_format(&a);
        assert_non_null(text);
        assert_int_equal(text[strlen(text) - 1], '\n');
        assert_int_equal(parse(text, &b, &err), FP_OK);
        assert_memory_equal(&a, &b, sizeof a);
        free(text);
    }
    assert_string_equal(fp_svc_op_name(FP_SVC_RESET_POWER_LIMIT), "reset_power_limit");
    assert_null(fp_svc_op_name(FP_SVC_OP_COUNT));
    assert_int_equal(fp_svc_error_from_name("busy"), FP_SVC_E_BUSY);
    assert_int_equal(fp_svc_error_from_name("nope"), -1);
}

/* ---- policy ---- */

static fp_svc_config *cfg_parse(const char *text, fp_status *st, fp_error *err)
{
    fp_svc_config *c = malloc(sizeof *c);
    assert_non_null(c);
    fp_svc_config_defaults(c);
    *st = fp_svc_config_parse(text, "p.conf", c, err);
    return c;
}

static void test_policy_defaults_nobody(void **state)
{
    (void)state;
    fp_svc_config *c = malloc(sizeof *c);
    fp_svc_config_defaults(c);
    assert_int_equal(c->n_rules, 0);
    assert_string_equal(c->socket, FP_SVC_SOCKET_DEFAULT);
    fp_svc_who w;
    fp_svc_who_fill(&w, 4242, 4242);
    char why[512];
    assert_null(fp_svc_policy_rule(c, &w, 0, "GPU-x", why, sizeof why));
    assert_non_null(strstr(why, "is not in the freqpilotd policy"));
    free(c);
}

static void test_policy_rules(void **state)
{
    (void)state;
    fp_status st;
    fp_error err;
    fp_svc_config *c = cfg_parse("[allow a]\n"
                                 "users = 4242, someone\n"
                                 "gpus = 0, GPU-abc\n"
                                 "clocks = 900:1410\n"
                                 "power_limit = none\n"
                                 "[allow by-group]\n"
                                 "groups = 777\n"
                                 "gpus = 5\n"
                                 "[allow everyone-slurm]\n"
                                 "users = *\n"
                                 "gpus = all\n"
                                 "slurm = yes\n",
                                 &st, &err);
    assert_int_equal(st, FP_OK);
    assert_int_equal(c->n_rules, 3);
    fp_svc_who w;
    fp_svc_who_fill(&w, 4242, 4242);
    const fp_svc_rule *r = fp_svc_policy_rule(c, &w, 0, "GPU-zzz", NULL, 0);
    assert_non_null(r);
    assert_string_equal(r->name, "a");
    r = fp_svc_policy_rule(c, &w, 7, "gpu-ABC", NULL, 0); /* UUIDs: any case */
    assert_string_equal(r->name, "a");
    char why[200];
    assert_true(fp_svc_range_allows(&r->clocks, 900, 1410, "MHz", why, sizeof why));
    assert_false(fp_svc_range_allows(&r->clocks, 810, 1410, "MHz", why, sizeof why));
    assert_string_equal(why, "900..1410 MHz allowed");
    assert_false(fp_svc_range_allows(&r->power, 200, 200, "W", why, sizeof why));
    assert_string_equal(why, "none allowed");
    /* GPU 3 is only in the everyone rule, which needs Slurm. */
    r = fp_svc_policy_rule(c, &w, 3, "GPU-3", NULL, 0);
    assert_string_equal(r->name, "everyone-slurm");
    assert_int_equal(r->slurm, 1);
    assert_int_equal(r->clocks.kind, FP_SVC_RANGE_ANY);
    /* Group 777: another uid whose primary group it is; the first rule that fits wins. */
    fp_svc_who g;
    fp_svc_who_fill(&g, 5555, 777);
    assert_string_equal(fp_svc_policy_rule(c, &g, 5, "GPU-5", NULL, 0)->name, "by-group");
    assert_string_equal(fp_svc_policy_rule(c, &g, 4, "GPU-4", NULL, 0)->name, "everyone-slurm");
    fp_svc_who_fill(&g, 5555, 778);
    assert_string_equal(fp_svc_policy_rule(c, &g, 5, "GPU-5", NULL, 0)->name, "everyone-slurm");
    free(c);

    /* A user named for other GPUs is told which ones. */
    c = cfg_parse("[allow a]\nusers = 4242\ngpus = 0,1\n", &st, &err);
    assert_int_equal(st, FP_OK);
    assert_null(fp_svc_policy_rule(c, &w, 2, "GPU-2", why, sizeof why));
    assert_non_null(strstr(why, "may not control GPU 2"));
    assert_non_null(strstr(why, "grants GPU 0, 1"));
    free(c);
}

static void bad_policy(const char *text, const char *words, long line)
{
    fp_status st;
    fp_error err;
    fp_error_clear(&err);
    fp_svc_config *c = cfg_parse(text, &st, &err);
    if (st == FP_OK || !strstr(err.msg, words))
        print_error("policy '%s' -> '%s' (expected '%s')\n", text, err.msg, words);
    assert_int_not_equal(st, FP_OK);
    assert_non_null(strstr(err.msg, words));
    if (line) {
        char where[32];
        snprintf(where, sizeof where, "p.conf:%ld:", line);
        if (!strstr(err.msg, where))
            print_error("%s: expected line %ld\n", err.msg, line);
        assert_non_null(strstr(err.msg, where));
    }
    free(c);
}

static void test_policy_errors(void **state)
{
    (void)state;
    bad_policy("[services]\nsocket = /x\n", "unknown section [services]", 2);
    bad_policy("[service]\nsockt = /x\n", "unknown key 'sockt'", 2);
    bad_policy("[service]\nsocket = relative.sock\n", "expected an absolute path", 2);
    bad_policy("[service]\nsocket_mode = 0999\n", "octal mode", 2);
    bad_policy("[service]\nsocket_mode = 0466\n", "owner rw", 2);
    bad_policy("[service]\nbackend = cuda\n", "expected nvml or sim", 2);
    bad_policy("[service]\nmax_clients = 0\n", "1..4096", 2);
    bad_policy("[service]\nmax_clients = 4\nmax_clients_per_user = 8\n", "is above max_clients", 0);
    bad_policy("[service]\nsocket = /a\nsocket = /b\n", "set twice", 3);
    bad_policy("[service]\nsocket = /a\n[slurm]\n[service]\nbackend = nvml\n",
               "[service] a second time", 4);
    bad_policy("[slurm]\ngpus_from = cgroup\n", "gres or node", 2);
    bad_policy("[allow]\nusers = x\n", "give the rule a name", 2);
    bad_policy("[allow a]\nusers = x\n[allow a]\ngpus = 0\n", "a second rule of that name", 3);
    bad_policy("[allow a]\nusers = x\nclocks = 1410:900\n", "expected any, none, MIN:MAX", 3);
    bad_policy("[allow a]\nusers = x\nclocks = fast\n", "expected any, none, MIN:MAX", 3);
    bad_policy("[allow a]\nusers = x\npower_limit = -5\n", "power_limit", 3);
    bad_policy("[allow a]\nusers = x\nslurm = maybe\n", "yes or no", 3);
    bad_policy("[allow a]\nusers = x\ncolors = 3\n", "unknown key 'colors'", 3);
    bad_policy("[allow a]\ngpus = 0\n", "names nobody", 0);
    bad_policy("[allow a]\nusers = x\n", "names no GPU", 0);
    bad_policy("no section\n", "expected 'name = value'", 1);
}

static void test_policy_file_checks(void **state)
{
    (void)state;
    char path[4096];
    const char *src = getenv("FREQPILOT_SRC");
    snprintf(path, sizeof path, "%s/contrib/freqpilotd.conf", src ? src : ".");
    fp_svc_config *c = malloc(sizeof *c);
    fp_svc_config_defaults(c);
    fp_error err;
    /* The example in contrib/ is itself a valid policy. */
    struct stat st;
    if (stat(path, &st) == 0 && !(st.st_mode & 022)) {
        assert_int_equal(fp_svc_config_load(path, c, &err), FP_OK);
        assert_int_equal(c->n_rules, 2);
        assert_string_equal(c->rules[1].name, "cluster-jobs");
        assert_int_equal(c->rules[1].slurm, 1);
        assert_string_equal(c->socket, FP_SVC_SOCKET_DEFAULT);
    }
    /* A file others may write is refused. */
    const char *tmp = tu_write_temp("[allow a]\nusers = *\ngpus = all\n", 30);
    assert_int_equal(chmod(tmp, 0666), 0);
    fp_svc_config_defaults(c);
    assert_int_equal(fp_svc_config_load(tmp, c, &err), FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "chmod go-w"));
    assert_int_equal(chmod(tmp, 0644), 0);
    assert_int_equal(fp_svc_config_load(tmp, c, &err), FP_OK);
    assert_int_equal(c->n_rules, 1);
    free(c);
}

/* ---- Slurm ---- */

static char *slurp(const char *rel)
{
    FILE *f = fopen(tu_fixture(rel), "r");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

static void test_slurm_parsers(void **state)
{
    (void)state;
    long jobs[4];
    size_t n;
    fp_error err;
    assert_int_equal(fp_svc_slurm_parse_ids("12\n  13 \n\n", jobs, 4, &n, &err), FP_OK);
    assert_int_equal(n, 2);
    assert_int_equal(jobs[1], 13);
    assert_int_equal(fp_svc_slurm_parse_ids("", jobs, 4, &n, &err), FP_OK);
    assert_int_equal(n, 0);
    assert_int_equal(fp_svc_slurm_parse_ids("12\nsqueue: error: x\n", jobs, 4, &n, &err),
                     FP_ERR_PARSE);
    assert_non_null(strstr(err.msg, "squeue:2:"));

    unsigned gpus[8];
    int on = 0;
    n = 0;
    const char *one = slurp("freqpilotd/scontrol-job.txt");
    assert_int_equal(fp_svc_slurm_parse_job(one, "vm", gpus, 8, &n, &on, &err), FP_OK);
    assert_int_equal(on, 1);
    assert_int_equal(n, 1);
    assert_int_equal(gpus[0], 0);
    n = 0; /* NumNodes= and NodeList= are not Nodes= */
    assert_int_equal(fp_svc_slurm_parse_job(one, "other", gpus, 8, &n, &on, &err), FP_OK);
    assert_int_equal(on, 0);
    assert_int_equal(n, 0);

    const char *multi = slurp("freqpilotd/scontrol-job-multinode.txt");
    n = 0;
    fp_svc_slurm_parse_job(multi, "gpu02", gpus, 8, &n, &on, &err);
    assert_int_equal(on, 1);
    assert_int_equal(n, 2); /* the nic's IDX:0 is not a GPU */
    assert_int_equal(gpus[0], 0);
    assert_int_equal(gpus[1], 1);
    n = 0;
    fp_svc_slurm_parse_job(multi, "gpu03", gpus, 8, &n, &on, &err);
    assert_int_equal(n, 2);
    assert_int_equal(gpus[0], 1);
    assert_int_equal(gpus[1], 3);

    assert_true(fp_svc_hostlist_has("vm", "vm"));
    assert_false(fp_svc_hostlist_has("vm2", "vm"));
    assert_true(fp_svc_hostlist_has("gpu[01-04,07],login1", "gpu07"));
    assert_true(fp_svc_hostlist_has("gpu[01-04,07],login1", "login1"));
    assert_false(fp_svc_hostlist_has("gpu[01-04,07],login1", "gpu05"));
    assert_false(fp_svc_hostlist_has("gpu[01-04]", "gpu1")); /* padded: gpu01 */
    assert_true(fp_svc_hostlist_has("n[8-11]", "n10"));

    fp_svc_config *c = malloc(sizeof *c);
    fp_svc_config_defaults(c);
    fp_svc_slurm_jobs j = {.n_jobs = 1, .n_gpus = 1, .gpus = {2}};
    assert_true(fp_svc_slurm_holds(c, &j, 2));
    assert_false(fp_svc_slurm_holds(c, &j, 0));
    c->gpus_from_node = 1;
    assert_true(fp_svc_slurm_holds(c, &j, 0));
    j.n_jobs = 0;
    assert_false(fp_svc_slurm_holds(c, &j, 2));
    free(c);
}

static void test_run_helper(void **state)
{
    (void)state;
    char out[64];
    fp_error err;
    char *envp[] = {"PATH=/usr/bin:/bin", NULL};
    const char *user = geteuid() == 0 ? "nobody" : getenv("USER");
    if (!user || !*user) {
        print_message("skipped: no user to run helpers as\n");
        skip();
    }
    char *id[] = {"/usr/bin/id", "-u", NULL};
    assert_int_equal(fp_svc_run_helper(id, user, envp, 5, out, sizeof out, &err), FP_OK);
    if (geteuid() == 0)
        assert_int_not_equal(atol(out), 0); /* dropped: not root */
    char *fail[] = {"/bin/sh", "-c", "echo nope >&2; exit 3", NULL};
    assert_int_equal(fp_svc_run_helper(fail, user, envp, 5, out, sizeof out, &err), FP_ERR_IO);
    assert_non_null(strstr(err.msg, "exit 3: nope"));
    char *slow[] = {"/bin/sleep", "5", NULL};
    assert_int_equal(fp_svc_run_helper(slow, user, envp, 0.2, out, sizeof out, &err), FP_ERR_IO);
    assert_non_null(strstr(err.msg, "no answer within 0.2 s"));
    char *big[] = {"/bin/sh", "-c", "seq 1 100", NULL};
    assert_int_equal(fp_svc_run_helper(big, user, envp, 5, out, sizeof out, &err), FP_ERR_IO);
    assert_non_null(strstr(err.msg, "more than 63 bytes"));
    if (geteuid() == 0)
        assert_int_equal(fp_svc_run_helper(id, "root", envp, 5, out, sizeof out, &err),
                         FP_ERR_INVALID);
}

TU_MAIN(cmocka_unit_test(test_requests), cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_policy_defaults_nobody),
        cmocka_unit_test(test_policy_rules), cmocka_unit_test(test_policy_errors),
        cmocka_unit_test(test_policy_file_checks), cmocka_unit_test(test_slurm_parsers),
        cmocka_unit_test(test_run_helper))
