/* fuzz_csv.c - the CSV reader on arbitrary bytes. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>

#include "candor/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cd_csv_record rec;
	struct cd_error err;
	struct cd_csv *csv;
	FILE *fp;
	int rc, n = 0;

	if (size == 0 || !(fp = fmemopen((void *)data, size, "rb")))
		return 0;
	if (cd_csv_open(fp, "fuzz.csv", &csv) == 0) {
		while ((rc = cd_csv_next(csv, &rec, &err)) != 0 && n++ < 100000)
			if (rc > 0)
				for (size_t i = 0; i < rec.nfields; i++)
					(void)rec.fields[i][0];
		cd_csv_close(csv);
	}
	fclose(fp);
	return 0;
}
