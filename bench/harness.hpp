// harness.hpp: the benchmark harness. Each case times attograd and an anchor in the same run,
// alternating them, and reports medians and their ratio (ratio > 1: attograd is better).
//
// NOTE: one-thread cases are timed in thread CPU time (CLOCK_THREAD_CPUTIME_ID), not wall time:
// on a shared machine the wall clock also counts the time the scheduler gave other processes,
// which moves from one sample to the next; the CPU time of our own thread does not.
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

/// Seconds of CPU time used by the calling thread.
double thread_seconds();

/// Median seconds per call of `ours` and of `anchor`, timed alternately in samples of >= 20 ms.
struct Timing {
    double ours, anchor;
};
Timing time_both(const std::function<void()>& ours, const std::function<void()>& anchor);

/// The gemm cases (bench_gemm.cpp); `fma_peak` is the machine's measured roof in GFLOP/s.
std::vector<Case> gemm_cases(double fma_peak);
/// GFLOP/s of independent FMA chains on one core with the best vector ISA the CPU has.
double measure_fma_peak();

}  // namespace bench
