// Which commit changed which model: the first-parent history from the last commit Ray took up to the new
// head (bounded by their merge base after a force-push, and by a count), read once per new head.
import { fragmentPath } from "../../../generator/src/index";
import type { ModelChange } from "../model/compare";
import { safeError } from "../errors";
import type { Logger } from "../log";
import type { DesiredStateSource } from "../ports";

export const MAX_HISTORY = 100;

/**
 * The models whose fragment the head commit itself changed (its first-parent diff): what the agent before would
 * have attributed to it. A successor (an agent without a record) has no range to attribute in, and watches the
 * head's other models only to resolve their statuses: they are not the commit's outcome. None when git cannot
 * read the history (logged): the PR comment then lists no models rather than the wrong ones.
 */
export async function ownChanges(
  source: DesiredStateSource,
  cluster: string,
  head: string,
  keys: readonly string[],
  log: Logger,
): Promise<Set<string>> {
  let latest;
  try {
    [latest] = await source.history(head, undefined, `clusters/${cluster}/rendered/`, 1);
  } catch (error) {
    log.warn({ err: safeError(error) }, "cannot read the history; the PR comment lists no models");
    return new Set();
  }
  if (latest?.sha !== head) return new Set();
  const paths = new Set(latest.paths);
  return new Set(
    keys.filter((key) => {
      const [user, suffix] = key.split("/");
      return user && suffix && paths.has(fragmentPath(cluster, user, suffix));
    }),
  );
}

/** key -> the commits that touched the model's fragment, newest first. Unknown keys are left to the head. */
export async function attribute(
  source: DesiredStateSource,
  cluster: string,
  head: string,
  from: string | undefined,
  changes: readonly ModelChange[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (!from || changes.length === 0) return out;
  const commits = await source.history(head, from, `clusters/${cluster}/rendered/`, MAX_HISTORY);
  const byPath = new Map<string, string[]>();
  for (const commit of commits) {
    for (const path of commit.paths) byPath.set(path, [...(byPath.get(path) ?? []), commit.sha]);
  }
  for (const change of changes) {
    const [user, suffix] = change.key.split("/");
    if (!user || !suffix) continue;
    const shas = byPath.get(fragmentPath(cluster, user, suffix));
    if (shas) out.set(change.key, shas);
  }
  return out;
}
