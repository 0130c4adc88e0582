// Changing the grants file: one grant added or removed under a lock, the file
// rewritten atomically (save_grants). Shared by the CLI and the admin console so
// both write the same file the same way.
#include "pgmoat/common/config_error.h"
#include "pgmoat/policy/grants.h"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <algorithm>
#include <charconv>

namespace pgmoat::policy {

namespace {

// Held while the file is read, changed and renamed over.
class FileLock {
  public:
    explicit FileLock(const std::string& path)
        : fd_(::open((path + ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600)) {
        if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0) {
            if (fd_ >= 0) ::close(fd_);
            throw ConfigError(path, 0, 0, "cannot lock " + path + ".lock");
        }
    }
    ~FileLock() { ::close(fd_); }
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

  private:
    int fd_;
};

std::string new_id(const std::string& path) {
    unsigned char bytes[4];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw ConfigError(path, 0, 0, "cannot generate a grant id");
    return fmt::format("g{:02x}{:02x}{:02x}{:02x}", bytes[0], bytes[1], bytes[2], bytes[3]);
}

}  // namespace

std::optional<std::chrono::seconds> parse_grant_length(std::string_view text) {
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || n == 0 || end == text.data()) return std::nullopt;
    std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
    uint64_t factor = unit == "s"                    ? 1
                      : unit == "m" || unit == "min" ? 60
                      : unit == "h"                  ? 3600
                      : unit == "d"                  ? 86400
                                                     : 0;
    if (factor == 0 || n > 7 * 86400 / factor) return std::nullopt;
    return std::chrono::seconds(n * factor);
}

Grant add_grant(const std::string& path, Grant g, std::chrono::seconds length) {
    FileLock lock(path);
    auto grants = load_grants(path);
    auto now = std::chrono::system_clock::now();
    std::erase_if(grants, [&](const Grant& other) { return !other.active(now); });
    do {
        g.id = new_id(path);
    } while (std::any_of(grants.begin(), grants.end(), [&](const Grant& other) { return other.id == g.id; }));
    g.granted_at = std::chrono::floor<std::chrono::seconds>(now);
    g.expires = g.granted_at + length;
    grants.push_back(g);
    save_grants(path, grants);
    return g;
}

bool remove_grant(const std::string& path, std::string_view id) {
    FileLock lock(path);
    auto grants = load_grants(path);
    auto before = grants.size();
    std::erase_if(grants, [&](const Grant& g) { return g.id == id; });
    if (grants.size() == before) return false;
    save_grants(path, grants);
    return true;
}

}  // namespace pgmoat::policy
