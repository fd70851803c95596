/* test_imap.c - reading the reply mailbox (imap.c). Without a server:
 * tracking off does nothing, a URL that cannot be read is a
 * configuration error naming the file, a failed connection is retried
 * with a backoff of 30 s doubling to 30 min (and does nothing before),
 * the status line says where it reads and how much it read, and there
 * is no IDLE to wait on without a connection. Against a minimal IMAP
 * peer of the test's own (a greeting, CAPABILITY and LOGOUT as RFC 3501
 * has them, no STARTTLS): with imap.tls = "required" the password is
 * never sent. Against a real Dovecot, started as tests/integration/
 * imap.sh starts it (lib.sh's start_dovecot), when it is installed:
 * more mails than one round trip fetches (64) are read in one run,
 * every reply recorded and marked, the stray left alone, the position
 * at the last UID, nothing read twice; a certificate no configured CA
 * vouches for reads nothing. */
#include "config.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "candor/config.h"
#include "candor/imap.h"
#include "candor/log.h"
#include "candor/store.h"
#include "candor/track.h"

#define NOW 1796000000LL
#define TOK "0123456789abcdef0123456789abcdef"

static char dir[64], top[4096];

static int setup(void **state)
{
	(void)state;
	cd_log_init("test_imap", CD_LOG_STDERR, CD_LOG_ERR);
	signal(SIGPIPE, SIG_IGN);
	if (!realpath(getenv("top_srcdir") ? getenv("top_srcdir") : ".", top))
		return -1;
	snprintf(dir, sizeof(dir), "/tmp/cd-test-imap-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static struct cd_config config(const char *url, enum cd_tls_mode tls)
{
	struct cd_config c = { 0 };

	c.path = "/etc/candor/candor.conf";
	c.imap.url = (char *)url;
	c.imap.username = "shop";
	c.imap.password = "s3cret-imap";
	c.imap.mailbox = "INBOX";
	c.imap.move_to = "";
	c.imap.ca_file = "";
	c.imap.tls = tls;
	c.imap.verify_certificate = 1;
	c.imap.timeout = 5;
	c.imap.max_size = 4 << 20;
	c.tracking.soft_bounce_limit = 3;
	return c;
}

static struct cd_store *open_store(const char *name)
{
	struct cd_store *st = NULL;
	struct cd_error err;
	char path[160];

	snprintf(path, sizeof(path), "%s/%s.db", dir, name);
	assert_int_equal(cd_store_open(path, CD_STORE_CREATE, &st, &err), 0);
	return st;
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* ---- without a server ------------------------------------------------------ */

static void test_tracking_off_does_nothing(void **state)
{
	struct cd_config c = config("", CD_TLS_AUTO);
	struct cd_track_stats stats = { 0 };
	struct cd_imap *t = cd_imap_new();
	struct cd_error err;
	char line[200];

	(void)state;
	assert_non_null(t);
	assert_int_equal(cd_imap_run(t, &c, NULL, NOW, &stats, &err), 0);
	assert_int_equal(stats.read, 0);
	cd_imap_describe(t, line, sizeof(line));
	assert_string_equal(line, "not connected to the inbox, 0 read");
	assert_int_equal(cd_imap_idle_fd(t, &c), -1);
	cd_imap_free(t);
	cd_imap_free(NULL);
}

/* A URL imap.c cannot read is the configuration's fault: CD_ECONFIG,
 * naming the file and the URL, and nothing is connected. */
static void test_unreadable_url_is_a_config_error(void **state)
{
	static const char *const bad[] = {
		"imaps://", "imap://:143", "imaps://host.example:0", "imaps://host.example:65536",
		"imaps://host.example:-1", "imaps://[::1", "imaps://[]:993", "no-scheme-here",
	};
	struct cd_store *st = open_store("url");

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cd_config c = config(bad[i], CD_TLS_AUTO);
		struct cd_track_stats stats = { 0 };
		struct cd_imap *t = cd_imap_new();
		struct cd_error err = { 0 };
		char want[128], line[200];
		int rc = cd_imap_run(t, &c, st, NOW, &stats, &err);

		if (rc != CD_ECONFIG)
			fail_msg("\"%s\": %d (%s), not a config error", bad[i], rc, err.msg);
		snprintf(want, sizeof(want), "imap.url: cannot read \"%s\"", bad[i]);
		assert_string_equal(err.msg, want);
		assert_string_equal(err.file, "/etc/candor/candor.conf");
		cd_imap_describe(t, line, sizeof(line));
		assert_memory_equal(line, "not connected to", 16);
		cd_imap_free(t);
	}
	cd_store_close(st);
}

/* ---- a minimal IMAP peer ------------------------------------------------------ */

/* One connection of an IMAP server that offers no STARTTLS: it greets,
 * answers CAPABILITY, refuses LOGIN (and writes down that it was asked),
 * says BYE to LOGOUT and "BAD" to anything else. Every command it read
 * goes to OUT, LOGIN without its arguments. */
static void peer_session(int fd, FILE *out)
{
	char line[1024];
	size_t n = 0;

	dprintf(fd, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] test peer ready\r\n");
	for (;;) {
		char c, tag[64] = "", cmd[64] = "";

		if (read(fd, &c, 1) != 1)
			break;
		if (c != '\n') {
			if (n + 1 < sizeof(line))
				line[n++] = c;
			continue;
		}
		line[n && line[n - 1] == '\r' ? n - 1 : n] = '\0';
		n = 0;
		if (sscanf(line, "%63s %63s", tag, cmd) < 2)
			continue;
		fprintf(out, "%s\n", strcasecmp(cmd, "LOGIN") == 0 ? "LOGIN (refused)" : cmd);
		fflush(out);
		if (strcasecmp(cmd, "CAPABILITY") == 0)
			dprintf(fd, "* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n%s OK done\r\n", tag);
		else if (strcasecmp(cmd, "LOGIN") == 0)
			dprintf(fd, "%s NO [AUTHENTICATIONFAILED] refused\r\n", tag);
		else if (strcasecmp(cmd, "LOGOUT") == 0) {
			dprintf(fd, "* BYE logging out\r\n%s OK done\r\n", tag);
			break;
		} else
			dprintf(fd, "%s BAD not here\r\n", tag);
	}
	close(fd);
}

/* Serve CONNECTIONS connections one after the other, logging to LOG. */
static void peer_serve(int lfd, const char *log, int connections)
{
	FILE *out = fopen(log, "w");

	if (!out)
		_exit(1);
	for (int i = 0; i < connections; i++) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			_exit(1);
		fprintf(out, "CONNECT\n");
		fflush(out);
		peer_session(fd, out);
	}
	fclose(out);
	_exit(0);
}

struct peer {
	pid_t pid;
	int port;
	char log[160];
};

static int start_peer(struct peer *p, in_addr_t host, int connections)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = host };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	static int serial;

	snprintf(p->log, sizeof(p->log), "%s/peer%d.log", dir, ++serial);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0)
		return -1;
	p->port = ntohs(a.sin_port);
	if ((p->pid = fork()) < 0)
		return -1;
	if (p->pid == 0)
		peer_serve(fd, p->log, connections);
	close(fd);
	return 0;
}

/* Wait for the peer to end; what it was told, one command a line. */
static char *peer_log(struct peer *p)
{
	static char buf[2048];
	FILE *fp;
	size_t n = 0;

	for (int i = 0; i < 100 && waitpid(p->pid, NULL, WNOHANG) == 0; i++) {
		struct timespec ts = { 0, 50000000 };

		nanosleep(&ts, NULL);
	}
	kill(p->pid, SIGKILL); /* ours, if it still waits */
	waitpid(p->pid, NULL, 0);
	buf[0] = '\0';
	if ((fp = fopen(p->log, "r"))) {
		n = fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
	}
	buf[n] = '\0';
	return buf;
}

/* imap.tls = "required" against a server without STARTTLS: refused
 * after CAPABILITY, before LOGIN - the password never goes in plain
 * text - and retried later like any failed connection. */
static void test_required_tls_refuses_plain_server_before_login(void **state)
{
	struct peer p;
	char url[64];
	struct cd_config c;
	struct cd_track_stats stats = { 0 };
	struct cd_imap *t = cd_imap_new();
	struct cd_error err;
	const char *said;

	(void)state;
	assert_int_equal(start_peer(&p, htonl(INADDR_LOOPBACK), 1), 0);
	snprintf(url, sizeof(url), "imap://127.0.0.1:%d", p.port);
	c = config(url, CD_TLS_REQUIRED);
	assert_int_equal(cd_imap_run(t, &c, NULL, NOW, &stats, &err), CD_EIO);
	assert_string_equal(err.msg, "IMAP: 127.0.0.1 offers no STARTTLS and imap.tls is \"required\"");
	said = peer_log(&p);
	assert_null(strstr(said, "LOGIN"));
	assert_non_null(strstr(said, "CAPABILITY"));
	assert_int_equal(cd_imap_run(t, &c, NULL, NOW + 1, &stats, &err), 0); /* backing off */
	cd_imap_free(t);
}

/* A connection that fails is retried with a backoff: before it has
 * passed a run does nothing (and says nothing is wrong), then it tries
 * again; the wait doubles from 30 s and stops at 30 min. (The peer
 * fails each attempt: tls "required" and no STARTTLS.) */
static void test_failed_connection_backs_off_doubling(void **state)
{
	struct peer p;
	char url[64], line[200], want[200];
	struct cd_config c;
	struct cd_track_stats stats = { 0 };
	struct cd_imap *t = cd_imap_new();
	struct cd_error err;
	int64_t at = NOW, wait = 30;
	const char *said;
	int attempts = 1;

	(void)state;
	assert_int_equal(start_peer(&p, htonl(INADDR_LOOPBACK), 9), 0);
	snprintf(url, sizeof(url), "imap://127.0.0.1:%d", p.port);
	c = config(url, CD_TLS_REQUIRED);
	assert_int_equal(cd_imap_run(t, &c, NULL, at, &stats, &err), CD_EIO);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(cd_imap_run(t, &c, NULL, at + wait - 1, &stats, &err), 0);
		at += wait;
		if (cd_imap_run(t, &c, NULL, at, &stats, &err) != CD_EIO)
			fail_msg("no new attempt %lld s after the one before", (long long)wait);
		attempts++;
		wait = wait * 2 < 1800 ? wait * 2 : 1800;
	}
	assert_int_equal(wait, 1800);
	cd_imap_describe(t, line, sizeof(line));
	snprintf(want, sizeof(want), "not connected to %s/INBOX, 0 read", url);
	assert_string_equal(line, want);
	cd_imap_free(t);
	said = peer_log(&p);
	for (int i = 0; i < attempts; i++, said++)
		if (!(said = strstr(said, "CONNECT\n")))
			fail_msg("%d connections, not %d", i, attempts);
	assert_null(strstr(said, "CONNECT\n"));
}

/* Nobody listens: the run fails with CD_EIO and is retried later. It
 * used to crash: the failure path logged out of a session that had no
 * stream (SIGSEGV in libetpan's mailstream_close). The call runs in a
 * child so a crash is a failed test, not a dead suite. */
static void test_unreachable_server_is_an_error_not_a_crash(void **state)
{
	char url[64];
	int status = 0;
	pid_t pid;

	(void)state;
	snprintf(url, sizeof(url), "imap://127.0.0.1:%d", free_port());
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* cmocka's handlers would carry the crash back into the run */
		static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
		struct cd_config c = config(url, CD_TLS_REQUIRED);
		struct cd_track_stats stats = { 0 };
		struct cd_imap *t = cd_imap_new();
		struct cd_error err;
		int rc;

		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], SIG_DFL);
		rc = cd_imap_run(t, &c, NULL, NOW, &stats, &err);

		/* and the backoff holds for this failure too */
		if (rc == CD_EIO && strstr(err.msg, "IMAP connect") &&
		    cd_imap_run(t, &c, NULL, NOW + 29, &stats, &err) == 0)
			_exit(0);
		_exit(1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("cd_imap_run died of signal %d on a refused connection", WTERMSIG(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* An address of this machine off loopback, or 0. */
static in_addr_t own_address(void)
{
	struct ifaddrs *ifs = NULL;
	in_addr_t found = 0;

	if (getifaddrs(&ifs) < 0)
		return 0;
	for (struct ifaddrs *i = ifs; i && !found; i = i->ifa_next) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)i->ifa_addr;

		if (a && a->sin_family == AF_INET && (ntohl(a->sin_addr.s_addr) >> 24) != 127)
			found = a->sin_addr.s_addr;
	}
	freeifaddrs(ifs);
	return found;
}

/* "auto" is "required" except to a loopback server (config.h): a plain
 * server elsewhere gets no LOGIN, so no password crosses the network in
 * plain text. */
static void test_auto_tls_to_a_remote_plain_server(void **state)
{
	in_addr_t own = own_address();
	char ip[INET_ADDRSTRLEN], url[96];
	struct peer p;
	struct cd_config c;
	struct cd_track_stats stats = { 0 };
	struct cd_imap *t;
	struct cd_error err;
	const char *said;

	(void)state;
	if (!own || !inet_ntop(AF_INET, &own, ip, sizeof(ip))) {
		print_message("# SKIP: this machine has no address off loopback\n");
		return;
	}
	assert_int_equal(start_peer(&p, own, 1), 0);
	snprintf(url, sizeof(url), "imap://%s:%d", ip, p.port);
	c = config(url, CD_TLS_AUTO);
	t = cd_imap_new();
	assert_int_equal(cd_imap_run(t, &c, NULL, NOW, &stats, &err), CD_EIO);
	said = peer_log(&p);
	assert_null(strstr(said, "LOGIN"));
	assert_non_null(strstr(err.msg, "offers no STARTTLS"));
	cd_imap_free(t);
}

/* ---- a real Dovecot ----------------------------------------------------------------- */

static struct {
	pid_t sh;               /* the shell that started Dovecot and waits for it */
	pid_t dovecot;
	int imaps;
	char work[256], cert[320];
} dv;

/* Start Dovecot with lib.sh's start_dovecot; 0, or -1 when it cannot
 * run here. */
static int start_dovecot(void)
{
	char script[8192], info[200];
	FILE *fp;

	snprintf(info, sizeof(info), "%s/dovecot.info", dir);
	snprintf(script, sizeof(script),
		 "command -v dovecot >/dev/null || exit 1\n"
		 "top_srcdir='%s'; . \"$top_srcdir/tests/integration/lib.sh\"\n"
		 "trap - EXIT\n"
		 "start_dovecot \"$WORK/dovecot\" >/dev/null 2>&1 || { rm -rf \"$WORK\"; exit 1; }\n"
		 "echo \"$IMAPS_PORT $DOVECOT_PID $WORK\" > '%s.tmp' && mv '%s.tmp' '%s'\n"
		 "wait \"$DOVECOT_PID\"\n", top, info, info, info);
	if ((dv.sh = fork()) < 0)
		return -1;
	if (dv.sh == 0) {
		/* Dovecot's processes may outlast the test by a moment:
		 * they must not hold its output open (the TAP driver reads
		 * to the end) */
		int null = open("/dev/null", O_RDONLY), log;
		char path[128];

		snprintf(path, sizeof(path), "%s/dovecot.log", dir);
		log = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (null < 0 || log < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 300; i++) {
		struct timespec ts = { 0, 50000000 };
		long long pid;

		if ((fp = fopen(info, "r"))) {
			int ok = fscanf(fp, "%d %lld %255s", &dv.imaps, &pid, dv.work) == 3;

			fclose(fp);
			if (!ok)
				break;
			dv.dovecot = (pid_t)pid;
			snprintf(dv.cert, sizeof(dv.cert), "%s/dovecot/cert.pem", dv.work);
			return 0;
		}
		if (waitpid(dv.sh, NULL, WNOHANG) != 0) {
			dv.sh = 0;
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	return -1;
}

static void stop_dovecot(void)
{
	char cmd[300];

	if (dv.dovecot > 0)
		kill(dv.dovecot, SIGTERM);
	if (dv.sh > 0)
		waitpid(dv.sh, NULL, 0);
	if (dv.work[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dv.work);
		if (system(cmd) != 0)
			print_message("# could not remove %s\n", dv.work);
	}
	memset(&dv, 0, sizeof(dv));
}

/* imap-tool.py COMMAND Replies [FILES], as lib.sh's imap_tool does;
 * its output into OUT (may be NULL). */
static int imap_tool(const char *args, char *out, size_t len)
{
	char cmd[8192];
	FILE *p;
	size_t n = 0;

	snprintf(cmd, sizeof(cmd), "%s %s/tests/integration/imap-tool.py %d shop s3cret-imap %s",
		 access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3", top,
		 dv.imaps, args);
	if (!(p = popen(cmd, "r")))
		return -1;
	if (out) {
		n = fread(out, 1, len - 1, p);
		out[n] = '\0';
	} else {
		char sink[256];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	return pclose(p) == 0 ? 0 : -1;
}

static int64_t num(sqlite3 *db, const char *q)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int count_lines_with(const char *text, const char *word, int with)
{
	int n = 0;

	for (const char *l = text; *l; ) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) : strlen(l);
		char line[512];

		snprintf(line, sizeof(line), "%.*s", (int)len, l);
		if (len && (strstr(line, word) != NULL) == with)
			n++;
		l += len + (e ? 1 : 0);
	}
	return n;
}

/* 70 mails, more than one round trip's 64: 69 replies to one of our
 * messages and a stray newsletter. One run reads them all, records each
 * reply, marks them $Candor and leaves the stray unmarked; the position
 * is the last UID, so the next run reads nothing. */
static void test_dovecot_reads_more_than_a_chunk_once(void **state)
{
	char url[64], files[4096] = "", path[200], line[200], *flags;
	struct cd_track_stats stats = { 0 };
	struct cd_store *st;
	struct cd_imap *t;
	struct cd_config c;
	struct cd_error err;
	sqlite3 *db;
	FILE *fp;

	(void)state;
	if (start_dovecot() < 0) {
		print_message("# SKIP: Dovecot could not be started here (see tests/integration/imap.sh)\n");
		return;
	}
	for (int i = 1; i <= 70; i++) {
		snprintf(path, sizeof(path), "%s/m%02d.eml", dir, i);
		fp = fopen(path, "w");
		assert_non_null(fp);
		if (i == 35)
			fprintf(fp, "From: news@vendor.example\nTo: feedback@shop.example\n"
				"Subject: Our autumn catalogue\nMessage-ID: <n%d@vendor.example>\n\nBuy.\n", i);
		else
			fprintf(fp, "From: ann@example.org\nTo: feedback+" TOK "@shop.example\n"
				"Subject: Re: your order\nMessage-ID: <r%d@example.org>\n\n"
				"Thought number %d about the tea.\n", i, i);
		fclose(fp);
		snprintf(files + strlen(files), sizeof(files) - strlen(files), " %s", path);
	}
	{
		char args[4200];

		snprintf(args, sizeof(args), "append Replies%s", files);
		if (imap_tool(args, NULL, 0) < 0)
			fail_msg("could not append to Dovecot");
	}
	st = open_store("dovecot");
	snprintf(path, sizeof(path), "%s/dovecot.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db,
		"INSERT INTO messages(order_id, campaign, variant, state, recipient, message_id,"
		" token, created, updated, sent_at) VALUES ('o1', 'review', 'A', 'sent',"
		" 'ann@example.org', 'x." TOK "@shop.example', '" TOK "', 1, 1, 1)",
		NULL, NULL, NULL), SQLITE_OK);

	snprintf(url, sizeof(url), "imaps://127.0.0.1:%d", dv.imaps);
	c = config(url, CD_TLS_AUTO);
	c.imap.mailbox = "Replies";
	c.imap.ca_file = dv.cert;
	t = cd_imap_new();
	if (cd_imap_run(t, &c, st, NOW, &stats, &err) < 0)
		fail_msg("reading: %s", err.msg);
	assert_int_equal(stats.read, 70);
	assert_int_equal(stats.unmatched, 1);
	assert_int_equal(num(db, "SELECT count(*) FROM replies WHERE order_id = 'o1'"), 69);
	assert_int_equal(num(db, "SELECT count(*) FROM replies WHERE body LIKE 'Thought number 70 %'"), 1);
	assert_int_equal(num(db, "SELECT value FROM meta WHERE key = 'imap_last_uid'"), 70);
	cd_imap_describe(t, line, sizeof(line));
	snprintf(path, sizeof(path), "connected to %s/Replies, 70 read", url);
	assert_string_equal(line, path);

	/* nothing new: nothing read, nothing recorded again */
	memset(&stats, 0, sizeof(stats));
	assert_int_equal(cd_imap_run(t, &c, st, NOW + 60, &stats, &err), 0);
	assert_int_equal(stats.read, 0);
	assert_int_equal(num(db, "SELECT count(*) FROM replies WHERE message IS NOT NULL"), 69);
	/* the stray is left for a human, once */
	assert_int_equal(num(db, "SELECT count(*) FROM replies WHERE message IS NULL"), 1);
	cd_imap_free(t);

	flags = calloc(1, 65536);
	assert_non_null(flags);
	assert_int_equal(imap_tool("flags Replies", flags, 65536), 0);
	assert_int_equal(count_lines_with(flags, "$Candor", 1), 69);
	assert_int_equal(count_lines_with(flags, "$Candor", 0), 1);
	/* read with BODY.PEEK: candor does not mark a mail read for a human */
	assert_int_equal(count_lines_with(flags, "\\Seen", 1), 0);
	free(flags);

	/* a certificate no configured CA vouches for: nothing is read */
	c.imap.ca_file = "";
	t = cd_imap_new();
	assert_int_equal(cd_imap_run(t, &c, st, NOW + 120, &stats, &err), CD_EIO);
	assert_non_null(strstr(err.msg, "certificate of 127.0.0.1 is not trusted"));
	cd_imap_free(t);

	sqlite3_close(db);
	cd_store_close(st);
}

/* Dovecot goes whatever the test's end, failed assertions included. */
static int dovecot_teardown(void **state)
{
	(void)state;
	stop_dovecot();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tracking_off_does_nothing),
		cmocka_unit_test(test_unreadable_url_is_a_config_error),
		cmocka_unit_test(test_required_tls_refuses_plain_server_before_login),
		cmocka_unit_test(test_failed_connection_backs_off_doubling),
		cmocka_unit_test(test_unreachable_server_is_an_error_not_a_crash),
		cmocka_unit_test(test_auto_tls_to_a_remote_plain_server),
		cmocka_unit_test_teardown(test_dovecot_reads_more_than_a_chunk_once, dovecot_teardown),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
