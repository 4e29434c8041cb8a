/* SPDX-License-Identifier: GPL-3.0-or-later */
#ifndef FP_UTIL_JSON_STREAM_H
#define FP_UTIL_JSON_STREAM_H

/*
 * The big JSON outputs (optimal.json, validation.json, pareto.json, the model curves) are an
 * object with one array of many items: at fleet scale hundreds of thousands of objects, whose
 * jansson trees took gigabytes where the items are needed one at a time. These write and read
 * such a file one item at a time. The writer's bytes are exactly json_dumpf's of the whole
 * tree; the reader accepts what json_load_file accepts of such files.
 */

#include <stddef.h>

#include <jansson.h>

#include "freqpilot/error.h"

/* Item i of the array (a new reference, consumed), NULL when out of memory. */
typedef json_t *(*fp_json_item_fn)(void *ctx, size_t i);

/*
 * Writes root (consumed) to path through fp_atomic_open/commit ("-" = stdout) with a final
 * newline, its member key being the array of items item(ctx, 0) .. item(ctx, n - 1), built and
 * freed one by one. key must already be a member of root (any value: it keeps its place among
 * the members). flags as json_dumpf's (with JSON_INDENT(n), n > 0).
 */
fp_status fp_json_write_stream(const char *path, json_t *root, const char *key, size_t n,
                               fp_json_item_fn item, void *ctx, size_t flags, fp_error *err);

/* Called for each member of the root object other than the array (value borrowed), and for each
 * element of the array (borrowed); a non-zero return stops the reading and is returned (set err
 * first). */
typedef fp_status (*fp_json_member_fn)(void *ctx, const char *key, json_t *value);
typedef fp_status (*fp_json_elem_fn)(void *ctx, size_t i, json_t *value);

/*
 * Reads the JSON object of path, member by member; the elements of its array member key one at
 * a time. *have_key: whether key was there as an array. Syntax errors: FP_ERR_PARSE naming
 * path and line.
 */
fp_status fp_json_read_stream(const char *path, const char *key, fp_json_member_fn member,
                              fp_json_elem_fn elem, void *ctx, int *have_key, fp_error *err);

#endif
