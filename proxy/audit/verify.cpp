// `pgmoat audit verify`: walks the chain across files and explains the first break.
// Files are streamed line by line; after a break one more line is read to tell a
// modified record from an inserted, removed or reordered one.
#include "pgmoat/audit/chain.h"
#include "pgmoat/audit/json.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace pgmoat::audit {

namespace {

struct Line {
    std::string text;
    uint64_t number = 0;
    bool complete = true;  // ended with '\n'
};

class LineReader {
  public:
    bool open(const std::string& path) {
        in_.open(path, std::ios::binary);
        return static_cast<bool>(in_);
    }
    bool next(Line& out) {
        out.text.clear();
        if (!std::getline(in_, out.text)) return false;
        out.number = ++number_;
        out.complete = !in_.eof();
        return true;
    }
    bool read_error() const { return in_.bad(); }

  private:
    std::ifstream in_;
    uint64_t number_ = 0;
};

// A line that has the shape of an audit record. Views point into the Line's text.
struct Parsed {
    ChainedLine split;
    json::Value object;
    int64_t seq = 0;
    std::string event;
};

std::optional<Parsed> parse_line(std::string_view text) {
    auto split = split_chained_line(text);
    if (!split) return std::nullopt;
    auto v = json::parse(text);
    if (!v || v->type != json::Value::Type::object || v->members.empty()) return std::nullopt;
    // The chain must be the one at the end: a second "chain" key would let two
    // readers disagree about the record.
    for (size_t i = 0; i + 1 < v->members.size(); ++i)
        if (v->members[i].key == "chain") return std::nullopt;
    if (v->members.back().key != "chain") return std::nullopt;
    auto* seq = v->find("seq");
    auto* event = v->find("event");
    auto* time = v->find("time");
    if (!seq || !seq->integer() || *seq->integer() < 1 || !event || !event->is_string() || !time || !time->is_string())
        return std::nullopt;
    Parsed p{*split, std::move(*v), 0, {}};
    p.seq = *p.object.find("seq")->integer();
    p.event = p.object.find("event")->text;
    return p;
}

struct Position {
    std::string file;
    uint64_t line = 0;
};

class Verifier {
  public:
    explicit Verifier(const std::optional<std::string>& key) : key_(key), chainer_(key) {
        if (key_) key_id_ = key_id(*key_);
    }

    VerifyResult run(const std::vector<std::string>& files) {
        for (size_t i = 0; i < files.size(); ++i) {
            if (!verify_file(files[i], i == 0 ? nullptr : &files[i - 1])) return result_;
            ++result_.files;
        }
        return result_;
    }

  private:
    bool fail(Problem problem, const std::string& file, uint64_t line, const std::string& message) {
        result_.problem = problem;
        result_.file = file;
        result_.line = line;
        result_.message = line ? fmt::format("{}:{}: {}", file, line, message) : fmt::format("{}: {}", file, message);
        return false;
    }

    bool verify_file(const std::string& file, const std::string* previous_file) {
        LineReader reader;
        if (!reader.open(file))
            return fail(Problem::unreadable, file, 0, fmt::format("cannot open: {}", std::strerror(errno)));
        Line line;
        bool any = false;
        while (reader.next(line)) {
            any = true;
            if (!verify_line(file, previous_file, reader, line)) return false;
        }
        if (reader.read_error()) return fail(Problem::unreadable, file, 0, "read error");
        if (!any) return fail(Problem::empty_file, file, 0, "has no records");
        return true;
    }

    bool verify_line(const std::string& file, const std::string* previous_file, LineReader& reader, const Line& line) {
        auto p = parse_line(line.text);
        if (!p) {
            if (!line.complete) {
                return fail(Problem::truncated, file, line.number,
                            "the last line is incomplete: the file was cut short (or the machine crashed during a "
                            "write)");
            }
            Line next;
            if (have_prev_ && reader.next(next)) {
                auto pn = parse_line(next.text);
                if (pn && chainer_.next(prev_, pn->split.prefix) == pn->split.chain) {
                    return fail(Problem::inserted, file, line.number,
                                fmt::format("not an audit record, and it does not belong to the chain (inserted): "
                                            "line {} continues from {}",
                                            next.number, where(prev_pos_)));
                }
            }
            return fail(Problem::not_a_record, file, line.number,
                        "not an audit record (modified, inserted, or this is not a pgmoat audit log)");
        }

        if (p->event == "log_opened") {
            if (!check_opening(file, previous_file, line, *p)) return false;
        } else if (!have_prev_) {
            return fail(Problem::missing_start, file, line.number,
                        "the log does not start with a log_opened record: records before this line are missing (if "
                        "this file continues an earlier one, verify them together, oldest first)");
        }

        if (chainer_.next(prev_, p->split.prefix) != p->split.chain) return diagnose(file, reader, line, *p);
        if (p->seq != prev_seq_ + 1) {
            // The chain holds but the numbering does not: it was recomputed after an edit.
            if (p->seq > prev_seq_ + 1) {
                return fail(Problem::removed, file, line.number,
                            fmt::format("seq jumps from {} to {}: {} record(s) removed before this line and the chain "
                                        "recomputed",
                                        prev_seq_, p->seq, p->seq - prev_seq_ - 1));
            }
            return fail(Problem::reordered, file, line.number,
                        fmt::format("seq {} follows seq {}: records reordered or duplicated and the chain recomputed",
                                    p->seq, prev_seq_));
        }
        prev2_ = prev_;
        prev2_pos_ = prev_pos_;
        prev_ = p->split.chain;
        prev_pos_ = {file, line.number};
        prev_seq_ = p->seq;
        ++result_.records;
        result_.last_seq = static_cast<uint64_t>(p->seq);
        result_.head = to_hex(prev_);
        return true;
    }

    // A log_opened record: the chain's algorithm and key, and where it continues from.
    bool check_opening(const std::string& file, const std::string* previous_file, const Line& line, const Parsed& p) {
        auto* alg = p.object.find("chain_alg");
        if (!alg || !alg->is_string() || (alg->text != "sha256" && alg->text != "hmac-sha256")) {
            return fail(Problem::not_a_record, file, line.number, "log_opened record without a valid chain_alg");
        }
        if (alg->text == "hmac-sha256") {
            if (!key_) {
                return fail(Problem::key_required, file, line.number,
                            "the log is chained with HMAC-SHA-256: verifying it needs the key (--key FILE)");
            }
            auto* id = p.object.find("key_id");
            std::string written = id && id->is_string() ? id->text : "(none)";
            if (written != key_id_) {
                return fail(
                    Problem::wrong_key, file, line.number,
                    fmt::format("the log was written with key id {}, the key given has id {}", written, key_id_));
            }
        } else if (key_) {
            return fail(Problem::not_keyed, file, line.number,
                        "from here the log is chained without a key (sha256) although a key was given: this part is "
                        "not protected by the key");
        }

        std::optional<Digest> previous;
        if (auto* pc = p.object.find("previous_chain")) {
            previous = pc->is_string() ? digest_from_hex(pc->text) : std::nullopt;
            if (!previous)
                return fail(Problem::not_a_record, file, line.number,
                            "log_opened record with a malformed previous_chain");
        }
        if (!have_prev_) {
            // The start of what we were given: take it as it says.
            have_prev_ = true;
            if (previous) {
                prev_ = *previous;
                prev_seq_ = p.seq - 1;
                prev_pos_ = {file, 0};
                auto* pf = p.object.find("previous_file");
                if (pf && pf->is_string()) prev_pos_.file = pf->text;
                result_.continues_from = pf && pf->is_string() ? pf->text : "an earlier file";
            } else {
                prev_ = Digest{};
                prev_seq_ = 0;
                prev_pos_ = {file, 0};
            }
            return true;
        }
        bool file_start = line.number == 1 && previous_file;
        if (!previous) {
            if (file_start) {
                return fail(Problem::new_chain, file, line.number,
                            fmt::format("starts a new chain instead of continuing from the end of {} (a file is "
                                        "missing or out of order, or pgmoat started afresh without the earlier file)",
                                        *previous_file));
            }
            return fail(Problem::new_chain, file, line.number,
                        "a new chain starts here: the chain before it is not continued (records before it were "
                        "replaced, or pgmoat found the end of the file damaged when it opened it)");
        }
        if (file_start && *previous != prev_) {
            return fail(Problem::not_linked, file, line.number,
                        fmt::format("does not continue from the end of {}: it links to chain {}…, {} ends at {}… "
                                    "(a file is missing or out of order, or records were removed from the end of {})",
                                    *previous_file, to_hex(*previous).substr(0, 16), *previous_file,
                                    to_hex(prev_).substr(0, 16), *previous_file));
        }
        return true;
    }

    std::string where(const Position& pos) const {
        if (pos.line == 0) return fmt::format("the start of the chain ({})", pos.file);
        return fmt::format("{}:{}", pos.file, pos.line);
    }

    // The line does not continue the chain: look at its neighbours to say why.
    bool diagnose(const std::string& file, LineReader& reader, const Line& line, const Parsed& p) {
        Line next;
        std::optional<Parsed> pn;
        if (reader.next(next)) pn = parse_line(next.text);
        if (pn) {
            bool next_from_prev = chainer_.next(prev_, pn->split.prefix) == pn->split.chain;
            if (next_from_prev && chainer_.next(pn->split.chain, p.split.prefix) == p.split.chain) {
                return fail(Problem::reordered, file, line.number,
                            fmt::format("lines {} and {} are swapped (reordered)", line.number, next.number));
            }
            if (next_from_prev) {
                return fail(Problem::inserted, file, line.number,
                            fmt::format("this line does not belong to the chain (inserted): line {} continues from {}",
                                        next.number, where(prev_pos_)));
            }
        }
        // The line before was slipped in with a chain value computed for it (possible
        // without a key): this line still continues from the one before that.
        if (prev2_ && chainer_.next(*prev2_, p.split.prefix) == p.split.chain) {
            return fail(Problem::inserted, prev_pos_.file, prev_pos_.line,
                        fmt::format("this line does not belong to the chain (inserted, with its chain value "
                                    "recomputed): {}:{} continues from {}",
                                    file, line.number, where(prev2_pos_)));
        }
        if (pn && chainer_.next(p.split.chain, pn->split.prefix) == pn->split.chain)
            return by_seq(file, line, p, false);
        if (!pn) return by_seq(file, line, p, true);
        return fail(Problem::chain_broken, file, line.number,
                    "chain broken: a record was modified, inserted, removed or reordered here");
    }

    // The line's own link is broken but the chain goes on after it: its content was
    // changed, or records before it were removed; seq tells which.
    bool by_seq(const std::string& file, const Line& line, const Parsed& p, bool last) {
        if (p.seq == prev_seq_ + 1) {
            return fail(Problem::modified, file, line.number,
                        last ? "this record does not match its chain value: modified, or added by someone else"
                             : "record modified: its content does not match its chain value");
        }
        if (p.seq > prev_seq_ + 1) {
            return fail(Problem::removed, file, line.number,
                        fmt::format("{} record(s) removed before this line (seq jumps from {} to {})",
                                    p.seq - prev_seq_ - 1, prev_seq_, p.seq));
        }
        return fail(Problem::reordered, file, line.number,
                    fmt::format("record out of order: seq {} after seq {}", p.seq, prev_seq_));
    }

    std::optional<std::string> key_;
    std::string key_id_;
    Chainer chainer_;
    bool have_prev_ = false;
    Digest prev_{};
    std::optional<Digest> prev2_;
    Position prev_pos_, prev2_pos_;
    int64_t prev_seq_ = 0;
    VerifyResult result_;
};

}  // namespace

VerifyResult verify(const std::vector<std::string>& files, const std::optional<std::string>& key) {
    if (files.empty()) {
        VerifyResult r;
        r.problem = Problem::unreadable;
        r.message = "no files to verify";
        return r;
    }
    Verifier v(key);
    return v.run(files);
}

}  // namespace pgmoat::audit
