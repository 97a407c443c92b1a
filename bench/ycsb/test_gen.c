/*
 * test_gen.c: the generators against YCSB's definitions. Frequencies are
 * compared with the analytic distribution over 1e6 draws (1% absolute),
 * the keys with YCSB's own first keys.
 */
#include "ycsb.h"

#include <check.h>
#include "check_run.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DRAWS 1000000
#define N 1000

START_TEST(key_of_insert_0)
{
	char k[32];
	/* YCSB's first keys with insertorder=hashed (Utils.fnvhash64) */
	ck_assert_int_gt(ycsb_key(0, k, sizeof(k)), 0);
	ck_assert_str_eq(k, "user6284781860667377211");
	ycsb_key(1, k, sizeof(k));
	ck_assert_str_eq(k, "user8517097267634966620");
	ycsb_key(999, k, sizeof(k));
	ck_assert_str_eq(k, "user2071219101098386137");
}
END_TEST

/* Share of the `top` most frequent values among counts[0..n). */
static double analytic_top(const double *p, int n, int top);
static double top_share(const long *counts, int n, int top, long total)
{
	double *p = malloc((size_t)n * sizeof(*p));
	for (int i = 0; i < n; i++)
		p[i] = (double)counts[i] / (double)total;
	double share = analytic_top(p, n, top);
	free(p);
	return share;
}

/* Sum of the `top` largest of p[0..n). */
static double analytic_top(const double *p, int n, int top)
{
	double *c = malloc((size_t)n * sizeof(*c)), sum = 0;
	memcpy(c, p, (size_t)n * sizeof(*c));
	for (int t = 0; t < top; t++) {
		int best = t;
		for (int i = t + 1; i < n; i++)
			if (c[i] > c[best])
				best = i;
		double x = c[t];
		c[t] = c[best];
		c[best] = x;
		sum += c[t];
	}
	free(c);
	return sum;
}

START_TEST(zipfian_frequencies)
{
	struct zipf z;
	struct rng r;
	static long counts[N];
	memset(counts, 0, sizeof(counts));
	rng_seed(&r, 7);
	zipf_init(&z, 0, N - 1, 0.99, 0);
	double zetan = zipf_zeta(0, N, 0.99, 0);
	ck_assert(fabs(z.zetan - zetan) < 1e-9);
	for (int i = 0; i < DRAWS; i++) {
		int64_t v = zipf_next(&z, &r, N);
		ck_assert(v >= 0 && v < N);
		counts[v]++;
	}
	/* Items 0 and 1 are exact: P(i) = (1/(i+1)^0.99) / zeta(N) */
	for (int i = 0; i < 2; i++) {
		double got = (double)counts[i] / DRAWS;
		double want = pow(i + 1, -0.99) / zetan;
		ck_assert_msg(fabs(got - want) < 0.01, "item %d: %f vs %f", i,
		              got, want);
	}
	/* Above them Gray's method draws n * (eta*u - eta + 1)^alpha, so
	 * P(item < 10) is the u at which that reaches 10 */
	double u10 = 1 + (pow(10.0 / N, 1 - 0.99) - 1) / z.eta;
	long top10 = 0;
	for (int i = 0; i < 10; i++)
		top10 += counts[i];
	ck_assert_msg(fabs((double)top10 / DRAWS - u10) < 0.01,
	              "top10 %f vs %f", (double)top10 / DRAWS, u10);
}
END_TEST

/* Scrambled: the zipfian over 1e10 ranks, rank i on key fnv(i) % n. The
 * first million ranks are mapped exactly; the rest of the mass (spread
 * by the hash) is shared evenly. */
static void scrambled_analytic(double *p, int n)
{
	const int64_t M = 1000000;
	double head = 0;
	for (int i = 0; i < n; i++)
		p[i] = 0;
	for (int64_t i = 0; i < M; i++) {
		double q = pow((double)(i + 1), -0.99) / SZIPF_ZETAN;
		p[ycsb_fnvhash64(i) % n] += q;
		head += q;
	}
	for (int i = 0; i < n; i++)
		p[i] += (1 - head) / n;
}

START_TEST(scrambled_zipfian_frequencies)
{
	struct szipf s;
	struct rng r;
	static long counts[N + 1];
	static double p[N + 1];
	memset(counts, 0, sizeof(counts));
	rng_seed(&r, 11);
	szipf_init(&s, 0, N); /* workload A's chooser: 1000 records, no inserts */
	for (int i = 0; i < DRAWS; i++) {
		int64_t v = szipf_next(&s, &r);
		ck_assert(v >= 0 && v <= N);
		counts[v]++;
	}
	scrambled_analytic(p, N + 1);
	/* the hot key is fnv(0) % n, with rank 0's share and then some */
	int64_t hotkey = ycsb_fnvhash64(0) % (N + 1);
	double hot = (double)counts[hotkey] / DRAWS;
	ck_assert_msg(fabs(hot - p[hotkey]) < 0.01, "hot %f vs %f", hot,
	              p[hotkey]);
	ck_assert(hot > 0.03);
	double t = top_share(counts, N + 1, 10, DRAWS);
	double want = analytic_top(p, N + 1, 10);
	ck_assert_msg(fabs(t - want) < 0.01, "top10 %f vs %f", t, want);
}
END_TEST

START_TEST(latest_skews_to_newest)
{
	struct ackctr a;
	struct keychooser k;
	struct rng r;
	static long counts[2 * N];
	memset(counts, 0, sizeof(counts));
	rng_seed(&r, 13);
	ck_assert_int_eq(ackctr_init(&a, 0), 0);
	for (int i = 0; i < N; i++) /* the load */
		ck_assert_int_eq(ackctr_ack(&a, ackctr_take(&a)), 0);
	keychooser_init(&k, DIST_LATEST, N, 0);
	for (int i = 0; i < DRAWS; i++) {
		int64_t v = keychooser_next(&k, &r, &a);
		ck_assert(v >= 0 && v < N);
		counts[v]++;
	}
	/* next = last - zipfian(last): the newest key is the hot one */
	double zetan = zipf_zeta(0, N - 1, 0.99, 0);
	double newest = (double)counts[N - 1] / DRAWS;
	ck_assert_msg(fabs(newest - 1 / zetan) < 0.01, "%f", newest);
	double last10 = 0;
	for (int i = N - 10; i < N; i++)
		last10 += (double)counts[i] / DRAWS;
	ck_assert(last10 > 0.3 && counts[0] == 0);
	/* after 100 inserts the skew follows the newest insert */
	for (int i = 0; i < 100; i++)
		ackctr_ack(&a, ackctr_take(&a));
	memset(counts, 0, sizeof(counts));
	for (int i = 0; i < DRAWS; i++)
		counts[keychooser_next(&k, &r, &a)]++;
	ck_assert(counts[N + 99] > counts[N - 1] * 5);
	ck_assert(fabs((double)counts[N + 99] / DRAWS - 1 / zetan) < 0.01);
	ackctr_free(&a);
}
END_TEST

START_TEST(operation_mixes)
{
	const char *names = "abcdef";
	struct rng r;
	rng_seed(&r, 17);
	for (int w = 0; names[w]; w++) {
		struct workload wl;
		struct opmix m;
		long counts[OP_NTYPES] = {0};
		char name[2] = {names[w], 0};
		workload_defaults(&wl);
		ck_assert_int_eq(workload_builtin(&wl, name), 0);
		opmix_init(&m, wl.prop);
		for (int i = 0; i < DRAWS; i++)
			counts[opmix_next(&m, &r)]++;
		for (int o = 0; o < OP_NTYPES; o++)
			ck_assert_msg(fabs((double)counts[o] / DRAWS - wl.prop[o]) <
			              0.01, "workload %s %s: %f vs %f", name,
			              op_names[o], (double)counts[o] / DRAWS,
			              wl.prop[o]);
	}
}
END_TEST

START_TEST(table2_mixes)
{
	/* the paper's Table 2 and YCSB's workload files */
	struct workload w;
	workload_defaults(&w);
	workload_builtin(&w, "e");
	ck_assert(w.prop[OP_SCAN] == 0.95 && w.prop[OP_INSERT] == 0.05);
	ck_assert(w.maxscan == 100 && w.minscan == 1 && w.dist == DIST_ZIPFIAN);
	workload_builtin(&w, "d");
	ck_assert(w.dist == DIST_LATEST && w.prop[OP_READ] == 0.95);
	workload_builtin(&w, "f");
	ck_assert(w.prop[OP_RMW] == 0.5 && w.prop[OP_READ] == 0.5);
	ck_assert(w.fieldcount == 10 && w.fieldlength == 100);
}
END_TEST

START_TEST(scan_length_uniform)
{
	struct rng r;
	long counts[101] = {0};
	rng_seed(&r, 19);
	for (int i = 0; i < DRAWS; i++) {
		int64_t v = rng_range(&r, 1, 100);
		ck_assert(v >= 1 && v <= 100);
		counts[v]++;
	}
	for (int i = 1; i <= 100; i++)
		ck_assert(fabs((double)counts[i] / DRAWS - 0.01) < 0.001);
}
END_TEST

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

START_TEST(histogram_quantiles)
{
	static struct hist h;
	static uint64_t v[100000];
	struct rng r;
	rng_seed(&r, 23);
	hist_init(&h);
	for (int i = 0; i < 100000; i++) { /* 100 ns .. ~100 ms, log-spread */
		v[i] = (uint64_t)(100 * exp(rng_double(&r) * 13.8));
		hist_add(&h, v[i]);
	}
	qsort(v, 100000, sizeof(v[0]), cmp_u64);
	double q[] = {0.5, 0.95, 0.99, 0.999};
	for (int i = 0; i < 4; i++) {
		double want = (double)v[(int)ceil(q[i] * 100000) - 1];
		double got = hist_quantile(&h, q[i]);
		ck_assert_msg(fabs(got - want) / want < 0.01, "q%g %f vs %f",
		              q[i], got, want);
	}
	ck_assert(h.max == v[99999] && h.min == v[0]);
	for (uint64_t x = 1; x < (1ull << 40); x = x * 3 + 1) /* buckets */
		ck_assert(hist_lower(hist_index(x)) <= x);
}
END_TEST

START_TEST(properties)
{
	char path[] = "/tmp/ycsb-props-XXXXXX", err[256];
	int fd = mkstemp(path);
	ck_assert(fd >= 0);
	const char *text = "# workload a\nrecordcount=5000\noperationcount=7\n"
	                   "workload=site.ycsb.workloads.CoreWorkload\n"
	                   "readproportion=0.5\nupdateproportion=0.5\n"
	                   "requestdistribution=zipfian\n";
	ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	struct workload w;
	workload_defaults(&w);
	ck_assert_int_eq(workload_file(&w, path, err, sizeof(err)), 0);
	ck_assert(w.recordcount == 5000 && w.operationcount == 7);
	ck_assert(w.dist == DIST_ZIPFIAN && w.prop[OP_UPDATE] == 0.5);
	ck_assert_int_ne(workload_set(&w, "bogus=1", err, sizeof(err)), 0);
	ck_assert(strstr(err, "unknown property"));
	ck_assert_int_ne(workload_set(&w, "fieldcount=x", err, sizeof(err)), 0);
	ck_assert_int_ne(workload_set(&w, "insertorder=ordered", err,
	                              sizeof(err)), 0);
	ck_assert(strstr(err, "supports only insertorder=hashed"));
	unlink(path);
}
END_TEST

START_TEST(ack_out_of_order)
{
	struct ackctr a;
	ck_assert_int_eq(ackctr_init(&a, 10), 0);
	int64_t k0 = ackctr_take(&a), k1 = ackctr_take(&a);
	ck_assert_int_eq(ackctr_ack(&a, k1), 0);
	ck_assert_int_eq(atomic_load(&a.limit), 9); /* 10 still pending */
	ck_assert_int_eq(ackctr_ack(&a, k0), 0);
	ck_assert_int_eq(atomic_load(&a.limit), 11);
	ackctr_free(&a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ycsb_gen");
	TCase *tc = tcase_create("gen");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, key_of_insert_0);
	tcase_add_test(tc, zipfian_frequencies);
	tcase_add_test(tc, scrambled_zipfian_frequencies);
	tcase_add_test(tc, latest_skews_to_newest);
	tcase_add_test(tc, operation_mixes);
	tcase_add_test(tc, table2_mixes);
	tcase_add_test(tc, scan_length_uniform);
	tcase_add_test(tc, histogram_quantiles);
	tcase_add_test(tc, properties);
	tcase_add_test(tc, ack_out_of_order);
	suite_add_tcase(s, tc);
	return check_run(s);
}
