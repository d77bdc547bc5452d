// Where a path sits in the repository layout: shared by validation, rendering and the PR check.
import { USERS_FILE } from "./validate-config";

const SPEC_FILE = /^(.+)\.(yaml|yml)$/;

export interface SpecLocation {
  readonly user: string;
  readonly suffix: string;
}

/** Where a path sits in the repository layout. */
export type PathRole =
  | { role: "users" }
  | { role: "spec"; user: string; suffix: string }
  | { role: "cluster"; cluster: string }
  | { role: "rendered"; cluster: string; user?: string; suffix?: string }
  | { role: "cluster-file"; cluster: string }
  | { role: "misplaced"; reason: string }
  | { role: "other" };

/** Roles of paths already seen: validation, timestampsOf and diffRendered each ask for every path. */
const roles = new Map<string, Readonly<PathRole>>();
const MAX_REMEMBERED_ROLES = 100_000;

export function classifyPath(path: string): Readonly<PathRole> {
  let role = roles.get(path);
  if (role === undefined) {
    // A long-lived agent sees the paths of many commits: forget them all now and then rather than grow.
    if (roles.size >= MAX_REMEMBERED_ROLES) roles.clear();
    role = Object.freeze(roleOf(path));
    roles.set(path, role);
  }
  return role;
}

function roleOf(path: string): PathRole {
  const parts = path.split("/");
  if (parts[0] === "models") {
    if (path === USERS_FILE) return { role: "users" };
    if (parts.length === 1) return { role: "misplaced", reason: "models is a file; it must be a folder" };
    if (parts.length === 2)
      return {
        role: "misplaced",
        reason: "specs live at models/<user_id>/<model_id>.yaml, not directly under models/",
      };
    if (parts.length > 3)
      return {
        role: "misplaced",
        reason: "specs live exactly at models/<user_id>/<model_id>.yaml: no nested folders",
      };
    const file = parts[2]!;
    if (file === ".gitkeep") return { role: "other" };
    const match = SPEC_FILE.exec(file);
    if (!match)
      return {
        role: "misplaced",
        reason: "only ServingSpec files (.yaml or .yml) belong in a user's folder",
      };
    return { role: "spec", user: parts[1]!, suffix: match[1]! };
  }
  if (parts[0] === "clusters" && parts.length >= 3) {
    const cluster = parts[1]!;
    if (parts.length === 3 && parts[2] === "cluster.yaml") return { role: "cluster", cluster };
    if (parts[2] === "rendered") {
      const m = parts.length === 5 ? SPEC_FILE.exec(parts[4]!) : null;
      return m && parts[4]!.endsWith(".yaml")
        ? { role: "rendered", cluster, user: parts[3]!, suffix: m[1]! }
        : { role: "rendered", cluster };
    }
    return { role: "cluster-file", cluster };
  }
  return { role: "other" };
}
