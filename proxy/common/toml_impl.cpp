// The one translation unit that compiles toml++ (compiled mode builds faster than
// header-only in every file that reads TOML).
#define TOML_IMPLEMENTATION
#include <toml++/toml.h>
