#!/usr/bin/env python3
"""Fails when a crate's top-level modules import each other in a circle.

    python3 scripts/module-cycles.py [SRC_DIR ...]   (default: the core, the worker, the npm package)

Each top-level module of a crate (`src/foo.rs` or `src/foo/`) is a node; `foo` depends on `bar`
when a file of `foo` names `crate::bar` anywhere — in a `use`, a `use crate::{bar, ...}` group, a
path or a doc comment's link — outside its `#[cfg(test)] mod` blocks (test-only imports are not
the architecture). Prints every group of modules that reach each other, then a summary line;
exits 1 when there is any (`make lint` runs it).
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT = ["crates/warden-core/src", "worker/src", "wasm-pkg/src"]
PATH = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)")
GROUP = re.compile(r"\bcrate::\{(.*?)\}", re.S)


def top_modules(src):
    found = {}
    for dirpath, _, files in os.walk(src):
        for name in files:
            if name.endswith(".rs"):
                rel = os.path.relpath(os.path.join(dirpath, name), src)
                top = rel.split(os.sep)[0].removesuffix(".rs")
                if top not in ("lib", "main"):
                    found.setdefault(top, []).append(os.path.join(dirpath, name))
    return found


TEST_MODULE = re.compile(r"#\[cfg\(test\)\]\s*mod\s+\w+\s*\{")


def without_test_modules(text):
    """`text` without its `#[cfg(test)] mod name { ... }` blocks (braces counted)."""
    kept, at = [], 0
    for m in TEST_MODULE.finditer(text):
        if m.start() < at:
            continue
        kept.append(text[at : m.start()])
        depth, at = 1, m.end()
        while at < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[at], 0)
            at += 1
    kept.append(text[at:])
    return "".join(kept)


def edges(modules):
    graph = {m: set() for m in modules}
    for module, files in modules.items():
        for path in files:
            with open(path, encoding="utf-8") as f:
                text = without_test_modules(f.read())
            named = set(PATH.findall(text))
            for group in GROUP.findall(text):
                named |= {item.strip().split("::")[0] for item in group.split(",")}
            graph[module] |= {n for n in named if n in modules and n != module}
    return graph


def strongly_connected(graph):
    """Tarjan's algorithm, iteratively: the groups of nodes that reach each other."""
    index, low, on_stack, stack, groups, counter = {}, {}, set(), [], [], [0]
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        n = stack.pop()
                        on_stack.discard(n)
                        group.append(n)
                        if n == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
            elif child not in index:
                index[child] = low[child] = counter[0]
                counter[0] += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return groups


def main():
    dirs = sys.argv[1:] or DEFAULT
    total_cycles = total_modules = 0
    for d in dirs:
        modules = top_modules(os.path.join(ROOT, d))
        total_modules += len(modules)
        for group in strongly_connected(edges(modules)):
            total_cycles += 1
            print(f"{d}: modules importing each other: {{{', '.join(group)}}}")
    print(f"module-cycles: {total_cycles} cycles, {total_modules} modules")
    return 1 if total_cycles else 0


if __name__ == "__main__":
    sys.exit(main())
