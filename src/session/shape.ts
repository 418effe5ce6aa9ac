/**
 * Checks of parsed JSON for the hooks' two files (the task manifest, the session ledger). zod
 * checks everything else; the hooks run on every event of every task session, and loading zod
 * alone would cost them a tenth of a Node start. Declarative like a zod schema, and the types come
 * from the shapes. A check only tells whether a value has the shape; it changes nothing.
 */

interface Check<T> {
  (value: unknown): boolean;
  /** Carries T for Infer; never set. */
  readonly _type?: T;
}
interface OptionalCheck<T> extends Check<T | undefined> {
  readonly optional: true;
}

export type Infer<C> = C extends Check<infer T> ? T : never;
type Shape = Record<string, Check<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalCheck<unknown> ? K : never }[keyof S];
type Flat<T> = { [K in keyof T]: T[K] };
type ObjectOf<S extends Shape> = Flat<{ [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }>;

const check = <T>(test: (value: unknown) => boolean): Check<T> => test as Check<T>;

export const string = (test: (s: string) => boolean = () => true) => check<string>((v) => typeof v === "string" && test(v));
export const boolean = () => check<boolean>((v) => typeof v === "boolean");
export const number = () => check<number>((v) => typeof v === "number" && Number.isFinite(v));
/** A whole number (a safe integer) from `min` to `max`. */
export const int = (min = -Number.MAX_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER) => check<number>((v) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max);
export const literal = <const T extends string | number>(value: T) => check<T>((v) => v === value);
export const oneOf = <const T extends string>(values: readonly T[]) => check<T>((v) => (values as readonly unknown[]).includes(v));
export const array = <T>(item: Check<T>) => check<T[]>((v) => Array.isArray(v) && v.every((x) => item(x)));

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
export const record = <T>(item: Check<T>) => check<Record<string, T>>((v) => isObject(v) && Object.values(v).every((x) => item(x)));

export function optional<T>(inner: Check<T>): OptionalCheck<T> {
  return Object.assign((v: unknown) => v === undefined || inner(v), { optional: true as const }) as OptionalCheck<T>;
}

/** An object with these fields (other fields are let be). */
export function object<S extends Shape>(shape: S): Check<ObjectOf<S>> {
  const fields = Object.entries(shape);
  return check((v) => isObject(v) && fields.every(([key, field]) => field(Object.hasOwn(v, key) ? v[key] : undefined)));
}

/** The JSON in `text` when it has `shape`, else undefined. */
export function parseAs<T>(shape: Check<T>, text: string): T | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return shape(value) ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}
