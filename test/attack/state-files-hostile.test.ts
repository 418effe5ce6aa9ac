import { execFileSync, spawnSync } from "node:child_process";
import { appendFileSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { nextRecord } from "../../src/session/ledger.js";
import { ATTACK_SEED, prng } from "../helpers/attack.js";
import { HELPER } from "../helpers/cli.js";
import { commitIn } from "../helpers/feature.js";
import { reusableFolder } from "../helpers/fixture.js";
import { git, gitEnv, makeRepo } from "../helpers/git.js";

/**
 * Task sessions run commands, so every file of the feature's state folder may have been replaced by
 * one: a FIFO (which blocked its reader forever), a link to /dev/zero (never ending), a folder, a
 * file far over its size (a sparse 512 MiB one: cheap to make), garbage among good lines. Each
 * command that reads the file must finish (a hang fails by the process timeout below), and either
 * refuse with a message naming the file, or name what it skipped and use the good data.
 * Forms are given to files by the seed; ATTACK_SEED=<n> replays a run.
 */
const seed = ATTACK_SEED;
const random = prng(seed);
console.log(`state-files-hostile: ATTACK_SEED=${seed}`);

const PLAN = [
  "version: 1",
  "feature: Hostile state",
  "tasks:",
  "  - {id: a, title: Part A, owns: [a/]}",
  '  - {id: b, title: Part B, owns: [b/], verify: "true"}',
  "  - {id: c, title: Part C, owns: [c/], dependsOn: [a]}",
  "",
].join("\n");
const HUGE = 512 * 1024 * 1024;

const fixture = reusableFolder((folder) => {
  const repo = makeRepo({ parent: folder, name: "hostile", files: { "README.md": "# demo\n", ".parallel/demo/plan.yaml": PLAN } });
  const started = helper(["start"], repo);
  if (started.status !== 0) throw new Error(`start failed: ${started.stderr}`);
  const wt = (id: string) => join(folder, `hostile-demo-${id}`);
  commitIn(wt("a"), { "a/x.txt": "a\n" });
  const bTip = commitIn(wt("b"), { "b/x.txt": "b\n" });
  const state = join(repo, ".git", "parallel", "demo");
  const dead = spawnSync("true").pid!;
  const at = "2026-01-01T00:00:00.000Z";
  const files: Record<string, string> = {
    "sessions/a.json": JSON.stringify({ pid: dead, startedAt: at, endedAt: at, exitCode: 1, log: join(state, "sessions/a.jsonl"), sessionId: "sid-a" }),
    "sessions/a.jsonl": GOOD_LOG,
    "sessions/a.stderr": "first\nboom\n",
    "sessions/b.hook.json": JSON.stringify(nextRecord(undefined, { task: "b", name: "Stop", at, state: "stopped", sessionId: "sid-b", tokens: { input: 7, output: 1, cacheRead: 0, cacheWrite: 0 } })),
    "verify/b.json": JSON.stringify({ command: "true", commit: bTip, exitCode: 0, ranAt: at, outputTail: "" }),
    "run/events.jsonl": GOOD_EVENTS,
    "run/state.json": JSON.stringify({
      version: 1,
      tasks: { a: { sessionId: "sid-a", invocations: 1, current: { n: 1, kind: "launch", prompt: "p", logOffset: 0, recordedAt: at, pid: dead, pidStart: "1", endedAt: at }, attempts: {} } },
    }),
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(state, name)), { recursive: true });
    writeFileSync(join(state, name), text);
  }
  return { folder, repo, state, wt };
});

const GOOD_LOG =
  [
    JSON.stringify({ type: "system", subtype: "init" }),
    JSON.stringify({ type: "result", subtype: "success", is_error: false, session_id: "sid-a", total_cost_usd: 0.5, usage: { input_tokens: 100, output_tokens: 20 } }),
  ].join("\n") + "\n";
const GOOD_EVENTS =
  [
    JSON.stringify({ at: "2026-01-01T00:00:01.000Z", event: "run-started", text: "run started" }),
    JSON.stringify({ at: "2026-01-01T00:00:02.000Z", event: "session-ended", task: "a", phase: 1, text: "a: session ended (done)" }),
  ].join("\n") + "\n";

function helper(args: string[], cwd: string, input?: string) {
  // The timeout only turns a hang into a failure; what is asserted is the output.
  return spawnSync(process.execPath, [HELPER, ...args], { cwd, env: gitEnv, encoding: "utf8", timeout: 60_000, maxBuffer: 16 << 20, ...(input !== undefined && { input }) });
}

function ran(args: string[], cwd: string, input?: string) {
  const r = helper(args, cwd, input);
  expect(r.signal, `${args.join(" ")} hung (seed ${seed})`).toBeNull();
  return r;
}

type Form = "fifo" | "zero" | "folder" | "huge" | "garbage";
const FORMS: Form[] = ["fifo", "zero", "folder", "huge", "garbage"];

/** Bytes that are no JSON and no UTF-8: NULs, lone continuation bytes, half an escape. */
const junk = () => Buffer.from(Array.from({ length: 40 + Math.floor(random() * 40) }, () => [0x00, 0xff, 0xc3, 0x80, 0x7b, 0x22, 0x5c, 0x1b][Math.floor(random() * 8)]!));

/**
 * Puts `form` where the file `name` of the state folder is. `lines`: the file is read line by
 * line, so "huge" keeps its good lines after a 512 MiB line, and "garbage" puts bad lines among them.
 */
function plant(state: string, name: string, form: Form, lines: boolean): void {
  const path = join(state, name);
  const good = lines ? readFileSync(path, "utf8") : "";
  rmSync(path, { recursive: true, force: true });
  mkdirSync(dirname(path), { recursive: true });
  if (form === "fifo") execFileSync("mkfifo", [path]);
  else if (form === "zero") symlinkSync("/dev/zero", path);
  else if (form === "folder") mkdirSync(path);
  else if (form === "huge") {
    writeFileSync(path, "");
    truncateSync(path, HUGE);
    appendFileSync(path, "\n" + good);
  } else if (!lines) writeFileSync(path, junk());
  else {
    const bad = [junk(), Buffer.from('{"type":"result", broken\n'), Buffer.from("[1]\n"), Buffer.from('{"at":1}\n')];
    const parts = good
      .split("\n")
      .filter(Boolean)
      .map((l) => Buffer.from(l + "\n"));
    // Bad lines before, between and after the good ones; the good lines keep their order.
    writeFileSync(path, Buffer.concat([bad[0]!, Buffer.from("\n"), parts[0]!, bad[1]!, bad[2]!, ...parts.slice(1), bad[3]!]));
  }
}

const statusJson = (repo: string) => {
  const r = ran(["status", "demo", "--json"], repo);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as {
    phases: Array<{ tasks: Array<{ id: string; costUsd?: number; unread?: string[]; ledger?: unknown; verify: { kind: string }; session: { kind: string; reason?: string; problem?: string } }> }>;
    run?: { lastEvent?: { text: string }; unread?: string[] };
  };
};
const task = (s: ReturnType<typeof statusJson>, id: string) => s.phases[0]!.tasks.find((t) => t.id === id)!;

describe("hostile files in the feature's state folder", () => {
  it("untouched, the good data is what status, run --dry-run and sync --dry-run use", () => {
    const { repo } = fixture();
    const s = statusJson(repo);
    expect(task(s, "a")).toMatchObject({ costUsd: 0.5, session: { kind: "exited", reason: "first / boom" } });
    expect(task(s, "b")).toMatchObject({ ledger: { state: "stopped" }, verify: { kind: "passed" } });
    expect(s.run?.lastEvent?.text).toBe("a: session ended (done)");
    expect(JSON.stringify(s)).not.toContain("unread");
    const run = ran(["run", "demo", "--dry-run"], repo);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain("sync phase 1");
    expect(run.stdout).toContain("Spent so far: $0.50.");
    expect(ran(["sync", "demo", "--dry-run"], repo).status).toBe(0);
  });

  // Each round gives every file status reads and goes on without one form; the log the run reads, too.
  it.each(FORMS)("%s in place of the session log, its stderr, a hook record, a verify record and the run's events", (form) => {
    const { repo, state } = fixture();
    plant(state, "sessions/a.jsonl", form, true);
    plant(state, "sessions/a.stderr", form, true);
    plant(state, "sessions/b.hook.json", form, false);
    plant(state, "verify/b.json", form, false);
    plant(state, "run/events.jsonl", form, true);
    const s = statusJson(repo);
    const a = task(s, "a");
    const b = task(s, "b");
    const unreadable = form === "fifo" || form === "zero" || form === "folder";
    // The logs are read line by line: a 512 MiB line and garbage lines leave the good lines readable.
    if (unreadable) {
      expect(a.costUsd).toBeUndefined();
      expect(a.unread).toContainEqual(expect.stringContaining(join(state, "sessions/a.jsonl")));
      expect(a.session.reason).toContain(`${join(state, "sessions/a.stderr")}`);
      expect(s.run?.lastEvent).toBeUndefined();
      expect(s.run?.unread).toContainEqual(expect.stringContaining(join(state, "run/events.jsonl")));
    } else {
      expect(a.costUsd).toBe(0.5);
      expect(a.session.reason).toContain("boom");
      expect(s.run?.lastEvent?.text).toBe("a: session ended (done)");
    }
    if (form === "garbage") {
      expect(a.unread).toContainEqual(`${join(state, "sessions/a.jsonl")}:3: not JSON`);
      expect(s.run?.unread).toEqual(expect.arrayContaining([`${join(state, "run/events.jsonl")}:1: not JSON`, expect.stringMatching(/events\.jsonl:4: not an event/)]));
    }
    // Records are whole files: any of these forms is named, and what it would say is unknown.
    expect(b.ledger).toBeUndefined();
    expect(b.unread).toContainEqual(expect.stringContaining(join(state, "sessions/b.hook.json")));
    expect(b.verify.kind).toBe("not-run");
    expect(b.unread).toContainEqual(expect.stringContaining(join(state, "verify/b.json")));

    const run = ran(["run", "demo", "--dry-run"], repo);
    if (unreadable) {
      expect(run.status).toBe(4);
      expect(run.stderr).toContain(join(state, "sessions/a.jsonl"));
    } else {
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toContain("sync phase 1");
      expect(run.stdout).toContain("Spent so far: $0.50.");
    }
    // The sync runs b's verify again (its record says nothing) and records it: over a folder, it cannot.
    const sync = ran(["sync", "demo", "--dry-run"], repo);
    if (form === "folder") {
      expect(sync.status).toBe(3);
      expect(sync.stderr).toContain(`-> '${join(state, "verify/b.json")}'`);
    } else expect(sync.status, sync.stderr).toBe(0);
    if (random() < 0.3) {
      const text = ran(["status"], repo);
      expect(text.status).toBe(0);
      expect(text.stdout).toContain(`b: not read (damaged, or not ours): ${join(state, "sessions/b.hook.json")}`);
    }
  });

  // A form other than the FIFO, chosen by the seed, beside the FIFO.
  const twoForms = (others: Form[] = ["zero", "folder", "huge", "garbage"]): Form[] => ["fifo", others[Math.floor(random() * others.length)]!];

  it.each(twoForms())("%s as the feature's state.json or frozen plan: every command refuses, naming it", (form) => {
    const commands = [
      ["status", "demo", "--json"],
      ["run", "demo", "--dry-run"],
      ["sync", "demo", "--dry-run"],
    ];
    for (const name of ["state.json", "plan.yaml"]) {
      const { repo, state } = fixture();
      plant(state, name, form, false);
      const path = join(state, name);
      // Every command on the FIFO in state.json; one chosen by the seed otherwise.
      for (const args of form === "fifo" && name === "state.json" ? commands : [commands[Math.floor(random() * commands.length)]!]) {
        const r = ran(args, repo);
        expect(r.status, `${args.join(" ")}: ${r.stdout}${r.stderr}`).toBe(4);
        expect(r.stderr).toContain(`the feature's state is damaged: ${path}`);
      }
      if (form !== "fifo") continue;
      // Without a slug, status never fails: it says what is wrong.
      const all = ran(["status"], repo);
      expect(all.status).toBe(0);
      expect(all.stdout).toContain(path);
    }
  });

  it.each(twoForms())("%s as the run's state or a session record: status names it, run --dry-run refuses", (form) => {
    const { repo, state } = fixture();
    plant(state, "run/state.json", form, false);
    // b's session: nothing in the run's state says whether it runs; its record must not be guessed at.
    plant(state, "sessions/b.json", form, false);
    const s = statusJson(repo);
    expect(s.run?.unread).toContainEqual(expect.stringContaining(join(state, "run/state.json")));
    expect(task(s, "b").session).toMatchObject({ kind: "unknown", problem: expect.stringContaining(join(state, "sessions/b.json")) });
    const run = ran(["run", "demo", "--dry-run"], repo);
    expect(run.status).toBe(4);
    expect(run.stderr).toContain(join(state, "run/state.json"));
    rmSync(join(state, "run/state.json"), { recursive: true, force: true });
    const again = ran(["run", "demo", "--dry-run"], repo);
    expect(again.status).toBe(4);
    expect(again.stderr).toContain(join(state, "sessions/b.json"));
    expect(again.stderr).toContain("once no claude session runs in the task's worktree, remove");
  });

  it.each(twoForms(["zero", "folder", "huge"]))("%s as the feature's lock: a writing command refuses at once, naming it", (form) => {
    const { repo } = fixture();
    const lock = join(repo, ".git", "parallel", ".locks", "demo.lock");
    plant(dirname(lock), "demo.lock", form, false);
    const before = git(repo, "for-each-ref");
    const r = ran(["sync", "demo"], repo);
    expect(r.status).toBe(4);
    expect(r.stderr).toContain("the lock of demo");
    expect(r.stderr).toContain(lock);
    expect(git(repo, "for-each-ref")).toBe(before);
  });

  it("the hooks: a hostile transcript, a hostile record of their own task and another's; the Stop is recorded all the same", () => {
    const { folder, state, wt } = fixture();
    const form = FORMS[Math.floor(random() * FORMS.length)]!;
    const transcript = join(folder, "transcript.jsonl");
    writeFileSync(
      transcript,
      JSON.stringify({ type: "assistant", message: { id: "m1", role: "assistant", content: [{ type: "text", text: "all done" }], usage: { input_tokens: 11, output_tokens: 3 } } }) + "\n",
    );
    plant(folder, "transcript.jsonl", form, true);
    plant(state, "sessions/b.hook.json", "fifo", false);
    // Its own record is replaced by the new one (a folder there could not be).
    const own: Form[] = ["fifo", "zero", "huge", "garbage"];
    plant(state, "sessions/a.hook.json", own[Math.floor(random() * own.length)]!, false);
    const input = JSON.stringify({ session_id: "sid-a", transcript_path: transcript, cwd: wt("a"), hook_event_name: "Stop" });
    const r = ran(["_hook", "Stop"], wt("a"), input);
    expect(r.status).toBe(0);
    expect(lstatSync(join(state, "sessions/a.hook.json")).isFile()).toBe(true);
    const record = JSON.parse(readFileSync(join(state, "sessions/a.hook.json"), "utf8"));
    expect(record.state).toBe("stopped");
    // Read line by line: the good line counts among garbage; a transcript over its bound (64 MiB) is not read at all.
    const counted = form === "garbage" ? { input: 11, output: 3, cacheRead: 0, cacheWrite: 0 } : { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
    expect(record.sessions["sid-a"], `transcript: ${form}`).toEqual(counted);
  });
});
