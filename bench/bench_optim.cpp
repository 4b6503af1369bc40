// bench_optim.cpp: the Adam update and the fixed cost of one tiny op.
//
// adam   one adam_update over 1M parameters (param, grad, exp_avg, exp_avg_sq: 16 MiB, in L3),
//        as effective GB/s: 28 bytes per parameter (4 floats read, 3 written) over the time. Anchors:
//          copy       memcpy of 14 bytes per parameter (14 read + 14 written: the same traffic)
//          reference  adam_update_reference, in ns per parameter (PyTorch 1.13 on this kind of
//                     machine: 6.3 ns per parameter, /work/shared/ANCHORS.md)
// op overhead  add of two 4-element tensors that require grad: validate, allocate, compute and
//        record the node, in µs per op. Anchor: the same add under NoGradGuard (no node recorded).
#include "bench_rows.hpp"

#include "attograd.hpp"

#include <cstring>
#include <vector>

namespace bench {

namespace {

std::vector<Row> run_adam() {
    const int64_t n = int64_t(1) << 20;
    ag::Generator gen(4);
    ag::Tensor param = ag::randn({n}, gen), grad = ag::randn({n}, gen);
    ag::Tensor exp_avg = ag::zeros({n}), exp_avg_sq = ag::zeros({n});
    const ag::AdamStep step{1e-3, 0.9, 0.999, 1e-8, 0.0, 1.0 - 0.9, 1.0 - 0.999, false};
    float *p = param.data(), *m = exp_avg.data(), *v = exp_avg_sq.data();
    const float* g = grad.data();
    const double bytes = 28.0 * double(n);
    std::vector<char> from(static_cast<size_t>(14 * n), 1), to(static_cast<size_t>(14 * n));
    // NOTE: repeated updates with the same gradient drive the moments to fixed values: no
    // denormals or overflow, and the work per call stays the same
    std::vector<double> t = time_alternating({
        [&] { ag::adam_update(p, m, v, nullptr, g, n, step); },
        [&] { std::memcpy(to.data(), from.data(), from.size()); },
        [&] { ag::adam_update_reference(p, m, v, nullptr, g, n, step); },
    });
    return {make_row("adam", "1M params", threads(), bytes / t[0] * 1e-9, bytes / t[1] * 1e-9, "copy", "GB/s", true),
            make_row("adam", "1M params", threads(), t[0] / double(n) * 1e9, t[2] / double(n) * 1e9, "reference",
                     "ns/param", false)};
}

std::vector<Row> run_op_overhead() {
    ag::Tensor a = ag::tensor({1.0f, 2.0f, 3.0f, 4.0f}), b = ag::tensor({0.5f, 0.25f, 0.125f, 1.0f});
    a.requires_grad_();
    b.requires_grad_();
    std::vector<double> t = time_alternating({
        [&] { ag::add(a, b); },
        [&] {
            ag::NoGradGuard no_grad;
            ag::add(a, b);
        },
    });
    return {make_row("op_overhead", "add 4 + 4, requires_grad", threads(), t[0] * 1e6, t[1] * 1e6, "no_grad", "us/op",
                     false)};
}

}  // namespace

std::vector<Case> optim_cases() { return {{"adam 1M", run_adam}, {"op_overhead add 4", run_op_overhead}}; }

}  // namespace bench
