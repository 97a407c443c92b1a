/*
 * main.c: mojim-docd's options, start and stop.
 *
 *   mojim-docd --dbpath DIR [--port 27017] [--bind 127.0.0.1]
 *              [--mode unreplicated|sync|syncflush|async] [--mirror H:P]
 *              [--mojim-config K=V,...] [--journal-commit-interval MS]
 *              [--syncdelay S] [--max-conns N] [--cache-size SIZE]
 *              [--engine PATH]
 *
 * SIGTERM and SIGINT stop it cleanly: connections cut, WiredTiger closed
 * (a last checkpoint). Exit 0, 1 on a failure at start or while serving,
 * 2 for bad options.
 */
#include "docd.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef MOJIM_WT_EXT
#define MOJIM_WT_EXT "libmojim_wt.so"
#endif

static volatile int stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
	"usage: mojim-docd --dbpath DIR [options]\n"
	"A MongoDB-compatible document server (wire protocol, OP_MSG) on\n"
	"WiredTiger with the mojim extension. There is NO client\n"
	"authentication and no TLS yet: keep --bind on a trusted address.\n"
	"  --dbpath DIR                 the WiredTiger home (made if missing)\n"
	"  --port N                     TCP port (default 27017; 0: any, said\n"
	"                               on stderr)\n"
	"  --bind ADDR                  address to listen on (default 127.0.0.1)\n"
	"  --mode M                     mojim mode: unreplicated (no mirror;\n"
	"                               the default without --mirror), sync\n"
	"                               (the default with one), syncflush, async\n"
	"  --mirror HOST:PORT           the mirror (mojim-mirror) to replicate to\n"
	"  --mojim-config K=V,...       more extension keys (README \"The\n"
	"                               WiredTiger extension\"), e.g.\n"
	"                               policy=block,block_timeout_ms=5000\n"
	"  --journal-commit-interval MS log made durable every MS ms and at\n"
	"                               once for a j:true write (1-500, 100)\n"
	"  --syncdelay S                checkpoint every S seconds (1-3600, 60)\n"
	"  --max-conns N                connections served at once (1-%d, %d)\n"
	"  --cache-size SIZE            WiredTiger cache_size (default 512MB)\n"
	"  --engine PATH                libmojim_wt.so (default: this build's)\n"
	"Write concern: j:true, w:\"majority\" and w:2 reply after the log is\n"
	"durable (mirror-acknowledged in sync modes); w:1 (the default) after\n"
	"the commit, durable within the interval.\n",
	DOCD_CONNS_MAX, DOCD_CONNS_DEFAULT);
}

static int int_arg(const char *opt, const char *arg, int lo, int hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < lo || v > hi) {
		fprintf(stderr, "mojim-docd: %s: %s is not a number in %d..%d\n",
		        opt, arg, lo, hi);
		return -1;
	}
	*out = (int)v;
	return 0;
}

enum { O_DBPATH = 1, O_PORT, O_BIND, O_MODE, O_MIRROR, O_MOJIM, O_JOURNAL,
       O_SYNCDELAY, O_CONNS, O_CACHE, O_ENGINE, O_HELP };

static int parse_args(int argc, char **argv, struct docd_config *c)
{
	static const struct option opts[] = {
		{"dbpath", 1, 0, O_DBPATH}, {"port", 1, 0, O_PORT},
		{"bind", 1, 0, O_BIND}, {"bind_ip", 1, 0, O_BIND},
		{"mode", 1, 0, O_MODE}, {"mirror", 1, 0, O_MIRROR},
		{"mojim-config", 1, 0, O_MOJIM},
		{"journal-commit-interval", 1, 0, O_JOURNAL},
		{"syncdelay", 1, 0, O_SYNCDELAY}, {"max-conns", 1, 0, O_CONNS},
		{"cache-size", 1, 0, O_CACHE}, {"engine", 1, 0, O_ENGINE},
		{"help", 0, 0, O_HELP}, {0, 0, 0, 0},
	};
	*c = (struct docd_config){.bind = "127.0.0.1", .port = 27017,
	                          .max_conns = DOCD_CONNS_DEFAULT,
	                          .engine = MOJIM_WT_EXT, .cache = "512MB",
	                          .journal_ms = 100, .syncdelay_s = 60,
	                          .argc = argc, .argv = argv};
	int o, rc = 0;
	while (!rc && (o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case O_DBPATH: c->dbpath = optarg; break;
		case O_PORT: rc = int_arg("--port", optarg, 0, 65535, &c->port); break;
		case O_BIND: c->bind = optarg; break;
		case O_MODE: c->mode = optarg; break;
		case O_MIRROR: c->mirror = optarg; break;
		case O_MOJIM: c->mojim_config = optarg; break;
		case O_JOURNAL:
			rc = int_arg("--journal-commit-interval", optarg, 1, 500,
			             &c->journal_ms);
			break;
		case O_SYNCDELAY:
			rc = int_arg("--syncdelay", optarg, 1, 3600, &c->syncdelay_s);
			break;
		case O_CONNS:
			rc = int_arg("--max-conns", optarg, 1, DOCD_CONNS_MAX,
			             &c->max_conns);
			break;
		case O_CACHE: c->cache = optarg; break;
		case O_ENGINE: c->engine = optarg; break;
		case O_HELP: usage(stdout); exit(0);
		default: rc = -1;
		}
	}
	if (rc)
		return -1;
	if (optind < argc || !c->dbpath) {
		fprintf(stderr, "mojim-docd: %s (see --help)\n", optind < argc ?
		        "unexpected arguments" : "--dbpath is required");
		return -1;
	}
	if (!c->mode)
		c->mode = c->mirror ? "sync" : "unreplicated";
	int unrep = !strcmp(c->mode, "unreplicated");
	if (!unrep && strcmp(c->mode, "sync") && strcmp(c->mode, "syncflush") &&
	    strcmp(c->mode, "async")) {
		fprintf(stderr, "mojim-docd: --mode %s: unknown (unreplicated, "
		        "sync, syncflush or async)\n", c->mode);
		return -1;
	}
	if (!unrep && !c->mirror) {
		fprintf(stderr, "mojim-docd: --mode %s needs --mirror HOST:PORT\n",
		        c->mode);
		return -1;
	}
	if (strchr(c->engine, ',') || strchr(c->engine, ']') ||
	    (c->mojim_config && (strchr(c->mojim_config, '}') ||
	                         strchr(c->mojim_config, ']')))) {
		fprintf(stderr, "mojim-docd: --engine and --mojim-config may not "
		        "hold ',' ']' or '}' of WiredTiger's syntax\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct docd d;
	char err[512];
	if (parse_args(argc, argv, &d.cfg))
		return 2;
	if (mkdir(d.cfg.dbpath, 0700) && errno != EEXIST) {
		fprintf(stderr, "mojim-docd: --dbpath %s: %s\n", d.cfg.dbpath,
		        strerror(errno));
		return 1;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	d.start_ns = docd_now_ns();
	if (engine_open(&d, err, sizeof(err))) {
		fprintf(stderr, "mojim-docd: %s\n", err);
		engine_close(&d);
		return 1;
	}
	int rc = server_run(&d, &stop_flag, err, sizeof(err));
	if (rc)
		fprintf(stderr, "mojim-docd: %s\n", err);
	engine_close(&d);
	fprintf(stderr, "mojim-docd: stopped\n");
	return rc ? 1 : 0;
}
