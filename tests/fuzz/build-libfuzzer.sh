#!/bin/sh
# Build the fuzz targets with clang's libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer, instrumenting libcandor too, into ./fuzz-out/:
#   tests/fuzz/build-libfuzzer.sh && fuzz-out/fuzz_csv tests/fuzz/corpus/csv
# Needs clang (Debian clang-14); run from the top of a configured tree
# (config.h is taken from BUILD, default ./build/check).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$top/build/check}
out=${OUT:-$top/fuzz-out}
mkdir -p "$out"
flags="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -DSYSCONFDIR=\"/etc\" -I$build -I$top/include
       $(pkg-config --cflags libetpan libconfig sqlite3 json-c gnutls libsystemd | sed 's/-specs=[^ ]*//g')"
libs="$(pkg-config --libs libcurl libetpan libconfig sqlite3 json-c gnutls libsystemd | sed 's/-specs=[^ ]*//g')"
lib_srcs=$(ls "$top"/src/*/*.c | grep -v -e /candord.c -e /ctl/)
for t in csv template rfc2047 json compliance classify config api; do
	# shellcheck disable=SC2086
	clang $flags -fsanitize=fuzzer -o "$out/fuzz_$t" "$top/tests/fuzz/fuzz_$t.c" $lib_srcs $libs
	echo "built $out/fuzz_$t"
done
