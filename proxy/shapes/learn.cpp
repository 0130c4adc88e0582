// Learning the shape lock from executions: constants are the positions whose
// value never changed, spliced values the ones that did. The report and the
// diff say so in words a developer (or an AI agent) can act on.
#include "pgmoat/shapes/learn.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

namespace pgmoat::shapes {

namespace {

std::string plural(uint64_t n, std::string_view one, std::string_view many) {
    return fmt::format("{} {}", n, n == 1 ? one : many);
}

std::string seen_line(const ShapeSeen& s) {
    return fmt::format("seen {} in {}", plural(s.executions, "time", "times"),
                       plural(s.sessions.size(), "session", "sessions"));
}

std::string examples(const PositionSeen& p) {
    std::string out;
    for (const auto& v : p.values) out += (out.empty() ? "" : ", ") + redact(v);
    return out;
}

const Constant* constant_at(const Shape& s, int n) {
    for (const auto& c : s.constants)
        if (c.position == n) return &c;
    return nullptr;
}

}  // namespace

ShapeSeen& Learner::seen(uint64_t fingerprint, std::string_view normalized, uint64_t session, std::string_view date) {
    auto [it, fresh] = shapes_.try_emplace(fingerprint);
    ShapeSeen& s = it->second;
    if (fresh) {
        s.fingerprint = fingerprint;
        s.statement = normalized;
    }
    ++s.executions;
    s.sessions.insert(session);
    if (!date.empty()) {
        if (s.first_seen.empty() || date < s.first_seen) s.first_seen = date;
        if (date > s.last_seen) s.last_seen = date;
    }
    return s;
}

void Learner::add(const sql::Statement& st, std::string_view sql, uint64_t session, std::string_view date) {
    if (!needs_shape(st)) return;
    ShapeSeen& s = seen(st.fingerprint, st.normalized, session, date);
    ++s.with_values;
    auto ps = positions(st);
    if (s.literal_count >= 0 && static_cast<size_t>(s.literal_count) != ps.size()) s.positions_vary = true;
    s.literal_count = static_cast<int>(ps.size());
    for (const auto& p : ps) {
        PositionSeen& seen = s.positions[p.number];
        ++seen.executions;
        std::string v(st.literals[p.literal].text(sql));
        if (seen.values.count(v)) continue;
        if (seen.values.size() < PositionSeen::kKeptValues)
            seen.values.insert(std::move(v));
        else
            seen.more_values = true;
    }
}

void Learner::add_shape(uint64_t fingerprint, std::string_view normalized, uint64_t session, std::string_view date) {
    seen(fingerprint, normalized, session, date);
}

PositionKind classify(const ShapeSeen& s, const PositionSeen& p, uint64_t min_observations) {
    if (p.values.size() > 1 || p.more_values) return PositionKind::spliced;
    if (s.positions_vary || p.executions < std::max<uint64_t>(min_observations, 1)) return PositionKind::undetermined;
    return PositionKind::constant;
}

ShapeLock update(const ShapeLock& lock, const Learner& run, const ShapeLock* known, uint64_t min_observations,
                 const std::set<uint64_t>& only) {
    ShapeLock out = lock;
    for (const auto& [fp, s] : run.shapes()) {
        if (known && known->find(fp)) continue;
        const bool locked = lock.find(fp) != nullptr;
        if (!only.empty() && (locked || !only.count(fp))) continue;
        Shape& t = out.shapes[fp];
        if (!locked) {
            t.fingerprint = fp;
            t.statement = s.statement;
            t.first_seen = s.first_seen;
        }
        if (s.last_seen > t.last_seen) t.last_seen = s.last_seen;
        if (s.positions_vary) {
            // Positions shift with the list's length: a constant cannot be located.
            t.constants.clear();
            continue;
        }
        for (const auto& [n, p] : s.positions) {
            if (const Constant* c = constant_at(t, n)) {
                if (p.values.size() == 1 && !p.more_values && *p.values.begin() == c->value) continue;
                t.constants.erase(t.constants.begin() + (c - t.constants.data()));
                t.spliced.push_back(n);
                continue;
            }
            if (std::find(t.spliced.begin(), t.spliced.end(), n) != t.spliced.end()) continue;
            switch (classify(s, p, min_observations)) {
                case PositionKind::constant:
                    t.constants.push_back({n, *p.values.begin()});
                    break;
                case PositionKind::spliced:
                    t.spliced.push_back(n);
                    break;
                case PositionKind::undetermined:
                    break;
            }
        }
        std::sort(t.constants.begin(), t.constants.end(),
                  [](const Constant& a, const Constant& b) { return a.position < b.position; });
        std::sort(t.spliced.begin(), t.spliced.end());
    }
    return out;
}

std::string redact(std::string_view literal) {
    std::string_view v = literal;
    std::string quote;
    if (v.size() >= 2 && v.back() == '\'' && v.find('\'') < v.size() - 1) {
        quote = "'";
        v = v.substr(v.find('\'') + 1);
        v.remove_suffix(1);
    }
    size_t chars = 0;
    for (unsigned char c : v)
        if ((c & 0xC0) != 0x80) ++chars;
    if (chars == 0) return quote + quote;
    size_t first = 1;
    while (first < v.size() && (static_cast<unsigned char>(v[first]) & 0xC0) == 0x80) ++first;
    return fmt::format("{}{}…{} ({})", quote, v.substr(0, first), quote, plural(chars, "char", "chars"));
}

std::string interpolation_report(const Learner& run, const ShapeLock* known, uint64_t min_observations) {
    std::string spliced, undetermined, no_values;
    for (const auto& [fp, s] : run.shapes()) {
        if (known && known->find(fp)) continue;
        std::string head = fmt::format("\nshape {}  ({})\n  {}\n", sql::fingerprint_hex(fp), seen_line(s), s.statement);
        std::string sp, un;
        for (const auto& [n, p] : s.positions) {
            switch (classify(s, p, min_observations)) {
                case PositionKind::spliced:
                    sp += fmt::format(
                        "  ${}: {}{} different values, e.g. {}\n  fix: pass ${} as a bind parameter "
                        "instead of writing its value into the SQL text\n",
                        n, p.more_values ? "more than " : "", p.values.size(), examples(p), n);
                    break;
                case PositionKind::undetermined:
                    un += s.positions_vary
                              ? fmt::format(
                                    "  ${}: the statement's literal count varies (an IN list or VALUES rows), "
                                    "so positions are not compared\n",
                                    n)
                              : fmt::format(
                                    "  ${}: seen in {} ({}): not locked; run this flow again with other data and "
                                    "learn again to tell a constant from a value\n",
                                    n, plural(p.executions, "execution", "executions"), examples(p));
                    break;
                case PositionKind::constant:
                    break;
            }
        }
        if (!sp.empty()) spliced += head + sp;
        if (!un.empty()) undetermined += head + un;
        if (s.with_values < s.executions && s.positions.empty() && s.statement.find('$') != std::string::npos)
            no_values += head;
    }
    std::string out;
    if (!spliced.empty()) {
        out +=
            "# Interpolation: these statements were built by splicing values into the SQL text (a literal\n"
            "# position's value changed between executions). Such code is how SQL injection gets in: pass\n"
            "# each value as a bind parameter. The shape stays in the lock; a spliced position is never locked.\n" +
            spliced;
    }
    if (!undetermined.empty()) {
        out += (out.empty() ? "" : "\n") +
               fmt::format(
                   "# Undetermined: positions seen in fewer than {} or in statements whose literal\n"
                   "# count varies. They are not locked: any value passes there (the shape must still match).\n",
                   plural(min_observations, "execution", "executions")) +
               undetermined;
    }
    if (!no_values.empty()) {
        out += (out.empty() ? "" : "\n") +
               std::string(
                   "# Learned without values: the audit records held no raw_statement (the monitor-mode\n"
                   "# policy needs [audit] raw_statement = true), so no position of these is locked.\n") +
               no_values;
    }
    return out;
}

std::vector<DiffEntry> diff(const ShapeLock& lock, const Learner& run, const ShapeLock* known) {
    std::vector<DiffEntry> out;
    for (const auto& [fp, s] : run.shapes()) {
        if (known && known->find(fp)) continue;
        const Shape* t = lock.find(fp);
        if (!t) {
            out.push_back({DiffEntry::Kind::added, fp, s.statement, seen_line(s)});
            continue;
        }
        for (const auto& c : t->constants) {
            auto it = s.positions.find(c.position);
            if (s.positions_vary ||
                (it != s.positions.end() &&
                 (it->second.values.size() != 1 || it->second.more_values || *it->second.values.begin() != c.value))) {
                std::string seen = it == s.positions.end() ? std::string("a different literal count")
                                                           : "other values, e.g. " + examples(it->second);
                out.push_back({DiffEntry::Kind::constant_changed, fp, t->statement,
                               fmt::format("${} is locked as {}; this run saw {}", c.position, c.value, seen)});
            }
        }
    }
    for (const auto& [fp, t] : lock.shapes) {
        if (!run.shapes().count(fp)) out.push_back({DiffEntry::Kind::unseen, fp, t.statement, "not seen in this run"});
    }
    std::stable_sort(out.begin(), out.end(), [](const DiffEntry& a, const DiffEntry& b) {
        return std::tie(a.kind, a.fingerprint) < std::tie(b.kind, b.fingerprint);
    });
    return out;
}

std::string format_diff(const std::vector<DiffEntry>& entries) {
    std::string out;
    for (const auto& e : entries) {
        char mark = e.kind == DiffEntry::Kind::added ? '+' : e.kind == DiffEntry::Kind::constant_changed ? '~' : '-';
        out += fmt::format("{} {}  {}\n    {}\n", mark, sql::fingerprint_hex(e.fingerprint), e.statement, e.detail);
    }
    return out;
}

}  // namespace pgmoat::shapes
