// The audit log's file: opened by path (or stdout), appended to in whole lines
// only, synced, and reopened when logrotate renamed it. It knows bytes and files;
// what the lines say, and what a failure means, belong to the writer (audit_log.cpp).
#pragma once

#include "pgmoat/audit/chain.h"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pgmoat::audit {

// The last line of a file, as the chain continues from it.
struct Tail {
    bool empty = true;
    bool ends_with_newline = true;
    std::optional<Digest> chain;  // the last line is a chained record
    uint64_t seq = 0;
};

class FileSink {
  public:
    // Opens path for appending ("-": stdout), creating it mode 0600; throws
    // ConfigError naming the path when it cannot.
    explicit FileSink(const std::string& path);
    ~FileSink();  // close()
    FileSink(const FileSink&) = delete;
    FileSink& operator=(const FileSink&) = delete;

    bool is_stdout() const { return is_stdout_; }
    // A regular file: fdatasync applies. Pipes, terminals and devices have
    // nothing to sync: written is as durable as they get.
    bool syncable() const { return syncable_; }
    // The open file's last line; a file that does not end with a newline gets
    // one before the first line appended.
    Tail tail();
    // Warns on pgmoat's log when other users may read the open file.
    void warn_if_shared() const;

    // Appends data whole: a write that fails half way is cut back (ftruncate) to
    // where it began, or, where that is impossible, the next append ends the
    // partial line first. 0, or the errno of the failure.
    int append(std::string_view data);
    // fdatasync: 0, or its errno.
    int sync();

    // Reopening after rotation, in steps so that the writer can finish the old
    // file in between: whether the path names another file now; opening it (0, or
    // the errno; the old file stays in use); cutting the old file back to whole
    // lines; and switching to the new one, which closes the old.
    bool rotated() const;
    int open_next();
    void trim();
    void use_next();
    // Where the open file is now (after a rename by logrotate), for previous_file.
    std::string current_name() const;

    // Closes the file (stdout stays open). Idempotent.
    void close();

  private:
    void remember_identity();

    std::string path_;
    int fd_ = -1;
    int next_fd_ = -1;
    bool is_stdout_ = false;
    bool syncable_ = true;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
    std::optional<off_t> truncate_to_;  // a failed write left a partial line here
    bool partial_line_ = false;         // ... on a sink we cannot truncate
};

}  // namespace pgmoat::audit
