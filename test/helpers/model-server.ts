import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One reply of the scripted model: text and tool calls, like a Messages API response. */
export type Block = { type: "text"; text: string } | { type: "tool_use"; name: string; input: Record<string, unknown> };

export interface MessagesRequest {
  model: string;
  stream?: boolean;
  system?: unknown;
  messages: Array<{ role: string; content: string | Array<Record<string, unknown>> }>;
  [key: string]: unknown;
}

/** Chooses the reply to a request: the scenario sees every request and says what the model answers. */
export type Script = (request: MessagesRequest, context: { cwd?: string; turn: number }) => Block[];

export interface ModelServer {
  url: string;
  requests: MessagesRequest[];
  close(): Promise<void>;
}

/** All the text a request carries: system prompt and every text block, for assertions. */
export function requestText(request: MessagesRequest): string {
  const parts: string[] = [];
  const collect = (value: unknown) => {
    if (typeof value === "string") parts.push(value);
    else if (Array.isArray(value)) value.forEach(collect);
    else if (value && typeof value === "object") {
      const v = value as Record<string, unknown>;
      if (typeof v.text === "string") parts.push(v.text);
      if (v.content !== undefined) collect(v.content);
    }
  };
  collect(request.system);
  collect(request.messages);
  return parts.join("\n");
}

/**
 * The tool results Claude Code sent back in this request (the outcome of the previous tool calls):
 * those after the last assistant message. Not only the last message: after a few tool calls Claude
 * Code appends a "system" message of its own after the results.
 */
export function toolResults(request: MessagesRequest): string[] {
  const lastAssistant = request.messages.map((m) => m.role).lastIndexOf("assistant");
  return request.messages
    .slice(lastAssistant + 1)
    .flatMap((m) => (typeof m.content === "string" ? [] : m.content))
    .filter((b) => b.type === "tool_result")
    .map((b) => (typeof b.content === "string" ? b.content : JSON.stringify(b.content)));
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A Messages API server on 127.0.0.1 that answers from a script, streaming (SSE) or not. Claude
 * Code runs the tools it asks for and sends the results in the next request.
 */
export async function startModelServer(script: Script): Promise<ModelServer> {
  const requests: MessagesRequest[] = [];
  let counter = 0;
  const server: Server = createServer(async (req, res) => {
    if (req.method !== "POST" || !req.url?.startsWith("/v1/messages")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
      return;
    }
    const request = JSON.parse(await body(req)) as MessagesRequest;
    requests.push(request);
    if (req.url.startsWith("/v1/messages/count_tokens")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ input_tokens: 1 }));
      return;
    }
    const text = requestText(request);
    const cwd = /Primary working directory: (.+)/.exec(text)?.[1]?.trim();
    const turn = request.messages.filter((m) => m.role === "assistant").length;
    const blocks = script(request, { cwd, turn }).map((b, i) => (b.type === "tool_use" ? { ...b, id: `toolu_${++counter}_${i}` } : b));
    const stopReason = blocks.some((b) => b.type === "tool_use") ? "tool_use" : "end_turn";
    const message = { id: `msg_${++counter}`, type: "message", role: "assistant", model: request.model, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 10 } };
    if (!request.stream) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ...message, content: blocks, stop_reason: stopReason }));
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    send("message_start", { type: "message_start", message: { ...message, content: [], stop_reason: null } });
    blocks.forEach((block, index) => {
      if (block.type === "text") {
        send("content_block_start", { type: "content_block_start", index, content_block: { type: "text", text: "" } });
        send("content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text: block.text } });
      } else {
        const { input, ...rest } = block as Block & { id: string; type: "tool_use" };
        send("content_block_start", { type: "content_block_start", index, content_block: { ...rest, input: {} } });
        send("content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: JSON.stringify(input) } });
      }
      send("content_block_stop", { type: "content_block_stop", index });
    });
    send("message_delta", { type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: 10 } });
    send("message_stop", { type: "message_stop" });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A tool result saying Claude Code's sandbox could not start the command (bubblewrap itself failed: "bwrap: ..."). */
export const sandboxRace = (m: MessagesRequest["messages"][number]) =>
  m.role === "user" && Array.isArray(m.content) && m.content.some((b) => b.type === "tool_result" && b.is_error === true && JSON.stringify(b.content).includes("bwrap: "));

/**
 * When the sandbox could not start the last Bash command (sessions of one repository race on its
 * placeholder files: docs/sandbox.md), the same tool calls again, as a model would: not a step of
 * the script. Undefined otherwise.
 */
export function retryAfterSandboxRace(messages: MessagesRequest["messages"]): Block[] | undefined {
  const last = messages[messages.length - 1];
  const previous = messages[messages.length - 2];
  if (!last || !sandboxRace(last) || previous?.role !== "assistant" || !Array.isArray(previous.content)) return undefined;
  return previous.content.filter((b) => b.type === "tool_use").map((b): Block => ({ type: "tool_use", name: String(b.name), input: b.input as Record<string, unknown> }));
}
