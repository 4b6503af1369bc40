// embedding.cpp: a lookup table, the first layer of a language model (formulas in embedding.hpp).
//
// Dimension letters: N = number of ids (ids.numel()), V = rows of the table (vocabulary size),
// D = width of a row (embedding dimension). ids of any shape S are read as a flat list of N.
//
//   forward (gather)        out[n, :] = weight[ids[n], :]           out S + (D,), weight (V, D)
//   backward (scatter-add)  dweight[v, :] = Σ_{n : ids[n] = v} dout[n, :]
//                           dweight[padding_idx, :] = 0;  ids get no gradient (they are indices)
//
// The forward is out = onehot(ids) · weight, so dweight = onehot(ids)ᵀ · dout: each dout row goes
// back to the row it was read from, and an id used twice collects both rows of dout.
//
// NOTE: ids are stored as floats, which hold every integer exactly only up to 2^24 = 16,777,216;
// larger vocabularies would need an integer dtype.
#include "ops/embedding.hpp"

#include "core/autograd.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "core/simd.hpp"
#include "ops/embedding_kernel.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace ag {

// --- kernels -----------------------------------------------------------------------------------

void embedding_forward_reference(float* out, const float* ids, const float* weight, int64_t N, int64_t D) {
    for (int64_t n = 0; n < N; ++n) {
        const float* row = weight + static_cast<int64_t>(ids[n]) * D;
        for (int64_t d = 0; d < D; ++d) out[n * D + d] = row[d];
    }
}

namespace {

// embedding_backward_reference on the rows [v0, v1) only (the kernel's contract, for threads).
void embedding_backward_rows_reference(float* dweight, const float* dout, const float* ids, int64_t N, int64_t D,
                                       int64_t padding_idx, int64_t v0, int64_t v1) {
    // zero: rows no id points at get no gradient
    for (int64_t i = v0 * D; i < v1 * D; ++i) dweight[i] = 0.0f;
    // scatter-add: += not =, so an id that appears several times accumulates every dout row
    for (int64_t n = 0; n < N; ++n) {
        const int64_t v = static_cast<int64_t>(ids[n]);
        if (v < v0 || v >= v1 || v == padding_idx) continue;  // another range's; the padding row stays 0
        float* row = dweight + v * D;
        for (int64_t d = 0; d < D; ++d) row[d] += dout[n * D + d];
    }
}

}  // namespace

void embedding_backward_reference(float* dweight, const float* dout, const float* ids, int64_t N, int64_t V, int64_t D,
                                  int64_t padding_idx) {
    embedding_backward_rows_reference(dweight, dout, ids, N, D, padding_idx, 0, V);
}

void embedding_forward(float* out, const float* ids, const float* weight, int64_t N, int64_t D) {
    // threads take ranges of ids: each output row is one copy, so any split gives the same bits
    parallel_for(0, N, row_grain(D), [&](int64_t n0, int64_t n1) {
        simd_dispatch(EmbeddingForwardKernel{}, embedding_forward_reference, out + n0 * D, ids + n0, weight, n1 - n0, D);
    });
}

void embedding_backward(float* dweight, const float* dout, const float* ids, int64_t N, int64_t V, int64_t D,
                        int64_t padding_idx) {
    // Threads take disjoint ranges of rows (zeroing the table is most of the work: 4 MiB for the
    // example's 8000 x 128). Each row's adds stay in id order, so any range gives the same bits.
    const int64_t grain = std::max(row_grain(D), (V + 4 * num_threads() - 1) / (4 * num_threads()));
    parallel_for(0, V, grain, [&](int64_t v0, int64_t v1) {
        simd_dispatch(EmbeddingBackwardKernel{}, embedding_backward_rows_reference, dweight, dout, ids, N, D,
                      padding_idx, v0, v1);
    });
}

// --- the op ------------------------------------------------------------------------------------

namespace {

// Where flat element `flat` of a tensor of `shape` sits: "3" for 1-D ids, "(1, 0)" otherwise.
std::string position_of(int64_t flat, const Shape& shape) {
    if (shape.ndim() <= 1) return fmt::format("{}", flat);
    std::string index;
    const auto strides = contiguous_strides(shape);
    for (int d = 0; d < shape.ndim(); ++d) {
        index += fmt::format("{}{}", d == 0 ? "(" : ", ", flat / strides[d]);
        flat %= strides[d];
    }
    return index + ")";
}

// Every id must name a row: an integer in [0, V). Reports the first one that does not.
void check_ids(const Tensor& ids, int64_t V) {
    const float* values = ids.data();
    for (int64_t i = 0, n = ids.numel(); i < n; ++i) {
        const float id = values[i];
        // NOTE: NaN fails floor(id) == id, so it is reported here and never cast to an integer
        if (!(std::floor(id) == id))
            fail("embedding", "id {} at position {} is not an integer", id, position_of(i, ids.shape()));
        if (id < 0.0f || static_cast<double>(id) >= static_cast<double>(V))
            fail("embedding", "id {} at position {} is out of range for {} embeddings", id, position_of(i, ids.shape()),
                 V);
    }
}

}  // namespace

Tensor embedding(const Tensor& ids, const Tensor& weight, std::optional<int64_t> padding_idx) {
    // validate: shapes, then every id, then padding_idx
    check(ids.defined(), "embedding", "ids is an undefined tensor");
    check(weight.defined(), "embedding", "weight is an undefined tensor");
    check(weight.ndim() == 2, "embedding", "weight must be 2-D (V, D), got shape {}", weight.shape());
    check(ids.ndim() < kMaxDims, "embedding", "ids of shape {} have too many dimensions: the output would have {} (at most {})",
          ids.shape(), ids.ndim() + 1, kMaxDims);
    const int64_t V = weight.size(0), D = weight.size(1), N = ids.numel();
    check_ids(ids, V);
    int64_t padding = -1;  // the kernel's "no padding row"
    if (padding_idx) {
        const int64_t p = *padding_idx;
        check(-V <= p && p < V, "embedding", "padding_idx {} is out of range for {} embeddings (expected {} to {})", p, V,
              -V, V - 1);
        padding = p < 0 ? p + V : p;
    }

    // gather
    Shape out_shape = ids.shape();
    out_shape.push_back(D);
    Tensor out = empty(out_shape);
    embedding_forward(out.data(), ids.data(), weight.data(), N, D);

    record(out, "embedding", {ids, weight}, [ids, padding, V, D](const Tensor&, const Tensor& dout) -> Grads {
        Tensor dweight = empty({V, D});
        embedding_backward(dweight.data(), dout.data(), ids.data(), ids.numel(), V, D, padding);
        return {Tensor(), dweight};  // ids are indices: they get no gradient
    });
    return out;
}

}  // namespace ag
