// Tests of the text classifier's data files and corpora (examples/text_classifier/text_file,
// dataset, labels, fortunes, corpus).
#include "temp_dir.hpp"
#include "testing.hpp"

#include "examples/text_classifier/corpus.hpp"
#include "examples/text_classifier/dataset.hpp"
#include "examples/text_classifier/fortunes.hpp"
#include "examples/text_classifier/labels.hpp"
#include "examples/text_classifier/text_file.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>

using ag::testing::error_of;
namespace fs = std::filesystem;
namespace tc = textclf;

using ag::testing::TempDir;

namespace {


bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

std::vector<std::string> texts_of(const std::vector<tc::Example>& examples) {
    std::vector<std::string> texts;
    for (const tc::Example& e : examples) texts.push_back(e.text);
    return texts;
}

// n examples "text i" labelled "a" or "b" alternately.
std::vector<tc::Example> numbered(int n) {
    std::vector<tc::Example> examples;
    for (int i = 0; i < n; ++i) examples.push_back({i % 2 ? "b" : "a", "text " + std::to_string(i), ""});
    return examples;
}

}  // namespace

TEST_CASE("LineReader strips line ends, bounds long lines and rejects NUL bytes") {
    std::string text = "one\r\ntwo\n\n" + std::string(50, 'x') + "\nlast";
    tc::LineReader reader = tc::LineReader::from_text("mem", text, "test", 10);
    std::string line;
    std::vector<std::string> lines;
    std::vector<bool> too_long;
    while (reader.next(line)) {
        lines.push_back(line);
        too_long.push_back(reader.too_long());
    }
    CHECK(lines == std::vector<std::string>{"one", "two", "", "", "last"});
    CHECK(too_long == std::vector<bool>{false, false, false, true, false});
    CHECK(reader.line_number() == 5);
    CHECK(reader.bytes_read() == static_cast<int64_t>(text.size()));

    std::string binary("ok\nab\0cd\n", 9);
    tc::LineReader bad = tc::LineReader::from_text("data.bin", binary, "test", 100);
    CHECK(bad.next(line));
    CHECK(error_of([&] { bad.next(line); }) == "[test] data.bin:2: NUL byte: this is a binary file, not UTF-8 text");
}

TEST_CASE("read_tsv reads labels and texts, CRLF, blank lines and a BOM") {
    TempDir dir;
    std::string path = dir.write("ok.tsv", "\xEF\xBB\xBF" "en\tHello there.\r\n\r\n de \t Guten Tag!\t(formal)\r\nes\t¡Hola!");
    tc::LoadReport report;
    std::vector<tc::Example> examples = tc::read_tsv(path, {}, &report);
    REQUIRE(examples.size() == 3);
    CHECK(examples[0].label == "en");
    CHECK(examples[0].text == "Hello there.");
    CHECK(examples[1].label == "de");
    CHECK(examples[1].text == "Guten Tag!\t(formal)");  // only the first tab separates
    CHECK(examples[1].where == path + ":3");
    CHECK(examples[2].text == "¡Hola!");
    CHECK(report.lines == 4);
    CHECK(report.blank == 1);
    CHECK(report.skipped == 0);
    CHECK(tc::format_report(report, examples) == path + ": 3 examples (de 1, en 1, es 1)");
}

TEST_CASE("read_tsv names the path of a missing, empty or directory file") {
    TempDir dir;
    std::string missing = (dir.dir() / "nope.tsv").string();
    CHECK(error_of([&] { tc::read_tsv(missing); }) == "[tsv] cannot open " + missing + ": No such file or directory");
    std::string empty = dir.write("empty.tsv", "");
    CHECK(error_of([&] { tc::read_tsv(empty); }) == "[tsv] " + empty + " is empty");
    std::string blank = dir.write("blank.tsv", "\n  \r\n\n");
    CHECK(error_of([&] { tc::read_tsv(blank); }) == "[tsv] " + blank + " has no examples (3 lines: 3 blank, 0 malformed)");
    CHECK(error_of([&] { tc::read_tsv(dir.dir().string()); }) ==
          "[tsv] cannot open " + dir.dir().string() + ": it is a directory, not a file");
}

TEST_CASE("read_tsv rejects a binary file") {
    TempDir dir;
    std::string path = dir.write("model.bin", std::string("en\thello\n\x7F" "ELF\0\0\x01\x02", 17));
    tc::TsvOptions skip{.skip_malformed = true};
    // NUL bytes are fatal even when malformed lines are skipped
    CHECK(error_of([&] { tc::read_tsv(path, skip); }) == "[tsv] " + path + ":2: NUL byte: this is a binary file, not UTF-8 text");
}

TEST_CASE("read_tsv: a line without a tab is fatal, or skipped and reported") {
    TempDir dir;
    std::string path = dir.write("f.tsv", "en\tgood line\nno tab here\nde\tgut\n\tno label\nit\t  \n");
    CHECK(error_of([&] { tc::read_tsv(path); }) == "[tsv] " + path + ":2: no tab between label and text");

    tc::LoadReport report;
    std::vector<tc::Example> examples = tc::read_tsv(path, {.skip_malformed = true}, &report);
    CHECK(examples.size() == 2);
    CHECK(report.skipped == 3);
    CHECK(report.problems == std::vector<std::string>{path + ":2: no tab between label and text",
                                                       path + ":4: empty label", path + ":5: empty text"});
    CHECK(contains(tc::format_report(report, examples), "3 malformed lines skipped (first: " + path + ":2: no tab"));

    // every line malformed: no examples is still an error, with the first problem
    std::string bad = dir.write("bad.tsv", "a\nb\n");
    CHECK(error_of([&] { tc::read_tsv(bad, {.skip_malformed = true}); }) ==
          "[tsv] " + bad + " has no examples (2 lines: 0 blank, 2 malformed; first: " + bad + ":1: no tab between label and text)");
}

TEST_CASE("read_tsv: a line over the limit is an error or skipped, never held in memory") {
    TempDir dir;
    // a 3 MB line against the default 1 MiB limit (a 100 MB line goes the same way, only slower)
    std::string path = dir.write("long.tsv", "en\tshort\nen\t" + std::string(3 << 20, 'x') + "\nde\tkurz\n");
    CHECK(error_of([&] { tc::read_tsv(path); }) == "[tsv] " + path + ":2: line longer than 1048576 bytes");
    tc::LoadReport report;
    std::vector<tc::Example> examples = tc::read_tsv(path, {.skip_malformed = true}, &report);
    REQUIRE(examples.size() == 2);
    CHECK(examples[1].where == path + ":3");  // reading resumed after the long line
    CHECK(report.skipped == 1);
    // the limit is an option
    CHECK(error_of([&] { tc::read_tsv(path, {.max_line_bytes = 5}); }) == "[tsv] " + path + ":1: line longer than 5 bytes");
}

TEST_CASE("read_tsv replaces invalid UTF-8 and counts it") {
    TempDir dir;
    std::string path = dir.write("latin1.tsv", "fr\tcaf\xE9 cr\xE8me\nen\tfine\n");
    tc::LoadReport report;
    std::vector<tc::Example> examples = tc::read_tsv(path, {}, &report);
    CHECK(examples[0].text == "caf\xEF\xBF\xBD cr\xEF\xBF\xBDme");
    CHECK(report.repaired_utf8 == 1);
    CHECK(contains(tc::format_report(report, examples), "1 lines had invalid UTF-8"));
}

TEST_CASE("LabelSet sorts labels into ids and needs two classes") {
    std::vector<tc::Example> train = {{"it", "ciao", "t:1"}, {"de", "hallo", "t:2"}, {"en", "hi", "t:3"}, {"de", "tag", "t:4"}};
    tc::LabelSet labels = tc::LabelSet::from_examples(train, "train.tsv");
    CHECK(labels.names() == std::vector<std::string>{"de", "en", "it"});
    CHECK(labels.ids(train) == std::vector<int64_t>{2, 0, 1, 0});
    CHECK(labels.name(1) == "en");

    std::vector<tc::Example> one = {{"en", "a", "x:1"}, {"en", "b", "x:2"}};
    CHECK(error_of([&] { tc::LabelSet::from_examples(one, "one.tsv"); }) ==
          "[labels] one.tsv has one label only, 'en': a classifier needs at least 2 classes");
    CHECK(contains(error_of([&] { tc::LabelSet::from_examples({}, "none.tsv"); }), "none.tsv has no labels"));
}

TEST_CASE("LabelSet: an unknown label at evaluation names its file and line") {
    tc::LabelSet labels = tc::LabelSet::from_names({"de", "en"}, "model");
    std::vector<tc::Example> valid = {{"en", "hi", "valid.tsv:1"}, {"fr", "salut", "valid.tsv:2"}};
    CHECK(error_of([&] { labels.ids(valid); }) == "[labels] valid.tsv:2: unknown label 'fr' (the model knows: de, en)");
    CHECK(contains(error_of([&] { labels.name(2); }), "class id 2 is out of range [0, 2)"));
}

TEST_CASE("LabelSet save and load round trip and validation") {
    TempDir dir;
    tc::LabelSet labels = tc::LabelSet::from_names({"de", "en", "español"}, "test");
    std::string path = (dir.dir() / "labels.txt").string();
    labels.save(path);
    CHECK(tc::LabelSet::load(path).names() == labels.names());

    std::string one = dir.write("one.txt", "en\n");
    CHECK(error_of([&] { tc::LabelSet::load(one); }) == "[labels] " + one + " has 1 label(s): a classifier needs at least 2 classes");
    std::string dup = dir.write("dup.txt", "de\nen\nde\n");
    CHECK(error_of([&] { tc::LabelSet::load(dup); }) == "[labels] " + dup + ":3: duplicate entry 'de' (first at line 1)");
    std::string empty = dir.write("empty.txt", "");
    CHECK(error_of([&] { tc::LabelSet::load(empty); }) == "[labels] " + empty + " is empty");
    CHECK(contains(error_of([&] { labels.save((dir.dir() / "no_dir" / "x.txt").string()); }), "[labels] cannot write"));
}

TEST_CASE("deduplicate keeps the first of equal texts") {
    std::vector<tc::Example> examples = {{"a", "x", ""}, {"b", "y", ""}, {"b", "x", ""}, {"a", "y", ""}, {"a", "z", ""}};
    CHECK(tc::deduplicate(examples) == 2);
    CHECK(texts_of(examples) == std::vector<std::string>{"x", "y", "z"});
    CHECK(examples[0].label == "a");
}

TEST_CASE("shuffle is a seeded permutation") {
    std::vector<int> a(50), b, c;
    for (int i = 0; i < 50; ++i) a[i] = i;
    b = c = a;
    ag::Generator g1(3), g2(3), g3(4);
    tc::shuffle(a, g1);
    tc::shuffle(b, g2);
    tc::shuffle(c, g3);
    CHECK(a == b);
    CHECK(a != c);
    std::vector<int> sorted = a;
    std::sort(sorted.begin(), sorted.end());
    for (int i = 0; i < 50; ++i) CHECK(sorted[i] == i);
    // hand-checked on 3 items: i = 3 swaps [2] with next_below(3), i = 2 swaps [1] with next_below(2)
    std::vector<int> small = {0, 1, 2}, expected = {0, 1, 2};
    ag::Generator g4(9), g5(9);
    tc::shuffle(small, g4);
    std::swap(expected[2], expected[g5.next_below(3)]);
    std::swap(expected[1], expected[g5.next_below(2)]);
    CHECK(small == expected);
}

TEST_CASE("split_examples cuts 80/10/10 deterministically") {
    tc::Splits s = tc::split_examples(numbered(100), 7);
    CHECK(s.train.size() == 80);
    CHECK(s.valid.size() == 10);
    CHECK(s.test.size() == 10);
    tc::Splits again = tc::split_examples(numbered(100), 7);
    CHECK(texts_of(again.valid) == texts_of(s.valid));
    CHECK(texts_of(again.test) == texts_of(s.test));
    CHECK(texts_of(tc::split_examples(numbered(100), 8).valid) != texts_of(s.valid));
    // the parts are disjoint and cover the input
    std::set<std::string> all;
    for (const auto* part : {&s.train, &s.valid, &s.test})
        for (const tc::Example& e : *part) all.insert(e.text);
    CHECK(all.size() == 100);

    tc::Splits few = tc::split_examples(numbered(7), 1);  // rounding would give 0.7: at least one each
    CHECK(few.train.size() == 5);
    CHECK(few.valid.size() == 1);
    CHECK(few.test.size() == 1);
    CHECK(error_of([&] { tc::split_examples(numbered(2), 1); }) ==
          "[split] 2 examples are too few to split into train, valid (1) and test (1)");
    CHECK(tc::split_examples(numbered(10), 1, 0.0, 0.0).train.size() == 10);
    CHECK(contains(error_of([&] { tc::split_examples(numbered(10), 1, 0.5, 0.5); }), "leave some for training"));
}

TEST_CASE("tiny corpus loads four languages and splits") {
    std::vector<tc::Example> tiny = tc::tiny_corpus();
    std::map<std::string, int64_t> counts = tc::label_counts(tiny);
    CHECK(counts.size() == 4);
    for (const auto& [label, count] : counts) CHECK(count >= 50);
    CHECK(tc::LabelSet::from_examples(tiny, "tiny").size() == 4);

    tc::BuiltinDataset data = tc::load_builtin("tiny", 1);
    size_t n = tiny.size();
    CHECK(data.splits.valid.size() == static_cast<size_t>(std::llround(0.1 * static_cast<double>(n))));
    CHECK(data.splits.train.size() + data.splits.valid.size() + data.splits.test.size() == n);
    CHECK(contains(data.report, "train " + std::to_string(data.splits.train.size()) + " ("));
    CHECK(error_of([] { tc::load_builtin("imdb", 1); }) == "[data] unknown built-in dataset 'imdb' (known: tiny, fortunes-lang)");
}

TEST_CASE("clean_fortune removes overstrikes, escapes and extra whitespace") {
    CHECK(tc::clean_fortune("_\bH_\bi  \b") == "Hi");        // underline, then a space erased
    CHECK(tc::clean_fortune("B\bBo\bol\bld\bd text") == "Bold text");
    CHECK(tc::clean_fortune("\x1B[1mloud\x1B[0m!") == "loud!");
    CHECK(tc::clean_fortune("\tOne\n  two\r\n\t\t-- Author\n") == "One two -- Author");
    CHECK(tc::clean_fortune("caf\xE9 cr\xE8me") == "café crème");  // Latin-1 record
    CHECK(tc::clean_fortune(" \n\t ") == "");
    CHECK(tc::letter_ratio("ab 12") == 0.5);
    CHECK(tc::letter_ratio("| |") == 0.0);
    CHECK(tc::letter_ratio("Ünïcödé") == 1.0);
}

TEST_CASE("fortunes_lang_corpus applies its file and record rules") {
    // a miniature /usr/share/games/fortunes with one trap for each rule
    TempDir dir;
    const std::string prose = "This is a perfectly ordinary English sentence.";
    dir.write("cookie", prose + "\n%\nshort\n%\n|__|__|__|__|__|__|__|__|\n%\n" + prose + "\n%\n" + std::string(600, 'a') + "\n");
    dir.write("cookie.dat", "binary index");
    dir.write("ascii-art", "Art made only of letters, but in a left-out file.\n");
    dir.write("off/rude", "Offensive English prose that must stay out of the corpus.\n");
    dir.write("de/witze", "Ein ganz gewöhnlicher deutscher Satz, mit Umlauten.\n%\n");
    dir.write("de/translations", "Englisch: appears to play a role / Deutsch: ist beteiligt\n");
    dir.write("it/adams", "Una frase italiana del tutto normale, perche' si'.\n");
    dir.write("es/vida.fortunes", "%\nUna frase española completamente normal, ¿verdad?\n%\n");
    dir.write("es/off/malo.fortunes", "Una frase ofensiva que debe quedar fuera del corpus.\n");
    dir.write("it/luke", "Un'altra frase italiana, copiata anche nella radice.\n");
    dir.write("luke", "Un'altra frase italiana, copiata anche nella radice.\n");   // a copy, not a link
    fs::create_symlink("it/adams", dir.dir() / "adams");                 // as fortunes-it does
    fs::create_symlink("vida.fortunes", dir.dir() / "es/vida.fortunes.u8");
    fs::create_symlink("vida.fortunes", dir.dir() / "es/alias.fortunes");
    tc::FortunesReport report;
    std::vector<tc::Example> examples = tc::fortunes_lang_corpus({.root = dir.dir().string()}, &report);

    REQUIRE(examples.size() == 5);
    CHECK(examples[0].label == "en");
    CHECK(examples[0].text == prose);
    CHECK(examples[0].where == (dir.dir() / "cookie").string() + ":1");
    CHECK(examples[1].label == "de");
    CHECK(examples[2].label == "it");
    CHECK(examples[3].label == "it");
    CHECK(examples[4].label == "es");
    CHECK(examples[4].where == (dir.dir() / "es/vida.fortunes").string() + ":2");
    // en: 1 file, 5 records: 1 kept, 2 length (short, 600 a's), 1 art, 1 duplicate
    REQUIRE(report.size() == 4);
    CHECK(report[0].first == "en");
    CHECK(report[0].second.files == 1);
    CHECK(report[0].second.records == 5);
    CHECK(report[0].second.kept == 1);
    CHECK(report[0].second.length == 2);
    CHECK(report[0].second.art == 1);
    CHECK(report[0].second.duplicates == 1);
    CHECK(report[1].second.files == 1);  // de: translations left out
    CHECK(report[2].second.files == 2);  // it: adams, luke
    CHECK(report[3].second.files == 1);  // es: no links, nothing from off/
    CHECK(tc::format_fortunes_report(report).find("en: 1 files, 5 records -> 1 kept (dropped: 2 length, 1 art, 1 duplicates)") == 0);
}

TEST_CASE("fortunes_lang_corpus without the packages names the apt-get command") {
    TempDir dir;
    dir.write("cookie", "An English fortune that is long enough.\n");
    std::string message = error_of([&] { tc::fortunes_lang_corpus({.root = dir.dir().string()}); });
    CHECK(contains(message, "[fortunes-lang] no German fortunes in " + (dir.dir() / "de").string()));
    CHECK(contains(message, "apt-get install fortunes fortunes-de fortunes-it fortunes-es"));
    CHECK_FALSE(tc::fortunes_installed(dir.dir().string()));
}

TEST_CASE("fortunes_lang_corpus from the Debian packages: four languages, disjoint 80/10/10 splits") {
    if (!tc::fortunes_installed()) {
        MESSAGE("fortune packages not installed: skipped (apt-get install fortunes fortunes-de fortunes-it fortunes-es)");
        return;
    }
    tc::FortunesReport report;
    std::vector<tc::Example> corpus = tc::fortunes_lang_corpus({}, &report);
    MESSAGE(tc::format_fortunes_report(report));
    std::map<std::string, int64_t> counts = tc::label_counts(corpus);
    CHECK(counts.size() == 4);
    for (const char* label : {"de", "en", "es", "it"}) CHECK(counts[label] >= 1000);
    CHECK(tc::deduplicate(corpus) == 0);  // already exact-deduplicated

    const size_t n = corpus.size();
    tc::Splits s = tc::split_examples(corpus, 42);
    MESSAGE(tc::format_splits(s));
    CHECK(s.valid.size() == static_cast<size_t>(std::llround(0.1 * static_cast<double>(n))));
    CHECK(s.test.size() == s.valid.size());
    CHECK(s.train.size() == n - 2 * s.valid.size());
    for (const auto* part : {&s.train, &s.valid, &s.test}) CHECK(tc::label_counts(*part).size() == 4);
    // no text in two splits
    std::vector<std::string> train_texts = texts_of(s.train);
    std::set<std::string> train(train_texts.begin(), train_texts.end());
    for (const auto* part : {&s.valid, &s.test})
        for (const tc::Example& e : *part) CHECK_FALSE(train.count(e.text));
    // deterministic for the seed, different for another
    tc::Splits again = tc::split_examples(corpus, 42);
    CHECK(texts_of(again.test) == texts_of(s.test));
    CHECK(texts_of(tc::split_examples(corpus, 43).test) != texts_of(s.test));
}
