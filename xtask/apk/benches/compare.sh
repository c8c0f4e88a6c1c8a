#!/bin/sh
# Times `gzip -dc` of the Alpine 3.17 aarch64 index, the baseline for the
# "read + verify index" figure of `cargo bench -p xtask-apk --bench real_data`.
# gzip decompresses both gzip streams (signature and index) of the file.
#
# Usage: xtask/apk/benches/compare.sh [FIXTURES]   (default: ../shared/fixtures)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
fixtures=${1:-${XTASK_SHARED_FIXTURES:-$here/../../../../shared/fixtures}}
index=$fixtures/apk/alpine/v3.17/main/aarch64/APKINDEX.tar.gz
[ -f "$index" ] || { echo "skipped: $index not found" >&2; exit 0; }
runs=30
start=$(date +%s%N)
i=0
while [ $i -lt $runs ]; do
    gzip -dc "$index" > /dev/null
    i=$((i + 1))
done
end=$(date +%s%N)
# Mean per run including process start-up, in milliseconds.
echo "gzip -dc $index: $(( (end - start) / runs / 1000 )) us per run (mean of $runs, process start included)"
