// Regression for finding F2 (SECURITY.md): toml++ 3.3.0 (Debian 12) reaches
// __builtin_unreachable() -- undefined behaviour -- in
// impl::is_non_ascii_horizontal_whitespace() for most non-ASCII characters
// (U+00A1..U+0499: 'é', Greek, Cyrillic, ...; U+2C6E..U+3067; U+FC26..U+FEFE)
// wherever TOML expects whitespace or a key: `é = 1`, `max_rows = 5 é`. Every
// file pgmoat reads is TOML (config, credentials, policies, reloaded while
// serving). A release build happens to report a parse error; a UBSan build
// aborts, and another compiler or flag may do anything.
//
// Each text is parsed in a child process, so that the sanitizer's abort fails
// this test instead of the whole test binary. Only a sanitized build can see the
// UB. pgmoat refuses stray non-ASCII text before toml++ parses it, and compiles
// toml++ with the two functions fixed (proxy/common/toml_impl.cpp) for the rest.
#include "pgmoat/common/config_error.h"
#include "pgmoat/config/config.h"

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

using namespace pgmoat;

namespace {

// 0: ConfigError as expected; 10: parsed; 11: another exception; anything else:
// the sanitizer stopped the child (exit code 1, or a signal).
int parse_in_child(const std::string& text) {
    std::fflush(nullptr);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        try {
            config::parse_config(text, "/tmp/pgmoat-regression.toml");
            _exit(10);
        } catch (const ConfigError&) {
            _exit(0);
        } catch (...) {
            _exit(11);
        }
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST_CASE("non-ASCII characters where TOML expects a key or whitespace are a ConfigError, not undefined behaviour") {
    for (std::string text : {"\xc3\xa9 = 1\n",                    // é = 1
                             "[server]\nthreads = 1 \xc3\xa9\n",  // a stray é after a value
                             "[\xce\xb1]\n",                      // [α]
                             "a = \"x\"\xd0\x96\n",               // a = "x"Ж
                             "\xef\xb3\xbfr = 1\n",               // U+FCFF
                             // Where the text is not stray: a value scanned to its end, a
                             // backslash in a basic string, and what follows a line-ending
                             // backslash (found by fuzz_config).
                             "a = 0\"\xef\xbf\xbf\n",              // a = 0"U+FFFF
                             "\"\"\"}\\\xef\xbb\xbe",              // """}\U+FEFE
                             "a = \"\\\xc3\xa9\"\n",               // a = "\é"
                             "a = \"\"\"x\\ \n  \xc3\xa9",         // a = """x\ (newline) é
                             "a = \"\"\"x\\ \xc3\xa9\"\"\"\n"}) {  // a = """x\ é"""
        CAPTURE(text);
        CHECK(parse_in_child(text) == 0);
    }
}
