// shapes_bench: the cost of the shape check on a cached analysis, as the proxy
// runs it for a statement it has seen before: the lock lookup by fingerprint and
// the locked constants compared (shapes::match), and the whole decision under
// [parameters] mode = "shapes" next to the same decision under the baseline.
// The lock holds 1,000 shapes. Each figure is per statement, over several rounds:
// best, median and worst, since a shared machine's noise shows in the spread.
//
//   shapes_bench [--rounds N] [--iterations N]
#include "pgmoat/policy/decision.h"
#include "pgmoat/policy/loader.h"
#include "pgmoat/shapes/lock.h"
#include "pgmoat/sql/analyzer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Spread {
    double best, median, worst;
};

template <class F>
Spread time_per_call(int rounds, int iterations, F&& f) {
    std::vector<double> ns;
    for (int r = 0; r < rounds; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < iterations; ++i) f();
        ns.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
                     iterations);
    }
    std::sort(ns.begin(), ns.end());
    return {ns.front(), ns[ns.size() / 2], ns.back()};
}

int sink = 0;  // results fold into it, so no call is optimized away

}  // namespace

int main(int argc, char** argv) {
    using namespace pgmoat;
    int rounds = 20, iterations = 20000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--rounds"))
            rounds = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--iterations"))
            iterations = std::atoi(argv[i + 1]);
    }
    // 1,000 shapes of an app's code: reads with constants, writes, joins.
    std::vector<std::string> texts;
    for (int i = 0; i < 1000; ++i) {
        const std::string t = "t" + std::to_string(i);
        switch (i % 4) {
            case 0:
                texts.push_back("SELECT id, name FROM " + t + " WHERE id = $1");
                break;
            case 1:
                texts.push_back("SELECT id, total FROM " + t +
                                " WHERE customer_id = $1 AND status = 'open' ORDER BY id LIMIT 50");
                break;
            case 2:
                texts.push_back("UPDATE " + t + " SET status = 'cancelled' WHERE id = 42 AND status = 'open'");
                break;
            default:
                texts.push_back("SELECT o.id, c.name FROM " + t +
                                " o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1");
                break;
        }
    }
    shapes::ShapeLock lock;
    std::vector<sql::Analysis> analyses;
    for (const auto& text : texts) {
        analyses.push_back(sql::analyze(text));
        const auto& st = analyses.back().statements.at(0);
        shapes::Shape s;
        s.fingerprint = st.fingerprint;
        s.statement = st.normalized;
        for (const auto& p : shapes::positions(st))
            if (st.literals[p.literal].kind == sql::LiteralKind::string || p.number == 3)
                s.constants.push_back({p.number, std::string(st.literals[p.literal].text(text))});
        lock.shapes[s.fingerprint] = s;
    }
    auto baseline = policy::load_policy_dir(PGMOAT_SOURCE_DIR "/policies");
    policy::Policy shaped = *baseline.default_policy;
    shaped.parameter_mode = policy::ParameterMode::shapes;
    shaped.shape_files = {"bench.toml"};
    shaped.shape_lock = std::make_shared<const shapes::ShapeLock>(lock);

    std::printf("shape lock of %zu shapes; per statement, over %d rounds of %d calls: best / median / worst\n\n",
                lock.shapes.size(), rounds, iterations);
    std::printf("%-44s %10s %10s %10s\n", "statement", "best µs", "median µs", "worst µs");
    for (size_t k : {size_t(0), size_t(1), size_t(2), size_t(3)}) {
        const auto& st = analyses[k].statements[0];
        const std::string& text = texts[k];
        if (shapes::match(lock, st, text).verdict != shapes::Verdict::known ||
            !policy::decide(shaped, analyses[k], text, policy::Protocol::extended).allow) {
            std::fprintf(stderr, "shapes_bench: %s is not allowed by its own lock\n", text.c_str());
            return 1;
        }
        Spread m =
            time_per_call(rounds, iterations, [&] { sink += static_cast<int>(shapes::match(lock, st, text).verdict); });
        Spread d = time_per_call(rounds, iterations / 4, [&] {
            sink += policy::decide(shaped, analyses[k], text, policy::Protocol::extended).allow;
        });
        Spread b = time_per_call(rounds, iterations / 4, [&] {
            sink += policy::decide(*baseline.default_policy, analyses[k], text, policy::Protocol::extended).allow;
        });
        std::string label = text.substr(0, 40) + "…";
        std::printf("%-44s\n  %-42s %10.3f %10.3f %10.3f\n  %-42s %10.3f %10.3f %10.3f\n  %-42s %10.3f %10.3f %10.3f\n",
                    label.c_str(), "shape check (match)", m.best / 1000, m.median / 1000, m.worst / 1000,
                    "decision, mode = \"shapes\"", d.best / 1000, d.median / 1000, d.worst / 1000, "decision, baseline",
                    b.best / 1000, b.median / 1000, b.worst / 1000);
    }
    return sink == 42 ? 1 : 0;
}
