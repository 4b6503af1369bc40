// lr_scheduler.hpp: learning-rate schedules as plain functions of the step number.
//
// The trainer asks for the rate of the step it is about to take (0, 1, 2, ...) and sets it:
//
//   opt.set_lr(schedule.lr_at(step));
//
// WarmupDecay, with W = warmup_steps and D = decay_end:
//
//   lr ▲  max ┤   ╭──╮                                  step < W:      max * (step + 1) / W
//        │  ╭╯      ╲_                                  W <= step < D: min + c * (max - min),
//        │╭╯          ╲__                                  cosine: c = (1 + cos(pi * r)) / 2
//    min ┤               ╰────────                         linear: c = 1 - r
//        └─┬─────────────┬──────► step                     with r = (step - W) / (D - W)
//          W             D                              step >= D:     min
//
// StepDecay: lr * gamma^floor(step / step_size), as torch.optim.lr_scheduler.StepLR.
//
// Groups with different base rates scale one schedule: opt.set_lr(g, base[g] * lr_at(step) / max).
#pragma once

#include <cstdint>

namespace ag {

/// How WarmupDecay falls from max_lr to min_lr after the warmup.
enum class DecayShape { cosine, linear };

/// Linear warmup to max_lr, then cosine or linear decay to min_lr (see the file header).
class WarmupDecay {
public:
    /// max_lr > 0, 0 <= min_lr <= max_lr, warmup_steps >= 0, decay_end > warmup_steps.
    WarmupDecay(double max_lr, double min_lr, int64_t warmup_steps, int64_t decay_end,
                DecayShape shape = DecayShape::cosine);
    /// The learning rate of step `step` (>= 0).
    double lr_at(int64_t step) const;

private:
    double max_lr_;
    double min_lr_;
    int64_t warmup_steps_;
    int64_t decay_end_;
    DecayShape shape_;
};

/// lr * gamma^floor(step / step_size) (see the file header).
class StepDecay {
public:
    /// lr > 0, gamma > 0, step_size > 0.
    StepDecay(double lr, double gamma, int64_t step_size);
    /// The learning rate of step `step` (>= 0).
    double lr_at(int64_t step) const;

private:
    double lr_;
    double gamma_;
    int64_t step_size_;
};

}  // namespace ag
