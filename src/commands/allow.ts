import { ExitCode, InputError } from "../core/errors.js";
import { trustedDigestPath } from "../core/state/paths.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { openRepo } from "../git/repo.js";
import { DIGEST_PATTERN } from "../state-ref/trust.js";
import type { Io } from "../core/io.js";
import { usageError } from "../core/command-args.js";
import type { CommandSpec, Values } from "../core/command-spec.js";

export const spec: CommandSpec = {
  name: "allow",
  synopsis: ["<digest>"],
  summary: ["Trust a shared state that pull (or start or sync) showed you and stopped at: its", "changed verify commands, prompts or branches, exactly as shown."],
  details: [
    "A state taken from a remote runs nothing and reaches no session until what it runs and tells the sessions is what this clone already trusts (its frozen plan; for a feature new here, your own .parallel/<slug>/plan.yaml) or you allow its digest, which the refusal prints with the difference. The digest is recorded in the git directory; run the pull (or start, or sync) again to take the state.",
  ],
  options: [],
  positionals: 1,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment],
};

export async function run(_values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  if (!positionals[0]) throw usageError("`allow` needs the digest the refusal printed", "run `claude-parallel allow <digest>`");
  return allowCommand(positionals[0], io);
}

/**
 * `allow <digest>`: the user trusts the shared state that `pull` (or `start`/`sync` taking a
 * fetched state) showed with this digest: its verify commands, prompts and branches, exactly as
 * shown (the digest is over them, src/state-ref/trust.ts). Recorded in the git directory, like
 * direnv's allowed `.envrc`s, never in a worktree. It adopts nothing itself.
 */
async function allowCommand(digest: string, io: Io): Promise<ExitCode> {
  if (!DIGEST_PATTERN.test(digest)) {
    throw new InputError({ where: digest, message: "is not a digest (64 lowercase hex characters)", fix: "copy the digest from the message of the pull (or start, or sync) that asked for it" });
  }
  const repo = await openRepo(io.cwd);
  await writeFileAtomic(trustedDigestPath(repo.commonDir, digest), JSON.stringify({ allowedAt: new Date().toISOString() }) + "\n");
  io.stdout(`Allowed ${digest}: the pull, start or sync that showed it now takes exactly that state; run it again.\n`);
  return ExitCode.ok;
}
