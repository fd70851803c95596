/* fuzz_csv.c - the CSV reader on arbitrary bytes, and its records through
 * the WooCommerce export reader when the first one is such a header. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "candor/csv.h"
#include "../../src/intake/import_woo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One record read as a WooCommerce order: values, then items. */
static void woo_record(const struct woo_map *m, const struct cd_csv_record *rec)
{
	char *v[NF_ORDER], why[400];
	json_object *items = NULL;

	(void)woo_order_id(m, rec);
	if (woo_values(m, rec, v) == 0)
		(void)woo_items(m, rec, &items, why, sizeof(why));
	for (int i = 0; i < NF_ORDER; i++)
		free(v[i]);
	json_object_put(items);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cd_csv_record rec;
	struct woo_map m = { 0 };
	struct cd_error err;
	struct cd_csv *csv;
	FILE *fp;
	int rc, n = 0, woo = 0;

	if (size == 0 || !(fp = fmemopen((void *)data, size, "rb")))
		return 0;
	if (cd_csv_open(fp, "fuzz.csv", &csv) == 0) {
		while ((rc = cd_csv_next(csv, &rec, &err)) != 0 && n++ < 100000) {
			if (rc <= 0)
				continue;
			for (size_t i = 0; i < rec.nfields; i++)
				(void)rec.fields[i][0];
			if (n == 1)
				woo = woo_detect(&rec, &m) > 0;
			else if (woo)
				woo_record(&m, &rec);
		}
		cd_csv_close(csv);
	}
	woo_map_free(&m);
	fclose(fp);
	return 0;
}
