// The entry point, and the Node guard. It imports nothing statically: an old Node links every
// static import before any code runs (Node 14 to 16.16 have no `util.parseArgs`, so they would die
// with a SyntaxError), so the guard checks the version first and only then loads the commands.
// Keep it in syntax any Node with ES modules parses: no `??`, no `?.`, no top-level await.

const MIN_NODE_MAJOR = 20;

function tooOld(): string | undefined {
  const major = Number(process.versions.node.split(".")[0]);
  if (major >= MIN_NODE_MAJOR) return undefined;
  return "claude-parallel needs Node.js " + MIN_NODE_MAJOR + " or newer; this is Node.js " + process.version + ". Install Node.js " + MIN_NODE_MAJOR + "+ and run it again.";
}

const problem = tooOld();
if (problem !== undefined) {
  if (process.argv[2] === "context") {
    // `context` runs in a `!` line of /parallel: a non-zero exit would abort the whole slash command.
    process.stdout.write("# claude-parallel context\n\n## Problems\n\n- " + problem + "\n");
    process.exitCode = 0;
  } else {
    process.stderr.write("claude-parallel: " + problem + "\n");
    process.exitCode = 3;
  }
} else if (process.argv[2] === "_hook") {
  // The plugin's hooks run on every session event: they skip the CLI and load only their own
  // bundle (build.mjs builds src/hooks/run.ts on its own).
  void import("./hooks/run.js").then((hooks) => hooks.hookMain(process.argv[3]));
} else {
  void import("./cli.js").then((cli) => cli.main());
}
