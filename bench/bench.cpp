// bench.cpp: attograd_bench, the benchmark driver.
//
//   attograd_bench [--json] [--threads N] [filter]
// runs every case whose name contains `filter` (e.g. "gemm 1024", "NT", "batched") and prints
// one row per comparison: kernel, shape, threads, ours, anchor, anchor_name, unit, ratio
// (ratio > 1: attograd is better). --json prints each row as one JSON object per line instead.
// --threads N (default 1) runs attograd's pool and OpenBLAS with N threads, timed in wall time;
// gemm rows then also compare with attograd on 1 thread in the same run (anchor "attograd_1t").
// The SIMD level is the best the CPU has unless AG_SIMD says otherwise (core/simd.hpp).
#include "bench_rows.hpp"
#include "harness.hpp"

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/simd.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void print_row(const bench::Row& r, bool json) {
    if (json) {
        fmt::print(R"({{"kernel": "{}", "shape": "{}", "threads": {}, "ours": {:.4g}, "anchor": {:.4g}, )"
                   R"("anchor_name": "{}", "unit": "{}", "ratio": {:.3f}}})"
                   "\n",
                   r.kernel, r.shape, r.threads, r.ours, r.anchor, r.anchor_name, r.unit, r.ratio);
    } else {
        fmt::print("{:<13} {:<24} {:>7} {:>9.4g} {:>9.4g} {:<11} {:<8} {:>6.3f}\n", r.kernel, r.shape, r.threads,
                   r.ours, r.anchor, r.anchor_name, r.unit, r.ratio);
    }
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    bool json = false;
    int threads = 1;
    std::string filter;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "--json") {
            json = true;
        } else if (arg == "--threads" && i + 1 < argc) {
            threads = std::atoi(argv[++i]);
            if (threads < 1 || threads > ag::kMaxThreads) {
                fmt::print(stderr, "attograd_bench: --threads needs a number in [1, {}], got {}\n", ag::kMaxThreads,
                           argv[i]);
                return 1;
            }
        } else if (arg == "--help" || arg == "-h") {
            fmt::print("usage: attograd_bench [--json] [--threads N] [filter]\n");
            return 0;
        } else {
            filter = arg;
        }
    }

    bench::set_threads(threads);
    std::vector<bench::Case> cases = bench::gemm_cases();  // later kernel families append theirs
    for (bench::Case& c : bench::row_cases()) cases.push_back(std::move(c));
    for (bench::Case& c : bench::elementwise_cases()) cases.push_back(std::move(c));
    for (bench::Case& c : bench::optim_cases()) cases.push_back(std::move(c));

    ag::SimdLevel level{};
    try {
        level = ag::simd_level();  // reads AG_SIMD: an invalid value is reported here, once
    } catch (const ag::Error& e) {
        fmt::print(stderr, "{}\n", e.what());
        return 1;
    }
    if (!json) {
        fmt::print("# attograd_bench: SIMD level {}, {} thread(s), {}, medians of 15 samples\n",
                   ag::simd_level_name(level), threads, threads == 1 ? "thread CPU time" : "wall time");
        fmt::print("# fma_peak rows: the FMA roof (independent FMA chains) timed alongside the case\n");
        fmt::print("{:<13} {:<24} {:>7} {:>9} {:>9} {:<11} {:<8} {:>6}\n", "kernel", "shape", "threads", "ours",
                   "anchor", "anchor_name", "unit", "ratio");
    }
    for (const bench::Case& c : cases)
        if (c.name.find(filter) != std::string::npos)
            for (const bench::Row& row : c.run()) print_row(row, json);
    return 0;
}
