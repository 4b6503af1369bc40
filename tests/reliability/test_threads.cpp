// Thread safety: one model serving several threads at once gives what it gives one thread at a
// time; grad mode and anomaly mode are per thread; threads training their own graphs do not mix;
// the shared thread pool takes parallel_for calls from several user threads at once.
#include "testing.hpp"

#include <atomic>
#include <latch>
#include <thread>

using namespace ag;

namespace {

constexpr int kThreads = 4;
constexpr int kRounds = 10;

// One shared model: attention then a classifier head, in eval mode.
struct Server {
    explicit Server(Generator& gen) : attention(16, 4, gen, 0.2f), head(16, 5, gen) { attention.eval(); }

    Tensor infer(const Tensor& x) {
        NoGradGuard no_grad;
        AttentionOptions options;
        options.is_causal = true;
        return head(attention(x, options).output);
    }

    MultiHeadAttention attention;
    Linear head;
};

// The input of thread t, round r: each different. Big enough (B T D = 4 * 40 * 16) that the
// kernels cut it into several parallel_for chunks.
Tensor input(int t, int r) {
    Generator gen(static_cast<uint64_t>(1000 + 100 * t + r));
    return randn({4, 40, 16}, gen);
}

}  // namespace

TEST_CASE("threads: concurrent inference on one model equals sequential inference, bit for bit") {
    const int64_t nodes_before = live_nodes();
    Generator gen(3);
    Server server(gen);
    // sequential: the reference
    std::vector<std::vector<Tensor>> expected(kThreads);
    for (int t = 0; t < kThreads; ++t)
        for (int r = 0; r < kRounds; ++r) expected[t].push_back(server.infer(input(t, r)));

    std::vector<std::vector<Tensor>> got(kThreads);
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            start.arrive_and_wait();  // all at once, to overlap as much as possible
            for (int r = 0; r < kRounds; ++r) got[t].push_back(server.infer(input(t, r)));
        });
    for (std::thread& th : threads) th.join();

    int mismatches = 0;
    for (int t = 0; t < kThreads; ++t)
        for (int r = 0; r < kRounds; ++r) mismatches += !allclose(got[t][r], expected[t][r], 0.0f, 0.0f);
    CHECK(mismatches == 0);
    CHECK(live_nodes() == nodes_before);  // no-grad inference records nothing, on any thread
}

TEST_CASE("threads: grad mode is per thread") {
    Tensor w = ag::testing::param({3}, 1);
    std::latch both_inside(2), both_checked(2);
    bool recorded_in_no_grad = true, recorded_in_grad = false;
    std::thread inference([&] {
        NoGradGuard no_grad;
        both_inside.arrive_and_wait();  // the other thread is in grad mode now
        recorded_in_no_grad = (w * 2.0f).requires_grad();
        both_checked.arrive_and_wait();
    });
    std::thread training([&] {
        both_inside.arrive_and_wait();  // the other thread is in no-grad mode now
        recorded_in_grad = (w * 2.0f).requires_grad();
        both_checked.arrive_and_wait();
    });
    inference.join();
    training.join();
    CHECK_FALSE(recorded_in_no_grad);
    CHECK(recorded_in_grad);
    CHECK(grad_enabled());
}

TEST_CASE("threads: each thread trains its own graph; gradients equal the sequential ones") {
    const int64_t nodes_before = live_nodes();
    // thread t: loss_t = sum(tanh(x_t W_t) ^ 2), its own leaves
    auto run = [](int t, Tensor& grad) {
        Tensor x = ag::testing::param({64, 48}, static_cast<uint64_t>(10 + t));
        Tensor w = ag::testing::param({48, 32}, static_cast<uint64_t>(20 + t));
        for (int r = 0; r < kRounds; ++r) {
            Tensor y = tanh(matmul(x, w));
            sum(y * y).backward();
        }
        grad = w.grad();
    };
    std::vector<Tensor> expected(kThreads), got(kThreads);
    for (int t = 0; t < kThreads; ++t) run(t, expected[t]);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) threads.emplace_back([&, t] { run(t, got[t]); });
    for (std::thread& th : threads) th.join();
    for (int t = 0; t < kThreads; ++t) CHECK(allclose(got[t], expected[t], 0.0f, 0.0f));
    CHECK(live_nodes() == nodes_before);
}

TEST_CASE("threads: parallel_reduce from several user threads at once, pool of 2 and of 4") {
    std::vector<float> values(1 << 18);
    for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(i % 17) * 0.25f;
    auto total = [&] {
        return parallel_reduce(int64_t{0}, static_cast<int64_t>(values.size()), 4096, 0.0,
                               [&](int64_t b, int64_t e) {
                                   double s = 0;
                                   for (int64_t i = b; i < e; ++i) s += values[static_cast<size_t>(i)];
                                   return s;
                               },
                               [](double a, double b) { return a + b; });
    };
    int previous = num_threads();
    for (int pool : {2, 4}) {
        set_num_threads(pool);
        const double expected = total();
        std::atomic<int> wrong{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&] {
                for (int r = 0; r < 50; ++r) wrong += total() != expected;
            });
        for (std::thread& th : threads) th.join();
        CHECK(wrong == 0);
    }
    set_num_threads(previous);
}
