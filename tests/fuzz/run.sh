#!/usr/bin/env bash
# Run every fuzzer in BUILD/fuzz for SECONDS each (default 20), one TAP
# line per fuzzer. Each starts from a scratch copy of its seed corpus in
# tests/fuzz/corpus/NAME, so the tree's corpus never grows; with --keep the
# copy lives on in BUILD/fuzz/corpus/NAME and grows from run to run (make
# fuzz). A crashing input is kept in BUILD/fuzz/findings/ and named in the
# failure; turn a real one into tests/fuzz/crashes/NAME-WHAT.
#   usage: run.sh BUILD [SECONDS] [--keep]
set -u
build=$(cd "${1:-build}" && pwd)
seconds=${2:-20}
keep=0
[ "${3:-}" = --keep ] && keep=1
here=$(cd "$(dirname "$0")" && pwd)
findings="$build/fuzz/findings"
work=$(mktemp -d /tmp/xlbt-fuzz.XXXXXX)

cleanup() {
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

mkdir -p "$findings"
fuzzers=("$here"/fuzz_*.c)
echo "1..${#fuzzers[@]}"
n=0 failed=0
for src in "${fuzzers[@]}"; do
	name=$(basename "$src" .c)
	short=${name#fuzz_}
	bin="$build/fuzz/$name"
	n=$((n + 1))
	if [ ! -x "$bin" ]; then
		echo "not ok $n - $name # no binary $bin (make fuzzers)"
		failed=$((failed + 1))
		continue
	fi
	corpus="$work/corpus-$short"
	[ "$keep" -eq 1 ] && corpus="$build/fuzz/corpus/$short"
	mkdir -p "$corpus" "$work/art-$short"
	cp "$here/corpus/$short"/* "$corpus"/
	# a leak or a report that UBSan would only print is a failure too
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		TMPDIR="$work" "$bin" -max_total_time="$seconds" -timeout=10 \
		-rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
		-artifact_prefix="$work/art-$short/" "$corpus" >"$work/log-$short" 2>&1
	rc=$?
	stats=$(grep -E '^stat::number_of_executed_units' "$work/log-$short" | awk '{print $2}')
	if [ "$rc" -eq 0 ]; then
		echo "ok $n - $name (${stats:-?} runs in ${seconds}s)"
		continue
	fi
	failed=$((failed + 1))
	echo "not ok $n - $name (exit $rc)"
	for a in "$work/art-$short"/*; do
		[ -e "$a" ] || continue
		cp "$a" "$findings/$short-$(basename "$a")"
		echo "# input kept as $findings/$short-$(basename "$a")"
	done
	# the finding and its frames in our code, not libFuzzer's and libc's
	grep -E 'ERROR: |SUMMARY|fuzz property|runtime error|#[0-9]+ 0x.* in .*(tests|user)/' \
		"$work/log-$short" | head -20 | sed 's/^/# /'
done
[ "$failed" -eq 0 ]
