// Runs mergeTask in a process of its own, so a test can kill it at a crash point (SIGKILL kills
// the whole process). Bundled by test/helpers/merge-task.ts; argv[2] is the request as JSON.
import { openFeature } from "../../src/state-ref/open-feature.js";
import { mergeTask } from "../../src/sync/merge-task.js";
import { CliError } from "../../src/core/errors.js";

const request = JSON.parse(process.argv[2]!) as { cwd: string; slug: string; taskId: string; verify?: string | false; baseKnownGood?: boolean };
try {
  const { repo, mainRoot, feature } = await openFeature(request.slug, request.cwd);
  const outcome = await mergeTask({
    commonDir: repo.commonDir,
    mainRoot,
    plan: feature.plan,
    taskId: request.taskId,
    ...(request.verify !== undefined && { verify: request.verify }),
    ...(request.baseKnownGood !== undefined && { baseKnownGood: request.baseKnownGood }),
    log: (line) => process.stderr.write(line + "\n"),
  });
  process.stdout.write(JSON.stringify(outcome) + "\n");
} catch (error) {
  process.stdout.write(JSON.stringify({ error: (error as Error).message, refusals: error instanceof CliError ? (error as unknown as { refusals?: unknown }).refusals : undefined }) + "\n");
  process.exitCode = error instanceof CliError ? error.exitCode : 1;
}
