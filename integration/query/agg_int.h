/*
 * agg_int.h: $group, which agg.c's pipeline drives (group.c).
 */
#ifndef MDQ_AGG_INT_H
#define MDQ_AGG_INT_H

#include "mdq_int.h"

struct group_spec;
struct group_state;

/* The stage's argument (an object); NULL with err. */
struct group_spec *mdq_group_parse(const bson_value_t *arg,
                                   struct mdq_error *err);
void mdq_group_spec_free(struct group_spec *g);

struct group_state *mdq_group_start(const struct group_spec *g,
                                    size_t mem_limit);
/* 0, or -1 with err (memory limit). */
int mdq_group_add(struct group_state *s, const bson_t *doc,
                  struct mdq_error *err);
size_t mdq_group_count(const struct group_state *s);
/* The i-th group (by key) as a result document into out (initialised). */
void mdq_group_result(const struct group_state *s, size_t i, bson_t *out);
void mdq_group_end(struct group_state *s);

#endif
