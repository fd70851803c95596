/* fuzz_compliance.c - the normalizer and the checker: arbitrary bytes as
 * plain text and as a template, against every shipped pack and the
 * model; the normalized text's map must stay inside the input, and each
 * way a template renders (branches.c) must be its own bytes, mapped
 * back to where they stand. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/branches.h"
#include "candor/compliance.h"
#include "candor/normalize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cd_compliance *packs;

static void load_packs(void)
{
	const char *top = getenv("top_srcdir");
	struct cd_errors errs = { 0 };
	char dir[1024];

	snprintf(dir, sizeof(dir), "%s/etc/packs", top ? top : ".");
	if (cd_compliance_load(dir, NULL, 0, &packs, &errs) < 0) {
		fprintf(stderr, "fuzz_compliance: cannot load %s\n", dir);
		abort();
	}
	snprintf(dir, sizeof(dir), "%s/etc/packs/model.bin", top ? top : ".");
	if (cd_compliance_load_model(packs, dir, &errs) < 0) {
		fprintf(stderr, "fuzz_compliance: cannot load %s\n", dir);
		abort();
	}
	cd_errors_clear(&errs);
}

static void check_branches(const char *data, size_t size)
{
	struct cd_branches b;

	if (cd_branches_split(data, size, 64, &b) < 0)
		return;
	for (size_t k = 0; k < b.n; k++) {
		const struct cd_branch_variant *v = &b.v[k];

		if (v->len > size || cd_branches_where(v, v->len) > size)
			abort();
		for (size_t i = 0; i < v->len; i++)
			if (cd_branches_where(v, i) >= size || data[cd_branches_where(v, i)] != v->text[i])
				abort();
	}
	cd_branches_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cd_check_opts o = { .channel = "amazon" };
	struct cd_findings f = { 0 };
	struct cd_normtext n;

	if (!packs)
		load_packs();
	if (cd_normalize((const char *)data, size, 1, &n) == 0) {
		for (size_t i = 0; i <= n.len; i++)
			if (n.map[i] > size)
				abort();
		cd_normtext_free(&n);
	}
	cd_compliance_check(packs, (const char *)data, size, &o, &f);
	for (size_t i = 0; i < f.count; i++)
		if (f.items[i].start > f.items[i].end || f.items[i].end > size)
			abort();
	cd_findings_clear(&f);
	o.mustache = 1;
	cd_compliance_check(packs, (const char *)data, size, &o, &f);
	for (size_t i = 0; i < f.count; i++)
		if (f.items[i].start > f.items[i].end || f.items[i].end > size)
			abort();
	cd_findings_clear(&f);
	check_branches((const char *)data, size);
	return 0;
}
