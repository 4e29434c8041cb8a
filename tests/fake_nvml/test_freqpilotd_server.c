/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * freqpilotd against clients that misbehave, on the fake NVML (run by ctest with
 * LD_LIBRARY_PATH at tests/fake_nvml's library): garbage, an endless line, a line left
 * unfinished, too many connections, a client that never reads its replies, a storm of
 * connections. After each the service answers the next client, keeps its descriptors
 * bounded, and has not exited. The service runs in a child process; this one is the clients.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "freqpilot/freqpilotd.h"
#include "service/policy.h"
#include "service/server.h"

static char dir[40], sock[100];
static pid_t server;
static volatile sig_atomic_t stop_flag;

static void on_term(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static int connect_raw(void)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One line from fd within timeout_s into buf ("" on EOF or time out); returns its length. */
static ssize_t read_line(int fd, char *buf, size_t size, double timeout_s)
{
    size_t n = 0;
    buf[0] = 0;
    while (n < size - 1) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)(timeout_s * 1000)) <= 0)
            break;
        ssize_t k = recv(fd, buf + n, 1, 0);
        if (k <= 0)
            break;
        if (buf[n] == '\n')
            break;
        n += (size_t)k;
    }
    buf[n] = 0;
    return (ssize_t)n;
}

/* The service closed its end: end of file, or a reset when it left our bytes unread. */
static int closed_by_peer(int fd, double timeout_s)
{
    struct pollfd p = {fd, POLLIN, 0};
    char c;
    if (poll(&p, 1, (int)(timeout_s * 1000)) != 1)
        return 0;
    ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* A fresh client says hello and gets the service's answer. */
static void service_answers(void)
{
    int fd = connect_raw();
    assert_true(fd >= 0);
    const char *hello = "{\"op\":\"hello\",\"id\":1}\n";
    assert_int_equal(send(fd, hello, strlen(hello), MSG_NOSIGNAL), (ssize_t)strlen(hello));
    char line[4096];
    read_line(fd, line, sizeof line, 5);
    if (!strstr(line, "\"service\":\"freqpilotd\""))
        print_error("hello -> '%s'\n", line);
    assert_non_null(strstr(line, "\"ok\":true,\"service\":\"freqpilotd\""));
    close(fd);
    assert_int_equal(waitpid(server, NULL, WNOHANG), 0); /* still running */
}

static int server_fds(void)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/fd", (long)server);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/fp-svc-test.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(sock, sizeof sock, "%s/s.sock", dir);
    fp_svc_config *cfg = calloc(1, sizeof *cfg);
    fp_svc_config_defaults(cfg);
    snprintf(cfg->socket, sizeof cfg->socket, "%s", sock);
    snprintf(cfg->state_dir, sizeof cfg->state_dir, "%s/state", dir);
    cfg->max_clients = 8;
    cfg->max_clients_per_user = 8;
    cfg->request_timeout_s = 0.5;
    int ready[2];
    if (pipe(ready))
        return -1;
    server = fork();
    if (server == 0) {
        close(ready[0]);
        signal(SIGTERM, on_term);
        fp_svc_server *s;
        fp_error err;
        if (fp_svc_server_open(&s, cfg, NULL, NULL, &err)) {
            fprintf(stderr, "server: %s\n", err.msg);
            _exit(3);
        }
        if (write(ready[1], "r", 1) != 1)
            _exit(4);
        fp_svc_server_run(s, &stop_flag, NULL, &err);
        fp_svc_server_close(s);
        free(cfg);
        _exit(0);
    }
    free(cfg);
    close(ready[1]);
    char c;
    ssize_t n = read(ready[0], &c, 1);
    close(ready[0]);
    return n == 1 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    int st = 0;
    kill(server, SIGTERM);
    waitpid(server, &st, 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {
        /* a leftover temporary folder is not a test failure */
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void test_garbage_then_good(void **state)
{
    (void)state;
    int fd = connect_raw();
    assert_true(fd >= 0);
    const char *bad = "hello\n{\"op\":\"lock\"}\n{\"op\":\"hello\"}\n";
    assert_int_equal(send(fd, bad, strlen(bad), MSG_NOSIGNAL), (ssize_t)strlen(bad));
    char line[4096];
    read_line(fd, line, sizeof line, 5);
    assert_non_null(strstr(line, "\"error\":\"bad_request\",\"message\":\"request: not JSON"));
    read_line(fd, line, sizeof line, 5);
    assert_non_null(strstr(line, "op \\\"lock\\\" needs gpu, min_mhz, max_mhz"));
    read_line(fd, line, sizeof line, 5);
    assert_non_null(strstr(line, "\"ok\":true")); /* the same connection goes on */
    close(fd);
    service_answers();
}

static void test_endless_line(void **state)
{
    (void)state;
    int fd = connect_raw();
    char junk[1024];
    memset(junk, 'x', sizeof junk);
    for (int i = 0; i < 8; i++)
        if (send(fd, junk, sizeof junk, MSG_NOSIGNAL) < 0)
            break;
    char line[4096];
    read_line(fd, line, sizeof line, 5);
    assert_non_null(strstr(line, "longer than 4096 bytes; closing the connection"));
    assert_true(closed_by_peer(fd, 5));
    close(fd);
    service_answers();
}

static void test_unfinished_line(void **state)
{
    (void)state;
    int fd = connect_raw();
    assert_int_equal(send(fd, "{\"op\":", 6, MSG_NOSIGNAL), 6);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char line[4096];
    read_line(fd, line, sizeof line, 5);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    assert_non_null(strstr(line, "incomplete line after 0.5 s"));
    assert_true(took >= 0.45 && took < 3);
    assert_true(closed_by_peer(fd, 5));
    close(fd);
    service_answers();
}

static void test_connection_limit(void **state)
{
    (void)state;
    int fds[8];
    for (int i = 0; i < 8; i++) {
        fds[i] = connect_raw();
        assert_true(fds[i] >= 0);
    }
    /* Every one of them is accepted before the next is tried. */
    for (int i = 0; i < 8; i++) {
        const char *h = "{\"op\":\"hello\"}\n";
        char line[4096];
        assert_int_equal(send(fds[i], h, strlen(h), MSG_NOSIGNAL), (ssize_t)strlen(h));
        read_line(fds[i], line, sizeof line, 5);
        assert_non_null(strstr(line, "\"ok\":true"));
    }
    int extra = connect_raw();
    char line[4096];
    read_line(extra, line, sizeof line, 5);
    assert_non_null(strstr(line, "\"error\":\"too_many\""));
    assert_true(closed_by_peer(extra, 5));
    close(extra);
    for (int i = 0; i < 8; i++)
        close(fds[i]);
    usleep(200 * 1000);
    service_answers();
}

static void test_client_that_does_not_read(void **state)
{
    (void)state;
    int fd = connect_raw();
    int one = 1 << 12;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof one);
    const char *req = "{\"op\":\"gpus\"}\n";
    /* Each reply is far longer than its request: the service must stop at its bound. */
    int sent = 0, refused = 0;
    for (int i = 0; i < 200000 && !refused; i++) {
        struct pollfd p = {fd, POLLOUT, 0};
        if (poll(&p, 1, 2000) <= 0 || (p.revents & (POLLERR | POLLHUP)))
            break;
        if (send(fd, req, strlen(req), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
            refused = errno != EAGAIN;
        else
            sent++;
    }
    print_message("sent %d requests without reading a reply\n", sent);
    service_answers(); /* others are served meanwhile */
    close(fd);
    service_answers();
}

static void test_connection_storm(void **state)
{
    (void)state;
    service_answers();
    int before = server_fds();
    for (int i = 0; i < 2000; i++) {
        int fd = connect_raw();
        if (fd >= 0)
            close(fd);
    }
    usleep(300 * 1000);
    service_answers();
    int after = server_fds();
    print_message("service descriptors: %d before, %d after 2000 connections\n", before, after);
    assert_true(after >= 0 && after <= before + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_garbage_then_good),         cmocka_unit_test(test_endless_line),
        cmocka_unit_test(test_unfinished_line),           cmocka_unit_test(test_connection_limit),
        cmocka_unit_test(test_client_that_does_not_read), cmocka_unit_test(test_connection_storm),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, setup, teardown);
}
