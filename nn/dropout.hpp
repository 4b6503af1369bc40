// dropout.hpp: inverted dropout as a module (torch.nn.Dropout).
//
//   training:   out = x * m / (1 - p),  m_i = 1 with probability 1 - p    (see ops/dropout.hpp)
//   evaluation: out = x                                                  (the same tensor)
//
// The mask is drawn from the Generator given at construction, which the module keeps a pointer to.
// NOTE: the generator must outlive the module. Its state (seed(), offset()) is the whole random
// state of training: a trainer saves it with the checkpoint to resume with the same masks.
#pragma once

#include "nn/module.hpp"

#include "core/random.hpp"

namespace ag {

/// Zeroes each element with probability p in training; the identity in evaluation.
class Dropout : public UnaryModule {
public:
    /// p in [0, 1]; masks are drawn from `gen` (kept by pointer: it must outlive the module).
    Dropout(float p, Generator& gen);

    /// x -> x with elements dropped and the rest scaled by 1 / (1 - p) (training only).
    Tensor forward(const Tensor& x) override;
    /// No parameters, no buffers.
    void visit(Visitor&) override {}

    /// The probability of dropping an element.
    float p() const { return p_; }

private:
    float p_;
    Generator* gen_;
};

}  // namespace ag
