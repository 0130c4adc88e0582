# Sourced by the build scripts: compiles go through ccache when it is installed.
# CI runs on the same machine every time, so a build of a clean clone reuses what
# the last run compiled; paths are taken relative to the clone, wherever it is, so
# a clone elsewhere still hits. Sets `launcher` to the CMake arguments to pass.
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD} CCACHE_NOHASHDIR=1
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
