// The analyzer's golden record: every SQL text the repository holds (the analyzer
// corpus, the policy corpora, the shape locks, the analyzer's fuzz seeds),
// analyzed, with every fact of the Analysis written out one per line. A change
// to the walker that moves a fingerprint or a fact shows up as a diff against
// tests/data/sql/golden/.
#pragma once

#include "pgmoat/sql/analyzer.h"

#include <string>
#include <string_view>
#include <vector>

namespace pgmoat::sql::testing {

struct GoldenInput {
    std::string where;  // file (and line) the text comes from
    std::string sql;
    AnalyzerOptions options;
};

// One golden set: a name (its file is tests/data/sql/golden/<name>.txt) and
// its texts in a stable order.
struct GoldenSet {
    std::string name;
    std::vector<GoldenInput> inputs;
};

std::vector<GoldenSet> golden_sets();

// Every fact of `a`, one per line, bytes outside printable ASCII escaped.
std::string describe_analysis(const Analysis& a);

// The golden file's text for a set.
std::string golden_text(const GoldenSet& set);

}  // namespace pgmoat::sql::testing
