import { diagnostic, USERS_FILE, type Diagnostic, type UsersConfig } from "../../../generator/src";

export interface OwnershipOptions {
  /** Where `users` was read, for the messages: "the default branch main". */
  readonly source?: string;
  /** How the person relates to the change, when not as its author: "who pushed". */
  readonly role?: string;
  /**
   * True when users.yaml is invalid and `users` holds only the admins salvaged from it (salvageAdmins): they
   * keep their rights, everyone else has none until the file is fixed.
   */
  readonly broken?: boolean;
}

/**
 * Who may change what, default-deny. An author may change only `models/<user>/` and
 * `clusters/<cluster>/rendered/<user>/` of users whose GitHub logins include theirs; everything else needs an
 * admin. `users` MUST come from the repository's default branch: judged from the head, a PR could grant
 * itself rights, and judged from whatever base it names, a PR into a branch its author controls could.
 */
export function checkOwnership(
  author: string,
  changed: readonly string[],
  users: UsersConfig | undefined,
  options: OwnershipOptions = {},
): Diagnostic[] {
  const source = options.source ?? "the base branch";
  const who = `@${author}${options.role ? ` (${options.role})` : ""}`;
  const login = author.toLowerCase(); // GitHub logins are case-insensitive
  if (users?.admins.some((a) => a.toLowerCase() === login)) return [];
  const own = new Set<string>();
  for (const [id, entry] of users?.users ?? []) {
    if (entry.github.some((g) => g.toLowerCase() === login)) own.add(id);
  }
  const needs = !users
    ? `No one is entitled until it is fixed: an admin must fix ${USERS_FILE} on ${source} bypassing branch protection (a repository administrator merging the fix without the required check).`
    : users.admins.length > 0
      ? `This change needs an admin (${users.admins.map((a) => `@${a}`).join(", ")}).`
      : `This change needs an admin, and ${USERS_FILE} on ${source} lists none.`;
  const yours =
    own.size > 0
      ? [...own]
          .sort()
          .map((id) => `models/${id}/ and clusters/*/rendered/${id}/`)
          .join(", ")
      : undefined;
  const out: Diagnostic[] = [];
  for (const path of changed) {
    const folder = userFolderOf(path);
    if (folder !== undefined && own.has(folder)) continue;
    let why: string;
    if (!users)
      why = `${USERS_FILE} on ${source} is missing or invalid, its admins list too, so no one's rights can be established`;
    else if (options.broken)
      why = `${USERS_FILE} on ${source} is invalid: until it is fixed only its admins keep their rights, for every path`;
    else if (folder !== undefined && users.users.has(folder)) why = `${path} is in user ${folder}'s folder`;
    else if (folder !== undefined) why = `${folder} is not a user in ${USERS_FILE} on ${source}`;
    else why = `${path} is an admin path`;
    const may = options.broken
      ? `${who} is not one of them`
      : yours
        ? `${who} may change only ${yours}`
        : `${who} is not listed in ${USERS_FILE} on ${source}`;
    out.push(diagnostic("ownership", path, { line: 1, column: 1 }, `${why}; ${may}. ${needs}`));
  }
  return out;
}

/**
 * May this person re-render this path? An admin any, a user their own folders' (the same test
 * checkOwnership applies, as a predicate).
 */
export function mayChange(login: string, users: UsersConfig | undefined): (path: string) => boolean {
  const key = login.toLowerCase();
  if (!users) return () => false;
  if (users.admins.some((a) => a.toLowerCase() === key)) return () => true;
  const own = new Set<string>();
  for (const [id, entry] of users.users) if (entry.github.some((g) => g.toLowerCase() === key)) own.add(id);
  return (path) => {
    const folder = userFolderOf(path);
    return folder !== undefined && own.has(folder);
  };
}

/** The user id a path belongs to, when it is inside a user's folder. */
export function userFolderOf(path: string): string | undefined {
  const parts = path.split("/");
  if (parts[0] === "models" && parts.length >= 3) return parts[1];
  if (parts[0] === "clusters" && parts[2] === "rendered" && parts.length >= 5) return parts[3];
  return undefined;
}
