// readme_example.cpp: the usage example of README.md ("Using it"), built and run by `meson test`
// so the README cannot show code that does not compile or run. scripts/check_readme.py checks that
// the README quotes the lines between the two markers below, character for character.
//
// A linear classifier of 3 features into 2 classes, trained with Adam on cross-entropy:
//   x: [4, 3]   logits = x Wᵀ + b: [4, 2]   target: [4] class indices
#include "attograd.hpp"

#include <fmt/core.h>

int main() {
    // README begin
    ag::Generator gen(0);
    ag::Linear layer(3, 2, gen);                        // W: [2, 3], b: [2], PyTorch's init
    ag::Tensor x = ag::randn({4, 3}, gen);              // 4 samples, 3 features
    ag::Tensor target = ag::tensor({0.0f, 1.0f, 1.0f, 0.0f});
    ag::Adam opt(layer.parameters(), {.lr = 0.1});
    for (int step = 0; step <= 60; ++step) {
        opt.zero_grad();
        ag::Tensor loss = ag::cross_entropy(layer.forward(x), target);
        loss.backward();                                // fills W.grad and b.grad
        opt.step();
        if (step % 20 == 0) fmt::print("step {:2}  loss {:.4f}\n", step, loss.item());
    }
    fmt::print("{}\n", ag::softmax(layer.forward(x)));  // class probabilities per sample
    // README end
}
