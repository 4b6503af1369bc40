// fortunes.hpp: a language-identification corpus (en, de, it, es) from Debian's fortune packages.
//
//   sudo apt-get install fortunes fortunes-de fortunes-it fortunes-es
//   label  directory (under root = /usr/share/games/fortunes)   files left out
//   en     root itself                                         ascii-art, translate-me (Latin, French)
//   de     root/de                                             asciiart, translations (English pairs)
//   it     root/it                                             banner (an ASCII-art banner)
//   es     root/es                                             -
// Only regular files directly in the directory are read: not subdirectories (off/ holds the
// offensive fortunes), not symlinks (the *.u8 links to the same text, and the Italian package's
// links in root itself), not *.dat (strfile's binary index), not names that exist in root/it.
// A file holds records separated by lines "%". Each record is cleaned:
//   "X\b" overstrike (old bold and underline) -> X's successor only; ESC [ ... escapes -> dropped;
//   whitespace and control runs -> one space; NFC. A record that is not valid UTF-8 is read as
//   Latin-1, the packages' legacy encoding (today every file is UTF-8 or ASCII: checked with `file`).
// and kept if it has 20..500 code points and at least half of its non-space code points are
// letters (this drops ASCII art, box drawings and tables: typically 0.0 - 0.4 letters; prose has a
// median of 0.94, and 99% of all records are above 0.75).
// Duplicates are removed exactly (after cleaning), across languages too, the first one kept.
// No cap per class: on Debian 12 the kept records are en 13,916, de 17,939, es 10,742, it 7,818,
// a 2.3:1 spread that a classifier handles (class weights can even it out if wanted).
#pragma once

#include "dataset.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace textclf {

struct FortunesOptions {
    std::string root = "/usr/share/games/fortunes";
    int64_t min_chars = 20;          ///< shortest record kept, in code points after cleaning
    int64_t max_chars = 500;         ///< longest record kept
    double min_letter_ratio = 0.5;   ///< letters / non-space code points, below which a record is "art"
};

/// What happened to the records of one language.
struct FortunesCounts {
    int64_t files = 0, records = 0;              ///< files read, non-empty records in them
    int64_t art = 0, length = 0, duplicates = 0; ///< records dropped by each rule
    int64_t kept = 0;
};

/// Per label, in the order en, de, it, es.
using FortunesReport = std::vector<std::pair<std::string, FortunesCounts>>;

/// The cleaned text of one raw record (rules above): one line, single spaces, NFC.
std::string clean_fortune(std::string_view raw);
/// Fraction of the non-space code points of valid UTF-8 `text` that are letters (0 if none).
double letter_ratio(std::string_view text);
/// True if all four languages have at least one fortune file under `root`.
bool fortunes_installed(const std::string& root = FortunesOptions{}.root);
/// Every kept, deduplicated record labelled by language; throws, naming the apt-get command, if
/// a language's files are missing. Fills *report when given.
std::vector<Example> fortunes_lang_corpus(const FortunesOptions& options = {}, FortunesReport* report = nullptr);
/// The report as lines "en: 61 files, 15217 records -> 13911 kept (39 art, 1154 length, 113 duplicates)".
std::string format_fortunes_report(const FortunesReport& report);

}  // namespace textclf
