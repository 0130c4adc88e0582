#include "commands.h"

#include "pgmoat/net/server.h"

#include <cstdio>

namespace pgmoat::cli {

int serve(const Args& args) {
    std::string config = "pgmoat.toml";
    for (size_t i = 0; i < args.size(); ++i) {
        if ((args[i] == "-c" || args[i] == "--config") && i + 1 < args.size()) {
            config = args[++i];
        } else {
            std::fprintf(stderr, "pgmoat serve: unexpected argument \"%s\"\n", args[i].c_str());
            return 2;
        }
    }
    return net::serve(config);
}

}  // namespace pgmoat::cli
