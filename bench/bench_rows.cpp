// bench_rows.cpp: the row kernels (softmax, layer_norm, dropout) in ns per element, each against
// two anchors timed in the same run:
//   copy       memcpy of the kernel's input bytes to its output: the memory traffic any kernel
//              over these buffers pays at least (ratio < 1: slower than a copy)
//   reference  the scalar reference kernel (ratio > 1: the SIMD kernel is that many times faster)
// Shapes: softmax 128×64×64 (the benchmark config's attention scores: 2 MiB, in L2/L3),
// layer_norm 2048×128 (its tokens × d_model: 1 MiB), dropout 4096×4096 (64 MiB, from DRAM).
#include "bench_rows.hpp"

#include "attograd.hpp"

#include <cstring>
#include <functional>
#include <string>

namespace bench {

namespace {

// One kernel on `elements` floats: rows against the copy and the reference.
std::vector<Row> time_kernel(const std::string& kernel, const std::string& shape, int64_t elements,
                             const std::function<void()>& ours, const std::function<void()>& copy,
                             const std::function<void()>& reference) {
    const double per_element = 1e9 / double(elements);  // seconds per call -> ns per element
    // seconds per call of ours, the copy and the reference, timed in turn
    std::vector<double> t = time_alternating({ours, copy, reference});
    return {make_row(kernel, shape, threads(), t[0] * per_element, t[1] * per_element, "copy", "ns/elem", false),
            make_row(kernel, shape, threads(), t[0] * per_element, t[2] * per_element, "reference", "ns/elem", false)};
}

std::vector<Row> run_softmax() {
    const int64_t rows = 128 * 64, cols = 64;
    ag::Generator gen(1);
    ag::Tensor x = ag::randn({rows, cols}, gen), out = ag::empty({rows, cols});
    float* y = out.data();
    const float* in = x.data();
    return time_kernel(
        "softmax_fwd", "128x64x64", rows * cols, [&] { ag::softmax_forward(y, in, rows, cols); },
        [&] { std::memcpy(y, in, sizeof(float) * size_t(rows * cols)); },
        [&] { ag::softmax_forward_reference(y, in, rows, cols); });
}

std::vector<Row> run_layer_norm() {
    const int64_t rows = 2048, cols = 128;
    ag::Generator gen(2);
    ag::Tensor x = ag::randn({rows, cols}, gen), out = ag::empty({rows, cols});
    ag::Tensor weight = ag::randn({cols}, gen), bias = ag::randn({cols}, gen);
    ag::Tensor mean = ag::empty({rows}), rstd = ag::empty({rows});
    float *y = out.data(), *mu = mean.data(), *rs = rstd.data();
    const float *in = x.data(), *w = weight.data(), *b = bias.data();
    return time_kernel(
        "layer_norm_fwd", "2048x128", rows * cols,
        [&] { ag::layer_norm_forward(y, mu, rs, in, w, b, 1e-5f, rows, cols); },
        [&] { std::memcpy(y, in, sizeof(float) * size_t(rows * cols)); },
        [&] { ag::layer_norm_forward_reference(y, mu, rs, in, w, b, 1e-5f, rows, cols); });
}

std::vector<Row> run_dropout() {
    const int64_t n = 4096 * 4096;
    ag::Generator gen(3);
    ag::Tensor x = ag::randn({n}, gen), out = ag::empty({n});
    float* y = out.data();
    const float* in = x.data();
    return time_kernel(
        "dropout_fwd", "4096x4096 p=0.1", n, [&] { ag::dropout_forward(y, in, n, 0.1f, 42, 0); },
        [&] { std::memcpy(y, in, sizeof(float) * size_t(n)); },
        [&] { ag::dropout_forward_reference(y, in, n, 0.1f, 42, 0); });
}

}  // namespace

std::vector<Case> row_cases() {
    return {{"softmax_fwd 128x64x64", run_softmax},
            {"layer_norm_fwd 2048x128", run_layer_norm},
            {"dropout_fwd 4096x4096", run_dropout}};
}

}  // namespace bench
