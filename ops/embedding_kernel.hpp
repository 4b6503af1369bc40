// embedding_kernel.hpp: the SIMD embedding kernels, one copy per instruction set
// (ops/embedding_kernel.cpp). Same contracts as the references in embedding.hpp, which run at the
// scalar level, and the same bits: a gather copies rows, a scatter-add adds them in the same order.
#pragma once

#include <cstdint>

namespace ag {

/// Gather: out[n, :] = weight[ids[n], :] (embedding_forward_reference's contract).
struct EmbeddingForwardKernel {
    template <class Arch>
    void operator()(Arch, float* out, const float* ids, const float* weight, int64_t N, int64_t D) const;
};
/// Scatter-add on the rows [v0, v1) of the table: they are zeroed, then dweight[ids[n], :] += dout[n, :]
/// for the ids in that range (embedding_backward_reference's contract, restricted to those rows,
/// so that threads can take disjoint row ranges).
struct EmbeddingBackwardKernel {
    template <class Arch>
    void operator()(Arch, float* dweight, const float* dout, const float* ids, int64_t N, int64_t D,
                    int64_t padding_idx, int64_t v0, int64_t v1) const;
};

}  // namespace ag
