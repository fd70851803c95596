/*
 * ctl_migrate.c - "candorctl migrate --to postgresql": the SQLite store
 * copied into the PostgreSQL database the configuration's store section
 * names, every table counted and checksummed on both sides before the
 * copy is committed (store_copy.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "candor/instance.h"
#include "candor/store_copy.h"
#include "candor/util.h"

#include "ctl.h"

static int usage(FILE *out)
{
	fprintf(out, "Usage: candorctl [-c FILE] migrate --to postgresql [--from SQLITE-FILE]\n"
		"Copy the SQLite store (the configuration's \"database\", or SQLITE-FILE) into\n"
		"the empty PostgreSQL database its store section names. Every table is\n"
		"counted and checksummed on both sides before the copy is committed; until\n"
		"then candord refuses the new store. Stop candord first.\n");
	return out == stdout ? 0 : EXIT_USAGE;
}

struct progress {
	int tty;
	int64_t last;
};

static void show(void *arg, const char *table, int64_t rows)
{
	struct progress *p = arg;

	if (p->tty && rows - p->last >= 10000) {
		fprintf(stderr, "\r%-14s %lld rows", table, (long long)rows);
		p->last = rows;
	}
}

int ctl_cmd_migrate(const char *path, int argc, char **argv)
{
	struct cd_store_copy_stats stats;
	struct progress pr = { .tty = isatty(STDERR_FILENO) };
	struct cd_config *cfg = NULL;
	struct cd_store *from = NULL, *to = NULL;
	struct cd_instance *lock = NULL;
	const char *engine = NULL, *source = NULL;
	struct cd_error err;
	int64_t t0, total = 0;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (ctl_is_help(argv[i]))
			return usage(stdout);
		else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
			engine = argv[++i];
		else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
			source = argv[++i];
		else
			return usage(stderr);
	}
	if (!engine || strcmp(engine, "postgresql") != 0)
		return usage(stderr);
	if ((rc = ctl_load_config(path, 0, &cfg)) != 0)
		return rc;
	if (cfg->store.engine != CD_STORE_POSTGRESQL) {
		fprintf(stderr, "candorctl: %s: set store = { engine = \"postgresql\"; ... } first:"
			" the copy goes where the store section says\n", path);
		rc = CD_EXIT_CONFIG;
		goto out;
	}
	if (!source)
		source = cfg->database;
	/* no candord may write the source while it is read */
	if (cd_instance_lock(source, &lock, &err) < 0 ||
	    cd_store_open(source, CD_STORE_READONLY, &from, &err) < 0 ||
	    cd_store_open_config(cfg, CD_STORE_CREATE | CD_STORE_MIGRATING, &to, &err) < 0) {
		rc = ctl_fail(&err);
		goto out;
	}
	t0 = cd_util_mono_ms();
	rc = cd_store_copy(from, to, show, &pr, &stats, &err);
	if (pr.tty && pr.last)
		fputc('\n', stderr);
	for (int i = 0; i < stats.ntables; i++) {
		const struct cd_store_copy_table *t = &stats.tables[i];

		if (!t->name)
			continue;
		printf("%-14s %10lld rows  checksum %s  %s\n", t->name, (long long)t->rows,
		       t->checksum, t->verified ? "verified" : "DIFFERS");
		total += t->rows;
	}
	if (rc < 0) {
		ctl_fail(&err);
		if (rc != CD_EINVAL)
			fprintf(stderr, "candorctl: nothing was committed; %s refuses to open until a"
				" migrate finishes\n", cd_store_name(to));
		rc = rc == CD_EINVAL ? EXIT_DATAERR : 1;
		goto out;
	}
	printf("copied %s into %s: %lld rows in %.1f s, counts and checksums equal on both sides\n",
	       cd_store_name(from), cd_store_name(to), (long long)total,
	       (cd_util_mono_ms() - t0) / 1000.0);
out:
	cd_store_close(to);
	cd_store_close(from);
	cd_instance_unlock(lock);
	cd_config_free(cfg);
	return rc;
}
