import { ExitCode, RefusedError } from "../core/errors.js";
import { acquireFeatureLock } from "../feature/lock.js";
import { openCheckout } from "../state-ref/open-feature.js";
import { backupRefPrefix, stateRef } from "../core/state/paths.js";
import { readState } from "../feature/store.js";
import { commitOf, isAncestor } from "../git/repo.js";
import { quote } from "../core/text/shell.js";
import { adoptState, checkStateCommit, decideStateTrust, refusedStateFix, untrusted } from "../state-ref/adopt-state.js";
import { decidePullRefs, decidePullState, describePullAction, pullActions } from "../core/decide/decide-share.js";
import { dryRunText } from "../core/render/dry-run.js";
import { featureRefNames, fetchObjects, refFacts, remoteRefs, updateLocalRefs } from "../state-ref/remote.js";
import { readLocalStateFiles, readStateCommit, sameSharedState } from "../state-ref/state-commit.js";
import { checkShareOptions, type ShareOptions } from "../state-ref/share-options.js";
import type { Io } from "../core/io.js";
import { str, usageError } from "../core/command-args.js";
import type { CommandSpec, Values } from "../core/command-spec.js";

export const spec: CommandSpec = {
  name: "pull",
  synopsis: ["<slug> [--remote NAME] [--dry-run]"],
  summary: ["Continue a feature started elsewhere: take its shared state from the remote's", "refs/parallel/<slug>/state and bring its branches and backups here (fast-forward only)."],
  details: [
    "The remote's state replaces this clone's only when this clone has none, or has not changed it since it last pushed or pulled; otherwise it refuses and says why. Branches are created when missing and fast-forwarded when behind; a branch that is ahead, differs, or is checked out is left alone and listed.",
    "The remote's state is data, checked whole before anything changes: its plan must build here and its state agree with it (only the feature's own branches, this clone's base), and worktree paths and launch settings are never taken from it. When what it runs or tells the sessions (verify commands, prompts, owned paths, base and branches) differs from what this clone trusts (its frozen plan, or your own .parallel/<slug>/plan.yaml for a feature new here), it shows the difference and stops (exit 4) until you run `claude-parallel allow <digest>`.",
  ],
  options: [
    { name: "remote", type: "string", value: "NAME", text: "The remote to pull from (default: origin)." },
    { name: "dry-run", type: "boolean", text: "Say what would change here and change nothing (the remote's objects are fetched, no ref moves)." },
  ],
  positionals: 1,
  exits: [ExitCode.ok, ExitCode.invalidInput, ExitCode.environment, ExitCode.refused],
};

export async function run(values: Values, positionals: string[], io: Io): Promise<ExitCode> {
  if (!positionals[0]) throw usageError("`pull` needs the feature's slug", "run `claude-parallel pull <slug>`");
  return pullCommand({ slug: positionals[0], remote: str(values.remote) ?? "origin", dryRun: values["dry-run"] === true }, io);
}

/**
 * `pull <slug>`: takes the feature's shared state from the remote's state ref when this clone has
 * none or only an older one, then brings the feature's branches and backups here: created when
 * missing, fast-forwarded when behind, and otherwise left alone (and said). The remote's state is
 * data: checked whole before anything here changes (src/state-ref/check-state.ts), and taken only
 * when what it runs and tells the sessions is what this clone trusts, or the user allowed it.
 */
async function pullCommand(options: ShareOptions, io: Io): Promise<ExitCode> {
  checkShareOptions(options, "pull");
  const { slug, remote } = options;
  const { repo, mainRoot, repoName } = await openCheckout(io.cwd);
  const here = { mainRoot, commonDir: repo.commonDir, repoName, branch: repo.branch };
  const say = (line: string) => io.stdout(line + "\n");
  const release = await acquireFeatureLock(repo.commonDir, slug, "pull");
  try {
    const ref = stateRef(slug);
    const listed = await remoteRefs(mainRoot, remote, slug, [ref]);
    const remoteState = listed.get(ref);
    if (remoteState !== undefined) await fetchObjects(mainRoot, remote, [ref]);
    // Checked whether it is taken or not: a pull that names anything wrong changes nothing.
    const checked =
      remoteState !== undefined
        ? await checkStateCommit(here, slug, remoteState, { source: `${remote}'s ${ref} (${remoteState.slice(0, 12)})`, fix: refusedStateFix(slug, remote), remote })
        : undefined;
    const last = await commitOf(ref, mainRoot);
    const local = await readLocalStateFiles(repo.commonDir, slug);
    const lastFiles = last !== undefined ? await readStateCommit(mainRoot, last, slug) : undefined;
    const decision = decidePullState(
      {
        last,
        remote: remoteState,
        hasLocalState: local !== undefined,
        localMatchesLast: local !== undefined && lastFiles !== undefined && sameSharedState(local, lastFiles),
        localMatchesRemote: local !== undefined && checked !== undefined && sameSharedState(local, checked.files),
        lastInRemote: last !== undefined && remoteState !== undefined && (await isAncestor(last, remoteState, mainRoot)),
        remoteInLast: last !== undefined && remoteState !== undefined && (await isAncestor(remoteState, last, mainRoot)),
      },
      remote,
      slug,
    );
    if (decision.kind === "refuse") throw new RefusedError([decision.refusal]);
    const adopt = decision.kind === "adopt" ? checked! : undefined;
    const trust = adopt && (await decideStateTrust(here, slug, adopt));
    if (trust?.kind === "ask") throw new RefusedError([untrusted(adopt!, trust, `run claude-parallel pull ${quote(slug)} --remote ${quote(remote)} again`)]);

    // The feature's refs, as the state to keep names them: its branches and backups, nothing else.
    const state = adopt ? adopt.state : await readState(repo.commonDir, slug);
    const names = (await featureRefNames(mainRoot, slug, state)).filter((n) => n !== ref);
    const there = await remoteRefs(mainRoot, remote, slug, names);
    const wanted = [...new Set([...names, ...backupsOf(there, slug)])].filter((n) => n !== ref && there.has(n));
    // Objects only (no ref moves), so the ancestry of what would come over can be judged.
    await fetchObjects(mainRoot, remote, wanted);
    const allowed = trust?.kind === "trusted" && trust.why === "allowed";
    const actions = pullActions(
      adopt ? { kind: "take-state", commit: adopt.commit, allowed } : { kind: "keep-state", why: decision.kind === "keep" ? decision.why : "" },
      decidePullRefs(await refFacts(mainRoot, wanted, there), remote),
    );
    if (options.dryRun) {
      io.stdout(dryRunText(`pull ${slug} --remote ${remote}`, actions, (a) => describePullAction(a, slug, remote)));
      return ExitCode.ok;
    }
    for (const a of actions) {
      if (a.kind === "take-state") {
        await adoptState(repo.commonDir, adopt!, trust!);
        if (last !== a.commit) await updateLocalRefs(mainRoot, [{ ref, ...(last !== undefined && { from: last }), to: a.commit }], `claude-parallel: pull ${slug}`);
      }
      if (a.kind === "take-state" || a.kind === "keep-state") say(`${describePullAction(a, slug, remote, true)}.`);
    }
    // The branches and backups in one go: each created or fast-forwarded with a compare-and-swap.
    await updateLocalRefs(
      mainRoot,
      actions.flatMap((a) => (a.kind === "move-ref" ? [a.update] : [])),
      `claude-parallel: pull ${slug}`,
    );
    for (const a of actions) if (a.kind === "move-ref" || a.kind === "keep-ref") say(`  ${describePullAction(a, slug, remote, true)}`);
    if (!state) say(`${slug} has not started anywhere ${remote} knows of: start it with claude-parallel start ${slug}.`);
    return ExitCode.ok;
  } finally {
    await release();
  }
}

/** The remote's backups of the feature (not its other refs under refs/parallel/<slug>/, such as CI's done marks). */
const backupsOf = (there: ReadonlyMap<string, string>, slug: string) => [...there.keys()].filter((n) => n.startsWith(backupRefPrefix(slug)));
