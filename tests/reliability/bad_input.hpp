// bad_input.hpp: the one check the reliability suite is made of.
//
//   expect_error([&] { matmul(a, b); }, {"[matmul]", "(2, 3) @ (4, 5)"});
//
// passes when the call throws ag::Error whose message contains every fragment: the op (or file)
// it names and the offending value. Anything else fails at the caller's line: no exception,
// another exception type, or a message missing a fragment (the message is printed). Each call
// is one bad input: `grep -c "expect_error(" tests/reliability/*.cpp` counts them.
#pragma once

#include "testing.hpp"

#include <initializer_list>
#include <source_location>
#include <string>
#include <string_view>

namespace ag::testing {

template <class F>
void expect_error(F&& f, std::initializer_list<std::string_view> fragments,
                  std::source_location at = std::source_location::current()) {
    std::string message;
    bool threw = false;
    try {
        f();
    } catch (const Error& e) {
        threw = true;
        message = e.what();
    } catch (const std::exception& e) {
        ADD_FAIL_CHECK_AT(at.file_name(), static_cast<int>(at.line()),
                          "threw a std::exception that is not an ag::Error: " << std::string(e.what()));
        return;
    }
    if (!threw) {
        ADD_FAIL_CHECK_AT(at.file_name(), static_cast<int>(at.line()), "no ag::Error was thrown");
        return;
    }
    for (std::string_view fragment : fragments)
        if (message.find(fragment) == std::string::npos)
            ADD_FAIL_CHECK_AT(at.file_name(), static_cast<int>(at.line()),
                              "the message lacks \"" << fragment << "\": " << message);
}

}  // namespace ag::testing
