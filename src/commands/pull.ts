import { ExitCode, RefusedError } from "../errors.js";
import { acquireFeatureLock } from "../feature/lock.js";
import { openCheckout } from "../feature/open.js";
import { backupRefPrefix, stateRef } from "../feature/paths.js";
import type { FeatureState } from "../feature/state-schema.js";
import { readState } from "../feature/store.js";
import { commitOf, isAncestor } from "../git/repo.js";
import { adoptState } from "../state-ref/adopt-state.js";
import { decidePullRefs, decidePullState } from "../state-ref/decide-share.js";
import { featureRefNames, fetchObjects, refFacts, remoteRefs, updateLocalRefs } from "../state-ref/remote.js";
import { readLocalStateFiles, readStateCommit, sameSharedState } from "../state-ref/state-commit.js";
import { checkShareOptions, type ShareOptions } from "../state-ref/share-options.js";
import type { Io } from "../cli.js";

/**
 * `pull <slug>`: takes the feature's shared state from the remote's state ref when this clone has
 * none or only an older one, then brings the feature's branches and backups here: created when
 * missing, fast-forwarded when behind, and otherwise left alone (and said).
 */
export async function pullCommand(options: ShareOptions, io: Io): Promise<ExitCode> {
  checkShareOptions(options, "pull");
  const { slug, remote } = options;
  const { repo, mainRoot, repoName } = await openCheckout(io.cwd);
  const say = (line: string) => io.stdout(line + "\n");
  const release = await acquireFeatureLock(repo.commonDir, slug, "pull");
  try {
    const ref = stateRef(slug);
    const listed = await remoteRefs(mainRoot, remote, slug, [ref]);
    const remoteState = listed.get(ref);
    if (remoteState !== undefined) await fetchObjects(mainRoot, remote, [ref]);
    const last = await commitOf(ref, mainRoot);
    const local = await readLocalStateFiles(repo.commonDir, slug);
    const [lastFiles, remoteFiles] = await Promise.all([
      last !== undefined ? readStateCommit(mainRoot, last, slug) : undefined,
      remoteState !== undefined ? readStateCommit(mainRoot, remoteState, slug) : undefined,
    ]);
    const decision = decidePullState(
      {
        last,
        remote: remoteState,
        hasLocalState: local !== undefined,
        localMatchesLast: local !== undefined && lastFiles !== undefined && sameSharedState(local, lastFiles),
        localMatchesRemote: local !== undefined && remoteFiles !== undefined && sameSharedState(local, remoteFiles),
        lastInRemote: last !== undefined && remoteState !== undefined && (await isAncestor(last, remoteState, mainRoot)),
        remoteInLast: last !== undefined && remoteState !== undefined && (await isAncestor(remoteState, last, mainRoot)),
      },
      remote,
      slug,
    );
    if (decision.kind === "refuse") throw new RefusedError([decision.refusal]);
    if (options.dryRun) {
      say(decision.kind === "adopt" ? `Dry run: would take ${slug}'s state from ${remote} (${ref} at ${remoteState!.slice(0, 12)}).` : `Dry run: would keep this clone's state of ${slug}: ${decision.why}.`);
      const shared = decision.kind === "adopt" ? (JSON.parse(remoteFiles!.state) as FeatureState) : await readState(repo.commonDir, slug);
      const names = (await featureRefNames(mainRoot, slug, shared)).filter((n) => n !== ref);
      const there = await remoteRefs(mainRoot, remote, slug, names);
      const wanted = [...new Set([...names, ...backupsOf(there, slug)])].filter((n) => n !== ref && there.has(n));
      // Objects only (no ref moves), so the ancestry of what would come over can be judged.
      await fetchObjects(mainRoot, remote, wanted);
      const { updates, kept } = decidePullRefs(await refFacts(mainRoot, wanted, there), remote);
      for (const u of updates) say(`  would move ${u.ref}: ${u.from ? `${u.from.slice(0, 12)} -> ` : "new at "}${u.to.slice(0, 12)}`);
      for (const k of kept) say(`  would keep ${k}`);
      return ExitCode.ok;
    }
    if (decision.kind === "adopt") {
      await adoptState({ mainRoot, commonDir: repo.commonDir, repoName }, slug, remoteState!);
      if (last !== remoteState) await updateLocalRefs(mainRoot, [{ ref, ...(last !== undefined && { from: last }), to: remoteState! }], `claude-parallel: pull ${slug}`);
      say(`Took ${slug}'s state from ${remote} (${ref} at ${remoteState!.slice(0, 12)}).`);
    } else say(`Kept this clone's state of ${slug}: ${decision.why}.`);

    const state = await readState(repo.commonDir, slug);
    const names = (await featureRefNames(mainRoot, slug, state)).filter((n) => n !== ref);
    const there = await remoteRefs(mainRoot, remote, slug, names);
    const wanted = [...new Set([...names, ...backupsOf(there, slug)])].filter((n) => n !== ref && there.has(n));
    await fetchObjects(mainRoot, remote, wanted);
    const { updates, kept } = decidePullRefs(await refFacts(mainRoot, wanted, there), remote);
    await updateLocalRefs(mainRoot, updates, `claude-parallel: pull ${slug}`);
    for (const u of updates) say(`  ${u.ref}: ${u.from ? `${u.from.slice(0, 12)} -> ` : "new at "}${u.to.slice(0, 12)}`);
    for (const k of kept) say(`  kept ${k}`);
    if (!state) say(`${slug} has not started anywhere ${remote} knows of: start it with claude-parallel start ${slug}.`);
    return ExitCode.ok;
  } finally {
    await release();
  }
}

/** The remote's backups of the feature (not its other refs under refs/parallel/<slug>/, such as CI's done marks). */
const backupsOf = (there: ReadonlyMap<string, string>, slug: string) => [...there.keys()].filter((n) => n.startsWith(backupRefPrefix(slug)));
