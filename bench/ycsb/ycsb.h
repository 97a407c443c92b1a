/*
 * ycsb.h: mojim-ycsb, YCSB core workloads A-F and the paper's MongoDB
 * insert micro benchmark on WiredTiger with MongoDB's record layout
 * (README.md). Each file is one piece:
 *
 *   gen.c    YCSB's generators: FNV-1a 64, keys, zipfian, scrambled
 *            zipfian, skewed latest, uniform, the operation chooser
 *   props.c  workload parameters: built-in A-F, properties files, -p
 *   hist.c   log-bucketed latency histogram (HDR-style)
 *   doc.c    the BSON documents: self-checking field values
 *   store.c  a collection + _id index in WiredTiger, one transaction per
 *            operation, and the correctness pass
 *   env.c    one database home per durability mode (and its mirror)
 *   wire.c   --target: a MongoDB server over libmongoc, its client pool
 *   wire_ops.c  YCSB's MongoDB binding's operations and the wire's
 *            correctness pass
 *   phase.c  the load, run and insert phases on N threads
 *   main.c   flags, the order of phases, the report (table and CSV)
 *
 * gen.c, props.c and hist.c need neither WiredTiger nor libbson: the unit
 * test (test_gen.c) links them alone.
 */
#ifndef MOJIM_YCSB_H
#define MOJIM_YCSB_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* ---- gen.c ---- */

/* xoshiro256**: each thread has its own, seeded from --seed and its id. */
struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
double rng_double(struct rng *r);             /* [0, 1) */
int64_t rng_range(struct rng *r, int64_t lo, int64_t hi); /* [lo, hi] */

/* YCSB's Utils.fnvhash64: FNV-1a over the 8 bytes, low first, then abs. */
int64_t ycsb_fnvhash64(int64_t val);
/* "user" + decimal of the hashed key number (insertorder=hashed). */
int ycsb_key(int64_t keynum, char *buf, size_t len);

/* YCSB's ZipfianGenerator (Gray et al., SIGMOD 1994). */
struct zipf {
	int64_t items, base, countforzeta;
	double theta, zeta2theta, alpha, zetan, eta;
};

double zipf_zeta(int64_t from, int64_t n, double theta, double initial);
/* Items min..max; zetan <= 0: computed (O(items)). */
void zipf_init(struct zipf *z, int64_t min, int64_t max, double theta,
               double zetan);
/* A draw among itemcount items; a larger itemcount extends zeta. */
int64_t zipf_next(struct zipf *z, struct rng *r, int64_t itemcount);

/* ScrambledZipfianGenerator: the zipfian over 1e10 items, hashed. */
#define SZIPF_ITEMS 10000000000LL
#define SZIPF_ZETAN 26.46902820178302
struct szipf {
	struct zipf z;
	int64_t min, itemcount;
};
void szipf_init(struct szipf *s, int64_t min, int64_t max);
int64_t szipf_next(struct szipf *s, struct rng *r);

/* AcknowledgedCounterGenerator: the insert key sequence. limit is the
 * highest key below which every insert finished (what reads may pick). */
#define ACK_WINDOW (1 << 20)
struct ackctr {
	_Atomic int64_t next, limit;
	pthread_mutex_t mu;
	uint8_t *window;
};
int ackctr_init(struct ackctr *a, int64_t start);
void ackctr_free(struct ackctr *a);
int64_t ackctr_take(struct ackctr *a);
int ackctr_ack(struct ackctr *a, int64_t k); /* -1: too far ahead */

/* SkewedLatestGenerator: max - zipfian(max), max the acked limit. */
struct latest {
	struct zipf z;
};
void latest_init(struct latest *l, int64_t last);
int64_t latest_next(struct latest *l, struct rng *r, int64_t last);

enum op {
	OP_READ, OP_UPDATE, OP_INSERT, OP_SCAN, OP_RMW, OP_NTYPES
};
extern const char *const op_names[OP_NTYPES];

/* DiscreteGenerator over the five operations. */
struct opmix {
	double w[OP_NTYPES];
	double sum;
};
void opmix_init(struct opmix *m, const double prop[OP_NTYPES]);
enum op opmix_next(const struct opmix *m, struct rng *r);

enum dist { DIST_ZIPFIAN, DIST_UNIFORM, DIST_LATEST };

/* A thread's key chooser for one run (CoreWorkload's keychooser). */
struct keychooser {
	enum dist dist;
	int64_t records;            /* records when the run began */
	union {
		struct szipf sz;
		struct latest lt;
	} u;
};
void keychooser_init(struct keychooser *k, enum dist d, int64_t records,
                     int64_t expected_inserts);
/* CoreWorkload.nextKeynum: a key below the acked limit; -1 if none
 * was found in a bounded number of draws. */
int64_t keychooser_next(struct keychooser *k, struct rng *r,
                        const struct ackctr *a);

/* ---- props.c ---- */

struct workload {
	char name[16];              /* a..f, load, insert, or a file's name */
	int64_t recordcount, operationcount;
	int threads, fieldcount, fieldlength;
	double prop[OP_NTYPES];
	enum dist dist;
	int minscan, maxscan;
	int batch;                  /* documents per insert (insert phase) */
};

void workload_defaults(struct workload *w);
/* Built-in a..f (YCSB's workloads/workloada..f); -1 if unknown. */
int workload_builtin(struct workload *w, const char *name);
/* One "key=value" (YCSB property names); err gets the reason. */
int workload_set(struct workload *w, const char *kv, char *err, size_t len);
/* A YCSB properties file: key=value lines, # comments. */
int workload_file(struct workload *w, const char *path, char *err,
                  size_t len);
int workload_check(const struct workload *w, char *err, size_t len);

/* ---- hist.c ---- */

/* Latencies in ns; buckets of 1/64..1/128 relative width above 128 ns. */
#define HIST_SUB_BITS 7
#define HIST_BUCKETS ((64 - HIST_SUB_BITS + 2) * (1 << (HIST_SUB_BITS - 1)))
struct hist {
	uint64_t n, sum, max, min;
	uint64_t count[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_add(struct hist *h, uint64_t ns);
void hist_merge(struct hist *dst, const struct hist *src);
/* The value (ns) at quantile q: the middle of its bucket, or max. */
double hist_quantile(const struct hist *h, double q);
int hist_index(uint64_t v);
uint64_t hist_lower(int idx);

#endif /* MOJIM_YCSB_H */
