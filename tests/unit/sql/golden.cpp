// Collects the repository's SQL texts and writes an Analysis out in full, for
// the golden comparison in golden_test.cpp.
#include "golden.h"

#include "corpus.h"

#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace pgmoat::sql::testing {

namespace fs = std::filesystem;

namespace {

std::string data_dir(const std::string& sub) {
    return std::string(PGMOAT_TEST_DATA) + "/" + sub;
}

std::string source_dir(const std::string& sub) {
    return std::string(PGMOAT_SOURCE_DIR) + "/" + sub;
}

std::string relative(const std::string& path) {
    return fs::relative(path, PGMOAT_SOURCE_DIR).generic_string();
}

std::vector<std::string> files_in(const std::string& dir, const std::string& extension) {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.is_regular_file() && (extension.empty() || entry.path().extension() == extension))
            out.push_back(entry.path().string());
    std::sort(out.begin(), out.end());
    return out;
}

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path + ": cannot open");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Printable ASCII as is; anything else (and the backslash) as \xNN, so that a
// golden line is one line whatever the text holds.
std::string escaped(std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(s.size());
    for (char ch : s) {
        auto b = static_cast<unsigned char>(ch);
        if (b >= 0x20 && b < 0x7f && b != '\\') {
            out += ch;
        } else {
            out += "\\x";
            out += hex[b >> 4];
            out += hex[b & 15];
        }
    }
    return out;
}

// The sql entries of [[key]] tables in a policy corpus.
void add_toml_entries(GoldenSet& set, const std::string& path, const char* key) {
    toml::table doc = toml::parse_file(path);
    const toml::array* list = doc[key].as_array();
    if (list == nullptr) throw std::runtime_error(path + ": no [[" + std::string(key) + "]]");
    for (const auto& node : *list) {
        const toml::table* t = node.as_table();
        if (t == nullptr) continue;
        auto sql = (*t)["sql"].value<std::string>();
        if (!sql) continue;
        set.inputs.push_back({relative(path) + ":" + std::to_string(t->source().begin.line), *sql, {}});
    }
}

GoldenSet corpus_set() {
    GoldenSet set{"analyzer_corpus", {}};
    for (const std::string& f : corpus_files(data_dir("sql")))
        for (const CorpusCase& c : read_corpus(f))
            set.inputs.push_back({relative(f) + ":" + std::to_string(c.line), c.sql, {}});
    return set;
}

GoldenSet policy_set() {
    GoldenSet set{"policy_corpus", {}};
    add_toml_entries(set, data_dir("policy/attacks.toml"), "attack");
    add_toml_entries(set, data_dir("policy/false_positives.toml"), "statement");
    for (const char* schema : {"tests/data/policy/schema.sql", "tests/integration/orms/schema.sql"})
        set.inputs.push_back({schema, read_all(source_dir(schema)), {}});
    return set;
}

// Shape locks: each [[shape]]'s statement, and the SQL after the "---" line.
GoldenSet shapes_set() {
    GoldenSet set{"shapes_corpus", {}};
    for (const std::string& f : files_in(source_dir("tests/fuzz/corpus/shapes"), ".toml")) {
        std::string text = read_all(f);
        size_t cut = text.find("\n---\n");
        std::string lock = cut == std::string::npos ? text : text.substr(0, cut + 1);
        toml::table doc = toml::parse(lock, f);
        if (const toml::array* shapes = doc["shape"].as_array())
            for (const auto& node : *shapes)
                if (const toml::table* t = node.as_table())
                    if (auto sql = (*t)["statement"].value<std::string>())
                        set.inputs.push_back({relative(f) + ":" + std::to_string(t->source().begin.line), *sql, {}});
        if (cut != std::string::npos) set.inputs.push_back({relative(f) + ":---", text.substr(cut + 5), {}});
    }
    return set;
}

// The analyzer's fuzz seeds: the first byte holds options (fuzz_analyzer.cpp).
GoldenSet fuzz_set() {
    GoldenSet set{"fuzz_seeds", {}};
    for (const std::string& f : files_in(source_dir("tests/fuzz/corpus/analyzer"), "")) {
        std::string bytes = read_all(f);
        if (bytes.empty()) continue;
        auto flags = static_cast<uint8_t>(bytes[0]);
        GoldenInput in{relative(f), bytes.substr(1), {}};
        in.options.standard_conforming_strings = (flags & 1) == 0;
        if (flags & 2) in.options.client_encoding = "SJIS";
        if (flags & 4) {
            in.options.max_depth = 16;
            in.options.max_statement_bytes = 256;
        }
        set.inputs.push_back(std::move(in));
    }
    return set;
}

template <class T, class F>
void list(std::ostringstream& out, const char* what, const std::vector<T>& items, F each) {
    for (size_t i = 0; i < items.size(); ++i) {
        out << "  " << what << "[" << i << "]";
        each(items[i]);
        out << "\n";
    }
}

void describe_statement(std::ostringstream& out, const Statement& st) {
    out << " statement kind=" << name(st.kind) << " inner=" << name(st.inner_kind) << " object_type=" << st.object_type
        << " at=" << st.offset << "+" << st.length << " fingerprint=" << fingerprint_hex(st.fingerprint) << "\n";
    out << "  normalized=" << escaped(st.normalized) << "\n";
    out << "  params=" << st.param_count << " parameter=" << escaped(st.parameter) << " set_local=" << st.set_local
        << " set_default=" << st.set_default << " name=" << escaped(st.name)
        << " explain_analyze=" << st.explain_analyze << " has_where=" << st.has_where << " has_limit=" << st.has_limit
        << " data_modifying_cte=" << st.data_modifying_cte << " select_into=" << st.select_into
        << " with_hold=" << st.cursor_with_hold << " temporary=" << st.temporary
        << " changes_parse_settings=" << st.changes_parse_settings << " comments=" << st.first_comment << "+"
        << st.comment_count << " set_ops=" << st.set_operations.union_ << "/" << st.set_operations.intersect << "/"
        << st.set_operations.except << "\n";
    if (st.copy)
        out << "  copy " << name(st.copy->direction) << " " << name(st.copy->endpoint) << " query=" << st.copy->query
            << "\n";
    for (const std::string& u : st.unknown_nodes) out << "  unknown " << escaped(u) << "\n";
    list(out, "relation", st.relations, [&](const Relation& r) {
        out << " " << escaped(r.catalog) << "|" << escaped(r.schema) << "|" << escaped(r.name) << " "
            << access_names(r.access) << " at=" << r.offset;
    });
    list(out, "column", st.columns, [&](const Column& c) {
        out << " " << escaped(c.name) << (c.all_columns ? " *" : "") << (c.written ? " written" : "") << " "
            << name(c.origin) << " rel=" << c.relation << " candidates=";
        for (uint32_t r : c.candidates) out << r << ",";
        out << " at=" << c.offset;
    });
    list(out, "function", st.functions, [&](const FunctionCall& f) {
        out << " " << escaped(f.catalog) << "|" << escaped(f.schema) << "|" << escaped(f.name)
            << (f.sql_syntax ? " sql_syntax" : "") << (f.attribute_notation ? " attribute" : "")
            << (f.row_source ? " row_source" : "") << " rel=" << f.relation << " at=" << f.offset << " args=";
        for (const Argument& a : f.arguments)
            out << "(" << name(a.kind) << " " << escaped(a.name) << " lit=" << a.literal << " param=" << a.parameter
                << " at=" << a.offset << ")";
    });
    list(out, "literal", st.literals, [&](const Literal& l) {
        out << " " << name(l.kind) << (l.bare_word ? "*" : "") << " " << name(l.context) << " " << name(l.clause)
            << " at=" << l.offset << "+" << l.length << " compared_to=" << escaped(l.compared_to)
            << " cast=" << escaped(l.cast_type) << " value=" << escaped(l.value);
    });
    list(out, "tautology", st.tautologies, [&](const Tautology& t) {
        out << " " << name(t.clause) << " at=" << t.offset << (t.conjunct ? " conjunct" : "")
            << (t.whole ? " whole" : "") << (t.literal_true ? " literal_true" : "");
    });
    list(out, "dynamic", st.dynamic_code, [&](const DynamicCode& d) {
        out << " " << name(d.kind) << " language=" << escaped(d.language) << " name=" << escaped(d.name)
            << " at=" << d.offset;
    });
    list(out, "arm", st.set_operation_arms, [&](const SetOperationArm& a) {
        out << " at=" << a.offset << " parameters=" << a.parameters << " reads=" << a.reads_relation
            << " recursive=" << a.recursive;
    });
    list(out, "converted", st.converted_queries, [&](const ConvertedQuery& q) {
        out << " at=" << q.offset << " reads=" << q.reads_relation << " via=";
        for (const Conversion& c : q.conversions)
            out << (c.cast ? "cast:" : "call:") << escaped(c.name) << (c.may_quote_value ? "!" : "") << ",";
    });
    list(out, "write", st.writes, [&](const Write& w) {
        out << " " << name(w.kind) << " " << name(w.place) << (w.row_lock ? " row_lock" : "")
            << (w.merge_action ? " merge_action" : "") << " rel=" << w.relation << " has_where=" << w.has_where
            << " restricts=" << w.restricts << " at=" << w.offset;
    });
    list(out, "unknown_relation", st.unknown_relations,
         [&](const UnknownRelation& u) { out << " " << access_names(u.access) << " at=" << u.offset; });
}

}  // namespace

std::vector<GoldenSet> golden_sets() {
    return {corpus_set(), policy_set(), shapes_set(), fuzz_set()};
}

std::string describe_analysis(const Analysis& a) {
    std::ostringstream out;
    out << " status=" << name(a.status) << " error=" << escaped(a.error) << " error_position=" << a.error_position
        << " error_sqlstate=" << a.error_sqlstate << " fingerprint=" << fingerprint_hex(a.fingerprint)
        << " depends_on_settings=" << a.depends_on_settings << "\n";
    for (const Comment& c : a.comments)
        out << " comment " << (c.style == CommentStyle::line ? "line" : "block") << " at=" << c.offset << "+"
            << c.length << (c.sqlcommenter ? " sqlcommenter" : "") << (c.marginalia ? " marginalia" : "")
            << (c.sql_like ? " sql_like" : "") << (c.after_literal ? " after_literal" : "")
            << (c.at_end ? " at_end" : "") << " " << escaped(c.text) << "\n";
    for (const Statement& st : a.statements) describe_statement(out, st);
    return out.str();
}

std::string golden_text(const GoldenSet& set) {
    std::string out = "# Generated by tests/unit/sql/golden_test.cpp (PGMOAT_UPDATE_GOLDEN=1): do not edit.\n";
    for (const GoldenInput& in : set.inputs) {
        out += "== " + in.where;
        if (!in.options.standard_conforming_strings) out += " [standard_conforming_strings off]";
        if (in.options.client_encoding != "UTF8") out += " [client_encoding " + in.options.client_encoding + "]";
        if (in.options.max_depth != AnalyzerOptions{}.max_depth) out += " [small limits]";
        out += "\n" + escaped(in.sql.substr(0, 200)) + (in.sql.size() > 200 ? "..." : "") + "\n";
        out += describe_analysis(analyze(in.sql, in.options));
    }
    return out;
}

}  // namespace pgmoat::sql::testing
