#!/bin/sh
# check-symbols.sh LIB REFERENCE
#
# Fails unless LIB's SONAME is exactly libspice-server.so.1 and its
# exported functions, as name@version-node, are exactly the lines of
# REFERENCE (Debian's 0.15.1 list). Any other defined dynamic symbol
# besides the version-node markers is reported as extra too.
set -eu

lib=$1
ref=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0

soname=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
if [ "$soname" != "libspice-server.so.1" ]; then
    echo "FAIL: SONAME is '$soname', expected libspice-server.so.1" >&2
    status=1
fi

# objdump -T columns: value, flags (e.g. "g    DF"), section, size,
# version (in parentheses when hidden), name. Undefined imports are skipped.
objdump -T "$lib" > "$tmp/dyn"
awk '$0 ~ / DF / && $0 !~ /\*UND\*/ {
         ver = $(NF - 1); gsub(/[()]/, "", ver); print $NF "@" ver }' \
    "$tmp/dyn" | sort > "$tmp/functions"
# Version nodes show up as *ABS* objects named after themselves.
awk '$0 !~ / DF / && $0 !~ /\*UND\*/ && $0 ~ /^[0-9a-f]+ / &&
     !($0 ~ /\*ABS\*/ && $(NF - 1) == $NF) { print $NF " (not a function)" }' \
    "$tmp/dyn" > "$tmp/other"

sort "$ref" > "$tmp/reference"
comm -23 "$tmp/reference" "$tmp/functions" > "$tmp/missing"
comm -13 "$tmp/reference" "$tmp/functions" > "$tmp/extra"
if [ -s "$tmp/missing" ]; then
    echo "FAIL: $(wc -l < "$tmp/missing") reference symbols missing:" >&2
    cat "$tmp/missing" >&2
    status=1
fi
if [ -s "$tmp/extra" ] || [ -s "$tmp/other" ]; then
    echo "FAIL: exported symbols not in the reference:" >&2
    cat "$tmp/extra" "$tmp/other" >&2
    status=1
fi
if [ "$status" = 0 ]; then
    echo "ok: SONAME $soname, $(wc -l < "$tmp/functions") functions match $ref"
fi
exit $status
