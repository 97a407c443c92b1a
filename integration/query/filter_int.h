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
};

struct mdq_node {
	enum mdq_op op;
	const char *path;
	bson_value_t val;
	bool want;
	struct mdq_node **kids;
	size_t nkids;
};

struct mdq_filter {
	bson_t *copy;
	struct mdq_node *root;
};

#endif
