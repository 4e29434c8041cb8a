/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The freqpilotd protocol (include/freqpilot/freqpilotd.h, docs/freqpilotd.md): one JSON object
 * per line. The parser is strict because its input comes from any local user: exactly the
 * keys an op takes, each of its type and within its bounds, no duplicates, nothing after the
 * object. fuzz/fuzz_freqpilotd_request.c checks that whatever it accepts formats back to a
 * line that parses to the same request.
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freqpilot/freqpilotd.h"

/* Keys a request may carry, as bits. */
enum {
    K_OP = 1 << 0,
    K_ID = 1 << 1,
    K_PROTOCOL = 1 << 2,
    K_GPU = 1 << 3,
    K_MIN = 1 << 4,
    K_MAX = 1 << 5,
    K_APP = 1 << 6,
    K_WATTS = 1 << 7,
    K_UID = 1 << 8,
    K_ALL = 1 << 9,
    K_FORCE = 1 << 10,
};

static const struct {
    const char *name;
    unsigned bit;
} keys[] = {
    {"op", K_OP},       {"id", K_ID},       {"protocol", K_PROTOCOL}, {"gpu", K_GPU},
    {"min_mhz", K_MIN}, {"max_mhz", K_MAX}, {"app_fallback", K_APP},  {"watts", K_WATTS},
    {"uid", K_UID},     {"all", K_ALL},     {"force", K_FORCE},
};

#define COMMON (K_OP | K_ID | K_PROTOCOL)

static const struct {
    const char *name;
    unsigned allowed, required;
} ops[FP_SVC_OP_COUNT] = {
    [FP_SVC_HELLO] = {"hello", COMMON, K_OP},
    [FP_SVC_GPUS] = {"gpus", COMMON, K_OP},
    [FP_SVC_INFO] = {"info", COMMON | K_GPU, K_OP | K_GPU},
    [FP_SVC_STATUS] = {"status", COMMON, K_OP},
    [FP_SVC_ACQUIRE] = {"acquire", COMMON | K_GPU, K_OP | K_GPU},
    [FP_SVC_LOCK] = {"lock", COMMON | K_GPU | K_MIN | K_MAX | K_APP, K_OP | K_GPU | K_MIN | K_MAX},
    [FP_SVC_RESET] = {"reset", COMMON | K_GPU, K_OP | K_GPU},
    [FP_SVC_POWER_LIMIT] = {"power_limit", COMMON | K_GPU | K_WATTS, K_OP | K_GPU | K_WATTS},
    [FP_SVC_RESET_POWER_LIMIT] = {"reset_power_limit", COMMON | K_GPU, K_OP | K_GPU},
    [FP_SVC_RELEASE] = {"release", COMMON | K_GPU, K_OP | K_GPU},
    [FP_SVC_DETACH] = {"detach", COMMON | K_GPU, K_OP | K_GPU},
    [FP_SVC_RESTORE] = {"restore", COMMON | K_GPU | K_UID | K_ALL | K_FORCE, K_OP},
};

static const char *const errnames[FP_SVC_E_COUNT] = {
    [FP_SVC_E_BAD_REQUEST] = "bad_request",
    [FP_SVC_E_DENIED] = "denied",
    [FP_SVC_E_BUSY] = "busy",
    [FP_SVC_E_RANGE] = "out_of_range",
    [FP_SVC_E_NO_GPU] = "unknown_gpu",
    [FP_SVC_E_UNSUPPORTED] = "unsupported",
    [FP_SVC_E_FAILED] = "failed",
    [FP_SVC_E_LIMIT] = "too_many",
    [FP_SVC_E_REVOKED] = "revoked",
};

const char *fp_svc_op_name(fp_svc_op op)
{
    return (unsigned)op < FP_SVC_OP_COUNT ? ops[op].name : NULL;
}

const char *fp_svc_error_name(fp_svc_errcode code)
{
    return (unsigned)code < FP_SVC_E_COUNT ? errnames[code] : NULL;
}

int fp_svc_error_from_name(const char *name)
{
    for (int i = 0; name && i < FP_SVC_E_COUNT; i++)
        if (strcmp(errnames[i], name) == 0)
            return i;
    return -1;
}

void fp_svc_request_init(fp_svc_request *req, fp_svc_op op)
{
    memset(req, 0, sizeof *req);
    req->op = op;
    req->uid = -1;
}

/* The allowed keys of an op, for messages: "gpu, min_mhz, max_mhz, app_fallback". */
static void key_list(unsigned mask, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (!(mask & keys[i].bit) || (keys[i].bit & COMMON))
            continue;
        int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", keys[i].name);
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
    if (!used)
        snprintf(buf, size, "nothing but op and id");
}

static int gpu_id_ok(const char *s, size_t n)
{
    if (n == 0 || n > 95)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == ':' || c == '.' || c == '_' || c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

static fp_status bad(fp_error *err, const char *fmt, const char *a, const char *b)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a, b);
    return fp_error_set(err, FP_ERR_PARSE, "request: %s", msg);
}

static fp_status get_mhz(json_t *v, const char *key, unsigned *out, fp_error *err)
{
    if (!json_is_integer(v))
        return bad(err, "\"%s\": expected an integer number of MHz%s", key, "");
    json_int_t x = json_integer_value(v);
    if (x < 1 || x > (json_int_t)FP_SVC_MAX_MHZ)
        return bad(err, "\"%s\": expected 1..100000 MHz%s", key, "");
    *out = (unsigned)x;
    return FP_OK;
}

static fp_status get_bool(json_t *v, const char *key, int *out, fp_error *err)
{
    if (!json_is_boolean(v))
        return bad(err, "\"%s\": expected true or false%s", key, "");
    *out = json_is_true(v);
    return FP_OK;
}

static fp_status one_key(fp_svc_request *r, const char *key, unsigned bit, json_t *v, fp_error *err)
{
    switch (bit) {
    case K_OP:
        return FP_OK; /* read first */
    case K_ID:
        if (json_is_integer(v)) {
            r->id_kind = 1;
            r->id_int = json_integer_value(v);
            return FP_OK;
        }
        if (json_is_string(v) && json_string_length(v) <= FP_SVC_MAX_ID &&
            strlen(json_string_value(v)) == json_string_length(v)) {
            r->id_kind = 2;
            memcpy(r->id_str, json_string_value(v), json_string_length(v) + 1);
            return FP_OK;
        }
        return bad(err, "\"id\": expected an integer or a string of at most 64 characters%s%s", "",
                   "");
    case K_PROTOCOL:
        if (!json_is_integer(v) || json_integer_value(v) != FP_SVC_PROTOCOL)
            return bad(err, "\"protocol\": this service speaks protocol 1%s%s", "", "");
        return FP_OK;
    case K_GPU:
        if (!json_is_string(v) || !gpu_id_ok(json_string_value(v), json_string_length(v)))
            return bad(err,
                       "\"gpu\": expected an index or a UUID (1..95 characters of "
                       "A-Z a-z 0-9 : . _ -)%s%s",
                       "", "");
        memcpy(r->gpu, json_string_value(v), json_string_length(v) + 1);
        return FP_OK;
    case K_MIN:
        return get_mhz(v, key, &r->min_mhz, err);
    case K_MAX:
        return get_mhz(v, key, &r->max_mhz, err);
    case K_APP:
        return get_bool(v, key, &r->app_fallback, err);
    case K_WATTS: {
        double w = json_is_number(v) ? json_number_value(v) : NAN;
        if (!(w > 0 && w <= FP_SVC_MAX_WATTS))
            return bad(err, "\"watts\": expected a number of watts in (0, 100000]%s%s", "", "");
        r->watts = w;
        return FP_OK;
    }
    case K_UID:
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 2147483647)
            return bad(err, "\"uid\": expected a user id 0..2147483647%s%s", "", "");
        r->uid = (long)json_integer_value(v);
        return FP_OK;
    case K_ALL:
        return get_bool(v, key, &r->all, err);
    case K_FORCE:
        return get_bool(v, key, &r->force, err);
    }
    return bad(err, "\"%s\": not a key%s", key, "");
}

fp_status fp_svc_request_parse(const char *line, size_t len, fp_svc_request *req, fp_error *err)
{
    if (len > FP_SVC_MAX_LINE)
        return fp_error_set(err, FP_ERR_PARSE, "request: longer than %d bytes", FP_SVC_MAX_LINE);
    if (len && line[len - 1] == '\n')
        len--;
    if (len && line[len - 1] == '\r')
        len--;
    if (memchr(line, '\n', len) || memchr(line, '\0', len))
        return fp_error_set(err, FP_ERR_PARSE,
                            "request: expected one line of JSON (a newline or NUL inside)");
    json_error_t je;
    json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return fp_error_set(err, FP_ERR_PARSE, "request: not JSON (column %d: %s)", je.column,
                            je.text);
    fp_status st = FP_OK;
    fp_svc_request r;
    fp_svc_request_init(&r, FP_SVC_HELLO);
    json_t *op = json_is_object(root) ? json_object_get(root, "op") : NULL;
    if (!json_is_object(root)) {
        st = bad(err, "expected a JSON object {\"op\": ...}%s%s", "", "");
        goto out;
    }
    if (!json_is_string(op)) {
        st = bad(err,
                 "expected \"op\" with a string (hello, gpus, info, status, acquire, lock, "
                 "reset, power_limit, reset_power_limit, release, detach, restore)%s%s",
                 "", "");
        goto out;
    }
    int found = -1;
    for (int i = 0; i < FP_SVC_OP_COUNT; i++)
        if (strlen(ops[i].name) == json_string_length(op) &&
            strcmp(ops[i].name, json_string_value(op)) == 0)
            found = i;
    if (found < 0) {
        char shown[40];
        snprintf(shown, sizeof shown, "%s", json_string_value(op));
        st = bad(err, "unknown op \"%s\"%s", shown, "");
        goto out;
    }
    r.op = (fp_svc_op)found;
    unsigned seen = 0;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (strcmp(keys[i].name, key) == 0)
                bit = keys[i].bit;
        if (!bit || !(ops[found].allowed & bit)) {
            char list[200], shown[40];
            key_list(ops[found].allowed, list, sizeof list);
            snprintf(shown, sizeof shown, "%s", key);
            char msg[400];
            snprintf(msg, sizeof msg, "op \"%s\" takes %s", ops[found].name, list);
            st = bad(err, "unknown key \"%s\": %s", shown, msg);
            goto out;
        }
        seen |= bit;
        if ((st = one_key(&r, key, bit, v, err)))
            goto out;
    }
    unsigned missing = ops[found].required & ~seen;
    if (missing) {
        char list[200];
        key_list(missing, list, sizeof list);
        st = bad(err, "op \"%s\" needs %s", ops[found].name, list);
        goto out;
    }
    if (r.op == FP_SVC_LOCK && r.min_mhz > r.max_mhz) {
        st = bad(err, "lock: min_mhz is above max_mhz%s%s", "", "");
        goto out;
    }
    if (r.op == FP_SVC_RESTORE && !!r.gpu[0] + (r.uid >= 0) + r.all > 1) {
        st = bad(err, "restore: give at most one of gpu, uid and all%s%s", "", "");
        goto out;
    }
    *req = r;
out:
    json_decref(root);
    return st;
}

char *fp_svc_request_format(const fp_svc_request *r)
{
    const char *name = fp_svc_op_name(r->op);
    if (!name)
        return NULL;
    json_t *o = json_object();
    if (!o)
        return NULL;
    unsigned a = ops[r->op].allowed;
    json_object_set_new(o, "op", json_string(name));
    if (r->id_kind == 1)
        json_object_set_new(o, "id", json_integer(r->id_int));
    else if (r->id_kind == 2)
        json_object_set_new(o, "id", json_string(r->id_str));
    if ((a & K_GPU) && r->gpu[0])
        json_object_set_new(o, "gpu", json_string(r->gpu));
    if (r->op == FP_SVC_LOCK) {
        json_object_set_new(o, "min_mhz", json_integer(r->min_mhz));
        json_object_set_new(o, "max_mhz", json_integer(r->max_mhz));
        if (r->app_fallback)
            json_object_set_new(o, "app_fallback", json_true());
    }
    if (r->op == FP_SVC_POWER_LIMIT)
        json_object_set_new(o, "watts", json_real(r->watts));
    if (r->op == FP_SVC_RESTORE) {
        if (r->uid >= 0)
            json_object_set_new(o, "uid", json_integer(r->uid));
        if (r->all)
            json_object_set_new(o, "all", json_true());
        if (r->force)
            json_object_set_new(o, "force", json_true());
    }
    char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    char *line = realloc(text, n + 2);
    if (!line) {
        free(text);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = 0;
    return line;
}
