#!/usr/bin/python3
"""Copies a source file for the clang 14 fuzz build, rewriting lambdas that
capture a structured binding by reference ([&] using `name` from
`for (auto& [name, value] : ...)`), which C++20 allows but clang before 16
rejects: the binding is captured explicitly with an init-capture instead.
Usage: clang14_compat.py SRC DST BINDING..."""
import re
import sys

src, dst, names = sys.argv[1], sys.argv[2], sys.argv[3:]
text = open(src).read()
for n in names:
    # [&](args) { ... n ... }  ->  [&, &n = n](args) { ... }
    text = re.sub(r"\[&\](\([^()]*\)\s*\{[^{}]*\b" + re.escape(n) + r"\b[^{}]*\})",
                  "[&, &" + n + " = " + n + r"]\1", text)
open(dst, "w").write(f'#line 1 "{src}"\n' + text)
