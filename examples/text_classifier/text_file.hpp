// text_file.hpp: reading text files line by line without trusting them, and the one-entry-per-line
// list files (vocabulary, labels) saved next to a checkpoint.
//
// A dataset file may be anything: missing, a directory, binary, or one 100 MB line. LineReader
// reads through a fixed 64 KiB buffer, so memory stays bounded by max_line_bytes whatever the
// input: a longer line is consumed without being stored and reported as too long. A NUL byte
// never occurs in text, so it stops reading with "binary file" instead of producing garbage.
// Messages name the place as FILE:LINE, like a compiler.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace textclf {

/// Reads lines (without "\n" or "\r\n") from a file or from text in memory, with a bound on the line length.
class LineReader {
public:
    /// Opens `path` for reading; throws "[op] cannot open PATH: reason" (also for a directory).
    static LineReader open_file(const std::string& path, std::string op, size_t max_line_bytes);
    /// Reads `text` (which must outlive the reader), called `name` in messages.
    static LineReader from_text(std::string name, std::string_view text, std::string op, size_t max_line_bytes);

    /// The next line into `line`; false at the end of the input. Throws on a NUL byte or a read error.
    /// A line longer than max_line_bytes is skipped unread: `line` is empty and too_long() is true.
    bool next(std::string& line);
    /// Whether the line just returned was longer than the limit (and so not stored).
    bool too_long() const { return too_long_; }
    /// 1-based number of the line just returned.
    int64_t line_number() const { return line_number_; }
    /// "NAME:LINE" of the line just returned, for messages.
    std::string where() const;
    /// Bytes consumed so far (0 after the whole input means an empty file).
    int64_t bytes_read() const { return bytes_read_; }
    /// The file path or the name given to from_text.
    const std::string& name() const { return name_; }

private:
    LineReader(std::string name, std::string op, size_t max_line_bytes);
    bool refill();

    struct FileCloser { void operator()(std::FILE* f) const { std::fclose(f); } };
    std::unique_ptr<std::FILE, FileCloser> file_;  // null when reading from memory
    std::vector<char> buffer_;
    const char* data_ = nullptr;  // the bytes not yet consumed are data_[pos_, end_)
    size_t pos_ = 0, end_ = 0;
    std::string name_, op_;
    size_t max_line_bytes_;
    int64_t line_number_ = 0, bytes_read_ = 0;
    bool too_long_ = false;
};

/// Writes `entries` to `path`, one per line; throws "[op] cannot write PATH: reason".
void write_list_file(const std::string& path, const std::vector<std::string>& entries, std::string_view op);
/// Reads a file written by write_list_file and validates it: not empty, every line valid UTF-8,
/// not blank, at most max_line_bytes, no duplicates (errors name FILE:LINE).
std::vector<std::string> read_list_file(const std::string& path, std::string_view op, size_t max_line_bytes);

}  // namespace textclf
