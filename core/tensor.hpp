// tensor.hpp: the float32 Tensor, its storage and its factories.
//
// A Tensor is a handle (a shared pointer) to a TensorImpl: copying a Tensor copies the handle, not
// the data, as in PyTorch. A TensorImpl is a contiguous, row-major block of a Storage:
//
//   storage ──► [ .......... 64-byte aligned floats .......... ]
//                     ▲ offset
//   shape (2, 3):     [a b c d e f]      element (i, j) is at offset + i*3 + j
//
// Views (reshape, view, detach) share the storage; every other op writes a new one.
// For autograd a TensorImpl also carries requires_grad, the accumulated gradient of a leaf, and
// grad_fn: the Node that produced it (see autograd.hpp).
#pragma once

#include "core/shape.hpp"

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string_view>
#include <vector>

namespace ag {

class Node;
class Generator;
struct TensorImpl;

/// A 64-byte aligned buffer of floats, shared by a tensor and its views.
struct Storage {
    explicit Storage(int64_t size);  ///< uninitialised
    ~Storage();
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;

    /// The first float (64-byte aligned).
    float* data = nullptr;
    /// Number of floats.
    int64_t size = 0;
};

/// Bytes currently held by all Storages (for memory tests and the trainer's report).
int64_t allocated_bytes();
/// Bytes of freed large buffers kept for reuse by later allocations of the same size (tensor.cpp).
int64_t cached_bytes();
/// Frees the cached buffers (PyTorch's torch.cuda.empty_cache, for CPU memory).
void empty_cache();

/// A float32 tensor of 0 to 6 dimensions. Default-constructed, it is undefined (`defined()` false).
class Tensor {
public:
    Tensor() = default;
    /// A handle to `impl` (factories and views make them).
    explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

    /// False for a default-constructed tensor (e.g. a gradient that was never computed).
    bool defined() const { return impl_ != nullptr; }
    /// Sizes of the dimensions, outermost first.
    const Shape& shape() const;
    /// Number of dimensions (0 for a scalar).
    int ndim() const { return shape().ndim(); }
    /// Size of dimension `d` (negative counts from the end); throws when out of range.
    int64_t size(int d) const;
    /// Number of elements (1 for a scalar).
    int64_t numel() const { return shape().numel(); }

    /// Pointer to the first element; the tensor's elements follow contiguously.
    float* data() const;
    /// The value of a one-element tensor; throws otherwise.
    float item() const;
    /// The element at `index` (one coordinate per dimension, bounds checked). Writable: views see it.
    float& at(std::initializer_list<int64_t> index) const;
    /// A copy of the elements, row-major.
    std::vector<float> to_vector() const;

    // --- autograd -------------------------------------------------------------------------
    /// Whether backward computes a gradient for this tensor (leaves) or through it.
    bool requires_grad() const;
    /// Marks a leaf as needing a gradient (PyTorch's requires_grad_). Returns *this.
    const Tensor& requires_grad_(bool value = true) const;
    /// The accumulated gradient (leaves only); undefined until a backward reaches this tensor.
    Tensor grad() const;
    /// Fills the gradient with zeros, keeping its buffer for the next backward.
    void zero_grad() const;
    /// Replaces the gradient (undefined to clear it).
    void set_grad(const Tensor& grad) const;
    /// The node that produced this tensor, or null for a leaf.
    const std::shared_ptr<Node>& grad_fn() const;
    /// True for a tensor no recorded op produced (a parameter, an input).
    bool is_leaf() const { return grad_fn() == nullptr; }
    /// A tensor sharing this one's storage but cut from the graph (no grad_fn, no requires_grad).
    Tensor detach() const;
    /// Backpropagates from a one-element tensor (its gradient is 1).
    void backward(bool retain_graph = false) const;
    /// Backpropagates with an explicit gradient of this tensor's shape.
    void backward(const Tensor& grad, bool retain_graph = false) const;

    /// What the handle points to (the engine and kernels use it).
    TensorImpl* impl() const { return impl_.get(); }
    /// The owning pointer, for those that keep the tensor alive (graph edges).
    const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

private:
    std::shared_ptr<TensorImpl> impl_;
};

/// What a Tensor handle points to. Public so that readers (and the engine) can see it whole.
struct TensorImpl {
    /// The floats, shared with views.
    std::shared_ptr<Storage> storage;
    int64_t offset = 0;  ///< in elements, from storage->data
    /// Sizes of the dimensions.
    Shape shape;
    /// Whether backward computes a gradient for it (see Tensor::requires_grad).
    bool requires_grad = false;
    Tensor grad;                    ///< accumulated gradient of a leaf
    std::shared_ptr<Node> grad_fn;  ///< producer of a non-leaf; null for leaves
};

// --- factories ---------------------------------------------------------------------------------

/// Uninitialised tensor (for ops that overwrite every element).
Tensor empty(const Shape& shape);
/// All 0.
Tensor zeros(const Shape& shape);
/// All 1.
Tensor ones(const Shape& shape);
/// All `value`.
Tensor full(const Shape& shape, float value);
/// All 0, of t's shape.
Tensor zeros_like(const Tensor& t);
/// All 1, of t's shape.
Tensor ones_like(const Tensor& t);
/// 0, 1, ..., n-1.
Tensor arange(int64_t n);
/// start, start+step, ... while < end (> end for a negative step).
Tensor arange(float start, float end, float step = 1.0f);
/// A 1-D tensor from values: tensor({1, 2, 3}).
Tensor tensor(std::initializer_list<float> values);
/// A 2-D tensor from rows: tensor({{1, 2}, {3, 4}}); rows must have equal length.
Tensor tensor(std::initializer_list<std::initializer_list<float>> rows);
/// A tensor of `shape` from row-major values; values.size() must equal shape.numel().
Tensor tensor(const std::vector<float>& values, const Shape& shape);
/// Uniform in [0, 1), drawn from `gen`.
Tensor rand(const Shape& shape, Generator& gen);
/// Uniform in [low, high), drawn from `gen`.
Tensor uniform(const Shape& shape, float low, float high, Generator& gen);
/// Standard normal, drawn from `gen`.
Tensor randn(const Shape& shape, Generator& gen);
/// A copy with its own storage (not recorded in the graph).
Tensor clone_data(const Tensor& t);

/// True when shapes are equal and |a - b| <= atol + rtol * |b| everywhere (NaN never matches).
bool allclose(const Tensor& a, const Tensor& b, float rtol = 1e-5f, float atol = 1e-8f);

}  // namespace ag
