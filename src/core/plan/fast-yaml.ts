// The fast way to read a plan: js-yaml is several times faster than `yaml` (about 40x on a
// 5,000-task plan), but knows nothing of source positions. So it only ever reads plans; any text
// it might read differently from `yaml` is left to `yaml` (src/core/plan/load.ts), which also writes
// every error message with its `file:line:col`.
import { FAILSAFE_SCHEMA, Type, load, type LoadState } from "js-yaml";

// Scalars resolve exactly as in `yaml`'s YAML 1.2 core schema (node_modules/yaml/dist/schema/core),
// not as in js-yaml's own core schema (which also reads `1_000` and `0b101` as numbers).
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

const scalar = (tag: string, test: (s: string) => boolean, construct: (s: string) => unknown) =>
  new Type(`tag:yaml.org,2002:${tag}`, { kind: "scalar", resolve: (s) => s !== null && test(s), construct: (s) => construct(s ?? "") });

const CORE_1_2 = FAILSAFE_SCHEMA.extend({
  implicit: [
    scalar(
      "null",
      (s) => NULL.test(s),
      () => null,
    ),
    scalar(
      "bool",
      (s) => BOOL.test(s),
      (s) => s[0] === "t" || s[0] === "T",
    ),
    scalar(
      "int",
      (s) => INT_OCT.test(s) || INT.test(s) || INT_HEX.test(s),
      (s) => (INT_OCT.test(s) ? parseInt(s.slice(2), 8) : INT_HEX.test(s) ? parseInt(s.slice(2), 16) : parseInt(s, 10)),
    ),
    scalar(
      "float",
      (s) => FLOAT_NAN.test(s) || FLOAT_EXP.test(s) || FLOAT.test(s),
      (s) => (FLOAT_NAN.test(s) ? (s.slice(-3).toLowerCase() === "nan" ? NaN : s[0] === "-" ? -Infinity : Infinity) : parseFloat(s)),
    ),
  ],
});

/**
 * The plan text's data, or undefined when this reader declines and `yaml` must read it: on any
 * error (syntax, duplicate keys, unknown tags, several documents), and for any anchor, since
 * `yaml` limits how far aliases expand and js-yaml does not.
 */
export function loadYamlFast(text: string): unknown {
  let anchors: Record<string, unknown> | undefined;
  try {
    const data = load(text, {
      schema: CORE_1_2,
      // Only a text with an `&` can declare an anchor; the listener (called for every node) finds it.
      ...(text.includes("&") && { listener: (_event: "open" | "close", state: LoadState) => void (anchors = state.anchorMap) }),
    });
    if (anchors !== undefined && Object.keys(anchors).length > 0) return undefined;
    return data;
  } catch {
    return undefined;
  }
}
