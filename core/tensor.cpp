// tensor.cpp: storage, element access, factories and allclose (see tensor.hpp).
#include "core/tensor.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/random.hpp"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <bit>
#include <list>
#include <mutex>
#include <unordered_map>

namespace ag {

namespace {
std::atomic<int64_t> g_allocated_bytes{0};
constexpr size_t kAlignment = 64;  // one cache line; what AVX-512 loads like best

// The buffer cache. A training step allocates the same tensors, of the same sizes, every step.
// Handing a large buffer back to the OS and asking for it again costs far more than using it:
// glibc serves blocks over 128 KiB with mmap, so each one comes back as fresh pages, and the
// first write to each 4 KiB page is a page fault and a zero-fill by the kernel (about a tenth of
// a training step, measured with perf). So freed buffers of at least kCacheMin bytes wait here
// for the next allocation of their size class, up to kCacheMax bytes in all; past that the
// longest-waiting ones are freed. Small blocks are left to malloc, which recycles them well.
// Size classes: a large request is rounded up to a multiple of a quarter of its power of two
// (64, 80, 96, 112, 128 KiB, ...: at most 25% more), so batches whose lengths vary a little
// (length bucketing) still reuse each other's buffers.
// NOTE: cached bytes do not count in allocated_bytes(), which stays the bytes tensors hold.
constexpr size_t kCacheMin = 64 * 1024;
constexpr size_t kCacheMax = size_t{256} << 20;

// Bytes for n floats: aligned_alloc wants a multiple of the alignment; never ask for 0 bytes;
// from kCacheMin up, the size class.
size_t rounded_bytes(int64_t n) {
    size_t bytes = (static_cast<size_t>(n) * sizeof(float) + kAlignment - 1) / kAlignment * kAlignment;
    if (bytes < kCacheMin) return bytes == 0 ? kAlignment : bytes;
    const size_t quarter = std::bit_floor(bytes) / 4;
    return (bytes + quarter - 1) / quarter * quarter;
}

struct BufferCache {
    std::mutex mutex;
    std::list<std::pair<size_t, float*>> by_age;                                // oldest first
    std::unordered_multimap<size_t, decltype(by_age)::iterator> by_size;  // bytes -> entry
    size_t bytes = 0;                                                           // total cached

    float* take(size_t size) {
        std::lock_guard lock(mutex);
        auto it = by_size.find(size);
        if (it == by_size.end()) return nullptr;
        float* p = it->second->second;
        by_age.erase(it->second);
        by_size.erase(it);
        bytes -= size;
        return p;
    }
    void give(float* p, size_t size) {
        std::lock_guard lock(mutex);
        by_size.emplace(size, by_age.insert(by_age.end(), {size, p}));
        bytes += size;
        // over the cap: free the buffers that have waited longest
        while (bytes > kCacheMax) {
            auto [old_size, old] = by_age.front();
            auto range = by_size.equal_range(old_size);
            for (auto it = range.first; it != range.second; ++it)
                if (it->second == by_age.begin()) {
                    by_size.erase(it);
                    break;
                }
            by_age.pop_front();
            bytes -= old_size;
            std::free(old);
        }
    }
    void clear() {
        std::lock_guard lock(mutex);
        for (auto& [size, p] : by_age) std::free(p);
        by_age.clear();
        by_size.clear();
        bytes = 0;
    }
};

BufferCache& buffer_cache() {
    // NOTE: never destroyed: a tensor in a static object may be freed after this cache would be
    static BufferCache* cache = new BufferCache();
    return *cache;
}
}  // namespace

Storage::Storage(int64_t n) : size(n) {
    // NOTE: n * 4 bytes, rounded up to its size class, must not wrap around, or a huge request
    // would get a small buffer
    check(n >= 0 && static_cast<uint64_t>(n) <= (SIZE_MAX / 2) / sizeof(float), "storage",
          "cannot allocate {} floats: more than memory can address", n);
    const size_t bytes = rounded_bytes(n);
    if (bytes >= kCacheMin) data = buffer_cache().take(bytes);
    if (data == nullptr) data = static_cast<float*>(std::aligned_alloc(kAlignment, bytes));
    if (data == nullptr) fail("storage", "out of memory allocating {} bytes", bytes);
    g_allocated_bytes += static_cast<int64_t>(bytes);
}

Storage::~Storage() {
    const size_t bytes = rounded_bytes(size);
    g_allocated_bytes -= static_cast<int64_t>(bytes);
    if (bytes < kCacheMin) std::free(data);
    else buffer_cache().give(data, bytes);
}

int64_t cached_bytes() {
    BufferCache& cache = buffer_cache();
    std::lock_guard lock(cache.mutex);
    return static_cast<int64_t>(cache.bytes);
}

void empty_cache() { buffer_cache().clear(); }

int64_t allocated_bytes() { return g_allocated_bytes.load(); }

// --- Tensor accessors --------------------------------------------------------------------------

static TensorImpl& checked(const std::shared_ptr<TensorImpl>& impl) {
    if (!impl) fail("tensor", "use of an undefined tensor");
    return *impl;
}

const Shape& Tensor::shape() const { return checked(impl_).shape; }

int64_t Tensor::size(int d) const { return shape()[normalize_axis(d, shape(), "size")]; }

float* Tensor::data() const {
    TensorImpl& t = checked(impl_);
    return t.storage->data + t.offset;
}

float Tensor::item() const {
    check(numel() == 1, "item", "only a one-element tensor converts to a number: got shape {}", shape());
    return data()[0];
}

float& Tensor::at(std::initializer_list<int64_t> index) const {
    const Shape& s = shape();
    // NOTE: not a Shape: that would reject a negative coordinate as a "[shape]" error
    std::vector<int64_t> idx(index);
    auto text = [&] { return fmt::format("({}{})", fmt::join(idx, ", "), idx.size() == 1 ? "," : ""); };
    if (static_cast<int>(idx.size()) != s.ndim())
        fail("at", "index {} has {} coordinates for shape {}", text(), idx.size(), s);
    int64_t flat = 0;
    for (int d = 0; d < s.ndim(); ++d) {
        if (idx[d] < 0 || idx[d] >= s[d]) fail("at", "index {} out of range for shape {}", text(), s);
        flat = flat * s[d] + idx[d];
    }
    return data()[flat];
}

std::vector<float> Tensor::to_vector() const { return std::vector<float>(data(), data() + numel()); }

bool Tensor::requires_grad() const { return checked(impl_).requires_grad; }

const Tensor& Tensor::requires_grad_(bool value) const {
    check(is_leaf(), "requires_grad_", "only a leaf's requires_grad can be set; this tensor comes from {}",
          grad_fn() ? grad_fn()->name() : "");
    checked(impl_).requires_grad = value;
    return *this;
}

Tensor Tensor::grad() const { return checked(impl_).grad; }

void Tensor::zero_grad() const {
    Tensor g = grad();
    if (g.defined()) std::memset(g.data(), 0, sizeof(float) * g.numel());
}

void Tensor::set_grad(const Tensor& grad) const {
    check(!grad.defined() || grad.shape() == shape(), "set_grad", "gradient shape {} does not match tensor shape {}",
          grad.defined() ? grad.shape() : Shape{}, shape());
    checked(impl_).grad = grad;
}

const std::shared_ptr<Node>& Tensor::grad_fn() const { return checked(impl_).grad_fn; }

Tensor Tensor::detach() const {
    const TensorImpl& t = checked(impl_);
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = t.storage;
    impl->offset = t.offset;
    impl->shape = t.shape;
    return Tensor(std::move(impl));
}

void Tensor::backward(bool retain_graph) const {
    check(numel() == 1, "backward",
          "grad can be implicitly created only for one-element outputs: got shape {}; pass a gradient", shape());
    ag::backward(*this, ones(shape()), retain_graph);
}

void Tensor::backward(const Tensor& grad, bool retain_graph) const { ag::backward(*this, grad, retain_graph); }

// --- factories ---------------------------------------------------------------------------------

Tensor empty(const Shape& shape) {
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = std::make_shared<Storage>(shape.numel());
    impl->shape = shape;
    return Tensor(std::move(impl));
}

Tensor full(const Shape& shape, float value) {
    Tensor t = empty(shape);
    std::fill_n(t.data(), t.numel(), value);
    return t;
}

Tensor zeros(const Shape& shape) { return full(shape, 0.0f); }
Tensor ones(const Shape& shape) { return full(shape, 1.0f); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape()); }

Tensor arange(int64_t n) {
    check(n >= 0, "arange", "n must be non-negative: got {}", n);
    Tensor t = empty({n});
    for (int64_t i = 0; i < n; ++i) t.data()[i] = static_cast<float>(i);
    return t;
}

Tensor arange(float start, float end, float step) {
    check(step != 0.0f && std::isfinite(step), "arange", "step must be finite and non-zero: got {}", step);
    check(std::isfinite(start) && std::isfinite(end), "arange", "bounds must be finite: got {} and {}", start, end);
    double count = std::ceil((static_cast<double>(end) - start) / step);
    // NOTE: converting a double beyond int64's range to an integer is undefined behaviour
    check(count < 0x1p62, "arange", "[{}, {}) in steps of {} has {} elements: too many", start, end, step, count);
    int64_t n = count > 0 ? static_cast<int64_t>(count) : 0;
    Tensor t = empty({n});
    for (int64_t i = 0; i < n; ++i) t.data()[i] = static_cast<float>(start + static_cast<double>(i) * step);
    return t;
}

Tensor tensor(std::initializer_list<float> values) {
    return tensor(std::vector<float>(values), Shape{static_cast<int64_t>(values.size())});
}

Tensor tensor(std::initializer_list<std::initializer_list<float>> rows) {
    int64_t n = static_cast<int64_t>(rows.size());
    int64_t m = n ? static_cast<int64_t>(rows.begin()->size()) : 0;
    std::vector<float> values;
    for (const auto& row : rows) {
        check(static_cast<int64_t>(row.size()) == m, "tensor", "rows differ in length: {} and {}", m, row.size());
        values.insert(values.end(), row.begin(), row.end());
    }
    return tensor(values, Shape{n, m});
}

Tensor tensor(const std::vector<float>& values, const Shape& shape) {
    check(static_cast<int64_t>(values.size()) == shape.numel(), "tensor", "{} values do not fill shape {} ({} elements)",
          values.size(), shape, shape.numel());
    Tensor t = empty(shape);
    std::copy(values.begin(), values.end(), t.data());
    return t;
}

Tensor uniform(const Shape& shape, float low, float high, Generator& gen) {
    check(std::isfinite(low) && std::isfinite(high) && low <= high, "uniform", "need finite low <= high: got {} and {}",
          low, high);
    Tensor t = empty(shape);
    gen.fill_uniform(t.data(), t.numel(), low, high);
    return t;
}

Tensor rand(const Shape& shape, Generator& gen) { return uniform(shape, 0.0f, 1.0f, gen); }

Tensor randn(const Shape& shape, Generator& gen) {
    Tensor t = empty(shape);
    gen.fill_normal(t.data(), t.numel());
    return t;
}

Tensor clone_data(const Tensor& t) {
    Tensor out = empty(t.shape());
    std::copy_n(t.data(), t.numel(), out.data());
    return out;
}

bool allclose(const Tensor& a, const Tensor& b, float rtol, float atol) {
    if (!(a.shape() == b.shape())) return false;
    const float* x = a.data();
    const float* y = b.data();
    for (int64_t i = 0; i < a.numel(); ++i) {
        if (x[i] == y[i]) continue;  // also equal infinities
        if (!(std::fabs(x[i] - y[i]) <= atol + rtol * std::fabs(y[i]))) return false;
    }
    return true;
}

}  // namespace ag
