// The writer: a bounded multi-producer queue drained by one thread that serialises,
// chains, appends to the file sink (file_sink.h) and syncs, under the failure
// policy. Everything after submit() happens on that thread, so the chain head, the
// file and the pending batch need no locking.
#include "pgmoat/audit/audit_log.h"

#include "file_sink.h"

#include "pgmoat/audit/chain.h"
#include "pgmoat/audit/json.h"
#include "pgmoat/common/log.h"

#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#ifndef PGMOAT_VERSION
#define PGMOAT_VERSION "unknown"
#endif

namespace pgmoat::audit {

namespace {

using Steady = std::chrono::steady_clock;

struct Item {
    Record record;
    DurableCallback callback;
    size_t bytes = 0;
    bool marker = false;  // flush(): writes nothing, forces a sync, reports through callback
};

std::string errno_text(int err) {
    return std::strerror(err);
}

}  // namespace

struct AuditLog::Writer {
    explicit Writer(Options o) : opt(std::move(o)), chainer(opt.hmac_key), sink(opt.path) {
        soft_records = std::max<uint64_t>(1, opt.queue_records - opt.queue_records / 8);
        soft_bytes = std::max<uint64_t>(1, opt.queue_bytes - opt.queue_bytes / 8);
        bool block = opt.failure_policy == FailurePolicy::block;
        hard_records = block ? opt.queue_records * 2 : opt.queue_records;
        hard_bytes = block ? opt.queue_bytes * 2 : opt.queue_bytes;
        open_initial();
        thread = std::thread([this] { run(); });
    }

    // ---- shared with submitting threads ----
    Options opt;
    uint64_t soft_records, soft_bytes, hard_records, hard_bytes;
    mutable std::mutex m;
    std::condition_variable cv;
    std::vector<Item> queue;                                 // guarded by m
    bool stopping = false;                                   // guarded by m
    bool reopen_requested = false;                           // guarded by m
    bool idle = false;                                       // guarded by m: the writer sleeps with no deadline
    std::atomic<uint64_t> depth_records{0}, depth_bytes{0};  // accepted, not yet written or given up
    std::atomic<bool> failing{false};
    std::atomic<bool> stopped{false};
    std::atomic<uint64_t> records_written{0}, bytes_written{0}, write_errors{0}, dropped{0}, lost{0}, fsyncs{0};
    std::atomic<uint64_t> dropped_unreported{0};
    std::thread thread;
    std::mutex stop_mutex;

    // ---- writer thread only ----
    Chainer chainer;
    FileSink sink;
    bool have_head = false;  // head/seq continue an existing chain
    Digest head{};
    uint64_t seq = 0;
    std::vector<Item> pending;   // taken from the queue, not yet written
    std::vector<Item> incoming;  // empty between rounds; swapped with the queue to take it
    struct Opening {
        Clock::time_point time;  // when the file was opened
        std::string reason;
        std::string previous_file;
    };
    std::vector<Opening> openings;  // log_opened records still to be written, first
    uint64_t dropped_to_report = 0;
    uint64_t lost_to_report = 0;
    std::string lost_reason;
    std::string sync_error_note;
    std::vector<DurableCallback> unsynced;  // written, waiting for the interval's fdatasync
    bool dirty = false;                     // written since the last fdatasync
    Steady::time_point next_sync{};
    // With fsync per interval nobody waits for a record, so records are gathered
    // for a few milliseconds and written together: one write(2) and one wake-up
    // per batch instead of per statement.
    Steady::time_point next_write{};
    bool write_failing = false;  // the last write failed (block: its records are still pending)
    bool sync_failing = false;   // the last fdatasync failed
    Steady::time_point next_retry{};
    bool reopen_retry = false;
    Steady::time_point last_warning{};
    uint64_t suppressed_warnings = 0;
    uint64_t failures_in_a_row = 0;

    // ---- opening ----

    void open_initial() {
        if (sink.is_stdout()) {
            openings.push_back({Clock::now(), "start", ""});
            return;
        }
        std::string reason = "start";
        Tail tail = sink.tail();
        if (tail.chain) {
            have_head = true;
            head = *tail.chain;
            seq = tail.seq;
        } else if (!tail.empty) {
            reason =
                "start: the last line of the file is not a complete audit record (cut short by a crash, or edited), "
                "so a new chain starts here";
            log::warning("audit log {}: the last line is not a complete audit record; starting a new chain after it",
                         opt.path);
        }
        openings.push_back({Clock::now(), reason, ""});
        sink.warn_if_shared();
    }

    void do_reopen() {
        reopen_retry = false;
        if (!sink.rotated()) return;
        if (int err = sink.open_next()) {
            write_errors.fetch_add(1, std::memory_order_relaxed);
            reopen_retry = true;
            next_retry = Steady::now() + opt.retry_interval;
            warn(fmt::format("cannot reopen {}: {}; still writing to the previous file", opt.path, errno_text(err)));
            return;
        }
        // The old file is left with whole lines only, and synced.
        sink.trim();
        if (dirty) sync_interval_batch();
        std::string old_name = sink.current_name();
        log::info("audit log: reopening {}; the previous file (now {}) ends at seq {} chain {}", opt.path, old_name,
                  seq, have_head ? to_hex(head) : "(none)");
        sink.use_next();
        Tail tail = sink.tail();
        if (!tail.empty) log::warning("audit log {}: the new file is not empty; appending to it", opt.path);
        openings.push_back({Clock::now(), "reopen", old_name});
    }

    // ---- serialising ----

    void append_chained(std::string& buf, size_t line_start, Digest& h) {
        Digest c = chainer.next(h, std::string_view(buf).substr(line_start));
        buf.append(kChainField);
        buf.append(to_hex(c));
        buf.append("\"}\n");
        h = c;
    }

    void append_opening(std::string& buf, const Opening& o, Digest& h, uint64_t& s, bool& linked) {
        Record r;
        r.event = Event::log_opened;
        r.time = o.time;
        r.reason = o.reason;
        size_t start = buf.size();
        if (!linked) {
            h = Digest{};
            s = 0;
        }
        append_record_fields(buf, r, ++s);
        buf.append(",\"pgmoat_version\":");
        json::append_string(buf, PGMOAT_VERSION);
        buf.append(",\"chain_alg\":\"");
        buf.append(chainer.alg());
        buf.push_back('"');
        if (opt.hmac_key) {
            buf.append(",\"key_id\":\"");
            buf.append(key_id(*opt.hmac_key));
            buf.push_back('"');
        }
        if (linked) {
            buf.append(",\"previous_chain\":\"");
            buf.append(to_hex(h));
            buf.push_back('"');
        }
        if (!o.previous_file.empty()) {
            buf.append(",\"previous_file\":");
            json::append_string(buf, o.previous_file);
        }
        append_chained(buf, start, h);
        linked = true;
    }

    void append_error_record(std::string& buf, Digest& h, uint64_t& s) {
        std::string reason;
        if (dropped_to_report) {
            reason += fmt::format("{} record(s) dropped: the audit queue was full", dropped_to_report);
        }
        if (lost_to_report) {
            if (!reason.empty()) reason += "; ";
            reason += fmt::format("{} record(s) lost: {}", lost_to_report, lost_reason);
        }
        if (!sync_error_note.empty()) {
            if (!reason.empty()) reason += "; ";
            reason += sync_error_note;
        }
        Record r;
        r.event = Event::audit_error;
        r.time = Clock::now();
        r.reason = std::move(reason);
        size_t start = buf.size();
        append_record_fields(buf, r, ++s);
        if (uint64_t n = dropped_to_report + lost_to_report) fmt::format_to(std::back_inserter(buf), ",\"lost\":{}", n);
        append_chained(buf, start, h);
    }

    bool error_to_report() const { return dropped_to_report || lost_to_report || !sync_error_note.empty(); }

    // ---- writing ----

    bool sync() {
        if (!sink.syncable()) return true;
        fsyncs.fetch_add(1, std::memory_order_relaxed);
        int err = sink.sync();
        if (err == 0) {
            sync_failing = false;
            return true;
        }
        write_errors.fetch_add(1, std::memory_order_relaxed);
        sync_error_note =
            fmt::format("fdatasync failed ({}): records written before this one may not be on disk", errno_text(err));
        sync_failing = true;
        next_retry = Steady::now() + opt.retry_interval;
        fail(fmt::format("fdatasync failed: {}", errno_text(err)));
        return false;
    }

    void fire(std::vector<DurableCallback>& callbacks, bool ok) {
        for (auto& cb : callbacks)
            if (cb) cb(ok);
        callbacks.clear();
    }

    void attempt() {
        uint64_t newly_dropped = dropped_unreported.exchange(0, std::memory_order_relaxed);
        if (newly_dropped) {
            dropped_to_report += newly_dropped;
            warn(fmt::format("the audit queue is full: {} record(s) dropped", newly_dropped));
        }
        size_t records = 0, markers = 0;
        uint64_t bytes = 0;
        for (const auto& it : pending) {
            if (it.marker)
                ++markers;
            else
                ++records;
            bytes += it.bytes;
        }
        if (records == 0 && openings.empty() && !error_to_report()) {
            // Only flush() markers: make what was written durable.
            bool ok = !write_failing && !sync_failing && (!dirty || sync_interval_batch());
            std::vector<DurableCallback> cbs;
            for (auto& it : pending) cbs.push_back(std::move(it.callback));
            pending.clear();
            fire(cbs, ok);
            return;
        }

        std::string buf;
        Digest h = head;
        uint64_t s = seq;
        bool linked = have_head;
        std::string failure;
        try {
            for (const auto& o : openings) append_opening(buf, o, h, s, linked);
            if (error_to_report()) append_error_record(buf, h, s);
            for (const auto& it : pending) {
                if (it.marker) continue;
                size_t start = buf.size();
                append_record_fields(buf, it.record, ++s);
                append_chained(buf, start, h);
            }
        } catch (const std::exception& e) {
            // The chain could not be computed (an OpenSSL error): nothing is
            // written, and the log is failing as if the disk were, retried later.
            failure = e.what();
        }

        if (failure.empty()) {
            if (int err = sink.append(buf)) failure = fmt::format("write failed ({})", errno_text(err));
        }
        if (!failure.empty()) {
            write_errors.fetch_add(1, std::memory_order_relaxed);
            fail(failure);
            write_failing = true;
            next_retry = Steady::now() + opt.retry_interval;
            std::vector<DurableCallback> cbs;
            for (auto& it : pending) cbs.push_back(std::move(it.callback));  // reported once, now
            if (opt.failure_policy == FailurePolicy::continue_) {
                lost_to_report += records;
                lost_reason = failure;
                lost.fetch_add(records, std::memory_order_relaxed);
                depth_records.fetch_sub(records, std::memory_order_relaxed);
                depth_bytes.fetch_sub(bytes, std::memory_order_relaxed);
                pending.clear();
            } else {
                // Kept, in order, for the next attempt; markers have been answered.
                std::erase_if(pending, [](const Item& it) { return it.marker; });
            }
            fire(cbs, false);
            return;
        }

        head = h;
        seq = s;
        have_head = true;
        openings.clear();
        dropped_to_report = lost_to_report = 0;
        sync_error_note.clear();
        bytes_written.fetch_add(buf.size(), std::memory_order_relaxed);
        records_written.fetch_add(records, std::memory_order_relaxed);
        write_failing = false;
        std::vector<DurableCallback> cbs;
        for (auto& it : pending) cbs.push_back(std::move(it.callback));
        pending.clear();
        depth_records.fetch_sub(records, std::memory_order_relaxed);
        depth_bytes.fetch_sub(bytes, std::memory_order_relaxed);

        // State first, callbacks after: whoever a callback wakes sees the log as it is.
        if (opt.fsync == FsyncMode::every_record || markers) {
            bool ok = sync();
            dirty = false;
            if (ok) recovered();
            fire(unsynced, ok);
            fire(cbs, ok);
        } else {
            if (!dirty) next_sync = Steady::now() + opt.fsync_interval;
            dirty = true;
            recovered();
            for (auto& cb : cbs)
                if (cb) unsynced.push_back(std::move(cb));
        }
    }

    bool sync_interval_batch() {
        bool ok = sync();
        dirty = false;
        if (ok) recovered();
        fire(unsynced, ok);
        return ok;
    }

    void fail(const std::string& what) {
        failing.store(true, std::memory_order_relaxed);
        ++failures_in_a_row;
        std::string consequence =
            opt.failure_policy == FailurePolicy::block
                ? fmt::format("new statements are refused until it can be written (retrying every {}ms)",
                              opt.retry_interval.count())
                : "audit records are being lost";
        warn(fmt::format("{}: {}", what, consequence));
    }

    void recovered() {
        if (!failing.load(std::memory_order_relaxed) || write_failing || sync_failing) return;
        failing.store(false, std::memory_order_relaxed);
        log::warning("audit log {} is writable again after {} failed attempt(s)", opt.path, failures_in_a_row);
        failures_in_a_row = 0;
        suppressed_warnings = 0;
    }

    // Loud but rate limited: one line per 10 s while a problem lasts.
    void warn(const std::string& message) {
        auto now = Steady::now();
        if (last_warning != Steady::time_point{} && now - last_warning < std::chrono::seconds(10)) {
            ++suppressed_warnings;
            return;
        }
        if (suppressed_warnings) {
            log::error("audit log {}: {} ({} similar message(s) suppressed)", opt.path, message, suppressed_warnings);
        } else {
            log::error("audit log {}: {}", opt.path, message);
        }
        suppressed_warnings = 0;
        last_warning = now;
    }

    // ---- the thread ----

    static constexpr auto kBatchDelay = std::chrono::milliseconds(2);
    static constexpr size_t kBatchRecords = 4096;
    bool batching() const { return opt.fsync == FsyncMode::interval; }

    bool something_to_write() const {
        return !pending.empty() || !openings.empty() || error_to_report() ||
               dropped_unreported.load(std::memory_order_relaxed) != 0;
    }

    void run() {
        std::unique_lock lk(m);
        for (;;) {
            auto now = Steady::now();
            bool retrying = write_failing || sync_failing || reopen_retry;
            bool retry_due = retrying && now >= next_retry;
            bool may_write = !write_failing || retry_due || stopping || reopen_requested;
            bool gathering = batching() && now < next_write && queue.size() < kBatchRecords;
            bool work = stopping || reopen_requested || retry_due || (dirty && now >= next_sync) ||
                        (may_write && !gathering && (!queue.empty() || something_to_write()));
            if (!work) {
                std::optional<Steady::time_point> deadline;
                if (dirty) deadline = next_sync;
                if (retrying) deadline = deadline ? std::min(*deadline, next_retry) : next_retry;
                if (gathering && !queue.empty()) deadline = deadline ? std::min(*deadline, next_write) : next_write;
                if (deadline) {
                    cv.wait_until(lk, *deadline);
                } else {
                    idle = true;
                    cv.wait(lk);
                    idle = false;
                }
                continue;
            }
            bool stop = stopping;
            bool reopen = reopen_requested;
            reopen_requested = false;
            incoming.swap(queue);  // O(1) under the lock; submitters never wait for a batch
            if (batching()) next_write = now + kBatchDelay;
            lk.unlock();
            if (pending.empty()) {
                pending.swap(incoming);
            } else {
                for (auto& it : incoming) pending.push_back(std::move(it));
                incoming.clear();
            }

            if (reopen || (reopen_retry && retry_due)) do_reopen();
            if (may_write && something_to_write()) attempt();
            if (dirty && (Steady::now() >= next_sync || stop || (sync_failing && retry_due))) sync_interval_batch();

            lk.lock();
            if (stop && queue.empty()) break;
        }
        lk.unlock();
        finish();
    }

    void finish() {
        if (dirty) sync_interval_batch();
        size_t records = 0;
        std::vector<DurableCallback> cbs;
        for (auto& it : pending) {
            if (!it.marker) ++records;
            cbs.push_back(std::move(it.callback));
        }
        pending.clear();
        if (records) {
            lost.fetch_add(records, std::memory_order_relaxed);
            log::error("audit log {}: {} record(s) could not be written before shutdown", opt.path, records);
        }
        depth_records.store(0);
        depth_bytes.store(0);
        fire(cbs, false);
        if (!sink.is_stdout()) {
            log::info("audit log {} closed at seq {} chain {}", opt.path, seq, have_head ? to_hex(head) : "(none)");
        }
        sink.close();
    }
};

AuditLog::AuditLog(Options options) : writer_(std::make_unique<Writer>(std::move(options))) {}

AuditLog::~AuditLog() {
    stop();
}

const Options& AuditLog::options() const {
    return writer_->opt;
}

bool AuditLog::accepting() const {
    const Writer& w = *writer_;
    if (w.stopped.load(std::memory_order_relaxed)) return false;
    if (w.opt.failure_policy == FailurePolicy::continue_) return true;
    return !w.failing.load(std::memory_order_relaxed) &&
           w.depth_records.load(std::memory_order_relaxed) < w.soft_records &&
           w.depth_bytes.load(std::memory_order_relaxed) < w.soft_bytes;
}

bool AuditLog::submit(Record&& record, DurableCallback on_durable) {
    Writer& w = *writer_;
    if (record.time == Clock::time_point{}) record.time = Clock::now();
    size_t bytes = record.approximate_bytes();
    bool wake = false;
    bool accepted = false;
    DurableCallback refused;  // called outside the lock
    {
        std::lock_guard lk(w.m);
        uint64_t depth = w.depth_records.load(std::memory_order_relaxed);
        bool full = depth > 0 && (depth + 1 > w.hard_records ||
                                  w.depth_bytes.load(std::memory_order_relaxed) + bytes > w.hard_bytes);
        if (!w.stopping && !full) {
            accepted = true;
            // Per-record durability: wake the writer at once (a result waits).
            // Per interval: the writer collects for a moment; wake it only when a
            // batch is full.
            wake = w.opt.fsync == FsyncMode::every_record ? w.queue.empty()
                                                          : w.idle || w.queue.size() + 1 == Writer::kBatchRecords;
            w.queue.push_back(Item{std::move(record), std::move(on_durable), bytes, false});
            w.depth_records.fetch_add(1, std::memory_order_relaxed);
            w.depth_bytes.fetch_add(bytes, std::memory_order_relaxed);
        } else {
            refused = std::move(on_durable);
            w.dropped.fetch_add(1, std::memory_order_relaxed);
            if (!w.stopping) w.dropped_unreported.fetch_add(1, std::memory_order_relaxed);
        }
    }
    if (!accepted) {
        if (refused) refused(false);
        return false;
    }
    if (wake) w.cv.notify_one();
    return true;
}

void AuditLog::reopen() {
    {
        std::lock_guard lk(writer_->m);
        writer_->reopen_requested = true;
    }
    writer_->cv.notify_one();
}

bool AuditLog::flush(std::chrono::milliseconds timeout) {
    Writer& w = *writer_;
    auto done = std::make_shared<std::promise<bool>>();
    auto result = done->get_future();
    {
        std::lock_guard lk(w.m);
        if (w.stopping) return false;
        Item marker;
        marker.marker = true;
        marker.callback = [done](bool ok) { done->set_value(ok); };
        w.queue.push_back(std::move(marker));
    }
    w.cv.notify_one();
    if (result.wait_for(timeout) != std::future_status::ready) return false;
    return result.get();
}

Stats AuditLog::stats() const {
    const Writer& w = *writer_;
    Stats s;
    s.records_written = w.records_written.load(std::memory_order_relaxed);
    s.bytes_written = w.bytes_written.load(std::memory_order_relaxed);
    s.write_errors = w.write_errors.load(std::memory_order_relaxed);
    s.dropped = w.dropped.load(std::memory_order_relaxed);
    s.lost = w.lost.load(std::memory_order_relaxed);
    s.fsyncs = w.fsyncs.load(std::memory_order_relaxed);
    s.queue_records = w.depth_records.load(std::memory_order_relaxed);
    s.queue_bytes = w.depth_bytes.load(std::memory_order_relaxed);
    s.failing = w.failing.load(std::memory_order_relaxed);
    return s;
}

void AuditLog::stop() {
    Writer& w = *writer_;
    std::lock_guard stop_lk(w.stop_mutex);
    if (!w.thread.joinable()) return;
    {
        std::lock_guard lk(w.m);
        w.stopping = true;
    }
    w.stopped.store(true);
    w.cv.notify_one();
    w.thread.join();
}

}  // namespace pgmoat::audit
