import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { RoleKind } from "../core/plan/build.js";

export interface Role {
  name: string;
  kind: RoleKind;
  description?: string;
  /** Relative to the repository root. */
  file: string;
}

/**
 * The roles a repository defines: slash commands in `.claude/commands/*.md` (named by `name:`
 * or the file name) and subagents in `.claude/agents/*.md` (named by `name:`). Unreadable or
 * malformed files are skipped: a broken role file must not stop planning.
 */
export async function findRoles(repoRoot: string): Promise<Role[]> {
  const roles: Role[] = [];
  for (const kind of ["command", "agent"] as const) {
    const dir = join(".claude", kind === "command" ? "commands" : "agents");
    let names: string[];
    try {
      names = (await readdir(join(repoRoot, dir))).filter((n) => n.endsWith(".md")).sort();
    } catch {
      continue;
    }
    if (names.length === 0) continue;
    // Loaded only here: most repositories define no roles, and `plan` should start fast.
    const { default: matter } = await import("gray-matter");
    for (const fileName of names) {
      const file = join(dir, fileName);
      try {
        const { data } = matter(await readFile(join(repoRoot, file), "utf8"));
        const declared = typeof data.name === "string" ? data.name.trim() : "";
        const name = declared || fileName.replace(/\.md$/, "");
        const description = typeof data.description === "string" ? data.description.replace(/\s+/g, " ").trim() : undefined;
        roles.push({ name, kind, description, file });
      } catch {
        // malformed frontmatter: not a usable role
      }
    }
  }
  return roles;
}

export function roleMap(roles: Role[]): Map<string, RoleKind> {
  const map = new Map<string, RoleKind>();
  for (const role of roles) if (!map.has(role.name)) map.set(role.name, role.kind);
  return map;
}
