// parallel.cpp: the thread pool behind parallel_for (the design is in parallel.hpp).
//
// One job at a time. The thread that owns the pool (it holds owner_) puts a pointer to its Job,
// which lives on its stack, in job_, bumps generation_ and wakes the workers. Everyone, the
// caller included, then claims chunk numbers from job.next_chunk until none are left. A worker
// that joins counts itself in active_; the caller waits for active_ == 0 before clearing job_ and
// returning, so no worker can touch the Job after it is gone. A worker that wakes after that
// finds job_ empty and goes back to sleep: the caller never waits for a worker that has not woken.
//
// Spin, then sleep. A thread that runs out of work does not block on its condition variable at
// once: it first polls for up to kSpinTime (a worker for the next job, the caller for the workers
// to finish). Blocking is a futex syscall on each side, and waking a thread whose core has gone
// idle costs tens of microseconds, far more on a virtual machine, where an idle vCPU is halted and
// the hypervisor must schedule it again. A training step runs about twenty parallel_for calls with
// a little serial work between them, so those wake-ups were most of what 2 threads lost: on the
// 2-vCPU machine the benchmark step went from about 18 ms to 11 ms. OpenMP runtimes do the same
// (libgomp's GOMP_SPINCOUNT, Intel's KMP_BLOCKTIME). Polling reads one atomic and then pauses
// (`pause` on x86), so a spinning thread leaves its core's other hyperthread nearly all the core;
// after kSpinTime the thread blocks as before, so an idle program does not burn a core.
// The spin changes only who notices first: every decision is still made under mutex_, with the
// same predicates as the condition-variable waits.
#include "core/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string_view>
#include <thread>

namespace ag {

namespace {

thread_local bool t_in_parallel = false;

// How long a thread out of work polls before it blocks (see the top of the file). Longer than the
// serial gaps between a training step's parallel_for calls (measured: 300 µs caught nearly all of
// them, 100 µs about half), short enough that an idle program stops spinning at once.
constexpr auto kSpinTime = std::chrono::microseconds(1000);

// A hint to the core that this is a spin-wait loop: it yields the core's resources to the other
// hyperthread and avoids the memory-order flush on exit. (No equivalent needed elsewhere.)
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// Polls until done() or kSpinTime has passed; returns done(). The clock is read once every 64
// polls (a poll is a load and a pause, tens of nanoseconds; a clock read is about as long).
template <class Done>
bool spin_until(Done done) {
    const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
    for (;;) {
        for (int i = 0; i < 64; ++i) {
            if (done()) return true;
            cpu_relax();
        }
        if (std::chrono::steady_clock::now() >= deadline) return done();
    }
}

// Marks this thread as running chunks, for the guard's lifetime.
class ParallelRegion {
public:
    ParallelRegion() : previous_(t_in_parallel) { t_in_parallel = true; }
    ~ParallelRegion() { t_in_parallel = previous_; }
    ParallelRegion(const ParallelRegion&) = delete;
    ParallelRegion& operator=(const ParallelRegion&) = delete;

private:
    bool previous_;
};

// One parallel_for call as the pool sees it.
struct Job {
    Job(detail::ChunkFn chunk_fn, void* f, int64_t begin, int64_t end, int64_t grain)
        : chunk_fn(chunk_fn), f(f), begin(begin), end(end), grain(grain), num_chunks(ag::num_chunks(begin, end, grain)) {}

    detail::ChunkFn chunk_fn;
    void* f;
    int64_t begin, end, grain, num_chunks;
    std::atomic<int64_t> next_chunk{0};  // the next chunk number nobody has claimed yet
    std::atomic<bool> failed{false};     // a chunk threw: claim no more
    std::exception_ptr error;            // the first exception, written only by whoever set `failed`
};

// Claims and runs chunks of `job` until none are left or one has thrown.
void work_on(Job& job) {
    ParallelRegion region;
    while (!job.failed.load()) {
        int64_t k = job.next_chunk.fetch_add(1);
        if (k >= job.num_chunks) break;
        int64_t b = job.begin + k * job.grain;
        try {
            job.chunk_fn(job.f, b, std::min(job.end, b + job.grain));
        } catch (...) {
            if (!job.failed.exchange(true)) job.error = std::current_exception();
        }
    }
}

// Every chunk on this thread, in chunk order: the same chunks as the pool would run.
void run_inline(int64_t begin, int64_t end, int64_t grain, detail::ChunkFn chunk_fn, void* f) {
    ParallelRegion region;
    for (int64_t b = begin; b < end; b += grain) chunk_fn(f, b, std::min(end, b + grain));
}

class ThreadPool {
public:
    ~ThreadPool() { stop_workers(); }

    // The thread count; on first use, starts the pool at AG_NUM_THREADS' count.
    int size() {
        if (int n = size_.load(); n != 0) return n;
        std::lock_guard owner(owner_);
        start_if_needed();
        return size_.load();
    }

    void resize(int n) {
        std::lock_guard owner(owner_);  // waits for a running job to finish
        if (size_.load() == n) return;
        stop_workers();
        start(n);
    }

    // Runs every chunk of [begin, end) on the pool, or inline when the pool is someone else's.
    void run(int64_t begin, int64_t end, int64_t grain, detail::ChunkFn chunk_fn, void* f) {
        // NOTE: try_lock, not lock: another thread's job already has every core busy, so waiting
        // for the pool would only add latency. (try_lock may also fail spuriously; inline is correct.)
        std::unique_lock owner(owner_, std::try_to_lock);
        if (!owner) return run_inline(begin, end, grain, chunk_fn, f);
        start_if_needed();
        if (size_.load() == 1) return run_inline(begin, end, grain, chunk_fn, f);

        // publish the job and wake as many workers as there are chunks beyond the caller's first
        Job job(chunk_fn, f, begin, end, grain);
        {
            std::lock_guard lock(mutex_);
            job_ = &job;
            ++generation_;
        }
        int64_t helpers = std::min(job.num_chunks - 1, static_cast<int64_t>(workers_.size()));
        if (helpers == static_cast<int64_t>(workers_.size())) {
            wake_.notify_all();
        } else {
            for (int64_t i = 0; i < helpers; ++i) wake_.notify_one();
        }

        // take chunks like any worker, then wait for the workers that joined to finish theirs
        work_on(job);
        spin_until([&] { return active_.load() == 0; });  // the workers usually finish within microseconds
        {
            std::unique_lock lock(mutex_);
            done_.wait(lock, [&] { return active_ == 0; });
            job_ = nullptr;
        }
        if (job.error) std::rethrow_exception(job.error);
    }

private:
    // owner_ held.
    void start_if_needed() {
        if (size_.load() == 0) start(parse_num_threads(std::getenv("AG_NUM_THREADS")));
    }

    // owner_ held, no workers. The caller is thread number 1, so n - 1 workers.
    void start(int n) {
        // NOTE: a new thread may first run after the next job is published; reading generation_
        // then would make it skip that job. So it gets the generation of the moment it was made.
        uint64_t now = generation_;  // no job runs while owner_ is held, so nobody writes it
        try {
            for (int i = 1; i < n; ++i) workers_.emplace_back([this, now] { worker_loop(now); });
        } catch (...) {  // the system refused a thread: leave a consistent pool behind
            stop_workers();
            throw;
        }
        size_.store(n);
    }

    // owner_ held (or the process is exiting).
    void stop_workers() {
        {
            std::lock_guard lock(mutex_);
            stop_.store(true);
        }
        wake_.notify_all();
        for (std::thread& worker : workers_) worker.join();
        workers_.clear();
        std::lock_guard lock(mutex_);
        stop_.store(false);
        size_.store(0);
    }

    // `seen`: the last generation this worker knows of; it joins each later job once.
    void worker_loop(uint64_t seen) {
        std::unique_lock lock(mutex_);
        for (;;) {
            // poll for the next job before blocking; the wait below then decides, under the lock
            lock.unlock();
            spin_until([&] { return stop_.load() || generation_.load() != seen; });
            lock.lock();
            wake_.wait(lock, [&] { return stop_ || (job_ != nullptr && generation_ != seen); });
            if (stop_) return;
            seen = generation_;
            Job* job = job_;
            if (job->next_chunk.load() >= job->num_chunks) continue;  // woke too late: all claimed
            ++active_;
            lock.unlock();
            work_on(*job);
            lock.lock();
            if (--active_ == 0) done_.notify_one();
        }
    }

    std::mutex owner_;            // held by the thread whose job the pool runs, or that resizes it
    std::atomic<int> size_{0};    // threads including the caller; 0 until first use
    std::vector<std::thread> workers_;

    std::mutex mutex_;            // guards job_, generation_, active_ and stop_
    std::condition_variable wake_;  // workers wait here for a job or stop_
    std::condition_variable done_;  // the caller waits here for active_ == 0
    // written only under mutex_; the atomics may be polled without it by a spinning thread
    // (spin_until), but every decision is made under the lock
    Job* job_ = nullptr;
    std::atomic<uint64_t> generation_{0};  // bumped per job, so a worker joins each job at most once
    std::atomic<int> active_{0};           // workers inside work_on(*job_)
    std::atomic<bool> stop_{false};
};

ThreadPool& pool() {
    static ThreadPool the_pool;
    return the_pool;
}

}  // namespace

int num_threads() { return pool().size(); }

void set_num_threads(int n) {
    check(n >= 1 && n <= kMaxThreads, "set_num_threads", "thread count must be in [1, {}], got {}", kMaxThreads, n);
    check(!t_in_parallel, "set_num_threads", "called inside a parallel_for chunk; resize between ops");
    pool().resize(n);
}

int parse_num_threads(const char* value) {
    if (value == nullptr || *value == '\0') {
        int cores = static_cast<int>(std::thread::hardware_concurrency());  // 0 if unknown
        return std::clamp(cores, 1, kMaxThreads);
    }
    // the whole string must be the number: "4 ", "4x", "+4", "0x4" and "-1" are all refused
    std::string_view text(value);
    int n = 0;
    auto [rest, status] = std::from_chars(text.data(), text.data() + text.size(), n);
    bool whole = status == std::errc() && rest == text.data() + text.size();
    check(whole && n >= 1 && n <= kMaxThreads, "num_threads",
          "AG_NUM_THREADS must be a whole number in [1, {}], got \"{}\"", kMaxThreads, text);
    return n;
}

bool in_parallel_region() { return t_in_parallel; }

void detail::bad_grain(const char* op, int64_t grain) { fail(op, "grain must be >= 1, got {}", grain); }

void detail::run_chunks(int64_t begin, int64_t end, int64_t grain, ChunkFn chunk_fn, void* f) {
    // a nested call: the threads are busy one level up
    if (t_in_parallel) return run_inline(begin, end, grain, chunk_fn, f);
    pool().run(begin, end, grain, chunk_fn, f);
}

}  // namespace ag
