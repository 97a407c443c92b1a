/*
 * mojim-mirror: the mirror log service of Mojim (ASPLOS'15, sections 3-4).
 *
 * The primary ships every sync point as one atomic batch (repl/include/
 * mojim_wire.h) over up to 64 TCP connections. The mirror appends each
 * batch to the log ring of its connection in persistent memory, persists
 * it, and only then acks; later a checkpointer applies whole batches, in
 * global sequence order, to the replica directory.
 *
 * Threads
 *   main          arguments, replay at start, accept loop, shutdown
 *   receiver      one per connection (listener.c, conn.h): HELLO, then
 *                 frames read straight into the ring, checked, persisted,
 *                 acked (ingest.c; a full copy's frames: copy_recv.c)
 *   checkpointer  one (checkpoint.c): applies complete batches to the
 *                 replica (replica.c), persists applied_seq, frees the ring
 *   control       one (control.c): answers mojimctl on DIR/control.sock
 *   forwarder     one per --backup (forward.c)
 *   metrics       with --metrics: libmicrohttpd's polling thread
 *                 (metrics.c), answering GET /metrics
 *
 * Files under DIR
 *   state         epoch and applied_seq (state.c), pmem
 *   log/ring-K    the log of connection index K (ring.c), pmem, created
 *                 on first use, --log-size bytes
 *   data/         the replica directory (or --data-dir)
 *   control.sock  the status socket
 *
 * Crash safety: a frame's bytes are persisted before its commit mark, the
 * replica's effects before applied_seq, applied_seq before the ring head
 * moves. So after a SIGKILL the next start replays from each ring's head,
 * drops what was torn or incomplete, and redoes the interrupted batch
 * (records are idempotent in order).
 */
#include "metrics.h"
#include "mirror.h"
#include "util.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static volatile int stop_flag;
static struct metrics *metrics; /* --metrics: bound before DIR is touched */

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
"usage: mojim-mirror --listen ADDR:PORT --dir DIR [options]\n"
"\n"
"The mirror of a mojim primary: logs every batch in persistent memory,\n"
"acks it, and applies whole batches to a replica directory.\n"
"\n"
"  --listen ADDR:PORT        address to accept primaries on (port 0: any)\n"
"  --dir DIR                 state, log rings (DIR/log), control socket;\n"
"                            created if missing\n"
"  --data-dir DIR2           replica directory (default DIR/data)\n"
"  --data-on-disk            the replica directory is on an ordinary file\n"
"                            system: pwrite + fdatasync (mode syncdisk);\n"
"                            default: pmem mappings\n"
"  --log-size BYTES          size of each ring file, a multiple of 4K\n"
"                            (default 64M)\n"
"  --slot-size BYTES         largest frame accepted (default 4M; at least\n"
"                            64K, at most min(64M, log-size/4))\n"
"  --checkpoint-thresh N     checkpoint after N logged batches (default 1)\n"
"  --checkpoint-idle-ms MS   checkpoint after MS without batches (default 10)\n"
"  --heartbeat-timeout-ms MS close a connection silent this long\n"
"                            (default 5000)\n"
"  --spin-us US              busy-poll a connection this long before\n"
"                            sleeping (default 0: on 2 vCPUs a spinner\n"
"                            takes the core the other side needs; 0 = never)\n"
"  --max-file-size BYTES     the largest file a batch may ask for: a batch\n"
"                            whose SETSIZE or WRITE goes beyond it is refused\n"
"                            as a bad frame before it is logged or acked\n"
"                            (default: the size of the replica directory's\n"
"                            file system, at most 16T). Without a bound one\n"
"                            batch could ask for files no disk holds and\n"
"                            for mappings larger than the address space\n"
"  --keyfile FILE            the cluster key (base64 text, mode 0600, as\n"
"                            MongoDB's keyFile; make one with\n"
"                            head -c 32 /dev/urandom | base64): a primary\n"
"                            must prove it holds the same key before\n"
"                            anything is changed for it, and this mirror\n"
"                            proves it back; without it, keyed primaries\n"
"                            are refused\n"
"  --transport tcp|rdma      how primaries (a backup: the mirror) reach\n"
"                            this node (default tcp); rdma: librdmacm on the\n"
"                            RDMA device that has the --listen address\n"
"  --backup-transport tcp|rdma  how this mirror dials its --backup nodes\n"
"                            (default tcp)\n"
"  --tls                     every peer speaks TLS (1.2 or later) and shows\n"
"                            a certificate signed by --tls-ca; plaintext\n"
"                            peers are refused (status: tls_refused)\n"
"  --tls-cert FILE           this mirror's PEM certificate (chain)\n"
"  --tls-key FILE            its PEM private key (mode 0600 or tighter)\n"
"  --tls-ca FILE             the PEM CA that signs the primaries'\n"
"                            certificates\n"
"  --role mirror|backup      backup: this node is fed by a mirror's\n"
"                            forwarder (its --backup), never by a primary\n"
"                            (default mirror)\n"
"  --backup ADDR:PORT        a backup to forward every batch to, in the\n"
"                            background, in sequence order (repeatable, at\n"
"                            most 8); its log space is freed once every\n"
"                            live backup acknowledged it\n"
"  --backup-timeout-ms MS    a backup not acknowledging this long is lost:\n"
"                            it holds nothing any more (default 2000; keep\n"
"                            it below the primaries' ack timeout, 3000 by\n"
"                            default, which a full log makes them wait)\n"
"  --secondary-thresh BYTES  while the backups lag more than this (the\n"
"                            log's fill while a backup is its slowest\n"
"                            reader), acks wait: the paper's stall, which\n"
"                            bounds what losing primary and mirror together\n"
"                            can cost (default 40M; 0: no bound)\n"
"  --chain                   acknowledge a batch only once every live\n"
"                            backup has it (the paper's E-chain: three\n"
"                            strongly consistent copies, a second round\n"
"                            trip per batch); a backup lost after\n"
"                            --backup-timeout-ms stops being waited for\n"
"  --metrics ADDR:PORT       serve Prometheus metrics (text format 0.0.4)\n"
"                            at http://ADDR:PORT/metrics: every figure of\n"
"                            mojimctl status, each backup's with a backup\n"
"                            label (default off; port 0: any, logged as\n"
"                            \"metrics on ...\"). At most 16 connections,\n"
"                            each closed after 5 s idle; the address is\n"
"                            bound at start, before DIR is touched\n"
"  --replay-only             replay the logs into the replica, then exit\n"
"                            (non-zero if a batch cannot be applied)\n"
"  --quiet                   log only errors\n"
"  --help                    this text\n"
"\n"
"Sizes take a K, M or G suffix (powers of 1024). Exit codes: 0 ok,\n"
"1 runtime error, 2 bad arguments.\n"
"\n"
"DIR is locked (DIR/lock) for the life of the process: a second mirror,\n"
"a --replay-only run or an offline mojimctl promote on it is refused.\n"
"\n"
"A batch that is logged but cannot be applied (the replica's file system\n"
"is full, an I/O error) stays in the log and makes the replica UNHEALTHY\n"
"(mojimctl status: health): primaries are refused (REFUSE unhealthy,\n"
"naming the batch and the error) and the batch is retried every 2 s, and\n"
"at every start, until it applies. A batch that cannot be made durable in\n"
"the log is never acknowledged.\n");
}

static int bad_arg(const char *opt, const char *why)
{
	fprintf(stderr, "mojim-mirror: %s: %s (see --help)\n", opt, why);
	return 2;
}

enum { O_LISTEN = 256, O_DIR, O_DATA_DIR, O_DISK, O_LOG, O_SLOT, O_THRESH,
       O_IDLE, O_HB, O_SPIN, O_REPLAY, O_QUIET, O_HELP, O_MAXFILE,
       O_KEYFILE, O_TRANSPORT, O_BACKUP_TRANSPORT, O_TLS, O_TLS_CERT, O_TLS_KEY, O_TLS_CA,
       O_ROLE, O_BACKUP, O_BACKUP_TIMEOUT, O_SECONDARY_THRESH, O_CHAIN,
       O_METRICS };

static const struct option options[] = {
	{"listen", required_argument, NULL, O_LISTEN},
	{"dir", required_argument, NULL, O_DIR},
	{"data-dir", required_argument, NULL, O_DATA_DIR},
	{"data-on-disk", no_argument, NULL, O_DISK},
	{"log-size", required_argument, NULL, O_LOG},
	{"slot-size", required_argument, NULL, O_SLOT},
	{"checkpoint-thresh", required_argument, NULL, O_THRESH},
	{"checkpoint-idle-ms", required_argument, NULL, O_IDLE},
	{"heartbeat-timeout-ms", required_argument, NULL, O_HB},
	{"spin-us", required_argument, NULL, O_SPIN},
	{"replay-only", no_argument, NULL, O_REPLAY},
	{"quiet", no_argument, NULL, O_QUIET},
	{"help", no_argument, NULL, O_HELP},
	{"max-file-size", required_argument, NULL, O_MAXFILE},
	{"keyfile", required_argument, NULL, O_KEYFILE},
	{"transport", required_argument, NULL, O_TRANSPORT},
	{"backup-transport", required_argument, NULL, O_BACKUP_TRANSPORT},
	{"tls", no_argument, NULL, O_TLS},
	{"tls-cert", required_argument, NULL, O_TLS_CERT},
	{"tls-key", required_argument, NULL, O_TLS_KEY},
	{"tls-ca", required_argument, NULL, O_TLS_CA},
	{"role", required_argument, NULL, O_ROLE},
	{"backup", required_argument, NULL, O_BACKUP},
	{"backup-timeout-ms", required_argument, NULL, O_BACKUP_TIMEOUT},
	{"secondary-thresh", required_argument, NULL, O_SECONDARY_THRESH},
	{"chain", no_argument, NULL, O_CHAIN},
	{"metrics", required_argument, NULL, O_METRICS},
	{NULL, 0, NULL, 0},
};

/* One option with a numeric argument; returns 0 or 2. */
static int number_arg(int opt, const char *arg, struct mirror_cfg *c)
{
	const char *name = options[opt - O_LISTEN].name;
	char flag[64];
	snprintf(flag, sizeof(flag), "--%s", name);
	switch (opt) {
	case O_LOG:
		return parse_size(arg, &c->log_size) ? bad_arg(flag, "not a size") : 0;
	case O_SLOT:
		return parse_size(arg, &c->slot_size) ? bad_arg(flag, "not a size") : 0;
	case O_THRESH:
		if (parse_uint(arg, 1u << 30, &c->ckpt_thresh) || !c->ckpt_thresh)
			return bad_arg(flag, "must be a number >= 1");
		return 0;
	case O_IDLE:
		return parse_uint(arg, 3600000, &c->ckpt_idle_ms) ?
		       bad_arg(flag, "must be a number of ms (<= 3600000)") : 0;
	case O_HB:
		if (parse_uint(arg, 3600000, &c->hb_timeout_ms) || !c->hb_timeout_ms)
			return bad_arg(flag, "must be a number of ms, 1..3600000");
		return 0;
	case O_SPIN:
		return parse_uint(arg, 1000000, &c->spin_us) ?
		       bad_arg(flag, "must be a number of us (<= 1000000)") : 0;
	case O_BACKUP_TIMEOUT:
		if (parse_uint(arg, 3600000, &c->backup_timeout_ms) ||
		    c->backup_timeout_ms < 100)
			return bad_arg(flag, "must be a number of ms, 100..3600000");
		return 0;
	case O_SECONDARY_THRESH:
		return parse_size(arg, &c->secondary_thresh) ?
		       bad_arg(flag, "not a size (0: no bound)") : 0;
	case O_MAXFILE:
		if (parse_size(arg, &c->max_file_size) || !c->max_file_size ||
		    c->max_file_size > MJW_FILE_MAX)
			return bad_arg(flag, "must be a size, 1..16384G (16T)");
		return 0;
	}
	return 0;
}

/* --tls wants its three files; the files want --tls. */
static int check_tls_args(const struct mirror_cfg *c)
{
	const struct mjl_tls_config *f = &c->tls_files;
	int any = f->cert || f->key || f->ca;
	if (c->tls && !(f->cert && f->key && f->ca))
		return bad_arg("--tls", "needs --tls-cert, --tls-key and --tls-ca");
	if (!c->tls && any)
		return bad_arg(f->cert ? "--tls-cert" : f->key ? "--tls-key" :
		               "--tls-ca", "given without --tls");
	/* TLS runs over a TCP socket; an RDMA link has the key's proof. */
	if (c->tls && c->transport && strcmp(c->transport, "tcp"))
		return bad_arg("--tls", "runs over TCP only, not --transport rdma");
	if (c->tls && c->nbackups && c->backup_transport &&
	    strcmp(c->backup_transport, "tcp"))
		return bad_arg("--tls", "runs over TCP only, not "
		               "--backup-transport rdma");
	return 0;
}

/* An ADDR:PORT option's argument; returns 0 or 2. */
static int check_addr(const char *opt, const char *addr)
{
	struct sockaddr_storage ss;
	unsigned len;
	const char *why;
	return mjl_parse_addr(addr, &ss, &len, &why) ? bad_arg(opt, why) : 0;
}

static int check_cfg(const struct mirror_cfg *c)
{
	if (!c->dir)
		return bad_arg("--dir", "required");
	if (!c->listen && !c->replay_only)
		return bad_arg("--listen", "required");
	if (c->listen && check_addr("--listen", c->listen))
		return 2;
	if (c->log_size % 4096 || c->log_size < 16 * 4096)
		return bad_arg("--log-size", "must be a multiple of 4K, at least 64K");
	uint64_t max = c->log_size / 4 < MJW_FRAME_MAX ? c->log_size / 4
	                                               : MJW_FRAME_MAX;
	if (c->slot_size < MJW_FRAME_MIN_SLOT || c->slot_size > max) {
		char why[160];
		snprintf(why, sizeof(why), "must be between %llu and %llu "
		         "(min(64M, log-size/4))",
		         (unsigned long long)MJW_FRAME_MIN_SLOT,
		         (unsigned long long)max);
		fprintf(stderr, "mojim-mirror: --slot-size: %s (see --help)\n", why);
		return 2;
	}
	if (c->slot_size % 8)
		return bad_arg("--slot-size", "must be a multiple of 8");
	for (int i = 0; i < c->nbackups; i++)
		if (check_addr("--backup", c->backups[i]))
			return 2;
	if (c->role_backup && c->nbackups)
		return bad_arg("--backup", "a backup feeds no backups of its own");
	if (c->chain && !c->nbackups)
		return bad_arg("--chain", "needs at least one --backup");
	if (c->metrics && check_addr("--metrics", c->metrics))
		return 2;
	if (c->metrics && c->replay_only)
		return bad_arg("--metrics", "nothing is served with --replay-only");
	return check_tls_args(c);
}

static int parse_args(int argc, char **argv, struct mirror_cfg *c)
{
	*c = (struct mirror_cfg){
		.log_size = 64ull << 20, .slot_size = 4ull << 20,
		.ckpt_thresh = 1, .ckpt_idle_ms = 10, .hb_timeout_ms = 5000,
		.spin_us = 0, .backup_timeout_ms = 2000,
		.secondary_thresh = 40ull << 20,
	};
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case O_LISTEN: c->listen = optarg; break;
		case O_DIR: c->dir = optarg; break;
		case O_DATA_DIR: c->data_dir = optarg; break;
		case O_DISK: c->data_on_disk = 1; break;
		case O_REPLAY: c->replay_only = 1; break;
		case O_KEYFILE: c->keyfile = optarg; break;
		case O_TLS: c->tls = 1; break;
		case O_TLS_CERT: c->tls_files.cert = optarg; break;
		case O_TLS_KEY: c->tls_files.key = optarg; break;
		case O_TLS_CA: c->tls_files.ca = optarg; break;
		case O_CHAIN: c->chain = 1; break;
		case O_METRICS: c->metrics = optarg; break;
		case O_ROLE:
			if (strcmp(optarg, "mirror") && strcmp(optarg, "backup"))
				return bad_arg("--role", "mirror or backup");
			c->role_backup = strcmp(optarg, "backup") == 0;
			break;
		case O_BACKUP:
			if (c->nbackups == MIRROR_MAX_BACKUPS)
				return bad_arg("--backup", "at most 8");
			c->backups[c->nbackups++] = optarg;
			break;
		case O_TRANSPORT:
		case O_BACKUP_TRANSPORT:
			if (!mjl_transport_find(optarg))
				return bad_arg(opt == O_TRANSPORT ? "--transport"
				               : "--backup-transport",
				               mjl_transport_unknown(optarg));
			*(opt == O_TRANSPORT ? &c->transport
			                     : &c->backup_transport) = optarg;
			break;
		case O_QUIET: c->quiet = 1; break;
		case O_HELP: usage(stdout); exit(0);
		case '?':
			return bad_arg(argv[optind - 1],
			               "unknown option or missing argument");
		default:
			if (number_arg(opt, optarg, c))
				return 2;
		}
	}
	if (optind < argc)
		return bad_arg(argv[optind], "unexpected argument");
	return check_cfg(c);
}

static void setup_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Threads started from here on leave SIGTERM/SIGINT to the main thread,
 * whose poll() they interrupt. */
static void block_signals(int block)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGINT);
	pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &s, NULL);
}

static int fail(struct mirror *m, const char *what, const char *why, int rc)
{
	mlog("%s: %s (%s)", what, why, strerror(-rc));
	metrics_close(metrics);
	metrics = NULL;
	control_stop(m);
	mirror_close(m);
	return 1;
}

static int serve(struct mirror *m)
{
	const char *why = "";
	int rc = listener_open(m, &why);
	if (rc)
		return fail(m, m->cfg.listen, why, rc);
	block_signals(1);
	rc = control_start(m, &why);
	if (!rc)
		rc = ckpt_start(m);
	if (!rc)
		rc = forward_start(m, &why);
	if (!rc && metrics) /* last: it shows a mirror that is ready */
		rc = metrics_start(metrics, m, &why);
	block_signals(0);
	if (rc) {
		/* Threads already started end before anything is freed. */
		metrics_close(metrics);
		metrics = NULL;
		pthread_mutex_lock(&m->lock);
		m->stopping = 1;
		pthread_cond_broadcast(&m->forward_cond);
		pthread_mutex_unlock(&m->lock);
		forward_stop(m);
		ckpt_stop(m);
		return fail(m, m->cfg.dir, why, rc);
	}
	if (metrics)
		mlog("metrics on http://%s/metrics", metrics_addr(metrics));
	mlog("listening on %s dir %s applied_seq %llu%s", m->listen_addr,
	     m->cfg.dir, (unsigned long long)m->applied_seq,
	     m->cfg.role_backup ? " (a backup)" : "");
	listener_run(m, &stop_flag);
	/* The reverse of the start: the first reader of the figures stops
	 * first. */
	metrics_close(metrics);
	metrics = NULL;
	forward_stop(m);
	ckpt_stop(m);
	control_stop(m);
	minfo("stopped, applied_seq %llu", (unsigned long long)m->applied_seq);
	mirror_close(m);
	return 0;
}

int main(int argc, char **argv)
{
	static struct mirror m;
	struct mirror_cfg cfg;
	const char *why = "";
	int rc = parse_args(argc, argv, &cfg);
	if (rc)
		return rc;
	mirror_quiet = cfg.quiet;
	static struct mjl_key key; /* loaded before DIR is touched */
	struct mjl_tls *tls = NULL;
	char err[600];
	if (cfg.keyfile && mjl_key_load(cfg.keyfile, &key, err, sizeof(err))) {
		fprintf(stderr, "mojim-mirror: --keyfile: %s\n", err);
		return 2;
	}
	if (cfg.tls && mjl_tls_open(&cfg.tls_files, 1, &tls, err, sizeof(err))) {
		fprintf(stderr, "mojim-mirror: --tls: %s\n", err);
		return 2;
	}
	struct mjl_tls *ftls = NULL; /* the same certificates, to dial backups */
	if (cfg.tls && cfg.nbackups &&
	    mjl_tls_open(&cfg.tls_files, 0, &ftls, err, sizeof(err))) {
		fprintf(stderr, "mojim-mirror: --tls (for --backup): %s\n", err);
		mjl_tls_free(tls);
		return 2;
	}
	/* A port that cannot be bound is a bad argument, found before DIR is
	 * touched, like a bad key file. */
	if (cfg.metrics && (rc = metrics_open(cfg.metrics, &metrics, &why))) {
		fprintf(stderr, "mojim-mirror: --metrics %s: %s (%s)\n",
		        cfg.metrics, why, strerror(-rc));
		mjl_tls_free(tls);
		mjl_tls_free(ftls);
		return 2;
	}
	setup_signals();
	rc = mirror_open(&m, &cfg, &why);
	if (rc)
		return fail(&m, cfg.dir, why, rc);
	m.key = key;
	explicit_bzero(&key, sizeof(key));
	m.transport = tls ? &mjl_tls : mjl_transport_find(cfg.transport);
	m.forward_transport = ftls ? &mjl_tls
	                           : mjl_transport_find(cfg.backup_transport);
	m.transport_ctx = tls;
	m.forward_tls = ftls;
	if (m.promoted) {
		mlog("%s was promoted (epoch %llu): its data directory belongs to "
		     "a primary now; give the mirror an empty --dir", cfg.dir,
		     (unsigned long long)m.epoch);
		metrics_close(metrics);
		mirror_close(&m);
		return 1;
	}
	rc = mirror_replay(&m, &why);
	if (rc)
		return fail(&m, cfg.dir, why, rc);
	if (cfg.replay_only) {
		int sick = m.health.unhealthy;
		if (sick)
			mlog("replay stopped: batch %llu cannot be applied (%s); it "
			     "stays in the log, applied_seq %llu", (unsigned long long)
			     m.health.bad_seq, m.health.why,
			     (unsigned long long)m.applied_seq);
		else
			mlog("replayed, applied_seq %llu",
			     (unsigned long long)m.applied_seq);
		mirror_close(&m);
		return sick ? 1 : 0;
	}
	return serve(&m);
}
