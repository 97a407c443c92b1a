/*
 * filter_int.h: a parsed filter, a tree of nodes over the filter's own
 * copy of its BSON (paths and operands point into it). filter.c builds and
 * matches it, bounds.c reads it for the index planner.
 */
#ifndef MDQ_FILTER_INT_H
#define MDQ_FILTER_INT_H

#include "mdq_int.h"

enum mdq_op {
	OP_AND, OP_OR, OP_NOR, OP_NOT,       /* kids */
	OP_EQ, OP_GT, OP_GTE, OP_LT, OP_LTE, /* path, val */
	OP_IN,                               /* path, val: the array */
	OP_EXISTS,                           /* path, want */
	OP_SIZE,                             /* path, val: an int64 */
	OP_TYPE,                             /* path, tset */
	OP_ELEMMATCH,                        /* path, sub, wrapped */
};

struct mdq_node {
	enum mdq_op op;
	const char *path;
	bson_value_t val;
	bool want;
	uint64_t tset[4];   /* $type: the BSON type bytes accepted */
	mdq_filter_t *sub;  /* $elemMatch: on the element, or on {v: element} */
	bool wrapped;
	struct mdq_node **kids;
	size_t nkids;
};

struct mdq_filter {
	bson_t *copy;
	struct mdq_node *root;
};

struct mdq_node *mdq_node_new(enum mdq_op op, const char *path);
void mdq_node_free(struct mdq_node *n);
int mdq_node_add(struct mdq_node *n, struct mdq_node *kid,
                 struct mdq_error *err);

/* $size, $type, $elemMatch and $all (filter_ops.c); NULL with err. */
bool mdq_is_array_op(const char *name);
struct mdq_node *mdq_parse_array_op(const char *path, bson_iter_t *it,
                                    struct mdq_error *err);
/* One value that the path reached (NULL: missing) against such a node. */
bool mdq_match_array_op(const struct mdq_node *n, const bson_value_t *v);

#endif
