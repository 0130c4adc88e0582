// `pgmoat passwd NAME`: makes the SCRAM verifier line for an app's entry in the
// credentials file. The password comes from stdin (or is generated) and is never
// written anywhere but the terminal that asked for it.
#include "commands.h"

#include "pgmoat/auth/scram.h"

#include <openssl/rand.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

namespace pgmoat::cli {

namespace {
std::string read_password_line() {
    bool tty = isatty(STDIN_FILENO);
    termios old{};
    if (tty) {
        std::fprintf(stderr, "Password: ");
        tcgetattr(STDIN_FILENO, &old);
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string line;
    std::getline(std::cin, line);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        std::fprintf(stderr, "\n");
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

std::string generate_password() {
    static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    unsigned char random[24];
    RAND_bytes(random, sizeof random);
    std::string out;
    for (unsigned char r : random) out.push_back(alphabet[r % (sizeof alphabet - 1)]);
    return out;
}

bool valid_app_name(const std::string& s) {
    if (s.empty() || s.size() > 63) return false;
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                  c == '.';
        if (!ok) return false;
    }
    return true;
}
}  // namespace

int passwd(const Args& args) {
    bool generate = false;
    std::string name;
    for (const auto& a : args) {
        if (a == "--generate")
            generate = true;
        else if (name.empty() && !a.empty() && a[0] != '-')
            name = a;
        else {
            std::fprintf(stderr, "usage: pgmoat passwd [--generate] APP_NAME\n");
            return 2;
        }
    }
    if (!valid_app_name(name)) {
        std::fprintf(stderr, "pgmoat passwd: app names use letters, digits, '_', '-' and '.' (at most 63)\n");
        return 2;
    }
    std::string password = generate ? generate_password() : read_password_line();
    if (password.size() < 8) {
        std::fprintf(stderr, "pgmoat passwd: the password must have at least 8 characters\n");
        return 1;
    }
    for (unsigned char c : password) {
        // Drivers apply SASLprep to non-ASCII passwords; keeping to printable ASCII
        // guarantees every driver derives the same key as pgmoat.
        if (c < 0x20 || c > 0x7e) {
            std::fprintf(stderr, "pgmoat passwd: use printable ASCII characters only\n");
            return 1;
        }
    }
    auto verifier = auth::ScramVerifier::from_password(password);
    if (generate) std::fprintf(stderr, "generated password for %s: %s\n", name.c_str(), password.c_str());
    std::printf("%s = \"%s\"\n", name.c_str(), verifier.to_string().c_str());
    return 0;
}

}  // namespace pgmoat::cli
