// Which commit a benchmark's figures come from, and whether the tree matched it. Untracked
// files cannot reach a build from committed sources; modified tracked files can.
import { execFileSync } from "node:child_process";

function git(root, ...args) {
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
}

/** `{ commit, clean }`: the 12-digit commit and "working tree clean" / "working tree NOT clean". */
export function provenance(root) {
  const commit = git(root, "rev-parse", "--short=12", "HEAD");
  const dirty = git(root, "status", "--porcelain", "--untracked-files=no") !== "";
  return { commit, clean: dirty ? "working tree NOT clean" : "working tree clean" };
}
