// The part of js-yaml 4's API that src/core/plan/fast-yaml.ts uses (the package ships no types).
declare module "js-yaml" {
  export class Type {
    constructor(tag: string, options: { kind: "scalar"; resolve: (data: string | null) => boolean; construct: (data: string | null) => unknown; predicate?: (value: unknown) => boolean });
  }
  export class Schema {
    extend(types: { implicit?: Type[]; explicit?: Type[] }): Schema;
  }
  export const FAILSAFE_SCHEMA: Schema;
  export interface LoadState {
    anchorMap: Record<string, unknown>;
  }
  export function load(text: string, options?: { schema?: Schema; json?: boolean; listener?: (event: "open" | "close", state: LoadState) => void }): unknown;
}
