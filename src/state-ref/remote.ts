import { EnvironmentError, RefusedError } from "../core/errors.js";
import { backupRefPrefix, stateRef } from "../core/state/paths.js";
import type { FeatureState } from "../core/state/state-schema.js";
import { commitOf, isAncestor, listWorktrees } from "../git/repo.js";
import { git, gitOk } from "../git/run.js";
import type { LocalUpdate, RefFacts, RemoteUpdate } from "../core/decide/decide-share.js";

/** A remote's name as `git remote` knows it (never an option, never a URL with a shell in it). */
export const REMOTE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** The refs of `remote` named in `refs`, plus every ref under the feature's `refs/parallel/<slug>/`. */
export async function remoteRefs(cwd: string, remote: string, slug: string, refs: readonly string[]): Promise<Map<string, string>> {
  const r = await git(["ls-remote", "--refs", "--", remote, `refs/parallel/${slug}/*`, ...refs], cwd);
  if (r.exitCode !== 0)
    throw new EnvironmentError(`cannot read the refs of the remote ${remote}: ${r.stderr.trim() || `git ls-remote exited ${r.exitCode}`}`, `check the remote (git remote -v) and your access to it`);
  const wanted = new Set(refs);
  const found = new Map<string, string>();
  for (const line of r.stdout.split("\n").filter(Boolean)) {
    const [oid, name] = line.split("\t");
    if (oid && name && (wanted.has(name) || name.startsWith(`refs/parallel/${slug}/`))) found.set(name, oid);
  }
  return found;
}

/** Brings the objects of the remote's `refs` here without moving any local ref. */
export async function fetchObjects(cwd: string, remote: string, refs: readonly string[]): Promise<void> {
  if (refs.length === 0) return;
  // An empty --refmap: not even the remote-tracking branches move.
  const r = await git(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--refmap=", "--", remote, ...refs], cwd);
  if (r.exitCode !== 0)
    throw new EnvironmentError(`cannot fetch from ${remote}: ${r.stderr.trim() || `git fetch exited ${r.exitCode}`}`, "check the remote and your access to it, then run the command again");
}

/** The feature's refs this clone knows: state, integration branch, every started task's branch, backups. */
export async function featureRefNames(cwd: string, slug: string, state: FeatureState | undefined): Promise<string[]> {
  const names = new Set<string>([stateRef(slug)]);
  if (state) {
    names.add(`refs/heads/${state.integrationBranch}`);
    for (const phase of Object.values(state.phases)) for (const t of Object.values(phase.tasks)) names.add(`refs/heads/${t.branch}`);
  }
  // for-each-ref matches whole path segments: list the feature's folder, keep the backups.
  const backups = await gitOk(["for-each-ref", "--format=%(refname)", `refs/parallel/${slug}/`], cwd);
  for (const b of backups.split("\n").filter(Boolean)) if (b.startsWith(backupRefPrefix(slug))) names.add(b);
  return [...names];
}

/** What is known of each ref here and there. */
export async function refFacts(cwd: string, names: readonly string[], remote: ReadonlyMap<string, string>, localOverride: ReadonlyMap<string, string> = new Map()): Promise<RefFacts[]> {
  const checkouts = new Map((await listWorktrees(cwd)).filter((w) => w.branch && !w.prunable).map((w) => [`refs/heads/${w.branch}`, w.path]));
  return Promise.all(
    names.map(async (ref) => {
      const local = localOverride.get(ref) ?? (await commitOf(ref, cwd));
      const there = remote.get(ref);
      const both = local !== undefined && there !== undefined && there !== local;
      return {
        ref,
        ...(local !== undefined && { local }),
        ...(there !== undefined && { remote: there }),
        remoteInLocal: both && (await isAncestor(there!, local!, cwd)),
        localInRemote: both && (await isAncestor(local!, there!, cwd)),
        ...(checkouts.has(ref) && { checkedOutIn: checkouts.get(ref)! }),
      };
    }),
  );
}

/**
 * One atomic push: every ref moves, each only from exactly the commit we expect there
 * (`--force-with-lease=<ref>:<expect>`, empty for a ref that must not exist yet), or none does.
 */
export async function pushAtomic(cwd: string, remote: string, updates: readonly RemoteUpdate[]): Promise<void> {
  const leases = updates.map((u) => `--force-with-lease=${u.ref}:${u.expect ?? ""}`);
  const specs = updates.map((u) => `${u.to}:${u.ref}`);
  const r = await git(["push", "--atomic", "--porcelain", "--no-verify", ...leases, "--", remote, ...specs], cwd);
  if (r.exitCode === 0) return;
  const rejected = `${r.stdout}\n${r.stderr}`.split("\n").filter((l) => /^!\t/.test(l) || /stale info|rejected|fetch first|non-fast-forward/.test(l));
  if (rejected.length) {
    throw new RefusedError([
      {
        code: "remote-ahead",
        message: `${remote} refused the push: a ref moved there meanwhile (${rejected.map((l) => l.replace(/^!\t/, "").trim()).join("; ")}); the push is atomic, so nothing was pushed`,
        fix: `bring the new commits here (claude-parallel pull), then run the command again`,
      },
    ]);
  }
  throw new EnvironmentError(`git push to ${remote} failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`, "check the remote and your access to it, then run the command again (nothing was pushed)");
}

/** Creates or fast-forwards local refs in one transaction: each only from the commit it was seen at. */
export async function updateLocalRefs(cwd: string, updates: readonly LocalUpdate[], reason: string): Promise<void> {
  if (updates.length === 0) return;
  const input = ["start", ...updates.map((u) => (u.from === undefined ? `create ${u.ref} ${u.to}` : `update ${u.ref} ${u.to} ${u.from}`)), "prepare", "commit", ""].join("\n");
  const r = await git(["update-ref", "-m", reason, "--stdin"], cwd, { input });
  if (r.exitCode !== 0) {
    throw new RefusedError([{ code: "ref-moved", message: `a ref of the feature moved here while the pull ran (${r.stderr.trim()}); nothing was changed`, fix: "run the pull again" }]);
  }
}
