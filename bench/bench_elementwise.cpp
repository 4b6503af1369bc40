// bench_elementwise.cpp: the elementwise ops and sums at the op level (allocation of the output
// included, as a model sees them), in ns per output element, against two anchors timed in the
// same run:
//   copy       memcpy of the op's input bytes to an output of the same size
//   reference  the same op at the scalar level (AG_SIMD=scalar): the reference kernels
// Shapes: 1M elements (4 MiB, in L2/L3) for same-shape ops; the benchmark config's 2048 tokens ×
// d_model 128 for the bias add and the last-axis sum.
#include "bench_rows.hpp"

#include "attograd.hpp"
#include "core/simd.hpp"

#include <cstring>
#include <functional>
#include <string>

namespace bench {

namespace {

// `op` at the active level against a copy of `bytes` and against itself at the scalar level.
std::vector<Row> time_op(const std::string& kernel, const std::string& shape, int64_t elements, int64_t bytes,
                         const std::function<void()>& op) {
    const double per_element = 1e9 / double(elements);
    std::vector<char> from(static_cast<size_t>(bytes), 1), to(static_cast<size_t>(bytes));
    auto copy = [&] { std::memcpy(to.data(), from.data(), from.size()); };
    auto reference = [&] {
        const ag::SimdLevel level = ag::set_simd_level(ag::SimdLevel::scalar);
        op();
        ag::set_simd_level(level);
    };
    // seconds per call of the op, the copy and the reference, timed in turn
    std::vector<double> t = time_alternating({op, copy, reference});
    return {make_row(kernel, shape, threads(), t[0] * per_element, t[1] * per_element, "copy", "ns/elem", false),
            make_row(kernel, shape, threads(), t[0] * per_element, t[2] * per_element, "reference", "ns/elem", false)};
}

const int64_t kMillion = 1 << 20;

ag::Tensor random(const ag::Shape& shape, uint64_t seed) {
    ag::Generator gen(seed);
    return ag::randn(shape, gen);
}

}  // namespace

std::vector<Case> elementwise_cases() {
    return {
        {"add 1M", [] {
             ag::Tensor a = random({kMillion}, 1), b = random({kMillion}, 2);
             return time_op("add", "1M", kMillion, 4 * kMillion, [&] { ag::add(a, b); });
         }},
        {"add bias 2048x128", [] {
             ag::Tensor a = random({2048, 128}, 1), b = random({128}, 2);
             return time_op("add", "2048x128 + 128", 2048 * 128, 4 * 2048 * 128, [&] { ag::add(a, b); });
         }},
        {"mul scalar 1M", [] {
             ag::Tensor a = random({kMillion}, 1);
             return time_op("mul", "1M * scalar", kMillion, 4 * kMillion, [&] { a * 0.5f; });
         }},
        {"exp 1M", [] {
             ag::Tensor a = random({kMillion}, 1);
             return time_op("exp", "1M", kMillion, 4 * kMillion, [&] { ag::exp(a); });
         }},
        {"gelu 1M", [] {
             ag::Tensor a = random({kMillion}, 1);
             return time_op("gelu", "1M", kMillion, 4 * kMillion, [&] { ag::gelu(a); });
         }},
        {"sum all 1M", [] {
             ag::Tensor a = random({kMillion}, 1);
             return time_op("sum", "1M, all", kMillion, 4 * kMillion, [&] { ag::sum(a); });
         }},
        {"sum last 2048x128", [] {
             ag::Tensor a = random({2048, 128}, 1);
             return time_op("sum", "2048x128, last axis", 2048 * 128, 4 * 2048 * 128, [&] { ag::sum(a, {-1}); });
         }},
    };
}

}  // namespace bench
