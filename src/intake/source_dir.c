/*
 * source_dir.c - the directory source: a drop folder for exports (CSV
 * with candor's header, a Shopify orders export, JSON Lines; a file
 * whose name starts with "feedback" holds feedback). A file is taken
 * once it is complete: when inotify saw it closed after writing or
 * renamed into the folder, or when it has not changed for a while (what
 * was there before candord started). Each file is imported by import.c
 * in the poll's transaction, recorded as taken in the same transaction,
 * and only then moved to done/ (bad rows, if any, go to rejected/NAME
 * with NAME.errors beside it) or, when it cannot be read at all, to
 * rejected/ with its .errors. A crash between the commit and the move
 * finds the file recorded and only moves it.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "candor/buf.h"
#include "candor/config_parse.h"
#include "candor/import.h"
#include "candor/source_impl.h"
#include "candor/store.h"
#include "candor/store_source.h"
#include "candor/util.h"

/* A file unchanged this long is complete, event or not. */
#define SETTLE_SECONDS 10

struct dir_conf {
	char *path;
};

static const char *const dir_settings[] = { "path", NULL };

static void dir_parse(struct cd_config_loader *ld, struct cd_source_conf *sc,
		      const config_setting_t *g, const char *dp)
{
	struct dir_conf *c = calloc(1, sizeof(*c));

	if (!(sc->priv = c)) {
		cd_cfg_oom(ld);
		return;
	}
	c->path = cd_cfg_path(ld, g, dp, "path");
	if (c->path && !*c->path)
		cd_cfg_report(ld, g, dp, "a directory source needs path = \"/var/lib/candor/incoming\"");
}

static void dir_print(const struct cd_source_conf *sc, FILE *out, const char *in)
{
	const struct dir_conf *c = sc->priv;

	cd_cfg_put_string(out, in, "path", c->path);
}

static void dir_free_conf(struct cd_source_conf *sc)
{
	struct dir_conf *c = sc->priv;

	free(c->path);
	free(c);
	sc->priv = NULL;
}

struct dir_source {
	const struct cd_source_conf *sc;
	const struct dir_conf *c;
	int ifd;                 /* inotify, -1 until the folder exists */
	char **ready;            /* names seen complete */
	size_t nready, capready;
};

static int dir_open(const struct cd_source_conf *sc, void **state, struct cd_error *err)
{
	struct dir_source *d = calloc(1, sizeof(*d));

	if (!d)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	d->sc = sc;
	d->c = sc->priv;
	d->ifd = -1;
	*state = d;
	return 0;
}

static void dir_close(void *state)
{
	struct dir_source *d = state;

	if (!d)
		return;
	if (d->ifd >= 0)
		close(d->ifd);
	for (size_t i = 0; i < d->nready; i++)
		free(d->ready[i]);
	free(d->ready);
	free(d);
}

static int is_ready(const struct dir_source *d, const char *name)
{
	for (size_t i = 0; i < d->nready; i++)
		if (strcmp(d->ready[i], name) == 0)
			return 1;
	return 0;
}

static void forget(struct dir_source *d, const char *name)
{
	for (size_t i = 0; i < d->nready; i++)
		if (strcmp(d->ready[i], name) == 0) {
			free(d->ready[i]);
			d->ready[i] = d->ready[--d->nready];
			return;
		}
}

static void drain_events(struct dir_source *d)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(d->ifd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;

			if (e->len && !is_ready(d, e->name) && CD_GROW(d->ready, d->nready, d->capready) == 0 &&
			    (d->ready[d->nready] = strdup(e->name)))
				d->nready++;
			p += sizeof(*e) + e->len;
		}
	}
}

/* Files being written are named so: ".x", "x.tmp", "x.part". */
static int candidate(const char *name)
{
	size_t n = strlen(name);

	if (name[0] == '.')
		return 0;
	if (n > 4 && strcmp(name + n - 4, ".tmp") == 0)
		return 0;
	if (n > 5 && strcmp(name + n - 5, ".part") == 0)
		return 0;
	return 1;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The complete files waiting, oldest name first, into *OUT. */
static int waiting(struct dir_source *d, char ***out, size_t *n, struct cd_error *err)
{
	DIR *dir = opendir(d->c->path);
	struct dirent *e;
	size_t cap = 0;
	int64_t now = (int64_t)time(NULL);

	*out = NULL;
	*n = 0;
	if (!dir)
		return cd_error_set(err, CD_EIO, d->c->path, 0, "cannot read the folder: %s",
				    strerror(errno));
	while ((e = readdir(dir))) {
		struct stat st;
		char *p;

		if (!candidate(e->d_name) || !(p = cd_util_join_path(d->c->path, e->d_name)))
			continue;
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode) &&
		    (is_ready(d, e->d_name) || now - (int64_t)st.st_mtime >= SETTLE_SECONDS) &&
		    CD_GROW(*out, *n, cap) == 0 && ((*out)[*n] = strdup(e->d_name)))
			(*n)++;
		free(p);
	}
	closedir(dir);
	if (*n)
		qsort(*out, *n, sizeof(**out), cmp_names);
	return 0;
}

static int subdir(const struct dir_source *d, const char *name, char **out, struct cd_error *err)
{
	if (!(*out = cd_util_join_path(d->c->path, name)))
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	if (mkdir(*out, 0750) < 0 && errno != EEXIST) {
		int rc = cd_error_set(err, CD_EIO, *out, 0, "cannot create: %s", strerror(errno));

		free(*out);
		*out = NULL;
		return rc;
	}
	return 0;
}

/* Move FROM into folder TO (done/, rejected/) under NAME, not over
 * another file: NAME.2, NAME.3 … */
static int move_into(const char *from, const char *to, const char *name, struct cd_error *err)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", to, name);
	for (int i = 2; lstat(path, &st) == 0 && i < 1000; i++)
		snprintf(path, sizeof(path), "%s/%s.%d", to, name, i);
	if (rename(from, path) < 0)
		return cd_error_set(err, CD_EIO, from, 0, "cannot move to %s: %s", to, strerror(errno));
	return 0;
}

struct errlines {
	struct cd_buf b;
};

static void collect(void *arg, const struct cd_error *e)
{
	struct errlines *l = arg;
	char buf[1200];

	cd_error_format(e, buf, sizeof(buf));
	cd_buf_add(&l->b, buf, strlen(buf));
	cd_buf_add(&l->b, "\n", 1);
}

static int write_errors(const char *folder, const char *name, const struct cd_buf *b,
			struct cd_error *err)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s.errors", folder, name);
	if (!(fp = fopen(path, "w")))
		return cd_error_set(err, CD_EIO, path, 0, "cannot create: %s", strerror(errno));
	if (b->len)
		fwrite(b->data, 1, b->len, fp);
	if (fclose(fp) != 0)
		return cd_error_set(err, CD_EIO, path, 0, "cannot write: %s", strerror(errno));
	return 0;
}

/* Take one file. Returns 0 or a failure (CD_ESTORE: the store's). */
static int take(struct dir_source *d, struct cd_source_run *run, const char *name,
		struct cd_error *err)
{
	char *file = cd_util_join_path(d->c->path, name), *done = NULL, *rejected = NULL;
	char *reject = NULL, when[32];
	struct errlines lines = { 0 };
	struct cd_import_stats stats;
	struct cd_import_opts opts = { 0 };
	struct cd_store *st;
	struct stat sb;
	struct tm tm;
	time_t mt;
	int rc, taken;

	if (!file)
		return cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
	if (stat(file, &sb) < 0) { /* gone meanwhile */
		rc = 0;
		goto out;
	}
	mt = sb.st_mtime;
	gmtime_r(&mt, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	opts.kind = strncmp(name, "feedback", 8) == 0 ? CD_IMPORT_FEEDBACK : CD_IMPORT_ORDERS;
	opts.path = file;
	if (cd_source_run_testing(run)) {
		cd_source_note(run, "would take %s (%s, %lld bytes)", name,
			       opts.kind == CD_IMPORT_FEEDBACK ? "feedback" : "orders",
			       (long long)sb.st_size);
		rc = 0;
		goto out;
	}
	if ((rc = subdir(d, "done", &done, err)) < 0 || (rc = subdir(d, "rejected", &rejected, err)) < 0)
		goto out;
	if (!(st = cd_source_run_store(run, err))) {
		rc = CD_ESTORE;
		goto out;
	}
	taken = cd_store_source_file_taken(st, cd_source_run_conf(run)->name, name, (int64_t)sb.st_size,
					   (int64_t)sb.st_mtime);
	if (taken < 0) {
		rc = cd_store_fail(st, err, "cannot read the taken files");
		goto out;
	}
	if (taken) { /* taken before a crash: only the move is left */
		rc = cd_source_commit(run, NULL, NULL, NULL, err);
		if (rc == 0)
			rc = move_into(file, done, name, err);
		goto out;
	}
	if (asprintf(&reject, "%s/.%s.rejects", rejected, name) < 0) {
		reject = NULL;
		rc = cd_error_set(err, CD_ENOMEM, NULL, 0, "out of memory");
		goto out;
	}
	opts.reject = reject;
	rc = cd_import_run(st, &opts, collect, &lines, &stats, err);
	if (rc == CD_ESTORE || rc == CD_ENOMEM)
		goto out;
	if (rc < 0) { /* the file as a whole: no header, unreadable */
		collect(&lines, err);
		cd_source_problem(run, name, "%s", err->msg);
		stats.rejected = 0;
	}
	cd_source_count(run, stats.rows, stats.rejected);
	if ((taken = cd_store_source_file_take(st, cd_source_run_conf(run)->name, name,
					       (int64_t)sb.st_size, (int64_t)sb.st_mtime,
					       rc < 0 ? "rejected" : "done", cd_util_now(), err)) < 0 ||
	    (taken = cd_source_commit(run, "files", when, name, err)) < 0) {
		rc = taken;
		goto out;
	}
	if (rc < 0) {
		unlink(reject);
		if ((rc = move_into(file, rejected, name, err)) == 0)
			rc = write_errors(rejected, name, &lines.b, err);
		goto out;
	}
	if ((rc = move_into(file, done, name, err)) < 0)
		goto out;
	if (stats.rejected) {
		cd_source_problem(run, name, "%lld bad row(s) in rejected/%s, reasons in rejected/%s.errors",
				  (long long)stats.rejected, name, name);
		if ((rc = move_into(reject, rejected, name, err)) == 0)
			rc = write_errors(rejected, name, &lines.b, err);
	} else {
		unlink(reject);
	}
out:
	cd_buf_free(&lines.b);
	free(reject);
	free(done);
	free(rejected);
	free(file);
	return rc;
}

static int dir_poll(void *state, struct cd_source_run *run, struct cd_error *err)
{
	struct dir_source *d = state;
	char **names = NULL;
	size_t n = 0;
	int rc;

	if (d->ifd < 0 && !cd_source_run_testing(run)) {
		d->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (d->ifd >= 0 && inotify_add_watch(d->ifd, d->c->path, IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
			rc = cd_error_set(err, CD_EIO, d->c->path, 0, "cannot watch the folder: %s",
					  strerror(errno));
			close(d->ifd);
			d->ifd = -1;
			return rc;
		}
	}
	if (d->ifd >= 0)
		drain_events(d);
	if ((rc = waiting(d, &names, &n, err)) < 0)
		return rc;
	/* one file per batch: each is a transaction of its own */
	for (size_t i = 0; i < n && (cd_source_run_testing(run) || i < 1); i++) {
		rc = take(d, run, names[i], err);
		forget(d, names[i]);
		if (rc < 0)
			break;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc < 0)
		return rc;
	return !cd_source_run_testing(run) && n > 1;
}

static int dir_wake_fd(void *state)
{
	return ((struct dir_source *)state)->ifd;
}

const struct cd_source_type cd_source_directory = {
	.name = "directory", .settings = dir_settings,
	.parse = dir_parse, .print = dir_print, .free_conf = dir_free_conf,
	.open = dir_open, .poll = dir_poll, .close = dir_close, .wake_fd = dir_wake_fd,
};
