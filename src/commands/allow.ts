import { ExitCode, InputError } from "../core/errors.js";
import { SLUG_PATTERN } from "../core/plan/names.js";
import { openRepo } from "../git/repo.js";
import { DIGEST_PATTERN } from "../state-ref/trust.js";
import { recordTrust } from "../state-ref/trust-records.js";
import type { Io } from "../core/io.js";
import { str, usageError } from "../core/command-args.js";
import type { CommandSpec, Values } from "../core/command-spec.js";

export const spec: CommandSpec = {
  name: "allow",
  synopsis: ["<digest> [--feature SLUG]"],
  summary: ["Trust a shared state that pull (or start or sync) showed you and stopped at: its", "changed verify commands, prompts or branches, exactly as shown."],
  details: [
    "A state taken from a remote runs nothing and reaches no session until what it runs and tells the sessions is what this clone already trusts (its frozen plan; for a feature new here, your own .parallel/<slug>/plan.yaml) or you allow its digest, which the refusal prints with the difference. The digest is recorded in the git directory, with the feature it is of (`clean` of that feature removes the record); run the pull (or start, or sync) again to take the state.",
  ],
  options: [{ name: "feature", type: "string", value: "SLUG", text: "The feature whose state it is, as the refusal names it (a record without one is named when the state is taken)." }],
  positionals: 1,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  if (!positionals[0]) throw usageError("`allow` needs the digest the refusal printed", "run `claude-parallel allow <digest> --feature <slug>`, as the refusal printed it");
  return allowCommand(positionals[0], str(values.feature), io);
}

/**
 * `allow <digest> [--feature <slug>]`: the user trusts the shared state that `pull` (or `start`/`sync` taking a
 * fetched state) showed with this digest: its verify commands, prompts and branches, exactly as
 * shown (the digest is over them, src/state-ref/trust.ts). Recorded in the git directory, like
 * direnv's allowed `.envrc`s, never in a worktree, with the feature `slug` it is of. It adopts
 * nothing itself.
 */
async function allowCommand(digest: string, slug: string | undefined, io: Io): Promise<ExitCode> {
  const fix = "copy the command from the message of the pull (or start, or sync) that asked for it";
  if (!DIGEST_PATTERN.test(digest)) throw new InputError({ where: digest, message: "is not a digest (64 lowercase hex characters)", fix });
  if (slug !== undefined && !SLUG_PATTERN.test(slug)) throw new InputError({ where: slug, message: "is not a feature slug", fix });
  const repo = await openRepo(io.cwd);
  await recordTrust(repo.commonDir, digest, slug, new Date().toISOString());
  io.stdout(`Allowed ${digest}: the pull, start or sync that showed it now takes exactly that state; run it again.\n`);
  return ExitCode.ok;
}
