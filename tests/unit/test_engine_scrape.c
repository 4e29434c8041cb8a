/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The serving engine's signals: a scraper against an HTTP responder in a thread of this test
 * (127.0.0.1, a port of its own), answering canned Prometheus text: gauges summed over label
 * sets, rates and histogram p99s from the increments between two scrapes, every failure an
 * invalid signal with a reason.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "freqpilot/govern.h"
#include "testutil.h"

static int lfd = -1, port;
static pthread_t thr;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char answer[8192];
static int silent; /* accept, then say nothing */

static void *serve(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept(lfd, NULL, NULL);
        if (c < 0)
            return NULL;
        char req[2048];
        ssize_t r = recv(c, req, sizeof req, 0);
        (void)r;
        pthread_mutex_lock(&mu);
        int quiet = silent;
        char out[8192];
        snprintf(out, sizeof out, "%s", answer);
        pthread_mutex_unlock(&mu);
        if (quiet) {
            usleep(400000);
        } else if (send(c, out, strlen(out), MSG_NOSIGNAL) < 0) {
            /* the client gave up */
        }
        close(c);
    }
}

static void set_answer(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_answer(const char *fmt, ...)
{
    pthread_mutex_lock(&mu);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(answer, sizeof answer, fmt, ap);
    va_end(ap);
    pthread_mutex_unlock(&mu);
}

static int setup(void **state)
{
    (void)state;
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 8) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    port = ntohs(a.sin_port);
    return pthread_create(&thr, NULL, serve, NULL);
}

static int teardown(void **state)
{
    (void)state;
    shutdown(lfd, SHUT_RDWR);
    close(lfd);
    pthread_join(thr, NULL);
    return 0;
}

/* An HTTP answer with vLLM's metrics at counters c (prompt 5c, generated c) and the TTFT
 * histogram's buckets. */
static void metrics(const char *head, double c, double w1, double w2, const double ttft[5])
{
    set_answer("%s\r\n\r\n"
               "# HELP vllm:num_requests_waiting waiting\n"
               "# TYPE vllm:num_requests_waiting gauge\n"
               "vllm:num_requests_waiting{model_name=\"a\"} %g\n"
               "vllm:num_requests_waiting{model_name=\"b\"} %g\n"
               "vllm:num_requests_running{model_name=\"a\"} 5\n"
               "vllm:num_requests_running_other 99\n"
               "vllm:gpu_cache_usage_perc{model_name=\"a\"} 0.25\n"
               "vllm:prompt_tokens_total{model_name=\"a\"} %g\n"
               "vllm:generation_tokens_total{model_name=\"a\"} %g 1700000000000\n"
               "vllm:request_success_total{finished_reason=\"stop\",model_name=\"a\"} %g\n"
               "vllm:time_to_first_token_seconds_bucket{le=\"0.1\",model_name=\"a\"} %g\n"
               "vllm:time_to_first_token_seconds_bucket{le=\"0.5\",model_name=\"a\"} %g\n"
               "vllm:time_to_first_token_seconds_bucket{le=\"2.5\",model_name=\"a\"} %g\n"
               "vllm:time_to_first_token_seconds_bucket{model_name=\"a\",le=\"5.0\"} %g\n"
               "vllm:time_to_first_token_seconds_bucket{le=\"+Inf\",model_name=\"a\"} %g\n"
               "vllm:time_to_first_token_seconds_count{model_name=\"a\"} %g\n",
               head, w1, w2, 5 * c, c, c / 100, ttft[0], ttft[1], ttft[2], ttft[3], ttft[4],
               ttft[4]);
}

static const char *OK = "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4";

static fp_engine_scraper *scraper(const char *map)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    fp_engine_scraper *s = NULL;
    fp_error err;
    assert_int_equal(fp_engine_scraper_new(url, map, &s, &err), FP_OK);
    return s;
}

static void test_urls(void **state)
{
    (void)state;
    fp_engine_scraper *s;
    fp_error err;
    assert_int_equal(fp_engine_scraper_new("http://localhost:8000/metrics", NULL, &s, &err), FP_OK);
    fp_engine_scraper_free(s);
    assert_int_equal(fp_engine_scraper_new("http://[::1]:8000", NULL, &s, &err), FP_OK);
    fp_engine_scraper_free(s);
    assert_int_equal(fp_engine_scraper_new("http://10.1.2.3:8000/metrics", NULL, &s, &err),
                     FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "must be on this host"));
    assert_int_equal(fp_engine_scraper_new("https://127.0.0.1:8000/", NULL, &s, &err),
                     FP_ERR_INVALID);
    assert_int_equal(fp_engine_scraper_new("http://127.0.0.1/metrics", NULL, &s, &err),
                     FP_ERR_INVALID);
    assert_int_equal(fp_engine_scraper_new("http://127.0.0.1:70000/", NULL, &s, &err),
                     FP_ERR_INVALID);
    assert_int_equal(fp_engine_scraper_new("http://127.0.0.1:8000/", "queue=x", &s, &err),
                     FP_ERR_INVALID);
    assert_non_null(strstr(err.msg, "KEY one of waiting"));
}

static void test_signals(void **state)
{
    (void)state;
    fp_engine_scraper *s = scraper(NULL);
    fp_serving_signals g;
    char why[256];
    const double h0[5] = {10, 10, 10, 10, 10}, h1[5] = {110, 110, 110, 112, 112};
    metrics(OK, 1000, 3, 4, h0);
    assert_int_equal(fp_engine_scraper_poll(s, 1, &g, why, sizeof why), -1);
    assert_false(g.valid);
    assert_non_null(strstr(why, "first scrape"));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    usleep(200000);
    metrics(OK, 1600, 3, 4, h1);
    assert_int_equal(fp_engine_scraper_poll(s, 1, &g, why, sizeof why), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(g.valid);
    assert_true(g.waiting == 7 && g.running == 5 && g.kv_usage == 0.25); /* summed, exact names */
    double dt = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    assert_true(g.gen_tok_s > 600 / dt * 0.9 && g.gen_tok_s < 600 / 0.2);
    assert_true(fabs(g.prompt_tok_s / g.gen_tok_s - 5) < 1e-9);
    assert_true(fabs(g.requests_s / g.gen_tok_s - 0.01) < 1e-9);
    assert_true(g.ttft_p99_s == 5.0); /* 100 of 102 in the first bucket: 99 % reached at 5 s */
    assert_true(isnan(g.tbt_p99_s));  /* no histogram of it */
    const double h2[5] = {1110, 1110, 1110, 1112, 1112};
    metrics(OK, 1700, 0, 0, h2);
    assert_int_equal(fp_engine_scraper_poll(s, 1, &g, why, sizeof why), 0);
    assert_true(g.ttft_p99_s == 0.1); /* all 1000 new ones under 0.1 s */
    /* chunked transfer coding */
    set_answer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               "56\r\nvllm:num_requests_waiting 1\nvllm:num_requests_running 2\n"
               "vllm:prompt_tokens_total 9999\n\r\n"
               "5e\r\nvllm:generation_tokens_total 1800\nvllm:request_success_total 18\n"
               "vllm:gpu_cache_usage_perc 0.5\n\r\n0\r\n\r\n");
    assert_int_equal(fp_engine_scraper_poll(s, 1, &g, why, sizeof why), 0);
    assert_true(g.waiting == 1 && g.running == 2 && g.kv_usage == 0.5);
    /* a counter going down: the engine restarted */
    metrics(OK, 10, 0, 0, h0);
    assert_int_equal(fp_engine_scraper_poll(s, 1, &g, why, sizeof why), -1);
    assert_non_null(strstr(why, "went down"));
    fp_engine_scraper_free(s);
}

static void test_failures(void **state)
{
    (void)state;
    fp_engine_scraper *s = scraper("waiting=my_queue");
    fp_serving_signals g;
    char why[256];
    const double h[5] = {0};
    metrics(OK, 10, 0, 0, h);
    assert_int_equal(fp_engine_scraper_poll(s, 1, &g, why, sizeof why), -1);
    assert_non_null(strstr(why, "no metric my_queue (waiting)"));
    fp_engine_scraper_free(s);
    s = scraper(NULL);
    set_answer("HTTP/1.0 404 Not Found\r\n\r\nnot found\n");
    assert_int_equal(fp_engine_scraper_poll(s, 1, &g, why, sizeof why), -1);
    assert_non_null(strstr(why, "HTTP status 404"));
    set_answer("garbage");
    assert_int_equal(fp_engine_scraper_poll(s, 1, &g, why, sizeof why), -1);
    assert_non_null(strstr(why, "not an HTTP answer"));
    pthread_mutex_lock(&mu);
    silent = 1;
    pthread_mutex_unlock(&mu);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(fp_engine_scraper_poll(s, 0.1, &g, why, sizeof why), -1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double dt = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    assert_true(dt < 0.35); /* gave up at its deadline, not at the server's leisure */
    assert_non_null(strstr(why, "in 100 ms"));
    pthread_mutex_lock(&mu);
    silent = 0;
    pthread_mutex_unlock(&mu);
    fp_engine_scraper_free(s);
    /* nothing listening */
    fp_error err;
    assert_int_equal(fp_engine_scraper_new("http://127.0.0.1:1/metrics", NULL, &s, &err), FP_OK);
    assert_int_equal(fp_engine_scraper_poll(s, 0.5, &g, why, sizeof why), -1);
    assert_non_null(strstr(why, "connect"));
    fp_engine_scraper_free(s);
}

TU_MAIN_GROUP(setup, teardown, cmocka_unit_test(test_urls), cmocka_unit_test(test_signals),
              cmocka_unit_test(test_failures))
