// harness.hpp: the benchmark harness. Each case times attograd and an anchor in the same run,
// alternating them, and reports medians and their ratio (ratio > 1: attograd is better).
//
// NOTE: one-thread runs are timed in thread CPU time (CLOCK_THREAD_CPUTIME_ID), not wall time:
// on a shared machine the wall clock also counts the time the scheduler gave other processes,
// which moves from one sample to the next; the CPU time of our own thread does not. Runs with
// --threads N > 1 are timed in wall time (the other threads' work is not the caller's CPU time),
// so they are noisier: compare them only with the anchors of the same run.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace bench {

/// One line of the report.
struct Row {
    std::string kernel;       ///< e.g. "gemm"
    std::string shape;        ///< e.g. "1024x1024x1024 NN"
    int threads = 1;
    double ours = 0;          ///< attograd, in `unit`
    double anchor = 0;        ///< the anchor, in `unit`
    std::string anchor_name;  ///< e.g. "openblas"
    std::string unit;         ///< e.g. "GFLOP/s"
    double ratio = 0;         ///< > 1 when attograd is better
};

/// A row from two measurements; `higher_is_better` says which way the ratio turns.
Row make_row(std::string kernel, std::string shape, int threads, double ours, double anchor, std::string anchor_name,
             std::string unit, bool higher_is_better);

/// A benchmark case: its name (kernel + shape, what the command-line filter matches) and a run
/// function returning its rows.
struct Case {
    std::string name;
    std::function<std::vector<Row>()> run;
};

/// The thread count of this run (--threads, default 1): attograd's pool and the anchors use it.
int threads();
/// Sets threads(), attograd's pool size, and the clock time_alternating reads (wall time if n > 1).
void set_threads(int n);

/// Seconds of CPU time used by the calling thread.
double thread_seconds();

/// Median seconds per call of each function, timed in turn (f0, f1, ..., f0, f1, ...) in 15 samples
/// of >= 30 ms, so every function sees the same machine state.
std::vector<double> time_alternating(const std::vector<std::function<void()>>& functions);

/// Seconds of CPU time used by the whole process (every thread).
double process_seconds();

/// Median over 15 samples of `clock` seconds per call of `f` (samples of >= 30 ms, after a warm-up).
double time_on(const std::function<void()>& f, double (*clock)());

/// Seconds on the clock of this run: thread CPU time at 1 thread, wall time above.
double now_seconds();

/// The gemm cases (bench_gemm.cpp).
std::vector<Case> gemm_cases();

/// The FMA roof: runs `iters` steps of independent FMA chains with the best vector ISA the CPU
/// has and returns the FLOPs done (0 without AVX2/FMA). Time it to get the machine's peak.
double fma_chains(long iters);

}  // namespace bench
