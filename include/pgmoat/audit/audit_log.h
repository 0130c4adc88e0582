// The audit log writer: sessions submit records without waiting; one writer thread
// serialises them, chains them (chain.h) and appends them to a file or stdout.
//
// ## Durability: what a crash can lose
//
// A record is durable once its bytes were written to the file and fdatasync(2)
// returned success for them. The callback given to submit() runs exactly then with
// ok = true (or with ok = false as soon as writing or syncing it failed).
//
// fsync = "every_record": the writer takes every record queued so far, appends
//   them with one write(2), calls fdatasync once (group commit) and only then runs
//   their callbacks. A session that holds each statement's result back from the
//   client until its record's callback said ok guarantees: after a crash of pgmoat
//   (SIGKILL, abort) or of the machine (power loss; as far as the disk honours
//   fdatasync), every statement whose result reached a client is in the log. What
//   a crash can lose: records still queued or in the write in progress, i.e. of
//   statements whose results no client has received.
// fsync = "interval" (fsync_interval, default 100 ms): records are appended as soon
//   as the writer gets them (normally well under a millisecond after submit) and
//   fdatasync runs once per interval when something was written. A crash of pgmoat
//   alone loses only records still queued (not yet written); a crash of the
//   machine also loses records written but not yet synced: up to the last
//   fsync_interval of records. Results are not held back, so clients may have seen
//   results whose records are lost.
// stdout ("-"), or a path that is not a regular file: a record counts as durable
//   when write(2) returned (stdout redirected to a regular file is fdatasync'ed);
//   what happens to it after that is up to whoever reads the pipe.
// Either way, a record that is in the file is complete: a write that fails half
// way is cut back (ftruncate) to the last whole line, and the chain only advances
// over lines that were written.
//
// ## Failure policy
//
// A failed write, fdatasync or open marks the log failing (stats().failing) and
// logs an error on pgmoat's log (at most one line per 10 s while it lasts).
//
// block (default, fail closed): accepting() is false while the log is failing or
//   the queue is 7/8 full, so sessions refuse new statements with SQLSTATE 58030
//   before running them and nothing runs unlogged. Records already accepted are
//   kept, in order, and the writer retries every retry_interval (250 ms); the first
//   write (and, with every_record, fdatasync) that succeeds clears failing, so
//   service resumes by itself once the disk is writable again. The callback of a
//   record whose write failed runs with ok = false at once (the record itself is
//   kept and retried). submit() never blocks: past the queue capacity it still
//   accepts up to twice the capacity (records of statements that were already
//   running, connection events), and past that drops the record; drops are
//   counted and later written as an audit_error record (lost = N).
// continue: accepting() is always true. A full queue drops records and a failed
//   write loses that batch; both are counted (stats().dropped, stats().lost),
//   warned about, and recorded in the log as an audit_error record with lost = N
//   once writing works again, so the log itself shows the gap.
// An fdatasync failure cannot be retried (the kernel may already have dropped the
// data): the records written since the last good sync get ok = false, the log is
// failing until a later write + sync succeeds, and an audit_error record says so.
#pragma once

#include "pgmoat/audit/options.h"
#include "pgmoat/audit/record.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace pgmoat::audit {

struct Stats {
    uint64_t records_written = 0;  // submitted records appended to the log
    uint64_t bytes_written = 0;    // all bytes appended (including log_opened / audit_error lines)
    uint64_t write_errors = 0;     // failed write, fdatasync or open attempts
    uint64_t dropped = 0;          // records submit() refused: queue full, or stopped
    uint64_t lost = 0;             // accepted records that never reached the log (continue policy, or at stop)
    uint64_t fsyncs = 0;
    uint64_t queue_records = 0;  // accepted, not yet written
    uint64_t queue_bytes = 0;
    bool failing = false;
};

// Runs on the writer thread (or, for a dropped record, inside submit()). Keep it
// short: post to the session's executor. It must not call stop().
using DurableCallback = std::function<void(bool ok)>;

class AuditLog {
  public:
    // Opens the sink (throws ConfigError naming the path when it cannot), continues
    // the chain from the file's last line, and starts the writer thread, which
    // first writes a log_opened record.
    explicit AuditLog(Options options);
    ~AuditLog();  // stop()
    AuditLog(const AuditLog&) = delete;
    AuditLog& operator=(const AuditLog&) = delete;

    // Whether a session may start a statement now (see "Failure policy"). Lock-free.
    bool accepting() const;

    // Queues a record; never blocks. time is set to now when left at the epoch.
    // Returns false when the record was dropped (queue full or log stopped); then
    // on_durable has already run with false.
    bool submit(Record&& record, DurableCallback on_durable = {});

    // Reopens the file by its path (after logrotate renamed it). When the path
    // still names the open file nothing happens, so it is safe on every SIGHUP.
    // Otherwise the new file starts with a log_opened record linking to the last
    // line of the old one. Returns at once; the writer thread does the work.
    void reopen();

    // Waits until everything submitted before the call is written and synced;
    // false on timeout or when writing failed.
    bool flush(std::chrono::milliseconds timeout = std::chrono::seconds(10));

    Stats stats() const;

    // Writes what is queued (one more attempt when failing), syncs, closes the
    // file and joins the writer. Later submits are dropped. Idempotent.
    void stop();

    const Options& options() const;

    struct Writer;

  private:
    std::unique_ptr<Writer> writer_;
};

}  // namespace pgmoat::audit
