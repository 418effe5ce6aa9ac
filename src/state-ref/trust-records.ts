import { lstat, readdir, rm } from "node:fs/promises";
import { StateError } from "../core/errors.js";
import { MAX_BYTES } from "../core/state/bounds.js";
import { trustedDigestPath, trustedDir } from "../core/state/paths.js";
import { TrustRecordSchema, type TrustRecord } from "../core/state/state-schema.js";
import { writeFileAtomic } from "../fs/atomic.js";
import { pathExists } from "../fs/exists.js";
import { readJsonFile } from "../feature/store.js";
import { DIGEST_PATTERN } from "./trust.js";

/**
 * The user's trust of shared states (`claude-parallel allow`): one record per digest in the git
 * directory, naming the feature whose state it trusts, so that `clean` removes that feature's
 * records with it and nothing else. A record that names no feature (written before records did,
 * and not taken since) stays trusted, and is never removed: nothing says whose it is.
 */

/** Records the user's trust of the state with this digest, of the feature `slug` (when not given: the one its record names, if any). */
export async function recordTrust(commonDir: string, digest: string, slug: string | undefined, now: string): Promise<void> {
  const of = slug ?? (await readTrustRecord(commonDir, digest).catch(ignoreDamage))?.slug;
  const record: TrustRecord = { allowedAt: now, ...(of !== undefined && { slug: of }) };
  await writeFileAtomic(trustedDigestPath(commonDir, digest), JSON.stringify(record) + "\n");
}

/** Whether the user allowed this digest (whatever the record says besides: its name is the digest). */
export const isAllowed = (commonDir: string, digest: string) => pathExists(trustedDigestPath(commonDir, digest));

/**
 * The record of a digest a state of `slug` was just taken by names `slug` from now on: the digest
 * is over the slug, so it is that feature's whatever `allow` was told. A record that cannot be
 * read is left as it is.
 */
export async function claimTrust(commonDir: string, digest: string, slug: string): Promise<void> {
  const record = await readTrustRecord(commonDir, digest).catch(ignoreDamage);
  if (record === undefined || record.slug === slug) return;
  await writeFileAtomic(trustedDigestPath(commonDir, digest), JSON.stringify({ ...record, slug }) + "\n");
}

/** The digests whose records name `slug`. The records are read as untrusted input: one that cannot be read is nobody's. */
export async function trustRecordsOf(commonDir: string, slug: string): Promise<string[]> {
  if (!(await trustedDirIsOurs(commonDir))) return [];
  const names = (await readdir(trustedDir(commonDir)).catch(() => [] as string[])).filter((n) => DIGEST_PATTERN.test(n)).sort();
  const records = await Promise.all(names.map((n) => readTrustRecord(commonDir, n).catch(ignoreDamage)));
  return names.filter((_, i) => records[i]?.slug === slug);
}

/** Removes the record of `digest` if it names `slug` (read again: it may have changed since it was gathered); whether it did. */
export async function forgetTrust(commonDir: string, digest: string, slug: string): Promise<boolean> {
  const record = (await trustedDirIsOurs(commonDir)) ? await readTrustRecord(commonDir, digest).catch(ignoreDamage) : undefined;
  if (record?.slug !== slug) return false;
  await rm(trustedDigestPath(commonDir, digest), { force: true });
  return true;
}

/** Whether the records' folder is a folder, not a link to one elsewhere (whose files are nobody's records). */
const trustedDirIsOurs = async (commonDir: string) => (await lstat(trustedDir(commonDir)).catch(() => undefined))?.isDirectory() === true;

const readTrustRecord = (commonDir: string, digest: string) => readJsonFile(trustedDigestPath(commonDir, digest), TrustRecordSchema, `run claude-parallel allow ${digest} again`, MAX_BYTES.marker);

function ignoreDamage(error: unknown): undefined {
  if (error instanceof StateError) return undefined;
  throw error;
}
