// temp_dir.hpp: a fresh directory per test for the file-format tests, removed afterwards.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace ag::testing {

/// A new empty directory under the system temporary directory, deleted with its contents.
class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "attograd-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    /// The directory itself.
    const std::filesystem::path& dir() const { return path_; }
    /// The path of `name` inside the directory.
    std::string path(const std::string& name) const { return (path_ / name).string(); }
    /// Writes `bytes` to `name` inside the directory (creating its subdirectories); returns its path.
    std::string write(const std::string& name, const std::string& bytes) const;
    /// Number of entries in the directory (a failed atomic write must leave no temporary behind).
    int count_entries() const {
        return static_cast<int>(std::distance(std::filesystem::directory_iterator(path_), {}));
    }

private:
    std::filesystem::path path_;
};

/// The bytes of a file.
inline std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Writes `bytes` to a file, replacing it.
inline void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string TempDir::write(const std::string& name, const std::string& bytes) const {
    std::filesystem::create_directories((path_ / name).parent_path());
    write_bytes(path(name), bytes);
    return path(name);
}

}  // namespace ag::testing
