import { InputError } from "../core/errors.js";
import { SLUG_PATTERN } from "../core/plan/names.js";
import { REMOTE_NAME } from "./remote.js";

/** What `push` and `pull` take: the feature and the remote. */
export interface ShareOptions {
  slug: string;
  remote: string;
  dryRun?: boolean;
}

/** The slug and the remote's name are checked before either reaches git (a remote is never an option or a URL). */
export function checkShareOptions(options: ShareOptions, command: string): void {
  if (!SLUG_PATTERN.test(options.slug)) throw new InputError({ where: options.slug, message: "is not a feature slug", fix: `run claude-parallel ${command} <slug>` });
  if (!REMOTE_NAME.test(options.remote))
    throw new InputError({ where: "--remote", message: `\`${options.remote}\` is not a remote's name`, fix: "give the name of a remote (git remote -v), such as origin" });
}
