import { stringify } from "yaml";

/** The text of a frozen plan: what `start` writes once and every later command reads. */
export const frozenPlanText = (frozen: object): string => `# Frozen by claude-parallel when the feature started; the phases follow this copy.\n${stringify(frozen)}`;
