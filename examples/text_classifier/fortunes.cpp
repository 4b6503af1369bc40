// fortunes.cpp: finding, splitting, cleaning and filtering fortune records (rules in fortunes.hpp).
#include "fortunes.hpp"

#include "core/error.hpp"
#include "text_file.hpp"
#include "utf8.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <filesystem>
#include <unordered_set>

namespace textclf {

namespace fs = std::filesystem;

namespace {

struct Language {
    const char* label;
    const char* name;
    const char* subdir;                    // under root; "" for root itself
    std::vector<std::string> left_out;     // file names that are not prose in this language
};

const std::vector<Language>& languages() {
    static const std::vector<Language> table = {
        {"en", "English", "", {"ascii-art", "translate-me"}},
        {"de", "German", "de", {"asciiart", "translations"}},
        {"it", "Italian", "it", {"banner"}},
        {"es", "Spanish", "es", {}},
    };
    return table;
}

constexpr const char* kInstall = "sudo apt-get install fortunes fortunes-de fortunes-it fortunes-es";
constexpr size_t kMaxLineBytes = 64 * 1024;  // fortune lines are short; a longer one drops its record

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The fortune files of one language, sorted by name (rules in fortunes.hpp).
std::vector<fs::path> fortune_files(const fs::path& root, const Language& language) {
    fs::path dir = root / language.subdir;
    std::error_code error;
    if (!fs::is_directory(dir, error)) return {};
    std::vector<fs::path> files;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
        std::string name = entry.path().filename().string();
        bool left_out = std::find(language.left_out.begin(), language.left_out.end(), name) != language.left_out.end();
        // NOTE: fortunes-it puts links to its files into root itself; they are Italian, not English
        bool italian_in_root = language.subdir[0] == '\0' && fs::exists(root / "it" / name, error);
        if (entry.is_symlink(error) || !entry.is_regular_file(error) || ends_with(name, ".dat") ||
            ends_with(name, ".u8") || left_out || italian_in_root)
            continue;
        files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

// True for the line "%" between records (trailing spaces tolerated).
bool is_separator(std::string_view line) {
    size_t end = line.find_last_not_of(" \t");
    return end == 0 && line[0] == '%';
}

// Decodes the code point at text[i] of valid UTF-8 into *c and returns its length in bytes.
// ASCII, most of the corpus, needs no library call.
size_t decode_at(std::string_view text, size_t i, utf8proc_int32_t* c) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
        *c = text[i];
        return 1;
    }
    return static_cast<size_t>(utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(text.data() + i),
                                                static_cast<utf8proc_ssize_t>(text.size() - i), c));
}

// Removes "X\b" overstrikes and ESC [ ... terminal escapes from valid UTF-8 text.
std::string strip_overstrike_and_escapes(std::string_view text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\b') {
            // drop the previous code point: its continuation bytes, then its lead byte
            while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
            if (!out.empty()) out.pop_back();
        } else if (c == '\x1B') {
            // a CSI sequence: ESC '[', parameters, then one final byte in 0x40..0x7E
            if (i + 1 < text.size() && text[i + 1] == '[') {
                i += 2;
                while (i < text.size() && !(text[i] >= 0x40 && text[i] <= 0x7E)) ++i;
            }
        } else {
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace

std::string clean_fortune(std::string_view raw) {
    // decode: UTF-8, or Latin-1 for a record that is not valid UTF-8
    std::string text = is_valid_utf8(raw) ? std::string(raw) : latin1_to_utf8(raw);
    text = nfc(strip_overstrike_and_escapes(text));
    // whitespace: every run of spaces, line breaks and controls becomes one space, none at the ends
    std::string out;
    bool pending_space = false;
    for (size_t i = 0; i < text.size();) {
        utf8proc_int32_t c = 0;
        size_t length = decode_at(text, i, &c);
        utf8proc_category_t category = utf8proc_category(c);
        bool space = category == UTF8PROC_CATEGORY_ZS || category == UTF8PROC_CATEGORY_ZL ||
                     category == UTF8PROC_CATEGORY_ZP || category == UTF8PROC_CATEGORY_CC;
        if (space) {
            pending_space = !out.empty();
        } else {
            if (pending_space) out.push_back(' ');
            pending_space = false;
            out.append(text, i, length);
        }
        i += length;
    }
    return out;
}

double letter_ratio(std::string_view text) {
    int64_t letters = 0, visible = 0;
    for (size_t i = 0; i < text.size();) {
        utf8proc_int32_t c = 0;
        i += decode_at(text, i, &c);
        utf8proc_category_t category = utf8proc_category(c);
        if (category == UTF8PROC_CATEGORY_ZS) continue;
        ++visible;
        letters += category >= UTF8PROC_CATEGORY_LU && category <= UTF8PROC_CATEGORY_LO;
    }
    return visible == 0 ? 0.0 : static_cast<double>(letters) / static_cast<double>(visible);
}

bool fortunes_installed(const std::string& root) {
    for (const Language& language : languages())
        if (fortune_files(root, language).empty()) return false;
    return true;
}

std::vector<Example> fortunes_lang_corpus(const FortunesOptions& options, FortunesReport* report) {
    std::vector<Example> examples;
    std::unordered_set<std::string> seen;  // cleaned texts kept so far, for exact deduplication
    FortunesReport counts;
    for (const Language& language : languages()) {
        std::vector<fs::path> files = fortune_files(options.root, language);
        ag::check(!files.empty(), "fortunes-lang", "no {} fortunes in {}: install the packages with `{}`",
                  language.name, (fs::path(options.root) / language.subdir).string(), kInstall);
        FortunesCounts c;
        c.files = static_cast<int64_t>(files.size());
        for (const fs::path& path : files) {
            // a record is the lines between two "%" lines; `where` is its first line
            LineReader reader = LineReader::open_file(path.string(), "fortunes-lang", kMaxLineBytes);
            std::string line, record, where;
            bool record_too_long = false;
            auto finish_record = [&] {
                std::string text = record_too_long ? std::string() : clean_fortune(record);
                record.clear();
                if (text.empty() && !record_too_long) return;
                ++c.records;
                int64_t chars = count_code_points(text);
                if (record_too_long || chars < options.min_chars || chars > options.max_chars) ++c.length;
                else if (letter_ratio(text) < options.min_letter_ratio) ++c.art;
                else if (!seen.insert(text).second) ++c.duplicates;
                else {
                    examples.push_back({language.label, std::move(text), where});
                    ++c.kept;
                }
                record_too_long = false;
            };
            while (reader.next(line)) {
                if (is_separator(line)) {
                    finish_record();
                    continue;
                }
                if (record.empty()) where = reader.where();
                record_too_long = record_too_long || reader.too_long();
                record += line;
                record += '\n';
            }
            finish_record();
        }
        counts.emplace_back(language.label, c);
    }
    if (report) *report = std::move(counts);
    return examples;
}

std::string format_fortunes_report(const FortunesReport& report) {
    std::string out;
    for (const auto& [label, c] : report)
        out += fmt::format("{}: {} files, {} records -> {} kept (dropped: {} length, {} art, {} duplicates)\n", label,
                           c.files, c.records, c.kept, c.length, c.art, c.duplicates);
    return out;
}

}  // namespace textclf
