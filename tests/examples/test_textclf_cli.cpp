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
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

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

std::string textclf_path() {
    if (const char* path = std::getenv("TEXTCLF_PATH"); path && *path) return path;
    return (fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "examples/text_classifier/textclf").string();
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
