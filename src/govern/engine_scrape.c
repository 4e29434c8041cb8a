/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The serving engine's signals for the slo policy, scraped from its Prometheus endpoint on
 * this host every control interval: a plain HTTP/1.0 GET over a socket to 127.0.0.1, [::1] or
 * localhost (nothing else is accepted: the daemon runs as root and must not be pointed at
 * another machine), with a deadline, and a parser of the text exposition format. Gauges give
 * the queue, the batch and the KV cache; counters give token and request rates over the
 * interval; histograms give the p99 of the interval's observations from the bucket increments.
 * Any failure (no answer in time, an HTTP error, a missing metric, a counter reset, the first
 * scrape) is an invalid signal, on which the policy answers the default clocks; so is a stale
 * one: requests running or waiting but no token generated for STALE_S seconds (a hung engine
 * whose endpoint still answers).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "freqpilot/govern.h"

#define MAX_BODY (8u << 20)
#define MAX_BUCKETS 64
#define STALE_S 5.0

enum {
    K_WAITING,
    K_RUNNING,
    K_KV_USAGE,
    K_PROMPT,
    K_GENERATED,
    K_REQUESTS,
    K_TTFT,
    K_TBT,
    K_COUNT
};

/* Keys of --engine-map and vLLM's names (docs/govern.md, "Daemon: serving signals"). */
static const struct {
    const char *key, *vllm;
    int histogram, required;
} keys[K_COUNT] = {
    {"waiting", "vllm:num_requests_waiting", 0, 1},
    {"running", "vllm:num_requests_running", 0, 1},
    {"kv_usage", "vllm:gpu_cache_usage_perc", 0, 0},
    {"prompt_tokens", "vllm:prompt_tokens_total", 0, 1},
    {"generation_tokens", "vllm:generation_tokens_total", 0, 1},
    {"requests", "vllm:request_success_total", 0, 1},
    {"ttft", "vllm:time_to_first_token_seconds", 1, 0},
    {"tbt", "vllm:time_per_output_token_seconds", 1, 0},
};

typedef struct hist {
    double le[MAX_BUCKETS], count[MAX_BUCKETS]; /* cumulative, by upper bound */
    int n;
} hist;

typedef struct snapshot {
    double t_s;
    double v[K_COUNT]; /* gauges and counters: summed over label sets; NAN absent */
    hist h[K_COUNT];
} snapshot;

struct fp_engine_scraper {
    char host[64];
    char path[256];
    int family;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char name[K_COUNT][128];
    snapshot prev;
    int have_prev;
    double last_progress_s; /* when the generated-token counter last moved (or work was 0) */
    char *body;
};

static fp_status parse_url(fp_engine_scraper *s, const char *url, fp_error *err)
{
    const char *p = url;
    if (strncmp(p, "http://", 7) != 0)
        return fp_error_set(err, FP_ERR_INVALID,
                            "--engine-metrics '%s': expected http://127.0.0.1:PORT/PATH (this "
                            "host only)",
                            url);
    p += 7;
    char host[64];
    size_t hl;
    const char *colon;
    if (*p == '[') {
        const char *e = strchr(p, ']');
        if (!e || e[1] != ':')
            return fp_error_set(err, FP_ERR_INVALID, "--engine-metrics '%s': expected [::1]:PORT",
                                url);
        hl = (size_t)(e - p - 1);
        if (hl >= sizeof host)
            return fp_error_set(err, FP_ERR_INVALID, "--engine-metrics '%s': bad host", url);
        memcpy(host, p + 1, hl);
        colon = e + 1;
    } else {
        colon = strchr(p, ':');
        const char *slash = strchr(p, '/');
        if (!colon || (slash && slash < colon))
            return fp_error_set(err, FP_ERR_INVALID,
                                "--engine-metrics '%s': expected a port (http://127.0.0.1:8000/"
                                "metrics)",
                                url);
        hl = (size_t)(colon - p);
        if (hl >= sizeof host)
            return fp_error_set(err, FP_ERR_INVALID, "--engine-metrics '%s': bad host", url);
        memcpy(host, p, hl);
    }
    host[hl] = 0;
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || port < 1 || port > 65535 || (*end && *end != '/'))
        return fp_error_set(err, FP_ERR_INVALID, "--engine-metrics '%s': expected a port 1..65535",
                            url);
    snprintf(s->path, sizeof s->path, "%s", *end ? end : "/metrics");
    snprintf(s->host, sizeof s->host, "%s", host);
    memset(&s->addr, 0, sizeof s->addr);
    if (strcmp(host, "127.0.0.1") == 0 || strcasecmp(host, "localhost") == 0) {
        struct sockaddr_in *a = (struct sockaddr_in *)&s->addr;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        s->addr_len = sizeof *a;
        s->family = AF_INET;
    } else if (strcmp(host, "::1") == 0) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&s->addr;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        a->sin6_addr = in6addr_loopback;
        s->addr_len = sizeof *a;
        s->family = AF_INET6;
    } else {
        return fp_error_set(err, FP_ERR_INVALID,
                            "--engine-metrics '%s': the engine must be on this host (127.0.0.1, "
                            "[::1] or localhost)",
                            url);
    }
    return FP_OK;
}

static fp_status set_map(fp_engine_scraper *s, const char *spec, fp_error *err)
{
    for (int k = 0; k < K_COUNT; k++)
        snprintf(s->name[k], sizeof s->name[k], "%s", keys[k].vllm);
    if (!spec || !*spec)
        return FP_OK;
    char buf[2048];
    if (strlen(spec) >= sizeof buf)
        return fp_error_set(err, FP_ERR_INVALID, "--engine-map: too long");
    strcpy(buf, spec);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        int k = -1;
        if (eq) {
            *eq = 0;
            for (int i = 0; i < K_COUNT; i++)
                if (strcmp(tok, keys[i].key) == 0)
                    k = i;
        }
        if (k < 0 || !eq[1] || strlen(eq + 1) >= sizeof s->name[k] ||
            strpbrk(eq + 1, " {}\"") != NULL)
            return fp_error_set(err, FP_ERR_INVALID,
                                "--engine-map '%s': expected KEY=METRIC_NAME with KEY one of "
                                "waiting, running, kv_usage, prompt_tokens, generation_tokens, "
                                "requests, ttft, tbt",
                                tok);
        snprintf(s->name[k], sizeof s->name[k], "%s", eq + 1);
    }
    return FP_OK;
}

fp_status fp_engine_scraper_new(const char *url, const char *map, fp_engine_scraper **out,
                                fp_error *err)
{
    *out = NULL;
    fp_engine_scraper *s = calloc(1, sizeof *s);
    if (!s)
        return fp_error_set(err, FP_ERR_NOMEM, "engine metrics: out of memory");
    fp_status st = parse_url(s, url ? url : "", err);
    if (st == FP_OK)
        st = set_map(s, map, err);
    if (st == FP_OK && !(s->body = malloc(MAX_BODY + 1)))
        st = fp_error_set(err, FP_ERR_NOMEM, "engine metrics: out of memory");
    if (st != FP_OK) {
        fp_engine_scraper_free(s);
        return st;
    }
    *out = s;
    return FP_OK;
}

void fp_engine_scraper_free(fp_engine_scraper *s)
{
    if (!s)
        return;
    free(s->body);
    free(s);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Waits for fd to be ready for events until deadline (monotonic seconds); 0 ready. */
static int wait_fd(int fd, short events, double deadline)
{
    for (;;) {
        double left = deadline - mono_s();
        if (left <= 0)
            return -1;
        struct pollfd p = {fd, events, 0};
        int r = poll(&p, 1, (int)ceil(left * 1000));
        if (r > 0)
            return (p.revents & (events | POLLHUP | POLLERR)) ? 0 : -1;
        if (r == 0 || errno != EINTR)
            return -1;
    }
}

static int why_set(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int why_set(char *why, size_t n, const char *fmt, ...)
{
    if (why && n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Removes chunked transfer coding in place; the body's new length, or -1 when malformed. */
static long dechunk(char *b, size_t len)
{
    size_t in = 0, out = 0;
    for (;;) {
        char *end;
        unsigned long n = strtoul(b + in, &end, 16);
        char *nl = memchr(b + in, '\n', len - in);
        if (end == b + in || !nl)
            return -1;
        in = (size_t)(nl - b) + 1;
        if (n == 0)
            return (long)out;
        if (n > len - in)
            return -1;
        memmove(b + out, b + in, n);
        out += n;
        in += n;
        if (in < len && b[in] == '\r')
            in++;
        if (in < len && b[in] == '\n')
            in++;
    }
}

/* GET path; the body NUL-terminated in s->body, its length in *len. */
static int http_get(fp_engine_scraper *s, double timeout_s, size_t *len, char *why, size_t wn)
{
    double deadline = mono_s() + timeout_s;
    int fd = socket(s->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return why_set(why, wn, "socket: %s", strerror(errno));
    int rc = -1;
    if (connect(fd, (struct sockaddr *)&s->addr, s->addr_len) != 0) {
        if (errno != EINPROGRESS) {
            why_set(why, wn, "connect: %s", strerror(errno));
            goto out;
        }
        int e = 0;
        socklen_t el = sizeof e;
        if (wait_fd(fd, POLLOUT, deadline) != 0 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e != 0) {
            why_set(why, wn, "connect: %s", e ? strerror(e) : "no answer in time");
            goto out;
        }
    }
    char req[512];
    int rl = snprintf(req, sizeof req,
                      "GET %s HTTP/1.0\r\nHost: %s\r\nAccept: text/plain\r\nUser-Agent: "
                      "freqpilot\r\nConnection: close\r\n\r\n",
                      s->path, s->host);
    for (int off = 0; off < rl;) {
        if (wait_fd(fd, POLLOUT, deadline) != 0) {
            why_set(why, wn, "sending the request: no answer in time");
            goto out;
        }
        ssize_t w = send(fd, req + off, (size_t)(rl - off), MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            why_set(why, wn, "send: %s", strerror(errno));
            goto out;
        }
        if (w > 0)
            off += (int)w;
    }
    size_t n = 0;
    for (;;) {
        if (n >= MAX_BODY) {
            why_set(why, wn, "answer over %u bytes", MAX_BODY);
            goto out;
        }
        if (wait_fd(fd, POLLIN, deadline) != 0) {
            why_set(why, wn, "no complete answer in %.0f ms", timeout_s * 1000);
            goto out;
        }
        ssize_t r = recv(fd, s->body + n, MAX_BODY - n, 0);
        if (r == 0)
            break;
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            why_set(why, wn, "recv: %s", strerror(errno));
            goto out;
        }
        n += (size_t)r;
    }
    s->body[n] = 0;
    int code = 0;
    if (sscanf(s->body, "HTTP/%*d.%*d %d", &code) != 1) {
        why_set(why, wn, "not an HTTP answer");
        goto out;
    }
    if (code != 200) {
        why_set(why, wn, "HTTP status %d", code);
        goto out;
    }
    char *hdr_end = strstr(s->body, "\r\n\r\n");
    size_t skip = hdr_end ? 4 : 2;
    if (!hdr_end)
        hdr_end = strstr(s->body, "\n\n");
    if (!hdr_end) {
        why_set(why, wn, "no end of the HTTP header");
        goto out;
    }
    *hdr_end = 0;
    int chunked = strcasestr(s->body, "\ntransfer-encoding: chunked") != NULL;
    size_t body_at = (size_t)(hdr_end - s->body) + skip;
    size_t blen = n - body_at;
    memmove(s->body, s->body + body_at, blen);
    s->body[blen] = 0;
    if (chunked) {
        long d = dechunk(s->body, blen);
        if (d < 0) {
            why_set(why, wn, "bad chunked encoding");
            goto out;
        }
        blen = (size_t)d;
        s->body[blen] = 0;
    }
    *len = blen;
    rc = 0;
out:
    close(fd);
    return rc;
}

/* The value of the label le="..." in labels (NAN when absent; +Inf as INFINITY). */
static double le_of(const char *labels, const char *end)
{
    const char *p = labels;
    while ((p = strstr(p, "le=\"")) && p < end) {
        if (p == labels || p[-1] == '{' || p[-1] == ',' || p[-1] == ' ') {
            p += 4;
            if (strncmp(p, "+Inf\"", 5) == 0)
                return INFINITY;
            char *e;
            double v = strtod(p, &e);
            return *e == '"' ? v : NAN;
        }
        p += 4;
    }
    return NAN;
}

static void hist_add(hist *h, double le, double v)
{
    for (int i = 0; i < h->n; i++)
        if (h->le[i] == le) {
            h->count[i] += v;
            return;
        }
    if (h->n == MAX_BUCKETS)
        return;
    int i = h->n++;
    while (i > 0 && h->le[i - 1] > le) { /* kept sorted */
        h->le[i] = h->le[i - 1];
        h->count[i] = h->count[i - 1];
        i--;
    }
    h->le[i] = le;
    h->count[i] = v;
}

/* Sums the configured metrics of a text exposition body into snap. */
static void parse_body(const fp_engine_scraper *s, char *body, snapshot *snap)
{
    for (int k = 0; k < K_COUNT; k++) {
        snap->v[k] = NAN;
        snap->h[k].n = 0;
    }
    char *save = NULL;
    for (char *line = strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line == '#' || *line == 0)
            continue;
        size_t nl = strcspn(line, "{ \t");
        char *labels = line[nl] == '{' ? line + nl : NULL;
        char *after = labels ? strchr(labels, '}') : line + nl;
        if (!after)
            continue;
        if (labels)
            after++;
        char *e;
        double v = strtod(after, &e);
        if (e == after || !isfinite(v))
            continue;
        for (int k = 0; k < K_COUNT; k++) {
            size_t ml = strlen(s->name[k]);
            if (strncmp(line, s->name[k], ml) != 0)
                continue;
            if (!keys[k].histogram) {
                if (ml == nl)
                    snap->v[k] = isnan(snap->v[k]) ? v : snap->v[k] + v;
            } else if (nl == ml + 7 && strncmp(line + ml, "_bucket", 7) == 0 && labels) {
                double le = le_of(labels, after);
                if (!isnan(le))
                    hist_add(&snap->h[k], le, v);
            }
        }
    }
}

/* p99 of the observations between two cumulative histograms: the upper bound of the first
 * bucket holding 99 % of them (INFINITY past the last finite one); NAN when none. */
static double hist_p99(const hist *a, const hist *b)
{
    double total = NAN;
    for (int i = 0; i < b->n; i++)
        if (isinf(b->le[i])) {
            double prev = 0;
            for (int j = 0; j < a->n; j++)
                if (isinf(a->le[j]))
                    prev = a->count[j];
            total = b->count[i] - prev;
        }
    if (!(total > 0))
        return NAN;
    for (int i = 0; i < b->n; i++) {
        double prev = 0;
        for (int j = 0; j < a->n; j++)
            if (a->le[j] == b->le[i])
                prev = a->count[j];
        if (b->count[i] - prev >= 0.99 * total)
            return b->le[i];
    }
    return INFINITY;
}

int fp_engine_scraper_poll(fp_engine_scraper *s, double timeout_s, fp_serving_signals *sig,
                           char *why, size_t why_size)
{
    memset(sig, 0, sizeof *sig);
    sig->valid = 0;
    size_t len;
    if (http_get(s, timeout_s, &len, why, why_size) != 0) {
        s->have_prev = 0;
        return -1;
    }
    snapshot now;
    now.t_s = mono_s();
    parse_body(s, s->body, &now);
    for (int k = 0; k < K_COUNT; k++)
        if (keys[k].required && isnan(now.v[k])) {
            s->have_prev = 0;
            return why_set(why, why_size, "no metric %s (%s) in the answer", s->name[k],
                           keys[k].key);
        }
    int first = !s->have_prev;
    snapshot prev = s->prev;
    s->prev = now;
    s->have_prev = 1;
    if (first || now.v[K_GENERATED] != prev.v[K_GENERATED] ||
        !(now.v[K_WAITING] + now.v[K_RUNNING] > 0))
        s->last_progress_s = now.t_s;
    if (first)
        return why_set(why, why_size, "first scrape: no rates yet");
    if (now.t_s - s->last_progress_s > STALE_S)
        return why_set(why, why_size,
                       "stale: %.0f requests running or waiting and no token generated for %.0f s",
                       now.v[K_WAITING] + now.v[K_RUNNING], now.t_s - s->last_progress_s);
    double dt = now.t_s - prev.t_s;
    double d[K_COUNT];
    for (int k = K_PROMPT; k <= K_REQUESTS; k++) {
        d[k] = now.v[k] - prev.v[k];
        if (d[k] < 0) /* the engine restarted */
            return why_set(why, why_size, "counter %s went down (engine restarted)", s->name[k]);
    }
    if (!(dt > 0))
        return why_set(why, why_size, "no time between two scrapes");
    sig->waiting = now.v[K_WAITING];
    sig->running = now.v[K_RUNNING];
    sig->kv_usage = now.v[K_KV_USAGE];
    sig->kv_tokens = NAN;
    sig->waiting_prompt_tokens = NAN;
    sig->prompt_tok_s = d[K_PROMPT] / dt;
    sig->gen_tok_s = d[K_GENERATED] / dt;
    sig->requests_s = d[K_REQUESTS] / dt;
    sig->ttft_p99_s = hist_p99(&prev.h[K_TTFT], &now.h[K_TTFT]);
    sig->tbt_p99_s = hist_p99(&prev.h[K_TBT], &now.h[K_TBT]);
    sig->valid = 1;
    return 0;
}
