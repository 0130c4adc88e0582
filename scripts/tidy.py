#!/usr/bin/python3
"""Runs clang-tidy (.clang-tidy's checks, warnings as errors) over every C++ file
the build compiles, and fails on any finding, naming the file, line and check.

A file whose preprocessed text, checks and clang-tidy are unchanged since it last
passed is not checked again (like ccache: a key per file in
~/.cache/pgmoat-tidy), so CI pays for what changed, not for the whole tree.

Usage: scripts/tidy.py BUILD_DIR   (a build directory configured with
CMAKE_EXPORT_COMPILE_COMMANDS=ON; nothing needs to be built in it)"""
import concurrent.futures
import hashlib
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("proxy/", "tests/unit/", "tests/support/", "bench/")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pgmoat-tidy"


def preprocess_command(entry):
    args = shlex.split(entry["command"]) if "command" in entry else list(entry["arguments"])
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
        elif a == "-o":
            skip = True
        elif a != "-c":
            out.append(a)
    return out + ["-E", "-P"]


def key(entry, build_dir, salt):
    """What clang-tidy's verdict on the file depends on: its text with every header
    it includes, the flags, the checks and the tool. Paths of the clone and of the
    build directory are taken out, so another clone of the same tree hits."""
    text = subprocess.run(preprocess_command(entry), cwd=entry["directory"], capture_output=True).stdout
    text = text.replace(str(ROOT).encode(), b"@ROOT@").replace(str(build_dir).encode(), b"@BUILD@")
    h = hashlib.sha256(salt)
    h.update(os.path.relpath(entry["file"], ROOT).encode())
    h.update(text)
    return h.hexdigest()


def tidy(entry, build_dir):
    r = subprocess.run(
        ["clang-tidy", "-p", str(build_dir), "--quiet", "--warnings-as-errors=*",
         f"--header-filter=^{ROOT}/(include|proxy|tests|bench)/", entry["file"]],
        cwd=entry["directory"], capture_output=True, text=True)
    return r.returncode, r.stdout


def main():
    build_dir = Path(sys.argv[1]).resolve()
    entries, seen = [], set()
    for e in json.loads((build_dir / "compile_commands.json").read_text()):
        rel = os.path.relpath(e["file"], ROOT)
        if rel.startswith(CHECKED) and rel not in seen:
            seen.add(rel)
            entries.append(e)
    version = subprocess.run(["clang-tidy", "--version"], capture_output=True).stdout
    configs = b"".join(p.read_bytes() for p in (ROOT / ".clang-tidy", ROOT / "tests/.clang-tidy") if p.exists())
    salt = version + configs
    CACHE.mkdir(parents=True, exist_ok=True)

    def check(entry):
        k = key(entry, build_dir, salt)
        if (CACHE / k).exists():
            return entry, 0, "", True
        rc, output = tidy(entry, build_dir)
        if rc == 0:
            (CACHE / k).touch()
        return entry, rc, output, False

    failed, cached = [], 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for entry, rc, output, hit in pool.map(check, entries):
            cached += hit
            if rc != 0:
                failed.append(os.path.relpath(entry["file"], ROOT))
                print(output.replace(str(ROOT) + "/", ""), end="")
    print(f"clang-tidy: {len(entries)} files, {cached} unchanged since they passed, {len(failed)} with findings")
    if failed:
        print("files with findings: " + ", ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
