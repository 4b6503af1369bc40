// format.cpp: PyTorch-style printing (see format.hpp).
#include "core/format.hpp"

#include "core/autograd.hpp"

#include <algorithm>
#include <cmath>
#include <ostream>

namespace ag {

namespace {

constexpr int64_t kThreshold = 1000;  // more elements than this: abbreviate
constexpr int64_t kEdgeItems = 3;

// One number, in the style chosen for the whole tensor (as PyTorch does).
enum class Style { Integer, Fixed, Scientific };

std::string format_number(float v, Style style) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    switch (style) {
        case Style::Integer: return fmt::format("{:.0f}.", v);
        case Style::Fixed: return fmt::format("{:.4f}", v);
        case Style::Scientific: return fmt::format("{:.4e}", v);
    }
    return {};
}

Style choose_style(const float* v, int64_t n) {
    bool integers = true;
    float max_abs = 0.0f, min_abs = INFINITY;
    for (int64_t i = 0; i < n; ++i) {
        if (!std::isfinite(v[i])) continue;
        integers = integers && v[i] == std::nearbyint(v[i]);
        float a = std::fabs(v[i]);
        max_abs = std::max(max_abs, a);
        if (a > 0) min_abs = std::min(min_abs, a);
    }
    if (integers && max_abs < 1e8f) return Style::Integer;
    if (max_abs >= 1e8f || (min_abs < 1e-4f) || (max_abs / min_abs > 1e3f && max_abs >= 1e3f)) return Style::Scientific;
    return Style::Fixed;
}

struct Printer {
    const float* data;
    const Shape& shape;
    std::array<int64_t, kMaxDims> strides;
    bool abbreviate;
    Style style;
    size_t width;
    std::string out;

    // Indices shown along dimension d: all, or the first and last kEdgeItems with -1 for "...".
    std::vector<int64_t> shown(int d) const {
        std::vector<int64_t> idx;
        int64_t n = shape[d];
        if (!abbreviate || n <= 2 * kEdgeItems) {
            for (int64_t i = 0; i < n; ++i) idx.push_back(i);
        } else {
            for (int64_t i = 0; i < kEdgeItems; ++i) idx.push_back(i);
            idx.push_back(-1);
            for (int64_t i = n - kEdgeItems; i < n; ++i) idx.push_back(i);
        }
        return idx;
    }

    void print(int d, int64_t base, int indent) {
        if (d == shape.ndim()) {
            std::string s = format_number(data[base], style);
            out += std::string(width - std::min(width, s.size()), ' ') + s;
            return;
        }
        out += '[';
        std::vector<int64_t> idx = shown(d);
        for (size_t k = 0; k < idx.size(); ++k) {
            if (k > 0) {
                out += ',';
                if (d == shape.ndim() - 1) {
                    out += ' ';
                } else {
                    out += std::string(static_cast<size_t>(shape.ndim() - d - 1), '\n');
                    out += std::string(static_cast<size_t>(indent + 1), ' ');
                }
            }
            if (idx[k] < 0)
                out += "...";
            else
                print(d + 1, base + idx[k] * strides[d], indent + 1);
        }
        out += ']';
    }
};

}  // namespace

std::string to_string(const Tensor& t) {
    if (!t.defined()) return "tensor(undefined)";
    const Shape& shape = t.shape();
    const float* v = t.data();
    Style style = choose_style(v, t.numel());
    size_t width = 0;
    for (int64_t i = 0; i < t.numel(); ++i) width = std::max(width, format_number(v[i], style).size());
    Printer printer{v, shape, contiguous_strides(shape), t.numel() > kThreshold, style, width, "tensor("};
    if (t.numel() == 0)
        printer.out += "[]";
    else
        printer.print(0, 0, static_cast<int>(std::string_view("tensor(").size()));
    printer.out += fmt::format(", shape={}", shape);
    if (t.grad_fn())
        printer.out += fmt::format(", grad_fn=<{}>", t.grad_fn()->name());
    else if (t.requires_grad())
        printer.out += ", requires_grad=True";
    return printer.out + ")";
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << to_string(t); }

}  // namespace ag
