// atomic_file.hpp: writing a file so that a crash or an error never leaves half of it behind,
// and reading one with every error checked.
//
// A checkpoint overwritten in place is destroyed if the process dies half-way through. Instead:
//
//   1. create  dir/name.tmp.<pid>.<n>       (same directory: rename is atomic only within a filesystem)
//   2. write   every byte, checking every return value (a full disk shows up here, or at close)
//   3. fsync   the data reaches the disk before the name points at it
//   4. close   may report a delayed write error (NFS), so it is checked too
//   5. rename  over dir/name: readers see the old file or the new one, never a mix
//   6. fsync   the directory, so the rename itself survives a power cut
//
// Any failure before step 5 removes the temporary and leaves the previous file untouched.
// Errors read "[op] cannot write 'path': No space left on device".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ag {

/// A file being written atomically: write() it, then commit(); destroyed uncommitted, it vanishes.
class AtomicFile {
public:
    /// Creates the temporary next to `path`; `op` names the caller in error messages.
    AtomicFile(std::string path, std::string_view op);
    /// Removes the temporary if commit() was not reached.
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    /// Appends `size` bytes (retrying short writes); throws ag::Error naming the path and errno.
    void write(const void* data, size_t size);
    /// Flushes, fsyncs, closes and renames over the target, then fsyncs the directory.
    void commit();

    /// The temporary's path (for tests that check it is removed).
    const std::string& temp_path() const { return temp_path_; }

private:
    [[noreturn]] void fail_errno(std::string_view what, const std::string& path, int error);

    std::string path_;
    std::string temp_path_;
    std::string op_;
    int fd_ = -1;
    bool committed_ = false;
};

/// A regular file opened for reading, whose size is known up front (loaders check it first).
class InputFile {
public:
    /// Opens `path`; throws "[op] cannot open 'path': <errno text>" or if it is not a regular file.
    InputFile(std::string path, std::string_view op);
    ~InputFile();
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;

    /// Size in bytes when opened.
    uint64_t size() const { return size_; }
    /// Reads exactly `size` bytes at byte `offset`; throws if the file ends first or a read fails.
    void read_at(void* data, size_t size, uint64_t offset) const;

private:
    std::string path_;
    std::string op_;
    int fd_ = -1;
    uint64_t size_ = 0;
};

}  // namespace ag
