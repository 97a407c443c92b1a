/*
 * update_int.h: a parsed update: a replacement document, or a tree of
 * path components whose leaves carry one operator each (update.c parses,
 * update_apply.c applies).
 */
#ifndef MDQ_UPDATE_INT_H
#define MDQ_UPDATE_INT_H

#include "mdq_int.h"

enum uop { U_NONE, U_SET, U_UNSET, U_INC, U_PUSH, U_PULL };

struct unode {
	const char *name; /* into the update copy, not NUL-ended */
	size_t len;
	enum uop op;
	bson_value_t arg;     /* $set, $inc: the value; $push: see each */
	bool each;            /* $push: arg is the $each array */
	mdq_filter_t *cond;   /* $pull with a condition */
	bool cond_wrapped;    /* cond is on {v: element}, not the element */
	bool creates;         /* the subtree sets something when missing */
	struct unode *kids;   /* sorted: numeric names by number, then bytes */
	size_t nkids;
};

struct mdq_update {
	bson_t *copy;
	bool replacement;
	struct unode root;
};

int mdq_apply_tree(const struct unode *root, const bson_t *doc, bson_t *out,
                   struct mdq_error *err);
bool mdq_name_is_index(const char *name, size_t len, uint32_t *idx);

#endif
