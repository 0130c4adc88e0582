// The audit log's file: whole-line appends, fdatasync, rotation, and reading the
// last line back so that a restarted pgmoat continues the chain.
#include "file_sink.h"

#include "pgmoat/audit/json.h"
#include "pgmoat/common/config_error.h"
#include "pgmoat/common/log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <limits.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

namespace pgmoat::audit {

namespace {

int open_for_append(const std::string& path) {
    return ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

}  // namespace

FileSink::FileSink(const std::string& path) : path_(path) {
    if (path == "-") {
        fd_ = STDOUT_FILENO;
        is_stdout_ = true;
    } else {
        fd_ = open_for_append(path);
        if (fd_ < 0) throw ConfigError(path, 0, 0, "cannot open the audit log: " + std::string(std::strerror(errno)));
    }
    remember_identity();
}

FileSink::~FileSink() {
    close();
}

void FileSink::remember_identity() {
    struct stat st {};
    if (::fstat(fd_, &st) == 0) {
        dev_ = st.st_dev;
        ino_ = st.st_ino;
        syncable_ = S_ISREG(st.st_mode);
    }
}

// Read backwards from the end in chunks.
Tail FileSink::tail() {
    Tail tail;
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) return tail;
    tail.empty = false;
    off_t size = st.st_size;
    char last = 0;
    if (::pread(fd_, &last, 1, size - 1) != 1) return tail;
    tail.ends_with_newline = last == '\n';
    if (!tail.ends_with_newline) partial_line_ = true;  // end it before our first line
    off_t end = tail.ends_with_newline ? size - 1 : size;
    off_t start = end;
    constexpr off_t kChunk = 64 << 10;
    constexpr off_t kMaxLine = 256 << 20;
    std::string chunk;
    bool found = false;
    while (start > 0 && end - start < kMaxLine && !found) {
        off_t len = std::min(kChunk, start);
        chunk.resize(static_cast<size_t>(len));
        if (::pread(fd_, chunk.data(), chunk.size(), start - len) != len) return tail;
        for (off_t i = len; i > 0; --i) {
            if (chunk[static_cast<size_t>(i - 1)] == '\n') {
                start = start - len + i;
                found = true;
                break;
            }
        }
        if (!found) start -= len;
    }
    if (!found && start != 0) return tail;  // a line longer than we will read
    std::string line(static_cast<size_t>(end - start), '\0');
    if (!line.empty() && ::pread(fd_, line.data(), line.size(), start) != static_cast<ssize_t>(line.size()))
        return tail;
    if (!tail.ends_with_newline) return tail;  // cut short: not a record we can continue from
    auto split = split_chained_line(line);
    auto v = split ? json::parse(line) : std::nullopt;
    auto* seq = v ? v->find("seq") : nullptr;
    if (!seq || !seq->integer() || *seq->integer() < 1) return tail;
    tail.chain = split->chain;
    tail.seq = static_cast<uint64_t>(*seq->integer());
    return tail;
}

void FileSink::warn_if_shared() const {
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077)) {
        log::warning("audit log {} is accessible by other users (mode {:o}); restrict it with chmod 600", path_,
                     st.st_mode & 0777);
    }
}

int FileSink::append(std::string_view buf) {
    if (truncate_to_) {
        if (::ftruncate(fd_, *truncate_to_) != 0) return errno;
        truncate_to_.reset();
    }
    std::string_view data = buf;
    std::string prefixed;
    if (partial_line_) {
        prefixed = "\n" + std::string(buf);
        data = prefixed;
    }
    struct stat st {};
    bool regular = ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
    off_t before = regular ? st.st_size : 0;
    size_t off = 0;
    int err = 0;
    while (off < data.size()) {
        ssize_t n = ::write(fd_, data.data() + off, data.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            err = errno;
            break;
        }
        if (n == 0) {
            err = EIO;
            break;
        }
        off += static_cast<size_t>(n);
    }
    if (off == data.size()) {
        partial_line_ = false;
        return 0;
    }
    if (off > 0) {
        // Never leave half a line: cut the file back to where this write began.
        if (regular) {
            if (::ftruncate(fd_, before) != 0) truncate_to_ = before;
        } else if (!partial_line_) {
            partial_line_ = data[off - 1] != '\n';
        }
    }
    return err;
}

int FileSink::sync() {
    return ::fdatasync(fd_) == 0 ? 0 : errno;
}

bool FileSink::rotated() const {
    if (is_stdout_) return false;
    struct stat st {};
    return !(::stat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_);
}

int FileSink::open_next() {
    next_fd_ = open_for_append(path_);
    return next_fd_ < 0 ? errno : 0;
}

void FileSink::trim() {
    if (truncate_to_ && ::ftruncate(fd_, *truncate_to_) == 0) truncate_to_.reset();
}

void FileSink::use_next() {
    ::close(fd_);
    fd_ = next_fd_;
    next_fd_ = -1;
    remember_identity();
    truncate_to_.reset();
    partial_line_ = false;
}

std::string FileSink::current_name() const {
    char buf[PATH_MAX];
    std::string link = "/proc/self/fd/" + std::to_string(fd_);
    ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    if (n <= 0) return path_;
    return std::string(buf, static_cast<size_t>(n));
}

void FileSink::close() {
    if (next_fd_ >= 0) ::close(next_fd_);
    next_fd_ = -1;
    if (fd_ >= 0 && !is_stdout_) ::close(fd_);
    fd_ = -1;
}

}  // namespace pgmoat::audit
