/**
 * Owned paths: plain paths and globs (`*`, `**`, `?`, `[...]`, `{a,b}`), relative to the
 * repository root. Owning a path owns everything below it, so `src/auth` and `src/auth/**` mean
 * the same (a last segment with a wildcard, like `*.ts`, names files only). Two owned paths overlap when some file path is covered by both; we decide that
 * exactly, by intersecting the two patterns as automata, and return an example path.
 */

import { Heap } from "./heap.js";

/** Why `raw` is not an acceptable owned path, or undefined. */
/** Longest owned path or contract, in characters (docs/plan-file.md). */
export const OWNED_PATH_MAX = 1024;

export function ownedPathProblem(raw: string): string | undefined {
  if (raw.trim() === "") return "is empty";
  if (raw.length > OWNED_PATH_MAX) return `is longer than ${OWNED_PATH_MAX} characters`;
  if (raw.includes("\0")) return "contains a NUL character";
  if (/[\r\n]/.test(raw)) return "contains a line break";
  if (raw.startsWith("/") || /^[A-Za-z]:[\\/]/.test(raw)) return "is absolute; owned paths are relative to the repository root";
  if (raw.includes("\\") && !/\\[*?[\]{}\\]/.test(raw)) return "uses '\\'; write paths with '/'";
  const segments = normalizeOwnedPath(raw).split("/");
  if (segments.includes("..")) return "climbs out of the repository with '..'";
  if (segments[0] === ".git") return "points into .git";
  if (braceAlternatives(raw).length > MAX_BRACE_ALTERNATIVES) return `expands to more than ${MAX_BRACE_ALTERNATIVES} alternatives`;
  return undefined;
}

/** An owned path as the plan writes it: spaces around it dropped, then its folders as `foldPath` does. */
export function normalizeOwnedPath(raw: string): string {
  return foldPath(raw.trim());
}

/** A path without empty or `.` segments; its spaces are its own (` b/x` is not in `b/`). */
function foldPath(path: string): string {
  return (
    path
      .split("/")
      .filter((s) => s !== "" && s !== ".")
      .join("/") || "."
  );
}

const MAX_BRACE_ALTERNATIVES = 64;

/** `a/{b,c}/d` -> [`a/b/d`, `a/c/d`]; nested braces expand too. Stops early past the limit. */
export function braceAlternatives(pattern: string): string[] {
  const open = findUnescaped(pattern, "{", 0);
  if (open < 0) return [pattern];
  let depth = 0;
  const commas: number[] = [];
  let close = -1;
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "{") depth++;
    else if (c === "}") {
      depth--;
      if (depth === 0) {
        close = i;
        break;
      }
    } else if (c === "," && depth === 1) commas.push(i);
  }
  if (close < 0 || commas.length === 0) {
    // Not a brace set: treat `{` literally by escaping it and continue after it.
    const rest = braceAlternatives(pattern.slice(open + 1));
    return rest.map((r) => pattern.slice(0, open) + "\\{" + r);
  }
  const head = pattern.slice(0, open);
  const tail = pattern.slice(close + 1);
  const bounds = [open, ...commas, close];
  const out: string[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const middle = pattern.slice(bounds[i]! + 1, bounds[i + 1]);
    for (const expanded of braceAlternatives(head + middle + tail)) {
      out.push(expanded);
      if (out.length > MAX_BRACE_ALTERNATIVES) return out;
    }
  }
  return out;
}

function findUnescaped(s: string, ch: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    if (s[i] === "\\") {
      i++;
      continue;
    }
    if (s[i] === ch) return i;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Automata

/** A set of characters: the union of `ranges` (code points, inclusive), complemented if `negated`. */
interface CharSet {
  ranges: Array<[number, number]>;
  negated: boolean;
}

const SLASH = 0x2f;
const DOT = 0x2e;
const ANY: CharSet = { ranges: [], negated: true };
const NOT_SLASH: CharSet = { ranges: [[SLASH, SLASH]], negated: true };
const literal = (code: number): CharSet => ({ ranges: [[code, code]], negated: false });

function contains(set: CharSet, code: number): boolean {
  const inRanges = set.ranges.some(([lo, hi]) => code >= lo && code <= hi);
  return inRanges !== set.negated;
}

/**
 * A character in both sets, or undefined. Both sets are unions of intervals or their
 * complements, so if they intersect, they share one of the interval ends or a neighbour of one,
 * or (both being complements) some character outside every interval.
 */
function commonChar(a: CharSet, b: CharSet): number | undefined {
  const candidates = new Set<number>();
  for (const [lo, hi] of [...a.ranges, ...b.ranges]) {
    for (const c of [lo - 1, lo, hi, hi + 1]) if (c >= 1 && c <= 0x10ffff) candidates.add(c);
  }
  // Readable witnesses first: a letter, then anything else found above.
  for (const preferred of [0x78 /* x */, 0x61, 0x30]) {
    if (contains(a, preferred) && contains(b, preferred)) return preferred;
  }
  for (const c of [...candidates].sort((x, y) => x - y)) if (contains(a, c) && contains(b, c)) return c;
  if (a.negated && b.negated) {
    for (let c = 0x100; c < 0x10ffff; c++) if (contains(a, c) && contains(b, c)) return c;
  }
  return undefined;
}

interface Nfa {
  /** edges[state] = transitions on one character. */
  edges: Array<Array<{ on: CharSet; to: number }>>;
  /** epsilon[state] = states reachable without reading a character. */
  epsilon: number[][];
  start: number;
  accepting: Set<number>;
}

class NfaBuilder {
  edges: Nfa["edges"] = [];
  epsilon: Nfa["epsilon"] = [];
  state(): number {
    this.edges.push([]);
    this.epsilon.push([]);
    return this.edges.length - 1;
  }
  edge(from: number, on: CharSet, to: number) {
    this.edges[from]!.push({ on, to });
  }
  skip(from: number, to: number) {
    this.epsilon[from]!.push(to);
  }
}

/** Parses `[...]` starting at `i` (the `[`); returns the set and the index after `]`, or undefined. */
function parseClass(p: string, i: number): { set: CharSet; end: number } | undefined {
  let j = i + 1;
  let negated = false;
  if (p[j] === "!" || p[j] === "^") {
    negated = true;
    j++;
  }
  const ranges: Array<[number, number]> = [];
  let first = true;
  while (j < p.length && (p[j] !== "]" || first)) {
    first = false;
    let lo = p.codePointAt(j)!;
    if (p[j] === "\\" && j + 1 < p.length) {
      j++;
      lo = p.codePointAt(j)!;
    }
    j += lo > 0xffff ? 2 : 1;
    let hi = lo;
    if (p[j] === "-" && j + 1 < p.length && p[j + 1] !== "]") {
      j++;
      if (p[j] === "\\" && j + 1 < p.length) j++;
      hi = p.codePointAt(j)!;
      j += hi > 0xffff ? 2 : 1;
    }
    if (hi >= lo) ranges.push([lo, hi]);
  }
  if (j >= p.length) return undefined;
  // A class never matches '/', whatever it says.
  const set: CharSet = negated ? { ranges: [...ranges, [SLASH, SLASH]], negated: true } : { ranges: ranges.flatMap(withoutSlash), negated: false };
  return { set, end: j + 1 };
}

function withoutSlash([lo, hi]: [number, number]): Array<[number, number]> {
  if (hi < SLASH || lo > SLASH) return [[lo, hi]];
  const parts: Array<[number, number]> = [];
  if (lo < SLASH) parts.push([lo, SLASH - 1]);
  if (hi > SLASH) parts.push([SLASH + 1, hi]);
  return parts;
}

/** The NFA of one brace-free pattern, extended to cover everything below a folder it names. */
function compile(pattern: string): Nfa {
  const b = new NfaBuilder();
  const start = b.state();
  let current = start;
  const segments = pattern.split("/");
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === "**") {
      if (last) {
        // Trailing `**`: any path below (path segments are never empty).
        const below = b.state();
        b.edge(current, NOT_SLASH, below);
        b.edge(below, ANY, below);
        current = below;
        return;
      }
      // `**/` in front of more segments: zero or more whole segments.
      const inside = b.state();
      const next = b.state();
      b.skip(current, next);
      b.edge(current, NOT_SLASH, inside);
      b.edge(inside, ANY, inside);
      b.edge(inside, literal(SLASH), next);
      current = next;
      return;
    }
    if (/^\*+$/.test(segment)) {
      // A lone `*` is one whole, non-empty segment.
      const next = b.state();
      b.edge(current, NOT_SLASH, next);
      b.edge(next, NOT_SLASH, next);
      current = next;
    } else
      for (let i = 0; i < segment.length; ) {
        const ch = segment[i]!;
        if (ch === "*") {
          while (segment[i] === "*") i++;
          b.edge(current, NOT_SLASH, current);
          continue;
        }
        let set: CharSet;
        if (ch === "?") {
          set = NOT_SLASH;
          i++;
        } else if (ch === "[") {
          const parsed = parseClass(segment, i);
          if (parsed) {
            set = parsed.set;
            i = parsed.end;
          } else {
            set = literal(0x5b);
            i++;
          }
        } else {
          if (ch === "\\" && i + 1 < segment.length) i++;
          const code = segment.codePointAt(i)!;
          set = literal(code);
          i += code > 0xffff ? 2 : 1;
        }
        const next = b.state();
        b.edge(current, set, next);
        current = next;
      }
    if (!last) {
      const next = b.state();
      b.edge(current, literal(SLASH), next);
      current = next;
    }
  });
  // Owning a folder owns what lies below it. A last segment like `*.ts` names files, not folders.
  const lastSegment = segments[segments.length - 1]!;
  const accepting = new Set([current]);
  if (lastSegment === "*" || lastSegment === "**" || !WILDCARD.test(lastSegment)) {
    const below = b.state();
    b.edge(current, literal(SLASH), below);
    b.edge(below, ANY, below);
    accepting.add(below);
  }
  return { edges: b.edges, epsilon: b.epsilon, start, accepting };
}

function closure(nfa: Nfa, states: number[]): number[] {
  const seen = new Set(states);
  const stack = [...states];
  while (stack.length) {
    for (const to of nfa.epsilon[stack.pop()!]!)
      if (!seen.has(to)) {
        seen.add(to);
        stack.push(to);
      }
  }
  return [...seen];
}

/** The shortest path covered by both NFAs, or undefined when their languages are disjoint. */
function intersect(a: Nfa, b: Nfa): string | undefined {
  const key = (x: number, y: number) => x * 65536 + y;
  const parent = new Map<number, { from: number; char: number } | null>();
  const queue: Array<[number, number]> = [];
  for (const x of closure(a, [a.start]))
    for (const y of closure(b, [b.start])) {
      if (!parent.has(key(x, y))) {
        parent.set(key(x, y), null);
        queue.push([x, y]);
      }
    }
  for (let head = 0; head < queue.length; head++) {
    const [x, y] = queue[head]!;
    if (a.accepting.has(x) && b.accepting.has(y)) {
      let chars: number[] = [];
      for (let k: number | undefined = key(x, y); k !== undefined; ) {
        const step = parent.get(k);
        if (!step) break;
        chars.push(step.char);
        k = step.from;
      }
      chars = chars.reverse();
      // The empty path is the repository root itself: only `.`/`**` can own it; show a file.
      return chars.length ? String.fromCodePoint(...chars) : ".";
    }
    for (const ea of a.edges[x]!)
      for (const eb of b.edges[y]!) {
        const char = commonChar(ea.on, eb.on);
        if (char === undefined) continue;
        for (const nx of closure(a, [ea.to]))
          for (const ny of closure(b, [eb.to])) {
            const k = key(nx, ny);
            if (!parent.has(k)) {
              parent.set(k, { from: key(x, y), char });
              queue.push([nx, ny]);
            }
          }
      }
  }
  return undefined;
}

/** Whether a witness has a name that starts or ends with '.', like `src/.spec.ts` or `lib/a.test.`. */
function hasOddName(path: string): boolean {
  return path !== "." && path.split("/").some((name) => name.startsWith(".") || name.endsWith("."));
}

/** Where a path being built stands: at the start of a name, just after a '.', or elsewhere. */
enum Prev {
  nameStart,
  dot,
  other,
}

/**
 * A path covered by both NFAs that reads like a real one: the fewest names starting or ending
 * with '.' (`src/x.spec.ts` rather than `src/.spec.ts`, where a `*` matched nothing), then the
 * shortest. A Dijkstra search over the product automaton whose states also know what came just
 * before. Only called once `intersect` found that the languages meet.
 */
function readableIntersect(a: Nfa, b: Nfa): string | undefined {
  interface Entry {
    x: number;
    y: number;
    prev: Prev;
    odd: number;
    length: number;
    from: number;
    char: number;
    final: boolean;
  }
  const key = (x: number, y: number, prev: Prev) => (x * 65536 + y) * 3 + prev;
  const entries: Entry[] = [];
  const queue = new Heap((i, j) => entries[i]!.odd - entries[j]!.odd || entries[i]!.length - entries[j]!.length || i - j);
  const settled = new Map<number, { from: number; char: number }>();
  const push = (entry: Entry) => {
    if (!entry.final && settled.has(key(entry.x, entry.y, entry.prev))) return;
    entries.push(entry);
    queue.push(entries.length - 1);
  };
  const pathTo = (k: number) => {
    const chars: number[] = [];
    for (let step = settled.get(k)!; step.from !== -1; step = settled.get(step.from)!) chars.push(step.char);
    return chars.length ? String.fromCodePoint(...chars.reverse()) : ".";
  };
  for (const x of closure(a, [a.start]))
    for (const y of closure(b, [b.start])) {
      push({ x, y, prev: Prev.nameStart, odd: 0, length: 0, from: -1, char: 0, final: false });
    }
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    const e = entries[next]!;
    if (e.final) return pathTo(e.from);
    const k = key(e.x, e.y, e.prev);
    if (settled.has(k)) continue;
    settled.set(k, { from: e.from, char: e.char });
    if (a.accepting.has(e.x) && b.accepting.has(e.y)) {
      // Ending here ends the last name: after a '.', that costs like any odd name.
      push({ ...e, odd: e.odd + (e.prev === Prev.dot ? 1 : 0), from: k, final: true });
    }
    for (const ea of a.edges[e.x]!)
      for (const eb of b.edges[e.y]!) {
        const char = commonChar(ea.on, eb.on);
        if (char === undefined) continue;
        const oddName = (char === DOT && e.prev === Prev.nameStart) || (char === SLASH && e.prev === Prev.dot);
        const prev = char === SLASH ? Prev.nameStart : char === DOT ? Prev.dot : Prev.other;
        for (const nx of closure(a, [ea.to]))
          for (const ny of closure(b, [eb.to])) {
            push({ x: nx, y: ny, prev, odd: e.odd + (oddName ? 1 : 0), length: e.length + 1, from: k, char, final: false });
          }
      }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Patterns

export interface OwnedPattern {
  /** As the plan wrote it. */
  raw: string;
  /** The brace-free alternatives, normalized. */
  alternatives: string[];
  /** The longest plain-text start every alternative shares (the part before any wildcard). */
  fixedPrefix: string;
  isPlain: boolean;
}

const WILDCARD = /[*?[\\]/;

export function ownedPattern(raw: string): OwnedPattern {
  const normalized = normalizeOwnedPath(raw);
  const alternatives = normalized === "." ? ["**"] : braceAlternatives(normalized).map(normalizeOwnedPath);
  const prefixes = alternatives.map((alt) => {
    const w = alt.search(WILDCARD);
    return w < 0 ? alt : alt.slice(0, w);
  });
  let fixedPrefix = prefixes[0]!;
  for (const p of prefixes) while (!p.startsWith(fixedPrefix)) fixedPrefix = fixedPrefix.slice(0, -1);
  const isPlain = alternatives.length === 1 && !WILDCARD.test(alternatives[0]!);
  return { raw, alternatives, fixedPrefix, isPlain };
}

const compiled = new Map<string, Nfa>();
function nfaOf(alternative: string): Nfa {
  let nfa = compiled.get(alternative);
  if (!nfa) {
    nfa = compile(alternative);
    compiled.set(alternative, nfa);
  }
  return nfa;
}

/** A path both patterns cover, or undefined if they are disjoint. */
export function overlapWitness(a: OwnedPattern, b: OwnedPattern): string | undefined {
  if (a.isPlain && b.isPlain) {
    const [x, y] = [a.alternatives[0]!, b.alternatives[0]!];
    if (x === y || y.startsWith(x + "/")) return y;
    if (x.startsWith(y + "/")) return x;
    return undefined;
  }
  // Every path a pattern covers starts with its fixed prefix: prefixes that diverge cannot meet.
  if (!a.fixedPrefix.startsWith(b.fixedPrefix) && !b.fixedPrefix.startsWith(a.fixedPrefix)) return undefined;
  for (const x of a.alternatives)
    for (const y of b.alternatives) {
      const witness = intersect(nfaOf(x), nfaOf(y));
      // The shortest path may come from a `*` that matched nothing; show one that reads like a file.
      if (witness !== undefined) return hasOddName(witness) ? (readableIntersect(nfaOf(x), nfaOf(y)) ?? witness) : witness;
    }
  return undefined;
}

/** Whether `path` (a file path relative to the repository root) is covered by the owned pattern. */
export function covers(pattern: OwnedPattern, path: string): boolean {
  const target = foldPath(path);
  return pattern.alternatives.some((alt) => accepts(nfaOf(alt), target));
}

function accepts(nfa: Nfa, text: string): boolean {
  let states = closure(nfa, [nfa.start]);
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    const next: number[] = [];
    for (const s of states) for (const e of nfa.edges[s]!) if (contains(e.on, code)) next.push(e.to);
    if (next.length === 0) return false;
    states = closure(nfa, next);
  }
  return states.some((s) => nfa.accepting.has(s));
}

interface Overlap<T> {
  a: T;
  b: T;
  aPattern: string;
  bPattern: string;
  /** A path both may change. */
  example: string;
}

/**
 * Every pair of owners whose patterns overlap (first overlapping pattern pair per owner pair).
 * Candidate pairs are found through fixed prefixes, so owners of unrelated folders cost nothing.
 */
export function findOverlaps<T>(owners: Array<{ owner: T; patterns: string[] }>): Array<Overlap<T>> {
  const entries: Array<{ ownerIndex: number; pattern: OwnedPattern }> = [];
  owners.forEach((o, ownerIndex) => {
    for (const raw of o.patterns) entries.push({ ownerIndex, pattern: ownedPattern(raw) });
  });
  const byPrefix = new Map<string, number[]>();
  entries.forEach((e, i) => {
    const list = byPrefix.get(e.pattern.fixedPrefix);
    if (list) list.push(i);
    else byPrefix.set(e.pattern.fixedPrefix, [i]);
  });
  const found = new Map<string, Overlap<T>>();
  entries.forEach((e, i) => {
    const prefix = e.pattern.fixedPrefix;
    for (let len = 0; len <= prefix.length; len++) {
      const others = byPrefix.get(prefix.slice(0, len));
      if (!others) continue;
      for (const j of others) {
        const other = entries[j]!;
        if (other.ownerIndex === e.ownerIndex) continue;
        if (len === prefix.length && j < i) continue; // equal prefixes: visit the pair once
        const [lo, hi] = e.ownerIndex < other.ownerIndex ? [e, other] : [other, e];
        const pairKey = `${lo.ownerIndex}:${hi.ownerIndex}`;
        if (found.has(pairKey)) continue;
        const example = overlapWitness(lo.pattern, hi.pattern);
        if (example !== undefined) {
          found.set(pairKey, {
            a: owners[lo.ownerIndex]!.owner,
            b: owners[hi.ownerIndex]!.owner,
            aPattern: lo.pattern.raw,
            bPattern: hi.pattern.raw,
            example,
          });
        }
      }
    }
  });
  return [...found.values()];
}
