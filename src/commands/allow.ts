import { ExitCode, InputError } from "../errors.js";
import { trustedDigestPath } from "../feature/paths.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { openRepo } from "../git/repo.js";
import { DIGEST_PATTERN } from "../state-ref/trust.js";
import type { Io } from "../io.js";

/**
 * `allow <digest>`: the user trusts the shared state that `pull` (or `start`/`sync` taking a
 * fetched state) showed with this digest: its verify commands, prompts and branches, exactly as
 * shown (the digest is over them, src/state-ref/trust.ts). Recorded in the git directory, like
 * direnv's allowed `.envrc`s, never in a worktree. It adopts nothing itself.
 */
export async function allowCommand(digest: string, io: Io): Promise<ExitCode> {
  if (!DIGEST_PATTERN.test(digest)) {
    throw new InputError({ where: digest, message: "is not a digest (64 lowercase hex characters)", fix: "copy the digest from the message of the pull (or start, or sync) that asked for it" });
  }
  const repo = await openRepo(io.cwd);
  await writeFileAtomic(trustedDigestPath(repo.commonDir, digest), JSON.stringify({ allowedAt: new Date().toISOString() }) + "\n");
  io.stdout(`Allowed ${digest}: the pull, start or sync that showed it now takes exactly that state; run it again.\n`);
  return ExitCode.ok;
}
