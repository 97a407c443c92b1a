/*
 * verify.c: the correctness pass after every phase. Walks the _id index:
 * each entry's record exists, its _id is the entry's key and every field
 * checks (doc.c); no record is indexed twice. Then walks the collection:
 * each record is indexed. The count must be what the phases inserted.
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct seen {
	uint8_t *bits;
	int64_t n;      /* RecordIds 0..n-1 */
};

/* Marks rid; -1 if out of range or marked already. */
static int mark(struct seen *m, int64_t rid)
{
	if (rid < 0 || rid >= m->n || (m->bits[rid >> 3] & (1u << (rid & 7))))
		return -1;
	m->bits[rid >> 3] |= (uint8_t)(1u << (rid & 7));
	return 0;
}

static int marked(const struct seen *m, int64_t rid)
{
	return rid >= 0 && rid < m->n && (m->bits[rid >> 3] & (1u << (rid & 7)));
}

static int walk_index(struct store *st, WT_CURSOR *ix, WT_CURSOR *coll,
                      struct seen *m, int64_t *count, char *err, size_t len)
{
	int rc;
	while ((rc = ix->next(ix)) == 0) {
		const char *key;
		int64_t rid;
		WT_ITEM doc;
		if ((rc = ix->get_key(ix, &key)) || (rc = ix->get_value(ix, &rid)))
			break;
		if (mark(m, rid)) {
			snprintf(err, len, "%s: RecordId %lld indexed twice or "
			         "out of range", key, (long long)rid);
			return -1;
		}
		coll->set_key(coll, rid);
		if ((rc = coll->search(coll)) || (rc = coll->get_value(coll, &doc))) {
			snprintf(err, len, "%s: RecordId %lld: %s", key,
			         (long long)rid, wiredtiger_strerror(rc));
			return -1;
		}
		if (doc_check(doc.data, doc.size, key, &st->spec, err, len))
			return -1;
		(*count)++;
	}
	if (rc != WT_NOTFOUND) {
		snprintf(err, len, "index walk: %s", wiredtiger_strerror(rc));
		return -1;
	}
	return 0;
}

static int walk_coll(WT_CURSOR *coll, const struct seen *m, int64_t *count,
                     char *err, size_t len)
{
	int rc;
	while ((rc = coll->next(coll)) == 0) {
		int64_t rid;
		if ((rc = coll->get_key(coll, &rid)) != 0)
			break;
		if (!marked(m, rid)) {
			snprintf(err, len, "RecordId %lld is not indexed",
			         (long long)rid);
			return -1;
		}
		(*count)++;
	}
	if (rc != WT_NOTFOUND) {
		snprintf(err, len, "collection walk: %s", wiredtiger_strerror(rc));
		return -1;
	}
	return 0;
}

static int check_counts(int64_t nidx, int64_t ncoll, int64_t expect,
                        char *err, size_t len)
{
	if (nidx != ncoll) {
		snprintf(err, len, "%lld index entries, %lld records",
		         (long long)nidx, (long long)ncoll);
		return -1;
	}
	if (expect >= 0 && nidx != expect) {
		snprintf(err, len, "%lld records, %lld inserted", (long long)nidx,
		         (long long)expect);
		return -1;
	}
	return 0;
}

int store_verify(struct store *st, int64_t expect, char *err, size_t len)
{
	struct seen m = {.n = atomic_load(&st->next_rid)};
	struct sess x;
	int64_t nidx = 0, ncoll = 0;
	m.bits = calloc((size_t)(m.n >> 3) + 1, 1);
	int rc = m.bits ? sess_open(st, &x) : -1;
	if (rc) {
		snprintf(err, len, "verify: cannot start: %s",
		         m.bits ? wiredtiger_strerror(rc) : "no memory");
		free(m.bits);
		return -1;
	}
	rc = walk_index(st, x.idx, x.coll, &m, &nidx, err, len);
	if (!rc)
		rc = x.coll->reset(x.coll) ? -1 : 0;
	if (!rc)
		rc = walk_coll(x.coll, &m, &ncoll, err, len);
	if (!rc)
		rc = check_counts(nidx, ncoll, expect, err, len);
	sess_close(&x);
	free(m.bits);
	return rc;
}
