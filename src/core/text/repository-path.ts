/** The longest path, in characters, a finding or a comment may name. */
export const REPOSITORY_PATH_MAX = 1024;

/**
 * A path inside the repository as someone outside our code wrote it (a reviewer's finding, a pull
 * request's comment): relative, no `.` or `..` part, no empty part, no control character, bounded.
 */
export function repositoryPath(path: string): boolean {
  if (!path || path.length > REPOSITORY_PATH_MAX || path.startsWith("/") || /[\x00-\x1f\x7f]/.test(path)) return false;
  return path.split("/").every((part) => part !== "" && part !== "." && part !== "..");
}
