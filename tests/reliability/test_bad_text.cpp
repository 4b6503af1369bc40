// Bad text: dataset files that are missing, empty, binary, invalid UTF-8, with a 100 MB line, with
// no tab or one label only; unknown labels at evaluation; vocabulary and label files that do not
// parse; and the tokenizer on arbitrary bytes. Errors name the file (and line) and the value.
#include "reliability/bad_input.hpp"
#include "temp_dir.hpp"

#include "dataset.hpp"
#include "labels.hpp"
#include "tokenizer.hpp"
#include "utf8.hpp"
#include "vocab.hpp"

#include <cstdio>
#include <filesystem>

using namespace ag::testing;
using namespace textclf;

TEST_CASE("bad text: dataset files") {
    TempDir dir;
    std::string path = dir.path("train.tsv");
    auto read_bytes_as_tsv = [&](const std::string& bytes, std::initializer_list<std::string_view> fragments,
                                 std::source_location at = std::source_location::current()) {
        write_bytes(path, bytes);
        expect_error([&] { read_tsv(path); }, fragments, at);
    };
    expect_error([&] { read_tsv(dir.path("missing.tsv")); }, {"[tsv]", "missing.tsv", "No such file or directory"});
    expect_error([&] { read_tsv(dir.path("")); }, {"[tsv]", "is a directory"});
    read_bytes_as_tsv("", {"[tsv]", "train.tsv is empty"});
    // an endless device ends at once: its zeros are NUL bytes
    expect_error([&] { read_tsv("/dev/zero"); }, {"[tsv]", "/dev/zero:1", "NUL byte"});
    read_bytes_as_tsv("\n  \n\t\n", {"[tsv]", "train.tsv has no examples", "3 lines: 3 blank"});
    // binary: a PNG signature and a NUL on the first line, a NUL later on
    read_bytes_as_tsv(std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16), {"[tsv]", "train.tsv:1", "binary file"});
    read_bytes_as_tsv(std::string("en\tok\n\x1a\0\0\n", 9), {"[tsv]", "train.tsv:2", "NUL byte", "binary"});
    read_bytes_as_tsv(std::string("en\thello\nde\thal\0lo\n", 19), {"[tsv]", "train.tsv:2", "NUL byte"});
    read_bytes_as_tsv("en hello\n", {"[tsv]", "train.tsv:1", "no tab"});
    read_bytes_as_tsv("en\thello\nde hallo\n", {"[tsv]", "train.tsv:2", "no tab"});
    read_bytes_as_tsv("\thello\n", {"[tsv]", "train.tsv:1", "empty label"});
    read_bytes_as_tsv("en\t   \n", {"[tsv]", "train.tsv:1", "empty text"});
    // split: too few examples for train, valid and test
    std::vector<Example> two = parse_tsv("en\ta\nde\tb\n", "two");
    expect_error([&] { split_examples(two, 1, 0.1, 0.1); }, {"[split]", "2 examples are too few"});
    expect_error([&] { split_examples(two, 1, 0.6, 0.5); }, {"[split]", "0.6", "0.5"});
    expect_error([&] { split_examples(two, 1, -0.1, 0.1); }, {"[split]", "-0.1"});
}

TEST_CASE("bad text: invalid UTF-8 is repaired and reported, never passed on") {
    TempDir dir;
    std::string path = dir.path("train.tsv");
    write_bytes(path, "en\thello \xff world\nde\tgr\xc3\xbc\xc3 \xed\xa0\x80 ok\nen\tfine\n");
    LoadReport report;
    std::vector<Example> examples = read_tsv(path, {}, &report);
    REQUIRE(examples.size() == 3);
    CHECK(report.repaired_utf8 == 2);
    for (const Example& e : examples) CHECK(is_valid_utf8(e.text));
    CHECK(examples[0].text == "hello \xEF\xBF\xBD world");
    CHECK(format_report(report, examples).find("2 lines had invalid UTF-8") != std::string::npos);
}

TEST_CASE("bad text: a 100 MB line is rejected without being held in memory") {
    TempDir dir;
    std::string path = dir.path("huge.tsv");
    {
        std::FILE* f = std::fopen(path.c_str(), "wb");
        REQUIRE(f != nullptr);
        std::fputs("en\tshort line\nde\t", f);
        std::string chunk(1 << 20, 'a');
        for (int i = 0; i < 100; ++i) std::fwrite(chunk.data(), 1, chunk.size(), f);  // 100 MB, no newline
        std::fputs("\nde\tanother short line\n", f);
        std::fclose(f);
    }
    expect_error([&] { read_tsv(path); }, {"[tsv]", "huge.tsv:2", "longer than 1048576 bytes"});
    // skipped when asked to, and counted; the lines around it survive
    TsvOptions skip;
    skip.skip_malformed = true;
    LoadReport report;
    int64_t bytes_before = ag::allocated_bytes();
    std::vector<Example> examples = read_tsv(path, skip, &report);
    CHECK(ag::allocated_bytes() == bytes_before);
    CHECK(examples.size() == 2);
    CHECK(report.skipped == 1);
    CHECK(report.problems.at(0).find("huge.tsv:2") != std::string::npos);
    std::filesystem::remove(path);
}

TEST_CASE("bad text: labels") {
    std::vector<Example> one_label = parse_tsv("en\thello\nen\tworld\n", "train.tsv");
    expect_error([&] { LabelSet::from_examples(one_label, "train.tsv"); },
                 {"[labels]", "train.tsv", "one label only, 'en'", "at least 2"});
    expect_error([] { LabelSet::from_names({"de", "de"}, "labels.txt"); }, {"[labels]", "duplicate label 'de'"});
    expect_error([] { LabelSet::from_names({"de", ""}, "labels.txt"); }, {"[labels]", "labels.txt", "empty"});
    LabelSet labels = LabelSet::from_names({"de", "en"}, "labels.txt");
    // a label at evaluation that training never saw
    expect_error([&] { labels.id("fr", "valid.tsv:7"); }, {"[labels]", "valid.tsv:7", "unknown label 'fr'", "de, en"});
    std::vector<Example> valid = parse_tsv("de\thallo\nfr\tbonjour\n", "valid.tsv");
    expect_error([&] { labels.ids(valid); }, {"[labels]", "valid.tsv:2", "'fr'"});
    expect_error([&] { labels.name(2); }, {"[labels]", "class id 2", "[0, 2)"});
    expect_error([&] { labels.name(-1); }, {"[labels]", "class id -1"});
    TempDir dir;
    write_bytes(dir.path("labels.txt"), "en\n");
    expect_error([&] { LabelSet::load(dir.path("labels.txt")); }, {"[labels]", "1 label(s)"});
    write_bytes(dir.path("labels.txt"), "en\n\xff\n");
    expect_error([&] { LabelSet::load(dir.path("labels.txt")); }, {"labels.txt:2", "invalid UTF-8"});
    expect_error([&] { LabelSet::load(dir.path("none.txt")); }, {"none.txt"});
}

TEST_CASE("bad text: vocabularies") {
    TempDir dir;
    std::string path = dir.path("vocab.txt");
    Vocab vocab = Vocab::build({"a b c", "a b"});
    expect_error([&] { vocab.encode("a b", 0); }, {"[vocab]", "max_len", "0"});
    expect_error([&] { vocab.encode("a b", -3); }, {"[vocab]", "max_len", "-3"});
    expect_error([&] { vocab.token(vocab.size()); }, {"[vocab]", "out of range"});
    expect_error([&] { vocab.token(-1); }, {"[vocab]", "id -1"});
    VocabOptions bad;
    bad.min_count = 0;
    expect_error([&] { Vocab::build({"a"}, bad); }, {"[vocab]", "min_count", "0"});
    bad = VocabOptions{};
    bad.max_size = 1;
    expect_error([&] { Vocab::build({"a"}, bad); }, {"[vocab]", "max_size", "1"});
    expect_error([&] { Vocab::load(dir.path("missing.txt")); }, {"missing.txt"});
    write_bytes(path, "");
    expect_error([&] { Vocab::load(path); }, {"vocab.txt"});
    write_bytes(path, "<pad>\n<unk>\nhello\nhello\n");
    expect_error([&] { Vocab::load(path); }, {"vocab.txt:4", "duplicate", "'hello'"});
    write_bytes(path, "hello\n<pad>\n<unk>\n");
    expect_error([&] { Vocab::load(path); }, {"vocab.txt"});
    write_bytes(path, std::string("<pad>\n<unk>\nhel\0lo\n", 17));
    expect_error([&] { Vocab::load(path); }, {"vocab.txt:3", "NUL"});
    write_bytes(path, "<pad>\n<unk>\nbad\xc3\n");
    expect_error([&] { Vocab::load(path); }, {"vocab.txt:3", "invalid UTF-8"});
}

TEST_CASE("bad text: the tokenizer takes any bytes and gives valid, bounded tokens") {
    ag::Generator gen(5);
    for (int trial = 0; trial < 200; ++trial) {
        std::string bytes(static_cast<size_t>(gen.next_below(400)), '\0');
        for (char& c : bytes) c = static_cast<char>(gen.next_below(256));
        for (const std::string& token : tokenize(bytes)) {
            CHECK(!token.empty());
            CHECK(token.size() <= kMaxTokenBytes);
            CHECK(is_valid_utf8(token));
        }
    }
    CHECK(tokenize(std::string(10'000, 'x')).at(0).size() <= kMaxTokenBytes);
    CHECK(tokenize("a b c d", 2).size() == 2);
    CHECK(tokenize("").empty());
}
