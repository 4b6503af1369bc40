// Tests of the text classifier's UTF-8 repair, tokenizer and vocabulary
// (examples/text_classifier/utf8, tokenizer, vocab).
#include "temp_dir.hpp"
#include "testing.hpp"

#include "examples/text_classifier/tokenizer.hpp"
#include "examples/text_classifier/utf8.hpp"
#include "examples/text_classifier/vocab.hpp"

#include <filesystem>
#include <fstream>
#include <unistd.h>

using ag::testing::error_of;
using Tokens = std::vector<std::string>;
namespace tc = textclf;
using textclf::tokenize;

using ag::testing::TempDir;

namespace {

const std::string kFFFD = "\xEF\xBF\xBD";  // U+FFFD in UTF-8


}  // namespace

TEST_CASE("to_valid_utf8 replaces each invalid byte with U+FFFD") {
    int64_t replaced = 0;
    CHECK(tc::to_valid_utf8("café ñ ß", &replaced) == "café ñ ß");
    CHECK(replaced == 0);
    // a stray byte, a truncated sequence at the end
    CHECK(tc::to_valid_utf8("a\xFF" "b\xC3", &replaced) == "a" + kFFFD + "b" + kFFFD);
    CHECK(replaced == 2);
    // a truncated sequence before a valid character keeps the character
    CHECK(tc::to_valid_utf8("\xE2\x82" "x") == kFFFD + kFFFD + "x");
    // overlong "/" (C0 AF) and an encoded surrogate (ED A0 80) are invalid byte by byte
    CHECK(tc::to_valid_utf8("\xC0\xAF") == kFFFD + kFFFD);
    CHECK(tc::to_valid_utf8("\xED\xA0\x80") == kFFFD + kFFFD + kFFFD);
    CHECK(tc::is_valid_utf8("Grüße"));
    CHECK_FALSE(tc::is_valid_utf8("Gr\xFC\xDF" "e"));  // the same word in Latin-1
}

TEST_CASE("latin1_to_utf8 and nfc") {
    CHECK(tc::latin1_to_utf8("Gr\xFC\xDF" "e") == "Grüße");
    CHECK(tc::nfc("Cafe\xCC\x81") == "Café");  // e + combining acute -> é
    CHECK(tc::nfc("") == "");
    CHECK(tc::count_code_points("añb€") == 4);
}

TEST_CASE("tokenize lowercases words and splits punctuation") {
    CHECK(tokenize("Hello, World!") == Tokens{"hello", ",", "world", "!"});
    CHECK(tokenize("  spaces\tand\nnew lines  ") == Tokens{"spaces", "and", "new", "lines"});
    CHECK(tokenize("Room 101 costs 25€.") == Tokens{"room", "101", "costs", "25", "€", "."});
    CHECK(tokenize("well-known (maybe)") == Tokens{"well", "-", "known", "(", "maybe", ")"});
    CHECK(tokenize("").empty());
    CHECK(tokenize(" \t\r\n").empty());
}

TEST_CASE("tokenize handles German, Spanish and uppercase non-ASCII letters") {
    CHECK(tokenize("Die STRAßE über den Fluß") == Tokens{"die", "straße", "über", "den", "fluß"});
    CHECK(tokenize("ÄRGER ÖL ÜBEL") == Tokens{"ärger", "öl", "übel"});
    CHECK(tokenize("¿Qué tal, Señor NÚÑEZ?") == Tokens{"¿", "qué", "tal", ",", "señor", "núñez", "?"});
    CHECK(tokenize("¡ÉCOLE!") == Tokens{"¡", "école", "!"});
    // decomposed é (e + U+0301) is the same token as precomposed é
    CHECK(tokenize("CAFE\xCC\x81") == Tokens{"café"});
    // a no-break space separates; a soft hyphen (format character) is dropped inside the word
    CHECK(tokenize("a\xC2\xA0" "b Donau\xC2\xAD" "dampf") == Tokens{"a", "b", "donaudampf"});
}

TEST_CASE("tokenize keeps apostrophes inside words only") {
    CHECK(tokenize("Don't stop") == Tokens{"don't", "stop"});
    CHECK(tokenize("l\xE2\x80\x99" "acqua") == Tokens{"l'acqua"});  // ’ inside a word becomes '
    CHECK(tokenize("'quoted'") == Tokens{"'", "quoted", "'"});
    CHECK(tokenize("perche' no") == Tokens{"perche", "'", "no"});
}

TEST_CASE("tokenize replaces invalid UTF-8 and never crashes") {
    CHECK(tokenize("ab\xFF\xFE" "cd") == Tokens{"ab", kFFFD, kFFFD, "cd"});
    CHECK(tokenize(std::string("x\0y", 3)) == Tokens{"x", "y"});  // NUL is a control: a separator
    // random bytes: every token is valid, non-empty UTF-8 of at most kMaxTokenBytes
    ag::Generator gen(5);
    for (int trial = 0; trial < 500; ++trial) {
        std::string bytes(gen.next_below(64), '\0');
        for (char& b : bytes) b = static_cast<char>(gen.next_below(256));
        for (const std::string& token : tokenize(bytes)) {
            CHECK(!token.empty());
            CHECK(token.size() <= tc::kMaxTokenBytes);
            CHECK(tc::is_valid_utf8(token));
        }
    }
}

TEST_CASE("tokenize cuts long words at whole code points and stops at max_tokens") {
    CHECK(tokenize(std::string(300, 'A')) == Tokens{std::string(100, 'a')});
    // "a" then é (2 bytes) x 100: 1 + 2 * 49 = 99 bytes fit, a 50th é would not
    std::string word = "a";
    for (int i = 0; i < 100; ++i) word += "É";
    std::string expected = "a";
    for (int i = 0; i < 49; ++i) expected += "é";
    CHECK(tokenize(word) == Tokens{expected});
    CHECK(tokenize("one, two three", 2) == Tokens{"one", ","});
}

TEST_CASE("vocab build keeps min_count and max_size, ties by token bytes") {
    // counts: a 3, b 2, c 2, é 2, d 1
    std::vector<std::string> texts = {"a b c", "A B é", "a c é d"};
    tc::Vocab all = tc::Vocab::build(texts);
    REQUIRE(all.size() == 7);
    // ties at count 2 in byte order: "b" < "c" < "é" (0xC3 sorts after ASCII)
    CHECK(all.token(0) == "<pad>");
    CHECK(all.token(1) == "<unk>");
    CHECK(all.token(2) == "a");
    CHECK(all.token(3) == "b");
    CHECK(all.token(4) == "c");
    CHECK(all.token(5) == "é");
    CHECK(all.token(6) == "d");

    tc::Vocab frequent = tc::Vocab::build(texts, {.min_count = 2, .max_size = 100});
    CHECK(frequent.size() == 6);
    CHECK(frequent.id("d") == tc::Vocab::kUnk);

    tc::Vocab small = tc::Vocab::build(texts, {.min_count = 1, .max_size = 4});
    CHECK(small.size() == 4);
    CHECK(small.id("a") == 2);
    CHECK(small.id("b") == 3);
    CHECK(small.id("c") == tc::Vocab::kUnk);

    CHECK(error_of([&] { tc::Vocab::build(texts, {.min_count = 0}); }).find("[vocab] min_count") == 0);
    CHECK(error_of([&] { tc::Vocab::build(texts, {.min_count = 1, .max_size = 1}); }).find("[vocab] max_size") == 0);
}

TEST_CASE("vocab encode maps unknown tokens to <unk> and truncates") {
    tc::Vocab vocab = tc::Vocab::build({"the cat sat", "the mat"});
    // ids: the 2 (count 2), then cat 3, mat 4, sat 5 (count 1, byte order)
    CHECK(vocab.encode("The dog sat on the mat", 100) == std::vector<int64_t>{2, 1, 5, 1, 2, 4});
    CHECK(vocab.encode("The dog sat on the mat", 3) == std::vector<int64_t>{2, 1, 5});
    CHECK(vocab.encode("", 3).empty());
    CHECK(error_of([&] { vocab.encode("the", 0); }).find("[vocab] max_len must be at least 1") == 0);
    CHECK(error_of([&] { vocab.token(6); }).find("id 6 is out of range") != std::string::npos);
}

TEST_CASE("vocab save and load round trip") {
    TempDir dir;
    tc::Vocab vocab = tc::Vocab::build({"Grüße aus Köln", "¿qué tal?", "l'acqua è fresca"});
    std::string path = (dir.dir() / "vocab.txt").string();
    vocab.save(path);
    tc::Vocab loaded = tc::Vocab::load(path);
    REQUIRE(loaded.size() == vocab.size());
    for (int64_t i = 0; i < vocab.size(); ++i) CHECK(loaded.token(i) == vocab.token(i));
    CHECK(loaded.id("köln") == vocab.id("köln"));
    CHECK(loaded.id("köln") != tc::Vocab::kUnk);
}

TEST_CASE("vocab load rejects invalid files, naming file and line") {
    TempDir dir;
    auto load_error = [&](const std::string& name, const std::string& bytes) {
        std::string path = dir.write(name, bytes);
        return error_of([&] { tc::Vocab::load(path); });
    };
    CHECK(error_of([&] { tc::Vocab::load((dir.dir() / "missing.txt").string()); })
              .find("cannot open " + (dir.dir() / "missing.txt").string()) != std::string::npos);
    CHECK(load_error("empty.txt", "").find("empty.txt is empty") != std::string::npos);
    CHECK(load_error("order.txt", "<unk>\n<pad>\na\n").find("first two tokens must be <pad> and <unk>") !=
          std::string::npos);
    CHECK(load_error("dup.txt", "<pad>\n<unk>\nder\ndie\nder\n").find("dup.txt:5: duplicate entry 'der' (first at line 3)") !=
          std::string::npos);
    CHECK(load_error("blank.txt", "<pad>\n<unk>\n\nx\n").find("blank.txt:3: empty entry") != std::string::npos);
    CHECK(load_error("utf8.txt", "<pad>\n<unk>\nx\xFF\n").find("utf8.txt:3: invalid UTF-8") != std::string::npos);
    CHECK(load_error("space.txt", "<pad>\n<unk>\na b\n").find("token 2 (line 3)") != std::string::npos);
    CHECK(load_error("binary.txt", std::string("<pad>\n<unk>\n\x01\0\x02", 15)).find("binary.txt:3: NUL byte") !=
          std::string::npos);
    CHECK(load_error("long.txt", "<pad>\n<unk>\n" + std::string(5000, 'x') + "\n").find("long.txt:3: line longer") !=
          std::string::npos);
}
