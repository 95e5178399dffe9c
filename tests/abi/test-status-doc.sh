#!/bin/sh
# Every exported function must have a row in docs/status.md.
# usage: test-status-doc.sh REFERENCE_SYMBOLS STATUS_MD
set -u
missing=0
for sym in $(cut -d@ -f1 "$1"); do
  grep -q "^| \`$sym\` |" "$2" || { echo "docs/status.md lacks $sym"; missing=$((missing + 1)); }
done
[ "$missing" -eq 0 ] && echo "all $(wc -l < "$1") entry points documented"
exit "$missing"
