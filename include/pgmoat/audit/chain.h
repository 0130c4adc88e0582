// Tamper evidence for the audit log: every line carries a hash chain value, and
// verify() checks a sequence of files and reports the first break.
//
// ## Chain scheme (chain_alg "sha256", or "hmac-sha256" with a key)
//
// Every line the writer appends has the form
//
//     P + ,"chain":"H"} + \n
//
// where P is the line's bytes from its opening `{` up to, not including, the
// 10 bytes `,"chain":"`, and H is 64 lower-case hex digits of
//
//     c(n) = SHA-256(c(n-1) || P(n))                 chain_alg "sha256" (default)
//     c(n) = HMAC-SHA-256(K, c(n-1) || P(n))         chain_alg "hmac-sha256"
//
// c(n-1) is the previous line's chain value as 32 raw bytes (not hex). K is the
// content of the key file with trailing newlines removed, used as bytes. The
// previous line is the one before in the same file or, for a file's first line,
// the last line of the file before it. A new chain starts from 32 zero bytes.
//
// Every time the writer opens its file (start, reopen after rotation) it first
// writes a `log_opened` record carrying:
//   - chain_alg, and key_id with hmac-sha256: hex of the first 8 bytes of
//     SHA-256("pgmoat-audit-key-id:" || K), so a wrong key is told apart from tampering;
//   - previous_chain: the hex chain value it continues from, i.e. the last line of
//     the file it appends to, or of the previous file after a rotation (and then
//     previous_file: that file's name at the time). A log_opened without
//     previous_chain starts a new chain (seq 1).
// seq in every record counts lines along the chain, so a gap shows removed records.
//
// What the chain proves: with hmac-sha256 and a key the attacker cannot read,
// any change, removal, insertion or reordering of lines, and any file in a
// rotated series missing or swapped, is detected, except removing lines at the very
// end of the newest file (nothing follows them). pgmoat writes the chain head
// to its operational log on every reopen and at stop, so compare those to catch a
// cut tail. With plain sha256 anyone who can write the file can recompute the chain
// from the point they edit: it detects accidents and careless edits only, unless
// the head is kept elsewhere.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pgmoat::audit {

using Digest = std::array<uint8_t, 32>;

inline constexpr std::string_view kChainField = ",\"chain\":\"";
// `,"chain":"` + 64 hex + `"}`
inline constexpr size_t kChainSuffixBytes = 10 + 64 + 2;

std::string to_hex(const Digest& d);
std::optional<Digest> digest_from_hex(std::string_view hex);  // exactly 64 lower-case hex digits

// 16 hex digits naming an HMAC key without revealing it.
std::string key_id(std::string_view key);

// Computes chain values; one per thread (it keeps OpenSSL contexts).
class Chainer {
  public:
    // Without a key: SHA-256; with one: HMAC-SHA-256.
    explicit Chainer(std::optional<std::string> key = std::nullopt);
    ~Chainer();
    Chainer(const Chainer&) = delete;
    Chainer& operator=(const Chainer&) = delete;

    Digest next(const Digest& previous, std::string_view prefix);
    bool keyed() const { return key_.has_value(); }
    std::string_view alg() const { return key_ ? "hmac-sha256" : "sha256"; }

  private:
    std::optional<std::string> key_;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// A line split into the hashed prefix and its chain value; nullopt when the line
// does not end in a well-formed chain field. (No JSON parsing.)
struct ChainedLine {
    std::string_view prefix;
    Digest chain;
};
std::optional<ChainedLine> split_chained_line(std::string_view line);  // line without '\n'

enum class Problem : uint8_t {
    none,
    unreadable,     // a file cannot be opened or read
    empty_file,     // a file has no records
    not_a_record,   // a line is not a chained audit record
    truncated,      // the last line of a file is incomplete
    modified,       // a record's content was changed
    removed,        // records are missing before the line
    inserted,       // a line that does not belong to the chain
    reordered,      // lines are out of order (e.g. two swapped)
    chain_broken,   // the chain breaks here; the cause cannot be narrowed down
    missing_start,  // the first file does not start with log_opened: what came before is missing
    not_linked,     // a file does not continue from the end of the file before it
    new_chain,      // a chain restarts where the previous one should continue
    key_required,   // the log is keyed (hmac-sha256): verifying needs the key
    wrong_key,      // the key given is not the one the log was written with
    not_keyed,      // a key was given but (part of) the log is chained without one
};
std::string_view name(Problem problem);

struct VerifyResult {
    Problem problem = Problem::none;
    std::string file;       // where the problem is
    uint64_t line = 0;      // 1-based; 0 when it concerns the whole file
    std::string message;    // "FILE:LINE: what is wrong", for people
    uint64_t records = 0;   // lines verified good (before the problem)
    uint64_t files = 0;     // files verified completely
    uint64_t last_seq = 0;  // seq of the last good line
    std::string head;       // hex chain value of the last good line
    // Set when the first file's log_opened continues an earlier file that was not
    // given: that file's name as recorded (or "an earlier file"); the link itself is unchecked.
    std::string continues_from;

    bool ok() const { return problem == Problem::none; }
};

// Checks the files as one chain, in the order given (oldest first), and stops at
// the first problem. The first file must start with log_opened; if that record
// links to an earlier file (previous_chain) the link itself cannot be checked and
// is taken as the starting point. With a key, every part of the log must be keyed
// with it.
VerifyResult verify(const std::vector<std::string>& files, const std::optional<std::string>& key);

}  // namespace pgmoat::audit
