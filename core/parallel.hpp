// parallel.hpp: one process-wide thread pool and parallel_for, with results that do not depend on
// the thread count.
//
// parallel_for(begin, end, grain, f) cuts [begin, end) into chunks of `grain` indices and calls
// f(chunk_begin, chunk_end) once per chunk, on any thread, in any order:
//   chunk k = [begin + k * grain, min(end, begin + (k + 1) * grain)),   k = 0 .. ceil((end - begin) / grain) - 1
// The cut depends ONLY on (begin, end, grain), never on the thread count. A reduction that sums
// each chunk in index order and then adds the chunk sums in chunk order therefore performs the
// same float operations in the same order on 1 thread or 64: bitwise identical results.
// (Splitting "one chunk per thread" would change the rounding whenever the thread count does.)
//
// Threads are taken from the work, not given out: each thread claims the next unclaimed chunk
// index from an atomic counter, so a slow chunk does not hold up the others. The calling thread
// claims chunks too; the pool has num_threads() - 1 workers, so N threads run at most N chunks.
// A thread that runs out of work polls for about a millisecond before it sleeps, so the next
// parallel_for a moment later finds its workers awake (parallel.cpp says why that matters).
//
// Nested calls run inline: a parallel_for inside a chunk (a kernel calling a kernel), or while
// another thread owns the pool, runs its chunks serially on the calling thread, in chunk order.
// The threads are already busy one level up; starting more would only oversubscribe the cores,
// and waiting for the pool from inside the pool could deadlock. The chunks stay the same, so the
// results do too.
//
// A range of at most `grain` indices is one chunk: f runs right away on the calling thread, with
// no locks and no allocation (a few nanoseconds), so tiny tensors never pay for the pool.
//
// How a kernel uses it (a sum; any reduction is the same pattern):
//   float total = parallel_reduce(0, n, kGrain, 0.0f,
//       [&](int64_t b, int64_t e) { float s = 0; for (int64_t i = b; i < e; ++i) s += x[i]; return s; },
//       [](float acc, float part) { return acc + part; });
// which is, spelled out: one partial per chunk in a vector indexed by the chunk number
// (b - begin) / grain, filled by parallel_for, then combined in chunk order on the calling thread.
// Pick the grain so a chunk is roughly 10 to 100 microseconds of work (e.g. 32768 floats for an
// elementwise op) and a multiple of the SIMD width, so only the last chunk has a scalar tail.
//
// The thread count: AG_NUM_THREADS if set (a whole number in [1, 1024]; anything else is an
// ag::Error naming the variable and its value, since a typo silently ignored would quietly run
// with a different count), else std::thread::hardware_concurrency(). set_num_threads() overrides
// it (tests, the --threads flag). The pool is created on first use.
#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <type_traits>
#include <vector>

namespace ag {

/// The largest thread count accepted (more is almost surely a typo, and each thread costs memory).
inline constexpr int kMaxThreads = 1024;

/// Threads parallel_for uses, the caller included; creates the pool on first call.
int num_threads();
/// Resizes the pool to n threads (1 <= n <= kMaxThreads); waits for a running parallel_for first.
/// Throws ag::Error when called from inside a parallel_for chunk.
void set_num_threads(int n);
/// The thread count AG_NUM_THREADS=`value` asks for: hardware_concurrency() when value is null
/// (unset) or empty, else value as a whole number in [1, kMaxThreads]; throws ag::Error otherwise.
int parse_num_threads(const char* value);
/// Whether this thread runs a chunk of a parallel_for of 2+ chunks (a parallel_for here runs inline).
bool in_parallel_region();

/// Floats per chunk for an elementwise or row kernel: 128 KiB per buffer, about 10-30 µs of work,
/// a multiple of every SIMD width. A tensor of at most this many floats stays on the caller.
inline constexpr int64_t kChunkFloats = 32768;

/// Rows per chunk for a kernel over rows of `cols` floats: about kChunkFloats floats, at least one row.
inline int64_t row_grain(int64_t cols) { return cols >= kChunkFloats ? 1 : kChunkFloats / (cols > 0 ? cols : 1); }

/// Number of chunks parallel_for cuts [begin, end) into: ceil((end - begin) / grain), 0 if empty.
inline int64_t num_chunks(int64_t begin, int64_t end, int64_t grain) {
    // NOTE: not (n + grain - 1) / grain, which overflows for a grain near INT64_MAX ("never split")
    return end > begin ? (end - begin) / grain + ((end - begin) % grain != 0) : 0;
}

namespace detail {
// Throws the "[op] grain must be >= 1" error. Out of line: kernel files compiled once per SIMD
// level call parallel_for, and an inline fmt call instantiated in each of them is the ODR trap
// of core/simd.hpp (the linker keeps one copy, maybe the AVX-512 one).
[[noreturn]] void bad_grain(const char* op, int64_t grain);
using ChunkFn = void (*)(void* f, int64_t chunk_begin, int64_t chunk_end);
// Runs chunk_fn(f, b, e) on every chunk of [begin, end), on the pool or inline (see the header).
void run_chunks(int64_t begin, int64_t end, int64_t grain, ChunkFn chunk_fn, void* f);
}  // namespace detail

/// Calls f(chunk_begin, chunk_end) on each grain-sized chunk of [begin, end), in parallel.
/// Returns when every chunk is done; rethrows the first exception a chunk threw.
/// NOTE: f runs on other threads, whose thread_local state (grad mode, ...) is not the caller's:
/// keep f to plain loops over buffers, and write only to the chunk's own part of the output.
template <class F>
void parallel_for(int64_t begin, int64_t end, int64_t grain, F&& f) {
    if (grain < 1) detail::bad_grain("parallel_for", grain);
    if (end - begin <= grain) {  // zero or one chunk: run it here, no pool
        if (end > begin) f(begin, end);
        return;
    }
    // the pool sees f through a plain function pointer and an untyped pointer to f: no allocation
    using Fn = std::remove_reference_t<F>;
    detail::run_chunks(begin, end, grain,
                       [](void* fn, int64_t b, int64_t e) { (*static_cast<Fn*>(fn))(b, e); },
                       const_cast<void*>(static_cast<const void*>(&f)));
}

/// Reduces [begin, end): partial k = reduce_chunk(b, e) of chunk k, then
/// combine(...combine(combine(partial 0, partial 1), partial 2)..., partial last), in chunk order,
/// so the result is bitwise the same for any thread count. Returns `identity` for an empty range.
template <class T, class ReduceChunk, class Combine>
T parallel_reduce(int64_t begin, int64_t end, int64_t grain, T identity, ReduceChunk&& reduce_chunk, Combine&& combine) {
    // NOTE: std::vector<bool> packs its elements into shared bytes, so two chunks writing their
    // partials would race; reduce into int or char instead.
    static_assert(!std::is_same_v<T, bool>, "parallel_reduce over bool: use int");
    if (grain < 1) detail::bad_grain("parallel_reduce", grain);
    if (end <= begin) return identity;
    if (end - begin <= grain) return reduce_chunk(begin, end);  // one chunk, as a serial loop would
    // one partial per chunk, indexed by chunk number, so it does not matter who computed it
    std::vector<T> partials(static_cast<size_t>(num_chunks(begin, end, grain)), identity);
    parallel_for(begin, end, grain, [&](int64_t b, int64_t e) { partials[static_cast<size_t>((b - begin) / grain)] = reduce_chunk(b, e); });
    // combine in chunk order on this thread
    T total = partials[0];
    for (size_t k = 1; k < partials.size(); ++k) total = combine(total, partials[k]);
    return total;
}

}  // namespace ag
