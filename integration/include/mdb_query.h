/*
 * mdb_query.h: MongoDB's query semantics over libbson documents, with no
 * storage and no network: the BSON comparison order, filters, projections,
 * updates, sort orders and a small aggregation pipeline (library mdbquery).
 *
 * Everything that comes from a client (a filter, an update, a projection,
 * a sort, a pipeline) goes through a *_parse function once: it validates
 * the BSON, checks every argument, and returns NULL with err set (MongoDB's
 * error code and message) on bad input. The parsed object is read-only and
 * may be applied to many documents, from several threads at once.
 *
 * Documents given to match/apply/compare must be valid BSON (the storage
 * layer's, or checked with mdq_validate by the caller): libbson's
 * iterators bound every read, but an invalid document may match oddly.
 * Nesting deeper than MDQ_MAX_DEPTH is refused in specs; in documents it is
 * compared by raw bytes below that depth.
 */
#ifndef MDB_QUERY_H
#define MDB_QUERY_H

#include <bson/bson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MongoDB's error codes that drivers look at. */
enum {
	MDQ_BAD_VALUE = 2,
	MDQ_FAILED_TO_PARSE = 9,
	MDQ_TYPE_MISMATCH = 14,
	MDQ_PATH_NOT_VIABLE = 28,
	MDQ_CONFLICTING_UPDATE_OPERATORS = 40,
	MDQ_IMMUTABLE_FIELD = 66,
	MDQ_INVALID_OPTIONS = 72,
	MDQ_MEMORY_LIMIT = 292, /* QueryExceededMemoryLimitNoDiskUseAllowed */
	MDQ_PROJ_EXCLUSION_IN_INCLUSION = 31254,
	MDQ_PROJ_INCLUSION_IN_EXCLUSION = 31253,
	MDQ_PROJ_PATH_COLLISION = 31249,
	MDQ_STAGE_NOT_ONE_FIELD = 40323,
	MDQ_UNKNOWN_STAGE = 40324,
};

#define MDQ_MAX_DEPTH 100

struct mdq_error {
	int code;      /* 0: no error */
	char msg[256]; /* MongoDB's wording where it matters */
};

/*
 * bson_validate (structure only), made safe: nesting deeper than max_depth
 * (documents, arrays, code-with-scope) is refused before libbson's own
 * validation, which recurses without a bound; so are arrays whose keys are
 * not "0", "1", ... (libbson will not append them: a copy would lose the
 * field). 0, or -1 with FailedToParse.
 * The *_parse functions below use it with MDQ_MAX_DEPTH on their specs.
 */
int mdq_validate(const bson_t *doc, int max_depth, struct mdq_error *err);

/* ---- The BSON order (MongoDB's, see the spec in the project notes) ---- */

/* <0, 0, >0: a before, equal to, after b. Total; 1 == 1L == 1.0; NaN is
 * the smallest number; int64 against double exactly. Decimal128 is
 * ordered through its conversion to double. */
int mdq_compare(const bson_value_t *a, const bson_value_t *b);
/* Two documents compared as embedded documents (field by field). */
int mdq_compare_docs(const bson_t *a, const bson_t *b);
/* The canonical type rank (1 MinKey .. 16 MaxKey), for index key layout. */
int mdq_type_rank(bson_type_t t);

/* ---- Filters ---- */

typedef struct mdq_filter mdq_filter_t;

/*
 * Equality ({a: 5}, {"a.b": 1}), $eq $ne $gt $gte $lt $lte $in $nin $exists
 * $not $and $or $nor $size $type $all $elemMatch, $comment; paths through
 * embedded documents and arrays as MongoDB's matcher walks them; $gt etc.
 * within the operand's type only. Not supported: $regex and regular
 * expressions as patterns (a regex operand matches an equal regex only),
 * $expr, $where, $text, $mod, geo and bit operators: BadValue "unknown
 * operator". The filter is copied: the caller's bson_t may go away.
 */
mdq_filter_t *mdq_filter_parse(const bson_t *filter, struct mdq_error *err);
bool mdq_filter_match(const mdq_filter_t *f, const bson_t *doc);
void mdq_filter_free(mdq_filter_t *f);

/* One interval of index keys on a field. The values point into the filter
 * (valid while it lives) or into static storage. */
struct mdq_bounds {
	bson_value_t lo, hi;
	bool lo_incl, hi_incl;
};

/*
 * The interval that every matching document's key on path (exactly as
 * written in the filter, e.g. "a" or "a.b") lies in, an index keying a
 * missing field as null and an array by each element. true: *b is set and
 * documents whose key is outside cannot match; false: the filter does not
 * restrict path to one interval (scan everything). Conservative: the
 * filter must still be applied to each document. Bounds of several
 * conditions on the path are intersected only if !multikey (as MongoDB:
 * {$gt: 5, $lt: 8} matches [1, 10]).
 */
bool mdq_filter_bounds(const mdq_filter_t *f, const char *path, bool multikey,
                       struct mdq_bounds *b);

/* ---- Projections ---- */

typedef struct mdq_projection mdq_projection_t;

/* {a: 1, "b.c": 1} or {a: 0}; _id included unless {_id: 0}. Mixing:
 * 31254 (exclusion in an inclusion) or 31253 (the reverse); overlapping
 * paths: 31249. Values other than numbers and booleans: BadValue. */
mdq_projection_t *mdq_projection_parse(const bson_t *spec,
                                       struct mdq_error *err);
/* out: initialised by the caller (bson_init), the projected document. */
void mdq_projection_apply(const mdq_projection_t *p, const bson_t *doc,
                          bson_t *out);
void mdq_projection_free(mdq_projection_t *p);

/* ---- Updates ---- */

typedef struct mdq_update mdq_update_t;

/* A replacement document or {$set, $unset, $inc, $push ($each), $pull};
 * a mix or an unknown modifier: FailedToParse; two operators on one path
 * or on a path and its prefix: ConflictingUpdateOperators. */
mdq_update_t *mdq_update_parse(const bson_t *update, struct mdq_error *err);
bool mdq_update_is_replacement(const mdq_update_t *u);
/* out: initialised by the caller, the new document (existing fields keep
 * their place; new ones follow, in MongoDB's order: by name, numeric names
 * by number). *changed: the bytes differ (nModified). 0, or -1 with err
 * (TypeMismatch, ImmutableField on _id, PathNotViable, BadValue). */
int mdq_update_apply(const mdq_update_t *u, const bson_t *doc, bson_t *out,
                     bool *changed, struct mdq_error *err);
/* The document an upsert inserts: the equality fields of filter (a raw
 * filter, parsed or not), then u applied; a replacement keeps the filter's
 * _id if it has none. _id first when present; when absent the caller adds
 * one (an ObjectId). 0 or -1 with err. */
int mdq_update_upsert(const mdq_update_t *u, const bson_t *filter, bson_t *out,
                      struct mdq_error *err);
void mdq_update_free(mdq_update_t *u);

/* ---- Sort ---- */

typedef struct mdq_sort mdq_sort_t;

/* {a: 1, "b.c": -1}: 1 or -1 only (BadValue). {} sorts nothing. */
mdq_sort_t *mdq_sort_parse(const bson_t *spec, struct mdq_error *err);
/* Missing sorts as null; an array as its smallest element ascending, its
 * largest descending; an empty array after MinKey, before null. */
int mdq_sort_compare(const mdq_sort_t *s, const bson_t *a, const bson_t *b);
size_t mdq_sort_nkeys(const mdq_sort_t *s);
void mdq_sort_free(mdq_sort_t *s);

/* ---- Aggregation ---- */

typedef struct mdq_pipeline mdq_pipeline_t;

/* The next document: 1 and *doc (valid until the next call), 0 at the end,
 * -1 with err set to stop the pipeline. */
typedef int (*mdq_source_fn)(void *ctx, const bson_t **doc,
                             struct mdq_error *err);
/* One result (valid during the call only): 0, or -1 with err to stop. */
typedef int (*mdq_sink_fn)(void *ctx, const bson_t *doc, struct mdq_error *err);

#define MDQ_DEFAULT_MEM_LIMIT (100u * 1024 * 1024)

/*
 * pipeline: a BSON array of stages: $match, $group (_id: "$path", a
 * constant, or an object of those, one level; "$a.b" through documents
 * only; $sum, $avg, $min, $max, $count),
 * $sort, $limit, $skip, $project, $count. mem_limit: the bytes $group and
 * $sort may hold each (0: MDQ_DEFAULT_MEM_LIMIT), past which the run fails
 * with MDQ_MEMORY_LIMIT.
 */
mdq_pipeline_t *mdq_pipeline_parse(const bson_t *pipeline, size_t mem_limit,
                                   struct mdq_error *err);
/* Pulls from src until it ends or a $limit is met, pushes results to sink.
 * 0, or -1 with err. */
int mdq_pipeline_run(const mdq_pipeline_t *p, mdq_source_fn src, void *sctx,
                     mdq_sink_fn sink, void *kctx, struct mdq_error *err);
void mdq_pipeline_free(mdq_pipeline_t *p);

#endif
