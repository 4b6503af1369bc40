// atomic_file.cpp: temporary file, fsync, rename, fsync the directory (see atomic_file.hpp).
#include "core/atomic_file.hpp"

#include "core/error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <system_error>

namespace ag {

namespace {

std::atomic<int> g_temp_counter{0};

std::string errno_text(int error) { return std::generic_category().message(error); }

// The directory holding `path` ("." for a bare file name).
std::string directory_of(const std::string& path) {
    std::string dir = std::filesystem::path(path).parent_path().string();
    return dir.empty() ? "." : dir;
}

}  // namespace

AtomicFile::AtomicFile(std::string path, std::string_view op) : path_(std::move(path)), op_(op) {
    // A name no other writer uses: our pid and a counter; O_EXCL refuses a stale leftover.
    for (int attempt = 0; attempt < 100; ++attempt) {
        temp_path_ = fmt::format("{}.tmp.{}.{}", path_, ::getpid(), g_temp_counter++);
        fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd_ >= 0) return;
        if (errno != EEXIST) break;
    }
    int error = errno;
    temp_path_.clear();  // nothing was created: the destructor must not remove anything
    fail(op_, "cannot create a temporary file to write '{}': {}", path_, errno_text(error));
}

AtomicFile::~AtomicFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
}

void AtomicFile::fail_errno(std::string_view what, const std::string& path, int error) {
    // The destructor closes and removes the temporary as the exception unwinds.
    fail(op_, "cannot {} '{}': {}", what, path, errno_text(error));
}

void AtomicFile::write(const void* data, size_t size) {
    const char* bytes = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t written = ::write(fd_, bytes, size);
        if (written < 0) {
            if (errno == EINTR) continue;  // interrupted before writing anything: try again
            fail_errno("write", path_, errno);
        }
        // NOTE: write may write fewer bytes than asked (signals, quotas, pipes); loop on the rest.
        bytes += written;
        size -= static_cast<size_t>(written);
    }
}

void AtomicFile::commit() {
    // data on disk before the name points at it
    if (::fsync(fd_) != 0) fail_errno("fsync", path_, errno);
    int fd = fd_;
    fd_ = -1;
    // NOTE: close can report an error of an earlier write (NFS, some quotas); never ignore it.
    if (::close(fd) != 0) fail_errno("close", path_, errno);

    // the switch: atomic within one filesystem
    if (::rename(temp_path_.c_str(), path_.c_str()) != 0) fail_errno("rename the temporary over", path_, errno);
    committed_ = true;

    // make the rename durable: fsync the directory entry
    std::string dir = directory_of(path_);
    int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) fail(op_, "wrote '{}' but cannot open its directory to sync it: {}", path_, errno_text(errno));
    int status = ::fsync(dir_fd);
    int error = errno;
    ::close(dir_fd);
    // NOTE: some filesystems cannot fsync a directory and say EINVAL; the rename is done regardless.
    if (status != 0 && error != EINVAL)
        fail(op_, "wrote '{}' but cannot sync its directory '{}': {}", path_, dir, errno_text(error));
}

InputFile::InputFile(std::string path, std::string_view op) : path_(std::move(path)), op_(op) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail(op_, "cannot open '{}': {}", path_, errno_text(errno));
    struct stat info {};
    if (::fstat(fd_, &info) != 0) {
        int error = errno;
        ::close(fd_);
        fail(op_, "cannot stat '{}': {}", path_, errno_text(error));
    }
    if (!S_ISREG(info.st_mode)) {
        ::close(fd_);
        fail(op_, "'{}' is not a regular file", path_);
    }
    size_ = static_cast<uint64_t>(info.st_size);
}

InputFile::~InputFile() { ::close(fd_); }

void InputFile::read_at(void* data, size_t size, uint64_t offset) const {
    char* bytes = static_cast<char*>(data);
    while (size > 0) {
        ssize_t got = ::pread(fd_, bytes, size, static_cast<off_t>(offset));
        if (got < 0) {
            if (errno == EINTR) continue;
            fail(op_, "cannot read '{}': {}", path_, errno_text(errno));
        }
        // NOTE: 0 bytes means end of file: the file shrank after its size was checked
        if (got == 0) fail(op_, "'{}' ended early at byte {}: was it truncated while being read?", path_, offset);
        bytes += got;
        size -= static_cast<size_t>(got);
        offset += static_cast<uint64_t>(got);
    }
}

}  // namespace ag
