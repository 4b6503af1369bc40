// Tests of the `textclf` program's command line (examples/text_classifier/textclf.cpp, commands):
// bad flags and files give one line on stderr naming the flag or file and the value, and a
// non-zero exit; the train command's last line is "test accuracy X.XXXX".
// The program is run with std::system: $TEXTCLF_PATH (meson test sets it), else the build's
// examples/text_classifier/textclf next to this test binary's directory.
#include "testing.hpp"

#include "examples/text_classifier/commands.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

using ag::testing::textclf_path;

namespace fs = std::filesystem;
namespace tc = textclf;

namespace {

struct Run {
    int exit_code;
    std::string out, err;
};

std::string slurp(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// Runs `textclf ARGS` through the shell, capturing stdout and stderr.
Run run_textclf(const std::string& args) {
    const fs::path dir = fs::temp_directory_path();
    const std::string tag = std::to_string(getpid());
    const fs::path out = dir / ("textclf_cli_out_" + tag), err = dir / ("textclf_cli_err_" + tag);
    const std::string program = textclf_path();
    REQUIRE_MESSAGE(fs::exists(program), "textclf not built at ", program);
    const std::string command = program + " " + args + " </dev/null >" + out.string() + " 2>" + err.string();
    const int status = std::system(command.c_str());
    Run run{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
    fs::remove(out), fs::remove(err);
    return run;
}

// The run failed with exactly one line on stderr containing every one of `parts`.
void check_error(const Run& run, std::initializer_list<std::string> parts) {
    CAPTURE(run.err);
    CHECK(run.exit_code != 0);
    CHECK(run.out.find("test accuracy") == std::string::npos);
    CHECK(std::count(run.err.begin(), run.err.end(), '\n') == 1);
    for (const std::string& part : parts) CHECK(run.err.find(part) != std::string::npos);
}

}  // namespace

TEST_CASE("textclf cli: --help lists the subcommands") {
    Run run = run_textclf("--help");
    CHECK(run.exit_code == 0);
    for (const char* command : {"train", "eval", "predict", "bench"}) CHECK(run.out.find(command) != std::string::npos);
    CHECK(run_textclf("train --help").out.find("--skip-malformed") != std::string::npos);
}

TEST_CASE("textclf cli: invalid flags are one-line errors naming the flag and the value") {
    check_error(run_textclf("train --data tiny --lr -1"), {"--lr", "-1"});
    check_error(run_textclf("train --data tiny --lr nan"), {"--lr", "nan"});
    check_error(run_textclf("train --data tiny --dropout 1"), {"--dropout", "1"});
    check_error(run_textclf("train --data tiny --batch-size 0"), {"--batch-size", "0"});
    check_error(run_textclf("train --data tiny --max-len 0"), {"--max-len", "0"});
    check_error(run_textclf("train --data tiny --epochs -2"), {"--epochs", "-2"});
    check_error(run_textclf("train --data tiny --d-model 100 --heads 3"), {"--heads", "3", "100"});
    check_error(run_textclf("train --data tiny --threads 0"), {"--threads", "0"});
    check_error(run_textclf("train --data tiny --threads 5000"), {"--threads", "5000"});
    check_error(run_textclf("train --data nope"), {"nope", "tiny"});
    check_error(run_textclf("train"), {"--data", "--train"});
    check_error(run_textclf("train --data tiny --resume"), {"--resume", "--out"});
    check_error(run_textclf("train --data tiny --batch-size ten"), {"--batch-size", "ten"});  // CLI11's own check
    check_error(run_textclf("bench --steps 0"), {"--steps", "0"});
    check_error(run_textclf("predict --model /nonexistent/run hello"), {"/nonexistent/run"});
    check_error(run_textclf("frobnicate"), {"frobnicate"});
}

TEST_CASE("textclf cli: missing, empty and malformed files are clear errors") {
    const fs::path dir = fs::temp_directory_path() / ("textclf_cli_files_" + std::to_string(getpid()));
    fs::create_directories(dir);
    const std::string empty = (dir / "empty.tsv").string(), bad = (dir / "bad.tsv").string();
    std::ofstream(empty).close();
    std::ofstream(bad) << "en\thello there\nno tab here\nde\tguten Tag\n";
    check_error(run_textclf("train --train " + (dir / "missing.tsv").string()), {"missing.tsv"});
    check_error(run_textclf("train --train " + empty), {"empty.tsv", "empty"});
    check_error(run_textclf("train --train " + bad), {"bad.tsv:2"});
    // --skip-malformed skips it (and then fails later for another reason: too few examples to split)
    Run skipped = run_textclf("train -q --skip-malformed --epochs 0 --train " + bad);
    CHECK(skipped.err.find("bad.tsv:2") == std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("textclf cli: train ends with 'test accuracy X.XXXX'") {
    Run run = run_textclf("train --data tiny --epochs 1 --d-model 16 --heads 2 --max-len 16 -q");
    CAPTURE(run.err);
    REQUIRE(run.exit_code == 0);
    const std::string last = run.out.substr(run.out.rfind("test accuracy"));
    CHECK(last.size() == std::string("test accuracy 0.0000\n").size());
    CHECK(last.back() == '\n');
}

TEST_CASE("textclf validate: the checks behind the errors, called directly") {
    tc::TrainArgs args;
    args.config.train.data = "tiny";
    CHECK(ag::testing::error_of([&] { tc::validate(args); }) == "");
    args.config.train.train_file = "x.tsv";
    CHECK(ag::testing::error_of([&] { tc::validate(args); }).find("both") != std::string::npos);
    args.config.train.train_file.clear();
    args.config.model.dropout = -0.1f;
    CHECK(ag::testing::error_of([&] { tc::validate(args); }).find("--dropout") != std::string::npos);
}

TEST_CASE("textclf cli: unknown flags, missing values and unusable data are one-line errors") {
    check_error(run_textclf("train --data tiny --bogus 3"), {"--bogus"});
    check_error(run_textclf("train --data tiny --lr"), {"--lr", "missing"});
    const fs::path dir = fs::temp_directory_path() / ("textclf_cli_data_" + std::to_string(getpid()));
    fs::create_directories(dir);
    const std::string one = (dir / "one.tsv").string();
    std::ofstream out(one);
    for (int i = 0; i < 20; ++i) out << "en\thello number " << i << "\n";
    out.close();
    check_error(run_textclf("train -q --train " + one), {"one label", "'en'"});
    fs::remove_all(dir);
}

// A run of 1 epoch of a small model, written to a fresh DIR, for the checkpoint faults below.
struct SmallRun {
    fs::path dir = fs::temp_directory_path() / ("textclf_cli_run_" + std::to_string(getpid()));
    const std::string flags = "--data tiny --d-model 16 --heads 2 --max-len 16 -q --out " + dir.string();
    SmallRun() {
        fs::remove_all(dir);
        REQUIRE(run_textclf("train --epochs 1 " + flags).exit_code == 0);
    }
    ~SmallRun() { fs::remove_all(dir); }
    // A copy of the run directory in which `change` has broken something.
    std::string broken(const std::string& name, const std::function<void(const fs::path&)>& change) const {
        const fs::path copy = dir.string() + "_" + name;
        fs::remove_all(copy);
        fs::copy(dir, copy);
        change(copy);
        return copy.string();
    }
};

void truncate_file(const fs::path& path, size_t keep) {
    std::string bytes = slurp(path);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, keep);
}

TEST_CASE("textclf cli: a broken run directory names the file and what is wrong (eval, predict, --resume)") {
    SmallRun run;
    const std::string tsv = (run.dir / "unknown_label.tsv").string();
    std::ofstream(tsv) << "xx\thello\n";
    check_error(run_textclf("eval --model " + run.dir.string() + " " + tsv), {"unknown_label.tsv:1", "'xx'"});

    const std::string truncated = run.broken("truncated", [](const fs::path& d) { truncate_file(d / "model.safetensors", 500); });
    check_error(run_textclf("predict --model " + truncated + " hello"), {"model.safetensors", "truncated"});
    check_error(run_textclf("eval --model " + truncated + " " + tsv), {"model.safetensors", "truncated"});
    const std::string resume_cut = run.broken("resume_cut", [](const fs::path& d) { truncate_file(d / "resume.safetensors", 700); });
    check_error(run_textclf("train --resume --epochs 2 -q --out " + resume_cut), {"resume.safetensors", "truncated"});

    // config.json of another shape than the weights (d_model 16 -> 32)
    auto wider = [](const fs::path& d) {
        std::string config = slurp(d / "config.json");
        const size_t at = config.find("\"d_model\": 16");
        REQUIRE(at != std::string::npos);
        config.replace(at, 13, "\"d_model\": 32");
        std::ofstream(d / "config.json", std::ios::trunc) << config;
    };
    const std::string other = run.broken("other_config", wider);
    check_error(run_textclf("predict --model " + other + " hello"), {"model.safetensors", "config.json", "(4, 32)"});
    check_error(run_textclf("train --resume --epochs 2 -q --out " + other), {"resume.safetensors", "config.json"});

    // a vocabulary of another size than the checkpoint's
    const std::string vocab = run.broken("vocab", [](const fs::path& d) { std::ofstream(d / "vocab.txt", std::ios::app) << "extra\n"; });
    check_error(run_textclf("predict --model " + vocab + " hello"), {"vocab.txt", "config.json"});
    for (const char* name : {"truncated", "resume_cut", "other_config", "vocab"}) fs::remove_all(run.dir.string() + "_" + name);
}

TEST_CASE("textclf cli: --resume with a flag that differs from the run's is an error naming both values") {
    SmallRun run;
    check_error(run_textclf("train --resume --epochs 2 --lr 0.5 -q --out " + run.dir.string()), {"--lr 0.5", "0.001"});
    check_error(run_textclf("train --resume --epochs 2 --d-model 32 -q --out " + run.dir.string()), {"--d-model 32", "16"});
    check_error(run_textclf("train --resume --epochs 2 --no-bucketing -q --out " + run.dir.string()), {"--no-bucketing"});
    // the same values as the run's, and --epochs, are fine
    CHECK(run_textclf("train --resume --epochs 2 --d-model 16 --lr 0.001 -q --out " + run.dir.string()).exit_code == 0);
}

// Replaces the first `from` in the file at `path` by `to`.
void replace_in_file(const fs::path& path, const std::string& from, const std::string& to) {
    std::string bytes = slurp(path);
    const size_t at = bytes.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, from, " not in ", path);
    bytes.replace(at, from.size(), to);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TEST_CASE("textclf cli: a non-finite loss stops training, names epoch and step, and keeps the last checkpoint") {
    SmallRun run;
    // the saved run's learning rate becomes huge, in config.json and in Adam's saved state (the same
    // length, so the safetensors header keeps its size): epoch 2 blows up, Adam moves weights by ~lr
    replace_in_file(run.dir / "config.json", "\"lr\": 0.001", "\"lr\": 1e30");
    replace_in_file(run.dir / "resume.safetensors", "\"optim.param_groups.0.lr\":\"0.001\"",
                    "\"optim.param_groups.0.lr\":\"1e+30\"");
    const std::string model_before = slurp(run.dir / "model.safetensors"), resume_before = slurp(run.dir / "resume.safetensors");
    check_error(run_textclf("train --resume --epochs 3 -q --out " + run.dir.string()),
                {"[train]", "epoch 2 step", "checkpoint of epoch 1 is kept", "--lr (got 1e+30)", "--detect-anomaly"});
    CHECK(slurp(run.dir / "model.safetensors") == model_before);
    CHECK(slurp(run.dir / "resume.safetensors") == resume_before);
    CHECK(run_textclf("predict --model " + run.dir.string() + " hello").exit_code == 0);
    // --detect-anomaly names the op that first made a non-finite value
    check_error(run_textclf("train --resume --epochs 3 --detect-anomaly -q --out " + run.dir.string()), {"anomaly in the"});
    // from the start: nothing was saved yet
    check_error(run_textclf("train --data tiny --epochs 2 --lr 1e30 -q --d-model 16 --heads 2 --max-len 16"),
                {"epoch 1 step", "no checkpoint was written"});
}
