// anomaly.hpp: finding the op that first produced a NaN or an infinity.
//
// A NaN in the loss says nothing about where it came from: by the time it shows, every op
// downstream has passed it on. Anomaly mode checks each op as it runs, so the first bad value
// stops the program at the op that made it:
//
//   forward   every op's output, when the op records itself (record() in autograd.cpp);
//   backward  every gradient a backward returns, before the engine passes it on.
//
//   ag::AnomalyGuard anomaly;   // on for this thread, for this scope
//   Tensor loss = ...;          // [log] anomaly in the forward: -inf at index 3 of the output of shape (8,)
//   loss.backward();            // [sqrt] anomaly in the backward: nan at index 0 of the gradient of input 0 ...
//
// Rules (what counts as produced, not passed on):
//   - a NaN is always reported; the message says when an input already held one (then the value
//     came from outside the checked ops: the data, a parameter, an op run before the guard);
//   - an infinity is reported unless an input already held one (adding a -inf attention mask
//     passes it on) or the op writes infinities on purpose (masked_fill with -inf: see
//     InfinitiesExpected).
// Checking costs one pass over every output and gradient: a debugging tool, off by default.
// all_finite() is the cheap, always-on test a training loop runs on its loss.
//
// Per thread, like NoGradGuard: one thread debugging does not slow the others.
#pragma once

#include "core/tensor.hpp"

#include <span>
#include <string_view>

namespace ag {

/// Whether anomaly mode is on for this thread (off unless set_detect_anomaly or an AnomalyGuard).
bool detect_anomaly();
/// Turns anomaly mode on or off for this thread.
void set_detect_anomaly(bool on);

/// Sets anomaly mode on this thread for its lifetime (on by default), then restores it.
class AnomalyGuard {
public:
    /// Sets anomaly mode to `on`, remembering the previous setting.
    explicit AnomalyGuard(bool on = true);
    /// Restores the previous setting.
    ~AnomalyGuard();
    AnomalyGuard(const AnomalyGuard&) = delete;
    AnomalyGuard& operator=(const AnomalyGuard&) = delete;

private:
    bool previous_;
};

/// While alive on this thread, anomaly mode accepts infinities (not NaN) in the outputs of the
/// ops recorded: for ops that write them on purpose, as masked_fill(x, mask, -inf) does.
class InfinitiesExpected {
public:
    /// Accepts infinities while alive (when `expected`).
    explicit InfinitiesExpected(bool expected = true);
    /// Restores the previous setting.
    ~InfinitiesExpected();
    InfinitiesExpected(const InfinitiesExpected&) = delete;
    InfinitiesExpected& operator=(const InfinitiesExpected&) = delete;

private:
    bool previous_;
};

/// True when no element of `t` is NaN or ±inf (true for an empty tensor).
bool all_finite(const Tensor& t);

/// Throws "[what] non-finite value: nan at index 3 of shape (8,)" unless all_finite(t).
void check_finite(const Tensor& t, std::string_view what);

namespace detail {
/// Anomaly mode's check of an op's output (record() calls it when the mode is on).
void check_forward_anomaly(const Tensor& out, std::string_view op, std::span<const Tensor> inputs);
/// Anomaly mode's check of the gradient a backward returned for input `input` of `op`.
void check_backward_anomaly(const Tensor& grad, std::string_view op, size_t input, const Tensor& dout);
}  // namespace detail

}  // namespace ag
