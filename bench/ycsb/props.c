/*
 * props.c: workload parameters, by YCSB's property names. The built-in
 * a..f are YCSB's workloads/workloada..f; a properties file or -p
 * key=value overrides them. A key YCSB knows but this program does not
 * implement is accepted only with the value it implements, so a file
 * never silently asks for something else than what runs.
 */
#include "ycsb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void workload_defaults(struct workload *w)
{
	/* CoreWorkload's defaults */
	memset(w, 0, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "custom");
	w->recordcount = 1000;
	w->operationcount = 1000;
	w->threads = 1;
	w->fieldcount = 10;
	w->fieldlength = 100;
	w->prop[OP_READ] = 0.95;
	w->prop[OP_UPDATE] = 0.05;
	w->dist = DIST_UNIFORM;
	w->minscan = 1;
	w->maxscan = 1000;
	w->batch = 1;
}

struct builtin {
	const char *name;
	double read, update, insert, scan, rmw;
	enum dist dist;
	int maxscan;
};

static const struct builtin builtins[] = {
	{"a", 0.5, 0.5, 0, 0, 0, DIST_ZIPFIAN, 1000},   /* update heavy */
	{"b", 0.95, 0.05, 0, 0, 0, DIST_ZIPFIAN, 1000}, /* read mostly */
	{"c", 1, 0, 0, 0, 0, DIST_ZIPFIAN, 1000},       /* read only */
	{"d", 0.95, 0, 0.05, 0, 0, DIST_LATEST, 1000},  /* read latest */
	{"e", 0, 0, 0.05, 0.95, 0, DIST_ZIPFIAN, 100},  /* short ranges */
	{"f", 0.5, 0, 0, 0, 0.5, DIST_ZIPFIAN, 1000},   /* read-modify-write */
};

int workload_builtin(struct workload *w, const char *name)
{
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
		const struct builtin *b = &builtins[i];
		if (strcmp(b->name, name))
			continue;
		snprintf(w->name, sizeof(w->name), "%s", name);
		w->prop[OP_READ] = b->read;
		w->prop[OP_UPDATE] = b->update;
		w->prop[OP_INSERT] = b->insert;
		w->prop[OP_SCAN] = b->scan;
		w->prop[OP_RMW] = b->rmw;
		w->dist = b->dist;
		w->maxscan = b->maxscan;
		return 0;
	}
	return -1;
}

static int parse_i64(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (errno || end == v || *end || x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

static int parse_prop(const char *v, double *out)
{
	char *end;
	double x = strtod(v, &end);
	if (end == v || *end || !(x >= 0 && x <= 1))
		return -1;
	*out = x;
	return 0;
}

/* Keys YCSB knows whose only value here is the one implemented. */
static const char *const fixed[][2] = {
	{"workload", "site.ycsb.workloads.CoreWorkload"},
	{"readallfields", "true"},
	{"writeallfields", "false"},
	{"insertorder", "hashed"},
	{"scanlengthdistribution", "uniform"},
	{"fieldlengthdistribution", "constant"},
	{"zeropadding", "1"},
	{"insertstart", "0"},
	{"table", "usertable"},
};

static int set_int(struct workload *w, const char *k, const char *v)
{
	int64_t x;
	if (!strcmp(k, "recordcount") || !strcmp(k, "operationcount")) {
		if (parse_i64(v, 1, 1000000000, &x))
			return -1;
		*(k[0] == 'r' ? &w->recordcount : &w->operationcount) = x;
	} else if (!strcmp(k, "threadcount") || !strcmp(k, "threads")) {
		if (parse_i64(v, 1, 64, &x))
			return -1;
		w->threads = (int)x;
	} else if (!strcmp(k, "fieldcount")) {
		if (parse_i64(v, 1, 100, &x))
			return -1;
		w->fieldcount = (int)x;
	} else if (!strcmp(k, "fieldlength")) {
		if (parse_i64(v, 40, 100000, &x)) /* room for the header */
			return -1;
		w->fieldlength = (int)x;
	} else if (!strcmp(k, "minscanlength") || !strcmp(k, "maxscanlength")) {
		if (parse_i64(v, 1, 100000, &x))
			return -1;
		*(k[1] == 'i' ? &w->minscan : &w->maxscan) = (int)x;
	} else if (!strcmp(k, "insertbatch")) {
		if (parse_i64(v, 1, 1000, &x))
			return -1;
		w->batch = (int)x;
	} else {
		return -2;
	}
	return 0;
}

static const char *const prop_keys[OP_NTYPES] = {
	"readproportion", "updateproportion", "insertproportion",
	"scanproportion", "readmodifywriteproportion"
};

static int set_other(struct workload *w, const char *k, const char *v)
{
	for (int i = 0; i < OP_NTYPES; i++)
		if (!strcmp(k, prop_keys[i]))
			return parse_prop(v, &w->prop[i]);
	if (!strcmp(k, "requestdistribution")) {
		if (!strcmp(v, "zipfian"))
			w->dist = DIST_ZIPFIAN;
		else if (!strcmp(v, "uniform"))
			w->dist = DIST_UNIFORM;
		else if (!strcmp(v, "latest"))
			w->dist = DIST_LATEST;
		else
			return -1;
		return 0;
	}
	return -2;
}

/* A YCSB property mojim-ycsb runs at one value only: NULL if k is not
 * one of them, else the value it runs. */
static const char *fixed_value(const char *k)
{
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (!strcmp(k, fixed[i][0]))
			return fixed[i][1];
	return NULL;
}

int workload_set(struct workload *w, const char *kv, char *err, size_t len)
{
	char k[64];
	const char *eq = strchr(kv, '=');
	size_t kl = eq ? (size_t)(eq - kv) : 0;
	if (!eq || kl == 0 || kl >= sizeof(k)) {
		snprintf(err, len, "\"%s\" is not key=value", kv);
		return -1;
	}
	memcpy(k, kv, kl);
	k[kl] = '\0';
	const char *v = eq + 1;
	const char *only = fixed_value(k);
	if (only) {
		if (!strcmp(v, only))
			return 0;
		snprintf(err, len, "%s=%s: mojim-ycsb supports only %s=%s, the "
		         "core workload's setting", k, v, k, only);
		return -1;
	}
	int rc = set_int(w, k, v);
	if (rc == -2)
		rc = set_other(w, k, v);
	if (rc == -2)
		snprintf(err, len, "unknown property \"%s\"", k);
	else if (rc)
		snprintf(err, len, "bad value \"%s\" for %s", v, k);
	return rc ? -1 : 0;
}

/* Trims spaces at both ends of s in place. */
static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
	return s;
}

int workload_file(struct workload *w, const char *path, char *err,
                  size_t len)
{
	char line[1024], e[256];
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	int rc = 0;
	for (int no = 1; !rc && fgets(line, sizeof(line), f); no++) {
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		if ((rc = workload_set(w, s, e, sizeof(e))) != 0)
			snprintf(err, len, "%s:%d: %s", path, no, e);
	}
	fclose(f);
	return rc;
}

int workload_check(const struct workload *w, char *err, size_t len)
{
	double sum = 0;
	for (int i = 0; i < OP_NTYPES; i++)
		sum += w->prop[i];
	if (sum <= 0) {
		snprintf(err, len, "every operation proportion is 0");
		return -1;
	}
	if (w->minscan > w->maxscan) {
		snprintf(err, len, "minscanlength > maxscanlength");
		return -1;
	}
	if (w->dist == DIST_LATEST && w->recordcount < 2) {
		snprintf(err, len, "latest needs recordcount >= 2");
		return -1;
	}
	return 0;
}
