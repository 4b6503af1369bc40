// quickstart.cpp: the smallest complete use of attograd: fit a curve with a two-layer network.
//
// It shows the whole autograd loop with nothing hidden: build a graph by calling ops, call
// backward() on the loss, read each parameter's grad(), update the parameters with the graph off.
//
//   x: [N, 1] points in [-3, 3]      y = sin(x): [N, 1] targets
//   h = tanh(x @ w1 + b1)            w1: [1, H], b1: [H]
//   ŷ = h @ w2 + b2                  w2: [H, 1], b2: [1]
//   loss = mean((ŷ - y)²)
#include "attograd.hpp"

#include <cmath>
#include <cstdio>
#include <vector>

int main() {
    constexpr int64_t N = 64, H = 32;
    constexpr int kSteps = 2000;
    constexpr float kLearningRate = 0.05f;

    // data: y = sin(x) on an even grid
    ag::Tensor x = ag::arange(-3.0f, 3.0f, 6.0f / N);
    x = ag::reshape(x, {N, 1});
    ag::Tensor y = ag::empty({N, 1});
    for (int64_t i = 0; i < N; ++i) y.data()[i] = std::sin(x.data()[i]);

    // parameters: small random weights, zero biases
    ag::Generator gen(0);
    ag::Tensor w1 = ag::randn({1, H}, gen), b1 = ag::zeros({H});
    ag::Tensor w2 = ag::randn({H, 1}, gen) * (1.0f / std::sqrt(float(H))), b2 = ag::zeros({1});
    std::vector<ag::Tensor> params{w1, b1, w2, b2};
    for (ag::Tensor& p : params) p.requires_grad_();

    for (int step = 0; step <= kSteps; ++step) {
        // forward: every op records itself in the graph
        ag::Tensor h = ag::tanh(ag::matmul(x, w1) + b1);
        ag::Tensor prediction = ag::matmul(h, w2) + b2;
        ag::Tensor loss = ag::mean(ag::pow(prediction - y, 2.0f));

        // backward: fills p.grad() for every parameter
        for (ag::Tensor& p : params) p.zero_grad();
        loss.backward();

        // update: plain gradient descent, with the graph off
        ag::NoGradGuard no_grad;
        for (ag::Tensor& p : params) {
            float* value = p.data();
            const float* grad = p.grad().data();
            for (int64_t i = 0; i < p.numel(); ++i) value[i] -= kLearningRate * grad[i];
        }
        if (step % 250 == 0) std::printf("step %4d  loss %.6f\n", step, loss.item());
    }
    return 0;
}
