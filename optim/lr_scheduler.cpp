// lr_scheduler.cpp: the schedules' formulas (drawn in lr_scheduler.hpp).
#include "optim/lr_scheduler.hpp"

#include "core/error.hpp"

#include <cmath>
#include <numbers>

namespace ag {

WarmupDecay::WarmupDecay(double max_lr, double min_lr, int64_t warmup_steps, int64_t decay_end, DecayShape shape)
    : max_lr_(max_lr), min_lr_(min_lr), warmup_steps_(warmup_steps), decay_end_(decay_end), shape_(shape) {
    const char* op = "WarmupDecay";
    check(std::isfinite(max_lr) && max_lr > 0, op, "max_lr must be positive and finite: got {}", max_lr);
    check(min_lr >= 0 && min_lr <= max_lr, op, "min_lr must be in [0, max_lr = {}]: got {}", max_lr, min_lr);
    check(warmup_steps >= 0, op, "warmup_steps must be >= 0: got {}", warmup_steps);
    check(decay_end > warmup_steps, op, "decay_end must be after the warmup: got decay_end {} and warmup_steps {}",
          decay_end, warmup_steps);
}

double WarmupDecay::lr_at(int64_t step) const {
    check(step >= 0, "WarmupDecay", "step must be >= 0: got {}", step);
    // warmup: (step + 1) / W so that step 0 already learns a little and step W - 1 reaches max
    if (step < warmup_steps_) return max_lr_ * static_cast<double>(step + 1) / static_cast<double>(warmup_steps_);
    // after the decay: the floor
    if (step >= decay_end_) return min_lr_;
    // decay: c goes from 1 at r = 0 towards 0 at r = 1
    double r = static_cast<double>(step - warmup_steps_) / static_cast<double>(decay_end_ - warmup_steps_);
    double c = shape_ == DecayShape::cosine ? 0.5 * (1.0 + std::cos(std::numbers::pi * r)) : 1.0 - r;
    return min_lr_ + c * (max_lr_ - min_lr_);
}

StepDecay::StepDecay(double lr, double gamma, int64_t step_size) : lr_(lr), gamma_(gamma), step_size_(step_size) {
    const char* op = "StepDecay";
    check(std::isfinite(lr) && lr > 0, op, "lr must be positive and finite: got {}", lr);
    check(std::isfinite(gamma) && gamma > 0, op, "gamma must be positive and finite: got {}", gamma);
    check(step_size > 0, op, "step_size must be > 0: got {}", step_size);
}

double StepDecay::lr_at(int64_t step) const {
    check(step >= 0, "StepDecay", "step must be >= 0: got {}", step);
    return lr_ * std::pow(gamma_, static_cast<double>(step / step_size_));
}

}  // namespace ag
