// optimizer.hpp: what every optimizer shares: parameter groups, zero_grad, learning rates, and
// the layout of its saved state.
//
// A training step reads:
//
//   opt.zero_grad();                      // grads dropped (zero_grad(false): := 0, buffers kept)
//   loss.backward();                      // grads += dloss/dparam
//   clip_grad_norm(opt.all_params(), 1);  // optional (clip.hpp)
//   opt.set_lr(schedule.lr_at(step));     // optional (lr_scheduler.hpp)
//   opt.step();                           // param := update(param, grad, state)
//
// Parameters come in groups, each with its own options (as torch.optim's param_groups), e.g. one
// group with weight decay for the matrices and one without for biases and norms.
//
// The state (moment buffers, step counts) is kept per parameter and saved by the parameter's
// index counted over all groups in order, as PyTorch does:
//   tensors   state.<i>.<buffer>               e.g. state.0.exp_avg, state.3.momentum_buffer
//   metadata  optimizer = Adam, param_groups = 2, param_groups.<g>.num_params = 5,
//             param_groups.<g>.<option> = value, state.<i>.step = 10
// A StateDict of this shape is exactly what save_safetensors writes.
#pragma once

#include "core/safetensors.hpp"
#include "core/tensor.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ag {

/// One parameter group: its tensors and the options they are updated with.
template <class Options>
struct ParamGroup {
    std::vector<Tensor> params;
    Options options;
};

/// The interface the training loop and the schedulers use, whatever the update rule.
class Optimizer {
public:
    virtual ~Optimizer() = default;
    // NOTE: not copyable: a copy would share its moment buffers with the original
    Optimizer(const Optimizer&) = delete;
    Optimizer& operator=(const Optimizer&) = delete;

    /// Updates every parameter that has a gradient, one fused pass each, under NoGradGuard.
    virtual void step() = 0;
    /// Drops every parameter's gradient (PyTorch 2's default, set_to_none = true): the next
    /// backward hands its gradient over instead of adding it to zeros, and a parameter no
    /// gradient reaches is skipped by step(). With set_to_none = false, fills them with zeros
    /// and keeps the buffers (Tensor::zero_grad).
    void zero_grad(bool set_to_none = true);

    /// Number of parameter groups.
    int num_groups() const { return group_count(); }
    /// The parameters of group `group`.
    const std::vector<Tensor>& params(int group) const;
    /// Every parameter, group after group (the order of the state indices).
    std::vector<Tensor> all_params() const;
    /// The learning rate of group `group`.
    double lr(int group) const;
    /// Sets the learning rate of group `group` (finite, >= 0: a schedule may end at 0).
    void set_lr(int group, double lr);
    /// Sets the learning rate of every group.
    void set_lr(double lr);

    /// The state: buffers per parameter index and every group's options (see the file header).
    virtual StateDict state_dict() const = 0;
    /// Restores a state_dict(): checks every count, name and shape first, changes nothing on error.
    virtual void load_state_dict(const StateDict& state) = 0;

    /// "SGD", "Adam" or "AdamW": the first word of every error message.
    const std::string& name() const { return name_; }

protected:
    explicit Optimizer(std::string name) : name_(std::move(name)) {}

    // The hooks through which this class sees a derived class's groups (indices already checked).
    virtual int group_count() const = 0;
    virtual const std::vector<Tensor>& group_params(int group) const = 0;
    virtual double group_lr(int group) const = 0;
    virtual void set_group_lr(int group, double lr) = 0;

    /// Checks the groups once built: some parameters, all defined leaves, none in two groups.
    void check_params() const;
    /// Total number of parameters over all groups.
    int64_t num_params() const;

    // --- state dict helpers (the layout in the file header) -----------------------------------
    /// Writes optimizer name, group count and each group's parameter count.
    void write_layout(StateDict& state) const;
    /// Checks the optimizer name, group count and per-group parameter counts against ours.
    void check_layout(const StateDict& state) const;
    /// What a saved state holds for one parameter: its buffers and its scalars (Adam's step).
    struct SavedParamState {
        std::map<std::string, Tensor> buffers;
        std::map<std::string, std::string> scalars;
    };
    /// The per-parameter part of `state`, by parameter index. Checks that every tensor is called
    /// state.<i>.<one of buffers> with the shape of parameter i, and every metadata key starting
    /// with "state." is state.<i>.<one of scalars>, with i in range.
    std::vector<SavedParamState> read_param_state(const StateDict& state, const std::vector<std::string>& buffers,
                                                  const std::vector<std::string>& scalars) const;
    /// The op name for errors raised while loading ("Adam.load_state_dict").
    std::string load_op() const { return name_ + ".load_state_dict"; }

private:
    std::string name_;
};

/// Formats a number so that parsing it gives back the same double (for metadata).
std::string format_number(double value);
/// Metadata value `key` as a double; throws "[op] ..." naming the key if missing or not a number.
double read_number(const StateDict& state, const std::string& key, std::string_view op);
/// Metadata value `key` as an integer; throws if missing or not an integer.
int64_t read_integer(const StateDict& state, const std::string& key, std::string_view op);
/// Metadata value `key` as a bool ("true"/"false"); throws otherwise.
bool read_bool(const StateDict& state, const std::string& key, std::string_view op);

}  // namespace ag
