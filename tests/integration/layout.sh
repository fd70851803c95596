#!/bin/sh
# layout.sh - the code's layout is the pipeline (DESIGN.md "Layout"):
# only src/store/ speaks SQL; no folder includes a header of a folder
# downstream of it; every header belongs to exactly one folder.
. "${top_srcdir:-.}/tests/integration/lib.sh"

cd "$SRCDIR" || exit 1

# upstream first; a folder may include headers of its own and earlier ones
ORDER="core config store intake schedule compliance compose deliver track web report daemon ctl"

rank() {
	i=0
	for f in $ORDER; do
		[ "$f" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
	echo -1
}

# folder_of HEADER-NAME: the folder whose sources the header declares:
# the folder of NAME.c, else of a file of the family (store_due.h ->
# store), else of NAME without _impl.
folder_of() {
	for cand in "$1" "${1%_impl}" "${1%%_*}"; do
		f=$(ls src/*/"$cand".c 2>/dev/null | head -1)
		if [ -n "$f" ]; then
			f=${f#src/}
			echo "${f%%/*}"
			return
		fi
	done
	echo "?"
}

out=$(grep -rln 'sqlite3_\|<sqlite3.h>' src | grep -v '^src/store/' || true)
if [ -z "$out" ]; then
	ok "no sqlite3 outside src/store/"
else
	not_ok "sqlite3 outside src/store/: $(echo $out)"
fi

# the sql order source's drivers talk to the shop's own database, not to
# candor's store: they are the one other place a database client lives
out=$(grep -rln '<libpq-fe.h>\|PGconn\|PQexec' src | grep -v '^src/store/' |
	grep -v '^src/intake/source_pgsql.c$' || true)
if [ -z "$out" ]; then
	ok "no libpq outside src/store/ (and the shop-database driver)"
else
	not_ok "libpq outside src/store/: $(echo $out)"
fi
out=$(grep -rln '<mysql.h>\|<mariadb/\|MYSQL \*' src | grep -v '^src/intake/source_mariadb.c$' || true)
if [ -z "$out" ]; then
	ok "the MariaDB client only in the sql source's driver"
else
	not_ok "MariaDB client outside src/intake/source_mariadb.c: $(echo $out)"
fi

out=$(grep -rln 'cd_store_db\b\|cd_store_prepare_cached\|cd_store_int\b\|cd_store_exec\b\|"[A-Z]* [A-Za-z_(]* FROM \|INSERT INTO\|UPDATE [a-z_]* SET\|DELETE FROM' src include | grep -v '^src/store/' || true)
if [ -z "$out" ]; then
	ok "no SQL text or raw handle outside src/store/"
else
	not_ok "SQL outside src/store/: $(echo $out)"
fi

unmapped=""
for h in include/candor/*.h; do
	n=$(basename "$h" .h)
	[ "$(folder_of "$n")" = "?" ] && unmapped="$unmapped $n"
done
if [ -z "$unmapped" ]; then
	ok "every header belongs to a folder"
else
	not_ok "headers of no folder:$unmapped"
fi

bad=""
# a folder's sources and the headers that belong to it
for dir in $ORDER; do
	r=$(rank "$dir")
	files=$(ls src/"$dir"/*.[ch] 2>/dev/null)
	for h in include/candor/*.h; do
		n=$(basename "$h" .h)
		[ "$(folder_of "$n")" = "$dir" ] && files="$files $h"
	done
	for f in $files; do
		for inc in $(sed -n 's/^#include "candor\/\([a-z_0-9]*\)\.h".*/\1/p' "$f"); do
			d=$(folder_of "$inc")
			if [ "$(rank "$d")" -gt "$r" ]; then
				bad="$bad $f->$inc($d)"
			fi
		done
	done
done
if [ -z "$bad" ]; then
	ok "no folder includes a header of a folder downstream of it"
else
	not_ok "upstream includes downstream:$bad"
fi

# the private header of the store engines stays inside src/store/
out=$(grep -rln '"db.h"\|store/db.h' src | grep -v '^src/store/' || true)
if [ -z "$out" ]; then
	ok "the engine seam (db.h) is private to src/store/"
else
	not_ok "db.h included outside src/store/: $(echo $out)"
fi

# no folder outside DESIGN.md's list
extra=""
for d in src/*/; do
	d=${d#src/}
	d=${d%/}
	[ "$(rank "$d")" -lt 0 ] && extra="$extra $d"
done
if [ -z "$extra" ]; then
	ok "every folder under src/ is a pipeline stage"
else
	not_ok "folders not in the pipeline:$extra"
fi

done_testing
