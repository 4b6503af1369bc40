// tests_pch.hpp: the precompiled header of the unit tests (meson's cpp_pch, tests/meson.build).
// Every test file includes testing.hpp, which pulls in all of attograd.hpp, doctest and fmt:
// parsing them once instead of once per file cuts the suite's compile time by about half, which
// keeps CI (a release build and a sanitizer build of the tests) inside its time budget.
// NOTE: tests/main.cpp, which defines doctest's main, is compiled without it (doctest must see
// DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN before its header).
#include "testing.hpp"

#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <vector>
