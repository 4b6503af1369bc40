// fuzz_file.hpp: the loaders read files, so each fuzz input is written to one first.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace ag::fuzz {

// The file's path, and its removal when the fuzzer exits.
struct InputFile {
    std::string path;
    ~InputFile() { ::unlink(path.c_str()); }
};

/// Writes the input to a file of this process (in /dev/shm when there is one: memory, not disk)
/// and returns its path. Reused for every input of the run; removed at exit.
inline const std::string& write_input(const uint8_t* data, size_t size, const char* suffix) {
    static const InputFile file{std::string(::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") +
                                "/attograd-fuzz-" + std::to_string(::getpid()) + "." + suffix};
    std::FILE* f = std::fopen(file.path.c_str(), "wb");
    if (f == nullptr || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) std::abort();
    return file.path;
}

}  // namespace ag::fuzz
