#include "audit_test_util.h"

#include "pgmoat/audit/chain.h"
#include "pgmoat/common/config_error.h"
#include "pgmoat/common/log.h"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace audit_test;
using namespace std::chrono_literals;

namespace {

// pgmoat's operational log would fill the test output with open/close lines.
const bool quiet = [] {
    pgmoat::log::set_level(pgmoat::log::Level::error);
    return true;
}();

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5000ms) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        if (pred()) return true;
        std::this_thread::sleep_for(2ms);
    }
    return pred();
}

// Files written by this process cannot grow past `bytes` while it lives (writes fail
// with EFBIG); works for root too, unlike permissions. Restores the limit after.
class FileSizeLimit {
  public:
    FileSizeLimit() {
        ::getrlimit(RLIMIT_FSIZE, &saved_);
        old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    }
    ~FileSizeLimit() {
        lift();
        ::signal(SIGXFSZ, old_handler_);
    }
    void set(off_t bytes) {
        rlimit r = saved_;
        r.rlim_cur = static_cast<rlim_t>(bytes);
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &r) == 0);
    }
    void lift() { ::setrlimit(RLIMIT_FSIZE, &saved_); }

  private:
    rlimit saved_{};
    sighandler_t old_handler_;
};

// Every "statement S/N" reason in the file, in file order.
std::vector<std::string> statements_in(const std::string& path) {
    std::vector<std::string> out;
    for (const auto& line : read_lines(path)) {
        auto v = parse_line(line);
        if (v.find("event")->text == "statement") out.push_back(v.find("reason")->text);
    }
    return out;
}

}  // namespace

TEST_CASE("records from several threads are all written exactly once, in a valid chain") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    constexpr int kThreads = 4, kEach = 2000;
    {
        Options o = options_for(p);
        o.queue_records = 100'000;
        AuditLog log(o);
        std::vector<std::thread> threads;
        std::atomic<int> refused{0};
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < kEach; ++i)
                    if (!log.submit(statement(static_cast<uint64_t>(t), static_cast<uint64_t>(i)))) ++refused;
            });
        }
        for (auto& th : threads) th.join();
        log.stop();
        CHECK(refused == 0);
        CHECK(log.stats().records_written == kThreads * kEach);
        CHECK(log.stats().dropped == 0);
        CHECK(log.stats().queue_records == 0);
    }
    auto seen = statements_in(p);
    CHECK(seen.size() == kThreads * kEach);
    std::set<std::string> unique(seen.begin(), seen.end());
    CHECK(unique.size() == seen.size());
    // Each thread's records keep the order it submitted them in.
    std::map<uint64_t, int64_t> last;
    for (const auto& line : read_lines(p)) {
        auto v = parse_line(line);
        if (v.find("event")->text != "statement") continue;
        auto s = static_cast<uint64_t>(*v.find("session")->integer());
        auto n = *v.find("rows")->integer();
        CHECK(last.count(s) ? last[s] + 1 == n : n == 0);
        last[s] = n;
    }
    auto r = verify({p}, std::nullopt);
    CHECK(r.ok());
    CHECK(r.records == kThreads * kEach + 1);
}

TEST_CASE("with fsync every_record, a record's callback runs once it is in the file and synced") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    Options o = options_for(p);
    o.fsync = FsyncMode::every_record;
    AuditLog log(o);
    constexpr int kRecords = 200;
    std::mutex m;
    std::vector<std::string> problems;
    std::atomic<int> done{0};
    for (int i = 0; i < kRecords; ++i) {
        std::string reason = "statement 1/" + std::to_string(i);
        bool queued = log.submit(statement(1, static_cast<uint64_t>(i)), [&, reason](bool ok) {
            // Runs on the writer thread: the record must already be readable in the file.
            std::string content = read_file(p);
            std::lock_guard lk(m);
            if (!ok) problems.push_back(reason + ": not ok");
            if (content.find("\"reason\":\"" + reason + "\"") == std::string::npos)
                problems.push_back(reason + ": not in file");
            if (log.stats().fsyncs == 0) problems.push_back(reason + ": before any fsync");
            ++done;
        });
        REQUIRE(queued);
    }
    REQUIRE(eventually([&] { return done.load() == kRecords; }));
    CHECK(problems.empty());
    log.stop();
    CHECK(log.stats().fsyncs >= 1);
    CHECK(log.stats().fsyncs <= kRecords + 1);
}

TEST_CASE("with fsync interval, callbacks wait for the periodic fdatasync") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    Options o = options_for(p);
    o.fsync = FsyncMode::interval;
    o.fsync_interval = 300ms;
    AuditLog log(o);
    REQUIRE(log.flush());  // the log_opened line is written and synced
    uint64_t syncs_before = log.stats().fsyncs;
    std::atomic<bool> called{false}, result{false};
    std::atomic<uint64_t> syncs_at_call{0};
    auto submitted = std::chrono::steady_clock::now();
    std::atomic<int64_t> waited_ms{-1};
    log.submit(statement(1, 0), [&](bool ok) {
        result = ok;
        syncs_at_call = log.stats().fsyncs;
        waited_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - submitted).count();
        called = true;
    });
    // Written at once, but not yet durable.
    REQUIRE(eventually([&] { return read_file(p).find("statement 1/0") != std::string::npos; }));
    CHECK_FALSE(called.load());
    REQUIRE(eventually([&] { return called.load(); }));
    CHECK(result.load());
    CHECK(syncs_at_call > syncs_before);
    CHECK(waited_ms >= 250);
    log.stop();
}

TEST_CASE("under continue a full queue drops records, counts them and says so in the log") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    FileSizeLimit limit;
    Options o = options_for(p);
    o.failure_policy = FailurePolicy::continue_;
    o.queue_records = 16;
    o.retry_interval = 60s;  // the writer stays stuck after the first failure
    limit.set(1);            // nothing fits: the log_opened write fails
    AuditLog log(o);
    REQUIRE(eventually([&] { return log.stats().failing; }));
    CHECK(log.accepting());  // continue never refuses statements

    int accepted = 0, dropped_callbacks = 0;
    for (int i = 0; i < 40; ++i) {
        if (log.submit(statement(1, static_cast<uint64_t>(i)), [&](bool ok) {
                if (!ok) ++dropped_callbacks;
            }))
            ++accepted;
    }
    CHECK(accepted == 16);
    CHECK(dropped_callbacks == 24);  // ran inside submit()
    CHECK(log.stats().dropped == 24);
    CHECK(log.stats().queue_records == 16);
    CHECK(log.accepting());

    limit.lift();
    log.stop();  // one last attempt
    auto lines = read_lines(p);
    REQUIRE(lines.size() >= 3);
    CHECK(field(lines[0], "event") == "log_opened");
    CHECK(field(lines[1], "event") == "audit_error");
    CHECK(field(lines[1], "lost") == "24");
    CHECK(field(lines[1], "reason") == "24 record(s) dropped: the audit queue was full");
    CHECK(statements_in(p).size() == 16);
    CHECK(verify({p}, std::nullopt).ok());
}

TEST_CASE("under continue a failed write loses its records, and the log records the loss once writable again") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    FileSizeLimit limit;
    Options o = options_for(p);
    o.failure_policy = FailurePolicy::continue_;
    AuditLog log(o);
    REQUIRE(log.flush());
    off_t size = static_cast<off_t>(fs::file_size(p));
    limit.set(size + 10);  // the next write only gets 10 bytes in
    log.submit(statement(1, 0));
    log.submit(statement(1, 1));
    REQUIRE(eventually([&] { return log.stats().lost == 2; }));
    CHECK(log.stats().failing);
    CHECK(log.accepting());
    CHECK(fs::file_size(p) == static_cast<uintmax_t>(size));  // the partial line was cut off
    limit.lift();
    log.submit(statement(1, 2));
    REQUIRE(log.flush());
    CHECK_FALSE(log.stats().failing);
    log.stop();
    auto lines = read_lines(p);
    REQUIRE(lines.size() == 3);
    CHECK(field(lines[1], "event") == "audit_error");
    CHECK(field(lines[1], "lost") == "2");
    CHECK(field(lines[1], "reason").find("2 record(s) lost: write failed (File too large)") == 0);
    CHECK(statements_in(p) == std::vector<std::string>{"statement 1/2"});
    CHECK(verify({p}, std::nullopt).ok());
}

TEST_CASE("under block an unwritable log stops accepting, keeps its records, and resumes when writable") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    FileSizeLimit limit;
    Options o = options_for(p);
    o.failure_policy = FailurePolicy::block;
    o.fsync = FsyncMode::every_record;
    AuditLog log(o);
    REQUIRE(log.flush());
    CHECK(log.accepting());
    off_t size = static_cast<off_t>(fs::file_size(p));
    limit.set(size + 100);  // the disk is "full" part way into the next write

    std::atomic<int> failed_callbacks{0};
    for (int i = 0; i < 5; ++i) {
        REQUIRE(log.submit(statement(1, static_cast<uint64_t>(i)), [&](bool ok) {
            if (!ok) ++failed_callbacks;
        }));
    }
    REQUIRE(eventually([&] { return !log.accepting(); }));
    CHECK(log.stats().failing);
    CHECK(eventually([&] { return failed_callbacks.load() == 5; }));  // told at once, not kept waiting
    CHECK(log.stats().queue_records == 5);                            // but still kept
    CHECK(log.stats().lost == 0);
    // Retries keep failing while the disk stays full, and leave no partial line.
    std::this_thread::sleep_for(100ms);
    CHECK_FALSE(log.accepting());
    CHECK(log.stats().write_errors >= 2);
    CHECK(fs::file_size(p) == static_cast<uintmax_t>(size));
    // A statement that was already running still gets its record in.
    REQUIRE(log.submit(statement(1, 5)));

    limit.lift();
    REQUIRE(eventually([&] { return log.accepting(); }));
    CHECK_FALSE(log.stats().failing);
    CHECK(log.stats().queue_records == 0);
    log.submit(statement(1, 6));
    log.stop();
    CHECK(statements_in(p) == std::vector<std::string>{"statement 1/0", "statement 1/1", "statement 1/2",
                                                       "statement 1/3", "statement 1/4", "statement 1/5",
                                                       "statement 1/6"});
    CHECK(log.stats().lost == 0);
    auto r = verify({p}, std::nullopt);
    CHECK(r.ok());
}

TEST_CASE("under block a log that always fails (/dev/full) refuses, and bounds its queue at twice the capacity") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    fs::create_symlink("/dev/full", p);  // every write: ENOSPC
    Options o = options_for(p);
    o.failure_policy = FailurePolicy::block;
    o.queue_records = 16;
    AuditLog log(o);
    REQUIRE(eventually([&] { return log.stats().failing; }));
    CHECK_FALSE(log.accepting());
    int accepted = 0;
    for (int i = 0; i < 40; ++i) accepted += log.submit(statement(1, static_cast<uint64_t>(i))) ? 1 : 0;
    CHECK(accepted == 32);
    CHECK(log.stats().dropped == 8);

    // The operator points the log at a writable file and signals pgmoat.
    fs::remove(p);
    log.reopen();
    REQUIRE(eventually([&] { return log.accepting(); }));
    log.stop();
    auto lines = read_lines(p);
    REQUIRE(!lines.empty());
    CHECK(field(lines[0], "event") == "log_opened");
    CHECK(statements_in(p).size() == 32);
    bool loss_recorded = false;
    for (const auto& l : lines)
        if (field(l, "event") == "audit_error" && field(l, "lost") == "8") loss_recorded = true;
    CHECK(loss_recorded);
    CHECK(verify({p}, std::nullopt).ok());
}

namespace {
// Holds the writer thread inside a durability callback until released, so the
// queue fills without the log failing.
struct WriterGate {
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<bool> entered{false};
    DurableCallback callback() {
        return [this](bool) {
            entered = true;
            released.wait();
        };
    }
};
}  // namespace

TEST_CASE("under block accepting() turns false when the queue is 7/8 full, before it is full") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    Options o = options_for(p);
    o.failure_policy = FailurePolicy::block;
    o.queue_records = 64;
    AuditLog log(o);
    WriterGate gate;
    log.submit(statement(1, 0), gate.callback());
    REQUIRE(log.flush(1s) == false);  // the writer is held in the callback
    REQUIRE(gate.entered.load());
    for (int n = 1; n <= 55; ++n) log.submit(statement(1, static_cast<uint64_t>(n)));
    CHECK(log.stats().queue_records == 55);
    CHECK(log.accepting());
    log.submit(statement(1, 56));
    CHECK(log.stats().queue_records == 56);  // 7/8 of 64
    CHECK_FALSE(log.stats().failing);
    CHECK_FALSE(log.accepting());
    gate.release.set_value();
    REQUIRE(eventually([&] { return log.accepting(); }));
    log.stop();
    CHECK(statements_in(p).size() == 57);
}

TEST_CASE("under block accepting() also watches the queue's bytes") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    Options o = options_for(p);
    o.failure_policy = FailurePolicy::block;
    o.queue_bytes = 64 << 10;
    AuditLog log(o);
    WriterGate gate;
    log.submit(statement(1, 0), gate.callback());
    REQUIRE(eventually([&] { return gate.entered.load(); }));
    Record big = statement(1, 1);
    big.raw_statement = std::string(8 << 10, 'x');
    int accepted = 0;
    while (log.accepting() && accepted < 100) {
        Record r = big;
        log.submit(std::move(r));
        ++accepted;
    }
    CHECK(accepted == 7);  // 7 x 8kB reach 7/8 of 64kB
    CHECK(log.stats().queue_bytes >= (56u << 10));
    // Past the capacity, up to twice as much is still taken, then dropped.
    int more = 0;
    while (more < 100) {
        Record r = big;
        if (!log.submit(std::move(r))) break;
        ++more;
    }
    CHECK(accepted + more < 16);
    CHECK(accepted + more >= 14);
    CHECK(log.stats().dropped == 1);
    gate.release.set_value();
    log.stop();
}

TEST_CASE("submit after stop drops the record and reports it") {
    TempDir d;
    AuditLog log(options_for(d.file("audit.jsonl")));
    log.stop();
    bool reported = false, result = true;
    CHECK_FALSE(log.submit(statement(1, 0), [&](bool ok) {
        reported = true;
        result = ok;
    }));
    CHECK(reported);
    CHECK_FALSE(result);
    CHECK_FALSE(log.accepting());
    CHECK_FALSE(log.flush(100ms));
    log.stop();  // idempotent
}

TEST_CASE("the file is created with mode 0600 and an unopenable path is a start-up error") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    { AuditLog log(options_for(p)); }
    CHECK((fs::status(p).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));

    Options bad = options_for(d.file("no/such/dir/audit.jsonl"));
    try {
        AuditLog log(bad);
        FAIL("expected a ConfigError");
    } catch (const pgmoat::ConfigError& e) {
        CHECK(std::string(e.what()).find(
                  "no/such/dir/audit.jsonl: cannot open the audit log: No such file or directory") !=
              std::string::npos);
    }
}

TEST_CASE("the stdout sink writes the same chained lines") {
    TempDir d;
    auto p = d.file("stdout.jsonl");
    std::fflush(stdout);
    int saved = ::dup(STDOUT_FILENO);
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    ::dup2(fd, STDOUT_FILENO);
    ::close(fd);
    Stats stats;
    {
        Options o = options_for("-");
        o.fsync = FsyncMode::every_record;
        AuditLog log(o);
        for (int i = 0; i < 3; ++i) log.submit(statement(1, static_cast<uint64_t>(i)));
        log.stop();
        stats = log.stats();
    }
    ::dup2(saved, STDOUT_FILENO);
    ::close(saved);
    CHECK(stats.records_written == 3);
    CHECK(statements_in(p).size() == 3);
    CHECK(verify({p}, std::nullopt).ok());
}

TEST_CASE("stats count records and bytes written") {
    TempDir d;
    auto p = d.file("audit.jsonl");
    AuditLog log(options_for(p));
    for (int i = 0; i < 10; ++i) log.submit(statement(1, static_cast<uint64_t>(i)));
    REQUIRE(log.flush());
    Stats s = log.stats();
    CHECK(s.records_written == 10);
    CHECK(s.bytes_written == fs::file_size(p));
    CHECK(s.write_errors == 0);
    CHECK(s.queue_records == 0);
    CHECK(s.queue_bytes == 0);
    CHECK_FALSE(s.failing);
    log.stop();
}
