// test_parallel.cpp: the thread pool: chunks that do not depend on the thread count, bitwise
// identical reductions, nested and concurrent calls run inline, exceptions, AG_NUM_THREADS.
#include "core/parallel.hpp"
#include "testing.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

using namespace ag;
using ag::testing::error_of;

namespace {

// parallel_for over two chunks, each waiting (up to 2 s) for the other to start: returns how many
// saw the other start, which is 2 only if they ran at the same time, on two threads.
int chunks_that_met() {
    std::atomic<int> started{0};
    std::atomic<int> saw_other{0};
    parallel_for(0, 2, 1, [&](int64_t, int64_t) {
        ++started;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (started.load() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
        if (started.load() == 2) ++saw_other;
    });
    return saw_other.load();
}

// Sets the thread count for one test, and puts the previous one back after.
class ThreadCount {
public:
    explicit ThreadCount(int n) : previous_(num_threads()) { set_num_threads(n); }
    ~ThreadCount() { set_num_threads(previous_); }
    ThreadCount(const ThreadCount&) = delete;
    ThreadCount& operator=(const ThreadCount&) = delete;

private:
    int previous_;
};

using Chunks = std::vector<std::pair<int64_t, int64_t>>;

// The [b, e) chunks parallel_for hands out, sorted (they run in any order).
Chunks record_chunks(int64_t begin, int64_t end, int64_t grain) {
    Chunks chunks;
    std::mutex mutex;
    parallel_for(begin, end, grain, [&](int64_t b, int64_t e) {
        std::lock_guard lock(mutex);
        chunks.emplace_back(b, e);
    });
    std::sort(chunks.begin(), chunks.end());
    return chunks;
}

// sum(x[0..n)) by the kernel pattern: each chunk summed left to right, chunk sums added in order.
float parallel_sum(const std::vector<float>& x, int64_t grain) {
    return parallel_reduce(
        int64_t{0}, static_cast<int64_t>(x.size()), grain, 0.0f,
        [&](int64_t b, int64_t e) {
            float s = 0.0f;
            for (int64_t i = b; i < e; ++i) s += x[static_cast<size_t>(i)];
            return s;
        },
        [](float acc, float part) { return acc + part; });
}

// Values spanning six orders of magnitude, so the order of the additions shows in the rounding.
std::vector<float> awkward_values(int64_t n, uint64_t seed) {
    Generator gen(seed);
    Tensor t = randn({n}, gen);
    std::vector<float> x = t.to_vector();
    for (size_t i = 0; i < x.size(); ++i) x[i] *= std::pow(10.0f, static_cast<float>(i % 7) - 3.0f);
    return x;
}

// Spins until `flag` is set or 2 s pass (only a broken pool ever waits that long); true if set.
bool wait_for(const std::atomic<bool>& flag) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!flag.load()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::yield();
    }
    return true;
}

}  // namespace

TEST_CASE("parallel_for: the chunks depend only on (begin, end, grain), not the thread count") {
    // [5, 27) in chunks of 7: 5+7 = 12, 12+7 = 19, 19+7 = 26, and the short rest [26, 27)
    const Chunks expected = {{5, 12}, {12, 19}, {19, 26}, {26, 27}};
    CHECK(num_chunks(5, 27, 7) == 4);
    Chunks big_on_one_thread;
    for (int threads : {1, 2, 3, 8}) {
        CAPTURE(threads);
        ThreadCount count(threads);
        CHECK(record_chunks(5, 27, 7) == expected);
        // a range of many chunks: each handed out exactly once, the same ones for every count
        Chunks big = record_chunks(-300, 1000, 64);
        CHECK(big.size() == static_cast<size_t>(num_chunks(-300, 1000, 64)));
        CHECK(big.front() == std::pair<int64_t, int64_t>{-300, -236});
        CHECK(big.back() == std::pair<int64_t, int64_t>{980, 1000});
        if (threads == 1) big_on_one_thread = big;
        CHECK(big == big_on_one_thread);
    }
}

TEST_CASE("parallel_for: a range of at most one grain runs inline, and an empty one not at all") {
    ThreadCount count(4);
    Chunks chunks;
    std::thread::id where;
    parallel_for(3, 10, 7, [&](int64_t b, int64_t e) {
        chunks.emplace_back(b, e);
        where = std::this_thread::get_id();
    });
    CHECK(chunks == Chunks{{3, 10}});
    CHECK(where == std::this_thread::get_id());
    // no pool was involved, so a parallel_for inside this one chunk may still use the pool
    bool inside = true;
    parallel_for(0, 5, 8, [&](int64_t, int64_t) { inside = in_parallel_region(); });
    CHECK(!inside);
    CHECK(record_chunks(4, 4, 8).empty());
    CHECK(record_chunks(9, 2, 8).empty());
    CHECK(num_chunks(9, 2, 8) == 0);
    // the largest grain means "never split"
    const int64_t never = std::numeric_limits<int64_t>::max();
    CHECK(num_chunks(0, 10, never) == 1);
    CHECK(record_chunks(0, 10, never) == Chunks{{0, 10}});
    std::string message = error_of([] { parallel_for(0, 10, 0, [](int64_t, int64_t) {}); });
    CHECK(message.find("[parallel_for] grain must be >= 1, got 0") != std::string::npos);
}

TEST_CASE("parallel_reduce: a float sum is bitwise identical for 1, 2, 3 and 8 threads") {
    const int64_t grain = 64;
    for (int64_t n : {1, 7, 33, 64, 65, 1000, 4097, 100003}) {
        CAPTURE(n);
        std::vector<float> x = awkward_values(n, static_cast<uint64_t>(n));
        // the documented order, spelled out: chunk sums left to right, then added in chunk order
        float expected = 0.0f;
        for (int64_t b = 0; b < n; b += grain) {
            float s = 0.0f;
            for (int64_t i = b; i < std::min(n, b + grain); ++i) s += x[static_cast<size_t>(i)];
            expected = b == 0 ? s : expected + s;
        }
        for (int threads : {1, 2, 3, 8}) {
            CAPTURE(threads);
            ThreadCount count(threads);
            CHECK(std::bit_cast<uint32_t>(parallel_sum(x, grain)) == std::bit_cast<uint32_t>(expected));
        }
    }
    // the test has teeth: for this data, adding in another order rounds differently
    std::vector<float> x = awkward_values(100003, 100003);
    float left_to_right = 0.0f;
    for (float v : x) left_to_right += v;
    CHECK(std::bit_cast<uint32_t>(left_to_right) != std::bit_cast<uint32_t>(parallel_sum(x, grain)));
    // a combine that is not commutative sees the partials in chunk order, the identity never
    {
        ThreadCount count(8);
        std::vector<int64_t> firsts = parallel_reduce(
            int64_t{0}, int64_t{1000}, grain, std::vector<int64_t>{-1},
            [](int64_t b, int64_t) { return std::vector<int64_t>{b}; },
            [](std::vector<int64_t> acc, const std::vector<int64_t>& part) {
                acc.insert(acc.end(), part.begin(), part.end());
                return acc;
            });
        std::vector<int64_t> expected_firsts;
        for (int64_t b = 0; b < 1000; b += grain) expected_firsts.push_back(b);
        CHECK(firsts == expected_firsts);
    }
    CHECK(parallel_reduce(int64_t{5}, int64_t{5}, grain, -1.5f, [](int64_t, int64_t) { return 0.0f; },
                          [](float a, float b) { return a + b; }) == -1.5f);  // empty: the identity
}

TEST_CASE("parallel_for: with 2 threads, two chunks run at the same time, also right after a resize") {
    ThreadCount count(2);
    // each chunk waits for the other to start: only possible if they run concurrently. Resizing
    // first catches a worker that, first scheduled after the job was published, skipped it.
    for (int attempt = 0; attempt < 10; ++attempt) {
        CAPTURE(attempt);
        set_num_threads(1);
        set_num_threads(2);
        const int met = chunks_that_met();
        CHECK(met == 2);
        if (met != 2) break;  // each failure costs the 2 s timeout
    }
}

TEST_CASE("parallel_for: a worker that has stopped spinning and gone to sleep wakes for the next job") {
    // Between calls a few microseconds apart the worker spins and never sleeps (parallel.cpp), so
    // the other tests hardly reach the condition-variable path. Here each job comes 20 ms after
    // the last, far past the 1 ms spin, and its two chunks must still run at the same time.
    ThreadCount count(2);
    for (int attempt = 0; attempt < 3; ++attempt) {
        CAPTURE(attempt);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const int met = chunks_that_met();
        CHECK(met == 2);
        if (met != 2) break;  // each failure costs the 2 s timeout
    }
}

TEST_CASE("parallel_for: a nested call runs inline on the chunk's thread, in chunk order") {
    ThreadCount count(4);
    CHECK(!in_parallel_region());
    std::vector<std::vector<std::pair<int64_t, int64_t>>> inner(8);
    std::vector<int> inner_on_own_thread(8, 0);
    std::vector<int> inside(8, 0);
    parallel_for(0, 8, 1, [&](int64_t b, int64_t) {
        std::thread::id outer_thread = std::this_thread::get_id();
        inside[static_cast<size_t>(b)] = in_parallel_region();
        int own = 1;
        parallel_for(0, 10, 3, [&](int64_t ib, int64_t ie) {
            inner[static_cast<size_t>(b)].emplace_back(ib, ie);  // no lock: inline means this thread only
            own = own && std::this_thread::get_id() == outer_thread;
        });
        inner_on_own_thread[static_cast<size_t>(b)] = own;
    });
    for (size_t k = 0; k < 8; ++k) {
        CAPTURE(k);
        CHECK(inside[k] == 1);
        CHECK(inner_on_own_thread[k] == 1);
        CHECK(inner[k] == Chunks{{0, 3}, {3, 6}, {6, 9}, {9, 10}});  // serial, so in order
    }
    CHECK(!in_parallel_region());
}

TEST_CASE("parallel_for: a call from another thread while the pool is busy runs inline there") {
    ThreadCount count(2);
    std::atomic<bool> pool_busy{false}, other_done{false};
    bool released = false;
    std::vector<std::thread::id> other_chunks;
    std::thread::id other_id;
    // chunk 0 holds the pool until the other thread's parallel_for has finished
    std::thread other([&] {
        wait_for(pool_busy);
        other_id = std::this_thread::get_id();
        parallel_for(0, 6, 1, [&](int64_t, int64_t) { other_chunks.push_back(std::this_thread::get_id()); });
        other_done = true;
    });
    parallel_for(0, 2, 1, [&](int64_t b, int64_t) {
        if (b != 0) return;
        pool_busy = true;
        released = wait_for(other_done);  // a pool that made the other thread wait would time out here
    });
    other.join();
    CHECK(released);
    CHECK(other_chunks == std::vector<std::thread::id>(6, other_id));
}

TEST_CASE("parallel_for: an exception in a chunk reaches the caller, and the pool stays usable") {
    std::vector<float> x = awkward_values(1000, 3);
    for (int threads : {1, 3}) {
        CAPTURE(threads);
        ThreadCount count(threads);
        float before = parallel_sum(x, 64);
        // one chunk throws
        std::string message = error_of([] {
            parallel_for(0, 100, 1, [](int64_t b, int64_t) {
                if (b == 37) fail("test", "chunk {} failed", b);
            });
        });
        CHECK(message == "[test] chunk 37 failed");
        // every chunk throws: exactly one of them is rethrown
        message = error_of([] { parallel_for(0, 100, 1, [](int64_t b, int64_t) { fail("test", "chunk {}", b); }); });
        CHECK(message.rfind("[test] chunk ", 0) == 0);
        // the exception keeps its type
        CHECK_THROWS_AS(parallel_for(0, 100, 10, [](int64_t, int64_t) { throw std::out_of_range("x"); }), std::out_of_range);
        // and the pool still works, with the same result
        CHECK(num_threads() == threads);
        CHECK(std::bit_cast<uint32_t>(parallel_sum(x, 64)) == std::bit_cast<uint32_t>(before));
    }
}

TEST_CASE("set_num_threads: round trip, and bad counts are refused") {
    int before = num_threads();
    CHECK(before >= 1);
    set_num_threads(3);
    CHECK(num_threads() == 3);
    set_num_threads(1);
    CHECK(num_threads() == 1);
    set_num_threads(before);
    CHECK(num_threads() == before);

    std::string message = error_of([] { set_num_threads(0); });
    CHECK(message.find("[set_num_threads]") != std::string::npos);
    CHECK(message.find("got 0") != std::string::npos);
    CHECK(error_of([] { set_num_threads(kMaxThreads + 1); }).find("got 1025") != std::string::npos);
    // resizing the pool from inside it would join the very thread that asks
    ThreadCount count(2);
    message = error_of([] { parallel_for(0, 2, 1, [](int64_t, int64_t) { set_num_threads(1); }); });
    CHECK(message.find("[set_num_threads] called inside a parallel_for chunk") != std::string::npos);
    CHECK(num_threads() == 2);
}

TEST_CASE("parse_num_threads: AG_NUM_THREADS is a whole number in [1, 1024], else the core count") {
    CHECK(parse_num_threads("1") == 1);
    CHECK(parse_num_threads("4") == 4);
    CHECK(parse_num_threads("1024") == 1024);
    // unset or empty: one thread per core
    int cores = std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, kMaxThreads);
    CHECK(parse_num_threads(nullptr) == cores);
    CHECK(parse_num_threads("") == cores);
    for (const char* bad : {"0", "-2", "four", "4 ", " 4", "+4", "4.0", "2x", "1025", "99999999999"}) {
        CAPTURE(bad);
        std::string message = error_of([&] { parse_num_threads(bad); });
        CHECK(message.find("AG_NUM_THREADS") != std::string::npos);
        CHECK(message.find(fmt::format("got \"{}\"", bad)) != std::string::npos);
    }
}
