// text_file.cpp: bounded line reading and list files (see text_file.hpp).
#include "text_file.hpp"

#include "core/error.hpp"
#include "utf8.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <unordered_map>

namespace textclf {

namespace {
constexpr size_t kBufferBytes = 64 * 1024;
}

LineReader::LineReader(std::string name, std::string op, size_t max_line_bytes)
    : name_(std::move(name)), op_(std::move(op)), max_line_bytes_(max_line_bytes) {}

LineReader LineReader::open_file(const std::string& path, std::string op, size_t max_line_bytes) {
    // NOTE: fopen succeeds on a directory on Linux (only reading fails): say what it is up front
    std::error_code ignored;
    ag::check(!std::filesystem::is_directory(path, ignored), op, "cannot open {}: it is a directory, not a file", path);
    LineReader reader(path, std::move(op), max_line_bytes);
    reader.file_.reset(std::fopen(path.c_str(), "rb"));
    ag::check(reader.file_ != nullptr, reader.op_, "cannot open {}: {}", path, std::strerror(errno));
    reader.buffer_.resize(kBufferBytes);
    return reader;
}

LineReader LineReader::from_text(std::string name, std::string_view text, std::string op, size_t max_line_bytes) {
    LineReader reader(std::move(name), std::move(op), max_line_bytes);
    reader.data_ = text.data();
    reader.end_ = text.size();
    return reader;
}

bool LineReader::refill() {
    if (!file_) return false;  // text in memory: everything was in the first "buffer"
    size_t n = std::fread(buffer_.data(), 1, buffer_.size(), file_.get());
    if (n == 0) {
        ag::check(!std::ferror(file_.get()), op_, "cannot read {}: {}", name_, std::strerror(errno));
        return false;
    }
    data_ = buffer_.data();
    pos_ = 0;
    end_ = n;
    return true;
}

bool LineReader::next(std::string& line) {
    line.clear();
    too_long_ = false;
    bool started = false;  // whether this line has any byte (a last line may lack its "\n")
    for (;;) {
        if (pos_ == end_ && !refill()) {
            if (!started) return false;
            break;
        }
        started = true;
        // take the bytes up to the next "\n" in the buffer (or all of them, if none)
        const char* begin = data_ + pos_;
        size_t available = end_ - pos_;
        const char* newline = static_cast<const char*>(std::memchr(begin, '\n', available));
        size_t take = newline ? static_cast<size_t>(newline - begin) : available;
        ag::check(std::memchr(begin, '\0', take) == nullptr, op_,
                  "{}:{}: NUL byte: this is a binary file, not UTF-8 text", name_, line_number_ + 1);
        // store them unless the line is already over the limit: then only count them
        if (!too_long_ && line.size() + take > max_line_bytes_) {
            too_long_ = true;
            std::string().swap(line);  // release what was stored
        }
        if (!too_long_) line.append(begin, take);
        pos_ += take;
        bytes_read_ += static_cast<int64_t>(take);
        if (newline) {
            ++pos_;
            ++bytes_read_;
            break;
        }
    }
    ++line_number_;
    if (!line.empty() && line.back() == '\r') line.pop_back();  // "\r\n" (Windows) line ends
    return true;
}

std::string LineReader::where() const { return fmt::format("{}:{}", name_, line_number_); }

void write_list_file(const std::string& path, const std::vector<std::string>& entries, std::string_view op) {
    struct FileCloser { void operator()(std::FILE* f) const { std::fclose(f); } };
    std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "wb"));
    ag::check(file != nullptr, op, "cannot write {}: {}", path, std::strerror(errno));
    bool ok = true;
    for (const std::string& entry : entries) {
        ok = ok && std::fwrite(entry.data(), 1, entry.size(), file.get()) == entry.size();
        ok = ok && std::fputc('\n', file.get()) != EOF;
    }
    // NOTE: a full disk may only show at the final flush, so fclose's result counts too
    ok = std::fclose(file.release()) == 0 && ok;
    ag::check(ok, op, "cannot write {}: {}", path, std::strerror(errno));
}

std::vector<std::string> read_list_file(const std::string& path, std::string_view op, size_t max_line_bytes) {
    LineReader reader = LineReader::open_file(path, std::string(op), max_line_bytes);
    std::vector<std::string> entries;
    std::unordered_map<std::string, int64_t> first_line;  // entry -> line where it first appeared
    std::string line;
    while (reader.next(line)) {
        ag::check(!reader.too_long(), op, "{}: line longer than {} bytes", reader.where(), max_line_bytes);
        ag::check(!line.empty(), op, "{}: empty entry", reader.where());
        ag::check(is_valid_utf8(line), op, "{}: invalid UTF-8", reader.where());
        auto [it, inserted] = first_line.emplace(line, reader.line_number());
        ag::check(inserted, op, "{}: duplicate entry '{}' (first at line {})", reader.where(), line, it->second);
        entries.push_back(line);
    }
    ag::check(!entries.empty(), op, "{} is empty", path);
    return entries;
}

}  // namespace textclf
