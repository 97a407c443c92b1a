/*
 * cursors.c: results that outlive one reply.
 *
 * A find or aggregate collects its results (owned copies) and answers the
 * first batch; the rest waits under a random non-zero cursor id for
 * getMore. Results are materialized, not a WiredTiger cursor held open
 * between requests: a cursor pins no snapshot and no session, and a
 * client that walks away costs memory only, bounded: each cursor's
 * results and all of them together have a byte limit, and a cursor not
 * touched for CURSOR_TIMEOUT_MS is dropped (cursorTimeoutMillis). The
 * registry is this file's alone, under its lock.
 */
#include "docd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define RESULTS_MAX_BYTES (100u << 20)   /* one cursor, as $sort's limit */
#define CURSORS_MAX_BYTES (512ull << 20) /* all cursors of the server */
#define CURSORS_MAX 10000
#define CURSOR_TIMEOUT_MS 600000ull      /* MongoDB's cursorTimeoutMillis */
#define BATCH_DEFAULT 101
#define BATCH_MAX_BYTES (16u << 20)      /* a reply's documents */

struct docd_results {
	bson_t **docs;
	size_t n, cap, bytes;
};

struct cursor {
	int64_t id;
	char ns[MDL_NS_MAX + 1];
	struct docd_results *rs;
	size_t pos;
	uint64_t used_ns;
	int busy;   /* a getMore is reading it */
	int killed; /* its collection went while busy: dropped on give_back */
};

struct docd_cursors {
	pthread_mutex_t lock;
	struct cursor *v[CURSORS_MAX];
	size_t n;
	uint64_t bytes;
};

struct docd_results *results_new(void)
{
	return calloc(1, sizeof(struct docd_results));
}

/* What keeping doc costs: its bytes, its bson_t, its slot, malloc's. */
static size_t kept_size(const bson_t *doc)
{
	return doc->len + sizeof(bson_t) + sizeof(bson_t *) + 32;
}

int results_add(struct docd_results *rs, const bson_t *doc)
{
	if (rs->bytes + kept_size(doc) > RESULTS_MAX_BYTES)
		return -1;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		bson_t **v = realloc(rs->docs, cap * sizeof(*v));
		if (!v)
			return -1;
		rs->docs = v;
		rs->cap = cap;
	}
	if (!(rs->docs[rs->n] = bson_copy(doc)))
		return -1;
	rs->n++;
	rs->bytes += kept_size(doc);
	return 0;
}

size_t results_count(const struct docd_results *rs)
{
	return rs->n;
}

const bson_t *results_at(const struct docd_results *rs, size_t i)
{
	return i < rs->n ? rs->docs[i] : NULL;
}

static int by_sort(const void *a, const void *b, void *s)
{
	return mdq_sort_compare(s, *(bson_t *const *)a, *(bson_t *const *)b);
}

void results_sort(struct docd_results *rs, const mdq_sort_t *s)
{
	if (rs->n > 1)
		qsort_r(rs->docs, rs->n, sizeof(*rs->docs), by_sort, (void *)s);
}

void results_free(struct docd_results *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++)
		bson_destroy(rs->docs[i]);
	free(rs->docs);
	free(rs);
}

int cursors_init(struct docd *d)
{
	d->cursors = calloc(1, sizeof(*d->cursors));
	if (!d->cursors)
		return -1;
	pthread_mutex_init(&d->cursors->lock, NULL);
	return 0;
}

static void cursor_free(struct cursor *c)
{
	results_free(c->rs);
	free(c);
}

void cursors_free(struct docd *d)
{
	if (!d->cursors)
		return;
	for (size_t i = 0; i < d->cursors->n; i++)
		cursor_free(d->cursors->v[i]);
	pthread_mutex_destroy(&d->cursors->lock);
	free(d->cursors);
	d->cursors = NULL;
}

/* (lock) Drops cursor i. */
static void drop_at(struct docd_cursors *cs, size_t i)
{
	cs->bytes -= cs->v[i]->rs->bytes;
	cursor_free(cs->v[i]);
	cs->v[i] = cs->v[--cs->n];
}

/* (lock) Drops the cursors nobody touched for CURSOR_TIMEOUT_MS. */
static void reap(struct docd_cursors *cs, uint64_t now)
{
	for (size_t i = 0; i < cs->n;) {
		struct cursor *c = cs->v[i];
		if (!c->busy && now - c->used_ns > CURSOR_TIMEOUT_MS * 1000000ull)
			drop_at(cs, i);
		else
			i++;
	}
}

/* Keeps c (its results counted); 0, or -1 if the server holds too much. */
static int register_cursor(struct docd *d, struct cursor *c)
{
	struct docd_cursors *cs = d->cursors;
	pthread_mutex_lock(&cs->lock);
	uint64_t now = docd_now_ns();
	reap(cs, now);
	int ok = cs->n < CURSORS_MAX &&
	         cs->bytes + c->rs->bytes <= CURSORS_MAX_BYTES;
	if (ok) {
		do {
			if (getrandom(&c->id, sizeof(c->id), 0) != sizeof(c->id))
				c->id = (int64_t)now;
			c->id &= INT64_MAX;
		} while (!c->id);
		c->used_ns = now;
		cs->v[cs->n++] = c;
		cs->bytes += c->rs->bytes;
	}
	pthread_mutex_unlock(&cs->lock);
	return ok ? 0 : -1;
}

/* How many documents of rs from pos go in one batch of at most batch. */
static size_t batch_len(const struct docd_results *rs, size_t pos,
                        int64_t batch)
{
	size_t n = 0, bytes = 0;
	for (; pos + n < rs->n && (int64_t)n < batch; n++) {
		size_t len = rs->docs[pos + n]->len;
		if (n > 0 && bytes + len > BATCH_MAX_BYTES)
			break;
		bytes += len;
	}
	return n;
}

/* {cursor: {KEY: [n documents from *pos], id, ns}}; *pos moves on. */
static void cursor_doc(bson_t *out, const char *key, const char *ns,
                       const struct docd_results *rs, size_t *pos,
                       size_t n, int64_t id)
{
	bson_t cur, arr;
	char k[24];
	BSON_APPEND_DOCUMENT_BEGIN(out, "cursor", &cur);
	BSON_APPEND_ARRAY_BEGIN(&cur, key, &arr);
	for (size_t i = 0; i < n; i++, (*pos)++) {
		snprintf(k, sizeof(k), "%zu", i);
		BSON_APPEND_DOCUMENT(&arr, k, rs->docs[*pos]);
	}
	bson_append_array_end(&cur, &arr);
	BSON_APPEND_INT64(&cur, "id", id);
	BSON_APPEND_UTF8(&cur, "ns", ns);
	bson_append_document_end(out, &cur);
}

void cursor_reply(struct docd_req *r, const char *ns,
                  struct docd_results *rs, int64_t batch, int single,
                  bson_t *out)
{
	size_t pos = 0, n = batch_len(rs, 0, batch > 0 ? batch : BATCH_DEFAULT);
	struct cursor *c = NULL;
	if (n < rs->n && !single) {
		c = calloc(1, sizeof(*c));
		if (c) {
			snprintf(c->ns, sizeof(c->ns), "%s", ns);
			c->rs = rs;
			c->pos = n;
		}
		if (!c || register_cursor(r->d, c)) {
			free(c);
			results_free(rs);
			reply_error(out, 146, "too many open cursors or too much "
			            "held in them (the server's limit)");
			return;
		}
	}
	cursor_doc(out, "firstBatch", ns, rs, &pos, n, c ? c->id : 0);
	if (!c)
		results_free(rs);
	reply_ok(out);
}

/* Takes cursor id for reading (busy): NULL if there is none. */
static struct cursor *take(struct docd *d, int64_t id)
{
	struct docd_cursors *cs = d->cursors;
	struct cursor *c = NULL;
	pthread_mutex_lock(&cs->lock);
	reap(cs, docd_now_ns());
	for (size_t i = 0; i < cs->n && !c; i++)
		if (cs->v[i]->id == id && !cs->v[i]->busy)
			c = cs->v[i];
	if (c)
		c->busy = 1;
	pthread_mutex_unlock(&cs->lock);
	return c;
}

/* Gives c back, dropping it if it is exhausted. */
static void give_back(struct docd *d, struct cursor *c)
{
	struct docd_cursors *cs = d->cursors;
	pthread_mutex_lock(&cs->lock);
	c->busy = 0;
	c->used_ns = docd_now_ns();
	for (size_t i = 0; i < cs->n; i++)
		if (cs->v[i] == c && (c->pos >= c->rs->n || c->killed))
			drop_at(cs, i);
	pthread_mutex_unlock(&cs->lock);
}

/* Whether cursor ns ("db.coll") is ns, or (ns NULL) a collection of db. */
static int ns_matches(const char *cns, const char *ns, const char *db)
{
	if (ns)
		return !strcmp(cns, ns);
	size_t n = strlen(db);
	return !strncmp(cns, db, n) && cns[n] == '.';
}

static void kill_matching(struct docd *d, const char *ns, const char *db)
{
	struct docd_cursors *cs = d->cursors;
	pthread_mutex_lock(&cs->lock);
	for (size_t i = 0; i < cs->n;) {
		struct cursor *c = cs->v[i];
		if (!ns_matches(c->ns, ns, db)) {
			i++;
		} else if (c->busy) {
			c->killed = 1;
			i++;
		} else {
			drop_at(cs, i);
		}
	}
	pthread_mutex_unlock(&cs->lock);
}

void cursors_kill_ns(struct docd *d, const char *ns)
{
	kill_matching(d, ns, NULL);
}

void cursors_kill_db(struct docd *d, const char *db)
{
	kill_matching(d, NULL, db);
}

void cmd_getmore(struct docd_req *r, bson_t *out)
{
	bson_iter_t it;
	int64_t batch;
	if (!bson_iter_init_find(&it, r->cmd, "getMore") ||
	    !BSON_ITER_HOLDS_INT64(&it)) {
		reply_error(out, 14, "getMore: the cursor id must be a long");
		return;
	}
	int64_t id = bson_iter_int64(&it);
	char ns[MDL_NS_MAX + 1];
	if (opt_int64(r->cmd, "batchSize", 0, &batch, out) ||
	    ns_of(r, "collection", ns, out))
		return;
	struct cursor *c = take(r->d, id);
	if (!c) {
		reply_error(out, 43, "cursor id %lld not found", (long long)id);
		return;
	}
	if (strcmp(c->ns, ns)) {
		give_back(r->d, c);
		reply_error(out, 13, "cursor %lld belongs to %s, not %s",
		            (long long)id, c->ns, ns);
		return;
	}
	size_t n = batch_len(c->rs, c->pos, batch > 0 ? batch : INT64_MAX);
	cursor_doc(out, "nextBatch", ns, c->rs, &c->pos, n,
	           c->pos + n < c->rs->n ? id : 0);
	give_back(r->d, c);
	reply_ok(out);
}

/* Drops cursor id of ns if it is there and idle: 1 if it was. */
static int kill_one(struct docd_cursors *cs, int64_t id, const char *ns)
{
	int found = 0;
	pthread_mutex_lock(&cs->lock);
	for (size_t i = 0; i < cs->n && !found; i++) {
		if (cs->v[i]->id == id && !cs->v[i]->busy &&
		    !strcmp(cs->v[i]->ns, ns)) {
			drop_at(cs, i);
			found = 1;
		}
	}
	pthread_mutex_unlock(&cs->lock);
	return found;
}

static void id_array(bson_t *out, const char *key, const int64_t *v,
                     size_t n)
{
	bson_t arr;
	char k[24];
	BSON_APPEND_ARRAY_BEGIN(out, key, &arr);
	for (size_t i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "%zu", i);
		BSON_APPEND_INT64(&arr, k, v[i]);
	}
	bson_append_array_end(out, &arr);
}

void cmd_killcursors(struct docd_req *r, bson_t *out)
{
	bson_iter_t it, ids;
	char ns[MDL_NS_MAX + 1];
	if (ns_of(r, "killCursors", ns, out))
		return;
	if (!bson_iter_init_find(&it, r->cmd, "cursors") ||
	    !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &ids)) {
		reply_error(out, 14, "killCursors: 'cursors' must be an array");
		return;
	}
	enum { MAX_IDS = 1000 };
	static __thread int64_t killed[MAX_IDS], missing[MAX_IDS];
	size_t nk = 0, nm = 0;
	while (bson_iter_next(&ids) && nk + nm < MAX_IDS) {
		if (!BSON_ITER_HOLDS_INT64(&ids))
			continue;
		int64_t id = bson_iter_int64(&ids);
		if (kill_one(r->d->cursors, id, ns))
			killed[nk++] = id;
		else
			missing[nm++] = id;
	}
	id_array(out, "cursorsKilled", killed, nk);
	id_array(out, "cursorsNotFound", missing, nm);
	id_array(out, "cursorsAlive", NULL, 0);
	id_array(out, "cursorsUnknown", NULL, 0);
	reply_ok(out);
}
