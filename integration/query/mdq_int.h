/*
 * mdq_int.h: what the files of mdbquery share and the daemon does not see.
 */
#ifndef MDQ_INT_H
#define MDQ_INT_H

#include "mdb_query.h"

#include <stdarg.h>

/* Sets err (if not NULL) and returns -1, so callers can `return mdq_fail()`. */
int mdq_fail(struct mdq_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Structure only: embedded lengths and terminators, no UTF-8 check. */
int mdq_check_bson(const bson_t *b, const char *what, struct mdq_error *err);

/* A path of a spec: non-empty components, no '$' start, no NUL, at most
 * MDQ_MAX_DEPTH components. */
int mdq_check_path(const char *path, struct mdq_error *err);

/* Number of a numeric value (int32, int64, double, decimal128). */
bool mdq_is_number(const bson_value_t *v);
double mdq_to_double(const bson_value_t *v);
/* An integral number that fits in int64 (1, 1L, 1.0). */
bool mdq_to_int64(const bson_value_t *v, int64_t *out);

/*
 * Visits the values at a dotted path as MongoDB's matcher sees them:
 * through embedded documents, through one level of arrays at each step
 * (and by position when the component is a number); at the end, per mode,
 * an array's elements and the array itself, its elements only, or the
 * array only. A missing field is visited as NULL. fn returns true to
 * stop; the visit returns true if fn did.
 */
enum mdq_visit { MDQ_VISIT_BOTH, MDQ_VISIT_ELEMENTS, MDQ_VISIT_WHOLE };
typedef bool (*mdq_visit_fn)(const bson_value_t *v, void *ctx);
bool mdq_path_visit(const bson_t *doc, const char *path, enum mdq_visit mode,
                    mdq_visit_fn fn, void *ctx);

/* A value of doc or array as a bson_t view (false if not one). */
bool mdq_value_doc(const bson_value_t *v, bson_t *out);

/* The bytes a value copy holds, for memory accounting. */
size_t mdq_value_size(const bson_value_t *v);

/* MongoDB's name of a BSON type, for messages. */
const char *mdq_type_name(bson_type_t t);

/* The update tree (update.c), shared with upsert.c. */
int mdq_update_id_first(const bson_t *in, bson_t *out);

/* Value at a path through documents only ($group's "$a.b"); false: missing. */
bool mdq_path_get(const bson_t *doc, const char *path, bson_value_t *out);

#endif
