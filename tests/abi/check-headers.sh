#!/bin/sh
# check-headers.sh MODE: compares our public headers with Debian's.
#
# Environment (set by meson.build):
#   CC            C compiler command          CXX   C++ compiler ("" if none)
#   OURS          our include/spice-server    UPSTREAM  Debian's include/spice-server
#   PROTO         spice-protocol include dir (the folder holding spice/)
#   SRCDIR        tests/abi source dir        REFSYMS   reference-symbols.txt
#
# Modes:
#   protos      every function prototype and every public member type, as
#               spelled by gcc -aux-info, must be identical
#   deprecated  the same functions and members must carry the deprecation
#               attribute
#   macros      the same macro names must be defined by <spice.h>
#   pedantic    our headers build with -std=c99 -pedantic and as C++11
#               -pedantic, warnings as errors
#   layout OURS_EXE UPSTREAM_EXE
#               the two layout-gen outputs must be identical
set -eu

mode=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Flags for one side: its spice-server dir plus spice-protocol as a system
# dir (spice-protocol itself is not -pedantic clean).
side_flags() {
    echo "-I$1 -isystem $PROTO"
}

# Lists every function declared by <spice.h> and every public member type.
protos() {
    # -aux-info is a gcc option: use gcc even when the build uses clang.
    gcc -std=gnu11 -w -DLAYOUT_DECLS $(side_flags "$1") -aux-info "$tmp/aux" \
        -c "$SRCDIR/layout-gen.c" -o "$tmp/o.o"
    # Drop the "/* file:line:NC */" prefix, which names the header path.
    sed 's|^/\* [^*]* \*/ ||' "$tmp/aux" | sort -u
}

# Lists the names gcc reports as deprecated when every public function and
# member is referenced.
deprecated() {
    {
        echo '#include <spice.h>'
        echo 'void *abi_refs[] = {'
        sed 's/@.*//; s/.*/    (void *)\&&,/' "$REFSYMS"
        echo '};'
    } > "$tmp/refs.c"
    { $CC -std=gnu11 -Wdeprecated-declarations $(side_flags "$1") \
          -c "$tmp/refs.c" -o "$tmp/r.o" 2>&1
      $CC -std=gnu11 -Wdeprecated-declarations -DLAYOUT_WARN_DEPRECATED \
          $(side_flags "$1") -c "$SRCDIR/layout-gen.c" -o "$tmp/l.o" 2>&1
    } | sed -n "s/.*[‘'\`]\([A-Za-z_0-9]*\)[’'] is deprecated.*/\1/p" | sort -u
}

macros() {
    echo '#include <spice.h>' > "$tmp/m.c"
    $CC -E -dM $(side_flags "$1") "$tmp/m.c" | awk '{ print $2 }' | sed 's/(.*//' | sort -u
}

compare() {
    "$1" "$OURS" > "$tmp/ours"
    "$1" "$UPSTREAM" > "$tmp/upstream"
    if [ ! -s "$tmp/upstream" ]; then
        echo "no output for the upstream headers: check failed to run" >&2
        exit 1
    fi
    if ! diff -u "$tmp/upstream" "$tmp/ours"; then
        echo "FAIL: $mode differ (- upstream, + ours)" >&2
        exit 1
    fi
    echo "$mode: $(wc -l < "$tmp/ours") entries identical"
}

case "$mode" in
protos|macros)
    compare "$mode"
    ;;
deprecated)
    compare deprecated
    # Guard against a silently empty comparison.
    grep -qx spice_qxl_start "$tmp/ours" && grep -qx laddr "$tmp/ours"
    ;;
pedantic)
    echo '#include <spice.h>' > "$tmp/p.c"
    $CC -std=c99 -pedantic -Wall -Wextra -Werror $(side_flags "$OURS") \
        -c "$tmp/p.c" -o "$tmp/p.o"
    echo "C99 -pedantic: ok"
    if [ -n "$CXX" ]; then
        cp "$tmp/p.c" "$tmp/p.cpp"
        $CXX -std=c++11 -pedantic -Wall -Wextra -Werror $(side_flags "$OURS") \
            -c "$tmp/p.cpp" -o "$tmp/pp.o"
        echo "C++11 -pedantic: ok"
    else
        echo "C++ check skipped: no C++ compiler"
    fi
    ;;
layout)
    "$2" > "$tmp/ours"
    "$3" > "$tmp/upstream"
    [ -s "$tmp/upstream" ]
    if ! diff -u "$tmp/upstream" "$tmp/ours"; then
        echo "FAIL: layouts differ (- upstream, + ours)" >&2
        exit 1
    fi
    echo "layout: $(wc -l < "$tmp/ours") lines identical"
    ;;
*)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac
