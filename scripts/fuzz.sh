#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (-fsanitize=fuzzer,address,undefined) and
# runs each for a bounded time from its committed seed corpus. Fails if any target crashes, leaks,
# trips a sanitizer or hangs; the crashing input is left in build-fuzz/ (make it a regression test).
#   usage: scripts/fuzz.sh [seconds per target, default 20]
#          scripts/fuzz.sh --build-only     (compile and link the targets, run nothing)
# The main build uses g++; libFuzzer needs clang, so the few sources the loaders need are compiled
# here directly rather than through a second meson configuration of the whole library.
set -euo pipefail
cd "$(dirname "$0")/.."
build_only=false
if [ "${1:-}" = "--build-only" ]; then build_only=true; fi
seconds="${1:-20}"
out=build-fuzz
mkdir -p "$out/obj"

CXX="${CXX_FUZZ:-clang++}"
# (-O0 and no -g, which CI's compile time cannot spare: fewer executions per second, and a crash
# report names functions, not lines; use -O1 -g here to hunt or debug one)
flags=(-std=c++20 -O0 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
       -fno-sanitize-recover=undefined -I. -Iexamples/text_classifier -Itests/fuzz)
# the library sources the three targets reach (no SIMD kernels: the loaders do not use them)
sources=(core/anomaly.cpp core/atomic_file.cpp core/autograd.cpp core/npy.cpp core/parallel.cpp
         core/random.cpp core/safetensors.cpp core/shape.cpp core/tensor.cpp
         examples/text_classifier/dataset.cpp examples/text_classifier/labels.cpp
         examples/text_classifier/text_file.cpp examples/text_classifier/tokenizer.cpp
         examples/text_classifier/utf8.cpp examples/text_classifier/vocab.cpp)

# compile each source once (only when it or a header changed: make-style timestamps are enough here)
objects=()
for src in "${sources[@]}"; do
    obj="$out/obj/$(echo "$src" | tr / _).o"
    if [ ! -f "$obj" ] || [ -n "$(find "$src" core examples/text_classifier -newer "$obj" -name '*.[ch]pp' -print -quit)" ]; then
        "$CXX" "${flags[@]}" -c "$src" -o "$obj"
    fi
    objects+=("$obj")
done

targets=(safetensors npy tsv_tokenizer)
for target in "${targets[@]}"; do
    exe="$out/fuzz_$target"
    # (re)link when a source or object it depends on is newer: --build-only may have linked it already
    if [ ! -f "$exe" ] || [ -n "$(find tests/fuzz core examples/text_classifier "${objects[@]}" -newer "$exe" \
            \( -name '*.[ch]pp' -o -name '*.o' \) -print -quit)" ]; then
        "$CXX" "${flags[@]}" -fsanitize=fuzzer "tests/fuzz/fuzz_$target.cpp" "${objects[@]}" \
            $(pkg-config --libs fmt libutf8proc) -lpthread -o "$exe"
    fi
done
$build_only && exit 0

status=0
for target in "${targets[@]}"; do
    # new inputs go to a scratch corpus; the committed seeds are only read
    mkdir -p "$out/corpus_$target"
    log="$out/fuzz_$target.log"
    if (cd "$out" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            "./fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
            -print_final_stats=1 "corpus_$target" "../tests/fuzz/corpus/$target") >"$log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
        echo "fuzz_$target: $runs executions in ${seconds} s, no crash"
    else
        echo "fuzz_$target: FAILED (see $log):" >&2
        grep -E 'ERROR|SUMMARY|Test unit written' "$log" >&2 || tail -20 "$log" >&2
        status=1
    fi
done
exit $status
