import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { commandModules, run } from "../../src/cli.js";
import type { CommandSpec } from "../../src/core/command-spec.js";
import { commandReference } from "../../src/core/render/command-reference.js";
import { REPO_ROOT } from "../helpers/paths.js";

// Each command module owns its interface (src/core/command-spec.ts): the CLI parses, and prints usage
// and help, from those specs, and docs/commands.md is written from them. These tests hold the
// three to each other, running the CLI's dispatch in process (no bundle, no process).

const specs = (await commandModules()).map((m) => m.spec);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await run(args, { cwd: REPO_ROOT, stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

/** What a command's help shows, read back from its text: the parts a spec declares. */
function readHelp(text: string) {
  const [head, usage, ...rest] = text.replace(/\n$/, "").split("\n\n");
  const exits = rest.pop()!;
  const options = rest.pop()!;
  const optionLines = options.split("\n").slice(1);
  // Every option's text starts in the same column: where `--help`'s does.
  const column = optionLines.at(-1)!.indexOf("Print this help.");
  const shown: Array<{ flag: string; text: string }> = [];
  for (const line of optionLines) {
    if (line.slice(0, column).trim()) shown.push({ flag: line.slice(2, column).trim(), text: line.slice(column) });
    else shown.at(-1)!.text += ` ${line.trim()}`;
  }
  const [synopsis, aliases] = usage!.split("\nAlso spelled: ");
  return {
    summary: head!.replace(/\n/g, " "),
    synopsis: synopsis!.split("\n").map((l) => l.trim()),
    aliases: aliases?.split(", "),
    details: rest.map((p) => p.replace(/\n/g, " ")),
    options: shown,
    exits: [...exits.replace(/\n/g, " ").matchAll(/(?:: |, )([0-9]) /g)].map((m) => Number(m[1])),
  };
}

const flag = (o: CommandSpec["options"][number]) => `--${o.name}${o.value ? ` ${o.value}` : ""}`;

describe("the command specs", () => {
  it("are what each command's --help shows: summary, synopsis, details, every option with its text, and its exit codes", async () => {
    for (const spec of specs) {
      // `--` ends the options, so that `help` takes `--version` for the name it is.
      const byHelp = await cli(["help", "--", spec.name]);
      expect(byHelp, spec.name).toMatchObject({ code: 0, stderr: "" });
      // `context` and `--version` take no arguments at all: `context --help` is `context`.
      if (!spec.ignoresArguments) expect(await cli([spec.name, "--help"]), spec.name).toEqual(byHelp);
      const shown = readHelp(byHelp.stdout);
      expect(shown.summary, spec.name).toBe(`claude-parallel ${spec.name}: ${spec.summary.join(" ")}`);
      const synopsis = spec.synopsis.length ? [`Usage: claude-parallel ${spec.name} ${spec.synopsis[0]}`, ...spec.synopsis.slice(1)] : [`Usage: claude-parallel ${spec.name}`];
      expect(shown.synopsis, spec.name).toEqual(synopsis);
      expect(shown.aliases, spec.name).toEqual(spec.aliases?.map((a) => `claude-parallel ${a}`));
      expect(shown.details, spec.name).toEqual(spec.details);
      expect(shown.options, spec.name).toEqual([...spec.options.map((o) => ({ flag: flag(o), text: o.text })), { flag: "--help, -h", text: "Print this help." }]);
      expect(shown.exits, spec.name).toEqual(spec.exits.filter((c) => c !== 1));
    }
  });

  it("are what each command's parser takes: exactly the options listed", async () => {
    for (const spec of specs.filter((s) => !s.ignoresArguments)) {
      // One argument too many makes the parse fail after the options were taken, so nothing runs.
      const tooMany = Array.from({ length: spec.positionals + 1 }, (_, i) => `extra${i}`);
      for (const o of spec.options) {
        const r = await cli([spec.name, `--${o.name}`, ...(o.type === "string" ? ["x"] : []), ...tooMany]);
        expect(r, `${spec.name} --${o.name}`).toMatchObject({ code: 2, stderr: expect.stringContaining(`unexpected argument \`extra${spec.positionals}\``) });
      }
      const unknown = await cli([spec.name, "--not-an-option"]);
      expect(unknown, spec.name).toMatchObject({ code: 2, stderr: expect.stringContaining("unknown option `--not-an-option`") });
    }
  });

  it("are every command module's: each module under src/commands/ with a spec is a command the CLI runs", async () => {
    const dir = join(REPO_ROOT, "src", "commands");
    const modules = await Promise.all(readdirSync(dir).map((f) => import(join(dir, f)) as Promise<{ spec?: CommandSpec }>));
    const declared = modules.flatMap((m) => (m.spec ? [m.spec.name] : []));
    expect(declared.length).toBeGreaterThan(10);
    expect(specs.map((s) => s.name)).toEqual(expect.arrayContaining(declared));
    expect(specs.map((s) => s.name).filter((n) => !declared.includes(n))).toEqual(["--version", "help"]);
  });

  it("declare each thing once: unique names and options, synopses naming only declared options, aliases only on the CLI's own commands", () => {
    expect(new Set(specs.map((s) => s.name)).size).toBe(specs.length);
    for (const spec of specs) {
      const names = spec.options.map((o) => o.name);
      expect(new Set(names).size, spec.name).toBe(names.length);
      expect(names, spec.name).not.toContain("help");
      for (const used of spec.synopsis.join(" ").match(/--[a-z-]+/g) ?? []) expect(names, `${spec.name}: ${used}`).toContain(used.slice(2));
      for (const o of spec.options) expect(o.value === undefined, `${spec.name} --${o.name}`).toBe(o.type === "boolean");
      expect(spec.exits, spec.name).toContain(0);
    }
    expect(specs.filter((s) => s.aliases).map((s) => [s.name, s.aliases])).toEqual([
      ["--version", ["-v"]],
      ["help", ["--help", "-h"]],
    ]);
  });
});

describe("docs/commands.md", () => {
  it("is what the specs make: run `npm run docs` after changing one", () => {
    expect(readFileSync(join(REPO_ROOT, "docs", "commands.md"), "utf8"), "docs/commands.md is stale: run `npm run docs`").toBe(commandReference(specs));
  });

  it("has a section per command with its synopsis and every option", () => {
    const page = commandReference(specs);
    for (const spec of specs) {
      const section = page.split(`\n## ${spec.name}\n`)[1]?.split("\n## ")[0];
      expect(section, spec.name).toBeDefined();
      expect(section, spec.name).toContain(`\`\`\`\nclaude-parallel ${spec.name}`);
      for (const o of spec.options) expect(section, `${spec.name} --${o.name}`).toContain(`- \`${flag(o)}\`: `);
    }
    // Help text outside code spans is escaped, so Markdown shows `<slug>` instead of swallowing it as HTML.
    expect(page).toContain("Do not write .parallel/\\<slug\\>/PLAN.md.");
  });
});
