import { decided, ExitCode, RefusedError } from "../core/errors.js";
import { acquireFeatureLock } from "../feature/lock.js";
import { openCheckout } from "../state-ref/open-feature.js";
import { stateRef } from "../core/state/paths.js";
import { readState, writeState } from "../feature/store.js";
import { withLocalSessions } from "../status/shared-sessions.js";
import { quote } from "../core/text/shell.js";
import { decidePush, describePushAction } from "../core/decide/decide-share.js";
import { dryRunText } from "../core/render/dry-run.js";
import { featureRefNames, pushAtomic, refFacts, remoteRefs } from "../state-ref/remote.js";
import { checkShareOptions, type ShareOptions } from "../state-ref/share-options.js";
import { localStateCommit, recordStateCommit } from "../state-ref/state-commit.js";
import type { Io } from "../core/io.js";
import { str, usageError } from "../core/command-args.js";
import type { CommandSpec, Values } from "../core/command-spec.js";

export const spec: CommandSpec = {
  name: "push",
  synopsis: ["<slug> [--remote NAME] [--dry-run]"],
  summary: ["Share a feature: record its state in refs/parallel/<slug>/state and push it, the", "integration branch, the task branches and the backups, atomically, with leases."],
  details: [
    "Each ref is pushed only over exactly the commit seen on the remote (git push --atomic --force-with-lease=<ref>:<commit>), and only when this clone holds that commit: a ref that moved on the remote stops the whole push, and nothing there is overwritten. Then `pull <slug>` (or `start <slug>` / `sync <slug>` once the state ref is fetched) continues the feature in another clone or a CI job.",
  ],
  options: [
    { name: "remote", type: "string", value: "NAME", text: "The remote to push to (default: origin)." },
    { name: "dry-run", type: "boolean", text: "Say what would be pushed and push nothing." },
  ],
  positionals: 1,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  if (!positionals[0]) throw usageError("`push` needs the feature's slug", "run `claude-parallel push <slug>`");
  return pushCommand({ slug: positionals[0], remote: str(values.remote) ?? "origin", dryRun: values["dry-run"] === true }, io);
}

/**
 * `push <slug>`: records the feature's state in its state ref, then publishes the state ref, the
 * integration branch, the task branches and the backups to the remote in one atomic push, each ref
 * with a lease on exactly the commit seen there: a ref that moved on the remote meanwhile fails
 * the whole push, and nothing there is ever overwritten.
 */
export async function pushCommand(options: ShareOptions, io: Io): Promise<ExitCode> {
  checkShareOptions(options, "push");
  const { slug, remote } = options;
  const { repo, mainRoot } = await openCheckout(io.cwd);
  const say = (line: string) => io.stdout(line + "\n");
  const release = await acquireFeatureLock(repo.commonDir, slug, "push");
  try {
    const state = await readState(repo.commonDir, slug);
    // Each task's session as this clone recorded it goes with the state (status shows it after a pull).
    const withSessions = state && (await withLocalSessions(repo.commonDir, state));
    // The state's commit is made first and recorded in the state ref only once nothing refuses the
    // push (and never on a dry run): a refused push says "nothing was changed", and means it.
    const message = `claude-parallel: state of ${slug}`;
    const next = await localStateCommit(mainRoot, repo.commonDir, slug, message, withSessions ? JSON.stringify(withSessions, null, 2) + "\n" : undefined);
    if (next === undefined) {
      throw new RefusedError([
        {
          code: "feature-not-started",
          message: `${slug} has not started in this clone: there is no state to push`,
          fix: `start it (claude-parallel start ${quote(slug)}) or pull it from where it started`,
        },
      ]);
    }
    const names = await featureRefNames(mainRoot, slug, state);
    const there = await remoteRefs(mainRoot, remote, slug, names);
    const actions = decided(decidePush(await refFacts(mainRoot, names, there, new Map([[stateRef(slug), next.commit]])), remote, slug, next.commit));
    if (options.dryRun) {
      io.stdout(dryRunText(`push ${slug} --remote ${remote}`, actions, (a) => describePushAction(a)));
      return ExitCode.ok;
    }
    if (withSessions) await writeState(repo.commonDir, withSessions);
    await recordStateCommit(mainRoot, slug, next, message);
    for (const a of actions) if (a.kind === "say") say(a.text);
    // One atomic push: every ref moves, each over exactly the commit seen there, or none does.
    const updates = actions.flatMap((a) => (a.kind === "push" ? [a.update] : []));
    if (updates.length === 0) return ExitCode.ok;
    await pushAtomic(mainRoot, remote, updates);
    for (const a of actions) if (a.kind === "push") say(`  ${describePushAction(a, true)}`);
    say(`Pushed ${updates.length} ${updates.length === 1 ? "ref" : "refs"} of ${slug} to ${remote} (atomic, each with a lease).`);
    return ExitCode.ok;
  } finally {
    await release();
  }
}
