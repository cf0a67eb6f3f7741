#!/usr/bin/env python3
"""Lines per module and the longest functions of the Rust sources.

    python3 scripts/code-stats.py [--top N] [DIR ...]     (default: the core, the worker, the npm package)

A module is a `.rs` file; its lines are all its lines, tests included, and its code lines
are those before its `#[cfg(test)] mod tests` (if any). A function's length runs from its
`fn` line to the line of its closing brace (found by counting braces outside strings,
characters and comments); `#[test]` functions and files under `tests/` are left out.
"""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DIRS = ["crates/warden-core/src", "worker/src", "wasm-pkg/src"]
FN = re.compile(r"^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+([A-Za-z0-9_]+)")


def strip(line, state):
    """The line without strings, chars and comments; `state` carries block comments."""
    out, i, n = [], 0, len(line)
    while i < n:
        if state["block"]:
            j = line.find("*/", i)
            if j < 0:
                return "".join(out)
            state["block"], i = False, j + 2
            continue
        c = line[i]
        if line.startswith("//", i):
            break
        if line.startswith("/*", i):
            state["block"], i = True, i + 2
            continue
        if c == '"':
            i += 1
            while i < n and line[i] != '"':
                i += 2 if line[i] == "\\" else 1
            i += 1
            continue
        if c == "'" and re.match(r"'(\\.|[^\\'])'", line[i:]):
            i += len(re.match(r"'(\\.|[^\\'])'", line[i:]).group(0))
            continue
        out.append(c)
        i += 1
    return "".join(out)


def functions(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    state = {"block": False}
    stack, found, pending, test_attr = [], [], None, False
    depth, square = 0, 0
    for no, raw in enumerate(lines, 1):
        code = strip(raw, state)
        if re.match(r"^\s*#\[(test|wasm_bindgen_test|tokio::test)", raw):
            test_attr = True
        m = FN.match(code)
        if m and pending is None:
            pending = (m.group(6), no, test_attr)
            test_attr = False
        for ch in code:
            if ch == "{":
                depth += 1
                if pending is not None:
                    stack.append((pending, depth))
                    pending = None
            elif ch == "}":
                if stack and stack[-1][1] == depth:
                    (name, start, is_test), _ = stack.pop()
                    if not is_test:
                        found.append((no - start + 1, name, start))
                depth -= 1
            elif ch == "[":
                square += 1
            elif ch == "]":
                square -= 1
            elif ch == ";" and pending is not None and square == 0:
                pending = None  # a declaration without a body (a trait method)
    return found, lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dirs", nargs="*", default=DEFAULT_DIRS)
    ap.add_argument("--top", type=int, default=10, help="how many of the longest functions")
    args = ap.parse_args()
    rows, fns = [], []
    for d in args.dirs:
        base = os.path.join(ROOT, d)
        for dirpath, _, files in os.walk(base):
            for name in sorted(files):
                if not name.endswith(".rs"):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, ROOT)
                found, lines = functions(path)
                total = len(lines) - (1 if lines and lines[-1] == "" else 0)
                code = total
                for i, l in enumerate(lines):
                    if l.startswith("#[cfg(test)]") and i + 1 < len(lines) and lines[i + 1].startswith("mod tests"):
                        code = i
                        break
                rows.append((rel, total, code))
                fns += [(n, fname, rel, start) for n, fname, start in found]
    print(f"{'module':<48} {'lines':>6} {'code':>6}")
    for rel, total, code in sorted(rows):
        print(f"{rel:<48} {total:>6} {code:>6}")
    print(f"{'total':<48} {sum(r[1] for r in rows):>6} {sum(r[2] for r in rows):>6}")
    print()
    print(f"longest functions (of {len(fns)}):")
    for n, fname, rel, start in sorted(fns, reverse=True)[: args.top]:
        print(f"{n:>5} lines  {fname}  ({rel}:{start})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
