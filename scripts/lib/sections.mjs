// docs/benchmarks.md keeps one section per benchmark command. A section runs from its heading to
// the next heading or to the next marker comment (`<!-- … -->`, which opens a section that
// `make bench-edge` delimits with markers), so writing one section never swallows another's
// marker.
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const EMPTY = "# Benchmarks\n\nEach part of Warden keeps its own section here.\n";

/** Replaces (or appends) the section of `path` that starts at `heading` with `section`. */
export function writeSection(path, heading, section) {
  const text = existsSync(path) ? readFileSync(path, "utf8") : EMPTY;
  const start = text.indexOf(heading);
  let next;
  if (start < 0) {
    next = `${text.trimEnd()}\n\n${section.trimEnd()}\n`;
  } else {
    const ends = ["\n## ", "\n<!-- "]
      .map((s) => text.indexOf(s, start + heading.length))
      .filter((i) => i >= 0);
    const end = ends.length ? Math.min(...ends) : -1;
    next = text.slice(0, start) + section.trimEnd() + "\n" + (end < 0 ? "" : text.slice(end));
  }
  writeFileSync(path, next);
}
