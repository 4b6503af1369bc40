// Crash safety of `textclf train` (examples/text_classifier/trainer, checkpoint): the program is
// killed with SIGKILL after random delays (seeded), again and again, each time continued with
// --resume. After every kill the run directory must hold a checkpoint that loads (model.safetensors
// through load_model, resume.safetensors parsed, its metrics a prefix of the uninterrupted run's),
// and the run finished at last must end bitwise where an uninterrupted run ends.
// Checkpoints are saved at epoch ends only, so a resume restarts the epoch that was cut.
// The program is run with posix_spawn: $TEXTCLF_PATH (meson test sets it), else the build's
// examples/text_classifier/textclf.
#include "testing.hpp"

#include "examples/text_classifier/checkpoint.hpp"

#include "core/random.hpp"
#include "core/safetensors.hpp"

#include <chrono>
#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using ag::testing::textclf_path;

namespace fs = std::filesystem;
namespace tc = textclf;
using ag::testing::check_same_tensors;

extern char** environ;

namespace {

// Starts `textclf train` of a small model on the tiny corpus into `dir` (stdout, stderr: /dev/null).
pid_t start_train(const std::string& dir, bool resume) {
    std::vector<std::string> args = {textclf_path(), "train", "--data", "tiny", "--epochs", "20", "--d-model", "16",
                                     "--heads", "2", "--max-len", "16", "--seed", "3", "--threads", "1", "-q",
                                     "--out", dir};
    if (resume) args.push_back("--resume");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&files, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = 0;
    const int error = posix_spawn(&pid, argv[0], &files, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&files);
    REQUIRE_MESSAGE(error == 0, "cannot start ", argv[0], ": ", std::strerror(error));
    return pid;
}

// Waits for `pid`; its exit code, or -1 when a signal ended it.
int wait_exit(pid_t pid) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The metrics of resume.safetensors without the timings (which differ from run to run).
std::vector<tc::EpochMetrics> saved_metrics(const ag::StateDict& state) {
    std::vector<tc::EpochMetrics> out;
    const std::string text = state.metadata.at("metrics");
    for (size_t at = 0, end; at < text.size(); at = end + 1) {
        end = text.find('\n', at);
        if (end == std::string::npos) end = text.size();
        if (end == at) continue;
        tc::EpochMetrics m = tc::from_json_line(text.substr(at, end - at));
        m.seconds = m.samples_per_s = 0;
        out.push_back(m);
    }
    return out;
}

bool same_bits(const tc::EpochMetrics& a, const tc::EpochMetrics& b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("textclf kill: SIGKILL at random moments, then --resume, ends bitwise as an uninterrupted run") {
    const fs::path root = fs::temp_directory_path() / ("attograd_textclf_kill_" + std::to_string(getpid()));
    fs::remove_all(root);
    const std::string whole = (root / "whole").string(), killed = (root / "killed").string();

    // the reference: 20 epochs uninterrupted, timed to spread the kills over the run
    const auto start = std::chrono::steady_clock::now();
    REQUIRE(wait_exit(start_train(whole, false)) == 0);
    const double run_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const std::vector<tc::EpochMetrics> reference = saved_metrics(ag::load_safetensors(whole + "/resume.safetensors"));
    REQUIRE(reference.size() == 20);

    // kill, check, resume; the delays are uniform over [0, run time / 5): a run gets a few epochs
    // further on average, and some kills land in the start-up, some in a save
    // A run that reaches the end before 10 kills (the machine got faster than when the reference
    // was timed) is checked like the final one below, and the killing starts over on a new run.
    ag::Generator gen(2024);
    int kills = 0, finished = 0, epochs_seen_max = 0, early_ends = 0;
    for (int attempt = 0; attempt < 60 && kills < 25 && !finished; ++attempt) {
        const bool resume = fs::exists(killed + "/resume.safetensors");
        const pid_t pid = start_train(killed, resume);
        const auto delay = std::chrono::microseconds(static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(run_ms * 200))));
        std::this_thread::sleep_for(delay);
        kill(pid, SIGKILL);
        const int code = wait_exit(pid);
        if (code == 0 && kills < 10) {
            check_same_tensors(whole + "/resume.safetensors", killed + "/resume.safetensors");
            check_same_tensors(whole + "/model.safetensors", killed + "/model.safetensors");
            fs::remove_all(killed);
            ++early_ends;
            continue;
        }
        if (code == 0) finished = 1;
        else {
            REQUIRE_MESSAGE(code == -1, "textclf failed by itself (exit ", code, ") after a kill");
            ++kills;
        }

        // whatever is on disk loads, and is a prefix of the uninterrupted run
        if (fs::exists(killed + "/model.safetensors")) CHECK_NOTHROW(tc::load_model(killed));
        if (fs::exists(killed + "/resume.safetensors")) {
            ag::StateDict state = ag::load_safetensors(killed + "/resume.safetensors");
            std::vector<tc::EpochMetrics> got = saved_metrics(state);
            CHECK(std::to_string(got.size()) == state.metadata.at("epoch"));
            REQUIRE(got.size() <= reference.size());
            for (size_t e = 0; e < got.size(); ++e) CHECK(same_bits(got[e], reference[e]));
            epochs_seen_max = std::max(epochs_seen_max, static_cast<int>(got.size()));
        }
    }
    // a kill inside a save leaves its temporary file (core/atomic_file: NAME.tmp.PID.N) behind
    int torn_saves = 0;
    if (fs::exists(killed))
        for (const fs::directory_entry& entry : fs::directory_iterator(killed))
            torn_saves += entry.path().filename().string().find(".tmp.") != std::string::npos;
    MESSAGE("textclf kill: ", kills, " kills (", torn_saves, " inside a save), reached epoch ", epochs_seen_max,
            " before the final resume; ", early_ends, " run(s) ended before 10 kills");
    CHECK(kills >= 10);

    // finish the run, then compare with the reference bit for bit
    if (!finished) REQUIRE(wait_exit(start_train(killed, fs::exists(killed + "/resume.safetensors"))) == 0);
    check_same_tensors(whole + "/resume.safetensors", killed + "/resume.safetensors");  // weights, Adam, generators
    check_same_tensors(whole + "/model.safetensors", killed + "/model.safetensors");    // the best weights
    const std::vector<tc::EpochMetrics> final_metrics = saved_metrics(ag::load_safetensors(killed + "/resume.safetensors"));
    REQUIRE(final_metrics.size() == reference.size());
    for (size_t e = 0; e < reference.size(); ++e) CHECK(same_bits(final_metrics[e], reference[e]));
    fs::remove_all(root);
}
