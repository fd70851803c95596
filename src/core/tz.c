/*
 * tz.c - see tz.h. Reads TZif version 1 to 4 (the 64-bit data when there
 * is any) and the POSIX TZ rule at its end, which governs every time
 * after the file's last transition (slim files end in 2007 or so).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/tz.h"
#include "candor/util.h"

#define MAX_ZONES 256
#define MAX_FILE (1024 * 1024)

struct rule {
	char kind;        /* 'M' month.week.day, 'J' Julian 1..365, 'N' 0..365 */
	int m, w, d;      /* 'J'/'N' keep the day in d */
	int32_t time;     /* local seconds after midnight, may be <0 or >24h */
};

struct posix {
	int valid, has_dst;
	int32_t std_off, dst_off;   /* seconds east of UTC */
	struct rule start, end;
};

struct cd_tz {
	char name[72];
	int known;
	int64_t *trans;
	uint8_t *idx;
	size_t ntrans;
	int32_t *off;
	size_t ntypes;
	struct posix rule;
};

static struct cd_tz *zones[MAX_ZONES];
static size_t nzones;

int64_t cd_tz_days(int y, int m, int d)
{
	/* Howard Hinnant's days_from_civil */
	int64_t yy = (int64_t)y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void cd_tz_civil(int64_t days, int *y, int *m, int *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

int cd_tz_weekday(int64_t days)
{
	return (int)(days >= -4 ? (days + 4) % 7 : (days + 5) % 7 + 6);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* ---- the POSIX TZ rule ---------------------------------------------------- */

static const char *parse_name(const char *p)
{
	const char *s = p;

	if (*p == '<') {
		p = strchr(p, '>');
		return p ? p + 1 : NULL;
	}
	while (isalpha((unsigned char)*p))
		p++;
	return p - s >= 3 ? p : NULL;
}

static const char *parse_num(const char *p, int max, int *out)
{
	int v = 0, n = 0;

	while (isdigit((unsigned char)*p) && n < 3) {
		v = v * 10 + (*p++ - '0');
		n++;
	}
	if (n == 0 || v > max)
		return NULL;
	*out = v;
	return p;
}

/* [+-]hh[:mm[:ss]] into seconds. */
static const char *parse_hms(const char *p, int32_t *out)
{
	int sign = 1, h, m = 0, s = 0;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	if (!(p = parse_num(p, 167, &h)))
		return NULL;
	if (*p == ':' && !(p = parse_num(p + 1, 59, &m)))
		return NULL;
	if (p && *p == ':' && !(p = parse_num(p + 1, 59, &s)))
		return NULL;
	*out = sign * (h * 3600 + m * 60 + s);
	return p;
}

static const char *parse_rule(const char *p, struct rule *r)
{
	r->time = 7200;
	if (*p == 'M') {
		r->kind = 'M';
		if (!(p = parse_num(p + 1, 12, &r->m)) || *p != '.' ||
		    !(p = parse_num(p + 1, 5, &r->w)) || *p != '.' ||
		    !(p = parse_num(p + 1, 6, &r->d)) || r->m < 1 || r->w < 1)
			return NULL;
	} else if (*p == 'J') {
		r->kind = 'J';
		if (!(p = parse_num(p + 1, 365, &r->d)) || r->d < 1)
			return NULL;
	} else {
		r->kind = 'N';
		if (!(p = parse_num(p, 365, &r->d)))
			return NULL;
	}
	if (*p == '/' && !(p = parse_hms(p + 1, &r->time)))
		return NULL;
	return p;
}

static int parse_posix(const char *p, struct posix *z)
{
	int32_t v;

	memset(z, 0, sizeof(*z));
	if (!(p = parse_name(p)) || !(p = parse_hms(p, &v)))
		return -1;
	z->std_off = -v;   /* POSIX counts west of Greenwich */
	if (*p == '\0') {
		z->valid = 1;
		return 0;
	}
	if (!(p = parse_name(p)))
		return -1;
	z->dst_off = z->std_off + 3600;
	if (*p && *p != ',') {
		if (!(p = parse_hms(p, &v)))
			return -1;
		z->dst_off = -v;
	}
	if (*p != ',' || !(p = parse_rule(p + 1, &z->start)) ||
	    *p != ',' || !(p = parse_rule(p + 1, &z->end)) || *p)
		return -1;
	z->has_dst = z->valid = 1;
	return 0;
}

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Local seconds (since the epoch, wall clock) at which rule R fires in Y. */
static int64_t rule_local(int y, const struct rule *r)
{
	int64_t day;

	if (r->kind == 'J') {
		day = cd_tz_days(y, 1, 1) + r->d - 1 + (leap(y) && r->d >= 60);
	} else if (r->kind == 'N') {
		day = cd_tz_days(y, 1, 1) + r->d;
	} else {
		int64_t first = cd_tz_days(y, r->m, 1);
		int64_t next = r->m == 12 ? cd_tz_days(y + 1, 1, 1) : cd_tz_days(y, r->m + 1, 1);

		day = first + (r->d - cd_tz_weekday(first) + 7) % 7 + (r->w - 1) * 7;
		while (day >= next)
			day -= 7;
	}
	return day * 86400 + r->time;
}

static int32_t posix_offset(const struct posix *z, int64_t t)
{
	int y, m, d;
	int64_t start, end;

	if (!z->has_dst)
		return z->std_off;
	cd_tz_civil(floor_div(t + z->std_off, 86400), &y, &m, &d);
	start = rule_local(y, &z->start) - z->std_off;
	end = rule_local(y, &z->end) - z->dst_off;
	if (start < end)
		return t >= start && t < end ? z->dst_off : z->std_off;
	return t >= end && t < start ? z->std_off : z->dst_off;
}

/* ---- TZif ------------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct counts {
	size_t isut, isstd, leap, time, type, chars;
};

static int read_counts(const unsigned char *p, size_t left, struct counts *c)
{
	if (left < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	c->isut = be32(p + 20);
	c->isstd = be32(p + 24);
	c->leap = be32(p + 28);
	c->time = be32(p + 32);
	c->type = be32(p + 36);
	c->chars = be32(p + 40);
	if (c->type == 0 || c->type > 256 || c->time > 100000 || c->chars > 65536 ||
	    c->leap > 100000 || c->isut > 256 || c->isstd > 256)
		return -1;
	return 0;
}

static size_t block_size(const struct counts *c, size_t tsize)
{
	return c->time * (tsize + 1) + c->type * 6 + c->chars + c->leap * (tsize + 4) +
	       c->isstd + c->isut;
}

/* Fill Z from the data block at P (TSIZE-byte times), then the footer. */
static int read_block(struct cd_tz *z, const unsigned char *p, const unsigned char *end,
		      const struct counts *c, size_t tsize)
{
	const unsigned char *types;

	if ((size_t)(end - p) < block_size(c, tsize))
		return -1;
	z->trans = calloc(c->time ? c->time : 1, sizeof(*z->trans));
	z->idx = calloc(c->time ? c->time : 1, 1);
	z->off = calloc(c->type, sizeof(*z->off));
	if (!z->trans || !z->idx || !z->off)
		return -1;
	for (size_t i = 0; i < c->time; i++)
		z->trans[i] = tsize == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
	p += c->time * tsize;
	for (size_t i = 0; i < c->time; i++)
		if ((z->idx[i] = p[i]) >= c->type)
			return -1;
	types = p + c->time;
	for (size_t i = 0; i < c->type; i++)
		z->off[i] = (int32_t)be32(types + i * 6);
	z->ntrans = c->time;
	z->ntypes = c->type;
	p = types + block_size(c, tsize) - c->time * (tsize + 1);
	/* the footer: "\nTZ-STRING\n", version 2 and later */
	if (tsize == 8 && p < end && *p == '\n') {
		const unsigned char *nl = memchr(p + 1, '\n', (size_t)(end - p - 1));
		char rule[128];

		if (nl && (size_t)(nl - p - 1) < sizeof(rule)) {
			memcpy(rule, p + 1, (size_t)(nl - p - 1));
			rule[nl - p - 1] = '\0';
			if (parse_posix(rule, &z->rule) < 0)
				z->rule.valid = 0;
		}
	}
	return 0;
}

static int parse_tzif(struct cd_tz *z, const unsigned char *buf, size_t len)
{
	const unsigned char *end = buf + len;
	struct counts c;

	if (read_counts(buf, len, &c) < 0)
		return -1;
	if (buf[4] == '\0')
		return read_block(z, buf + 44, end, &c, 4);
	if (len - 44 < block_size(&c, 4))
		return -1;
	buf += 44 + block_size(&c, 4);
	if (read_counts(buf, (size_t)(end - buf), &c) < 0)
		return -1;
	return read_block(z, buf + 44, end, &c, 8);
}

static int name_ok(const char *name)
{
	return *name && name[0] != '/' && !strstr(name, "..") && strlen(name) <= 64;
}

static struct cd_tz *load(const char *name)
{
	const char *dir = getenv("TZDIR");
	struct cd_tz *z = calloc(1, sizeof(*z));
	char *path = NULL, *buf = NULL;
	size_t len;

	if (!z)
		return NULL;
	snprintf(z->name, sizeof(z->name), "%s", name);
	if (name_ok(name) &&
	    (path = cd_util_join_path(dir && *dir ? dir : "/usr/share/zoneinfo", name)) &&
	    cd_util_read_bytes(path, MAX_FILE, &buf, &len, NULL) == 0 &&
	    parse_tzif(z, (const unsigned char *)buf, len) == 0)
		z->known = 1;
	free(path);
	free(buf);
	return z;
}

static void zone_free(struct cd_tz *z)
{
	if (!z)
		return;
	free(z->trans);
	free(z->idx);
	free(z->off);
	free(z);
}

const struct cd_tz *cd_tz_get(const char *name)
{
	struct cd_tz *z;

	for (size_t i = 0; i < nzones; i++)
		if (strcmp(zones[i]->name, name) == 0)
			return zones[i]->known ? zones[i] : NULL;
	if (!(z = load(name)))
		return NULL;
	/* unknown names are remembered too, so a bad one costs one stat */
	if (nzones == MAX_ZONES) {
		zone_free(zones[0]);
		memmove(zones, zones + 1, (MAX_ZONES - 1) * sizeof(zones[0]));
		nzones--;
	}
	zones[nzones++] = z;
	return z->known ? z : NULL;
}

int cd_tz_known(const char *name)
{
	if (!name_ok(name))
		return -1;
	return cd_tz_get(name) != NULL;
}

int32_t cd_tz_offset(const struct cd_tz *z, int64_t t)
{
	size_t lo = 0, hi = z->ntrans;

	if (!z->ntrans || t < z->trans[0])
		return z->ntrans || !z->rule.valid ? z->off[0] : posix_offset(&z->rule, t);
	if (t >= z->trans[z->ntrans - 1] && z->rule.valid)
		return posix_offset(&z->rule, t);
	while (hi - lo > 1) {   /* the last transition at or before t */
		size_t mid = lo + (hi - lo) / 2;

		if (z->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return z->off[z->idx[lo]];
}

int64_t cd_tz_from_local(const struct cd_tz *z, int64_t local)
{
	/* a day either side is past any change near LOCAL */
	int32_t before = cd_tz_offset(z, local - 86400);
	int32_t after = cd_tz_offset(z, local + 86400);
	int64_t ta = local - before, tb = local - after;
	int a_ok, b_ok;

	if (before == after)
		return ta;
	a_ok = cd_tz_offset(z, ta) == before;
	b_ok = cd_tz_offset(z, tb) == after;
	if (a_ok && b_ok)
		return ta < tb ? ta : tb;
	if (b_ok)
		return tb;
	return ta;   /* in a gap, or the only reading */
}

void cd_tz_reset(void)
{
	for (size_t i = 0; i < nzones; i++)
		zone_free(zones[i]);
	nzones = 0;
}
