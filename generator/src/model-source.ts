import type { RuleId } from "./rules";

/** Macros a model owner may start model_source with, longest first (a macro must end at "/" or the end). */
const MACROS: ReadonlyArray<readonly [string, (user: string) => string]> = [
  ["$HOME/common/datasets", () => "/private/datasets"],
  ["$HOME/common/hf", () => "/private/hf"],
  ["$HOME", (user) => `/private/users/${user}`],
];

export const DATASETS_ROOT = "/private/datasets";

export interface SourceRoots {
  readonly shared: readonly string[];
  /** With "{user}" in it, e.g. "/private/users/{user}". */
  readonly user: string;
}

export type SourceCheck =
  { ok: true; resolved: string; kind: "path" | "hub" } | { ok: false; rule: RuleId; message: string };

export function expandMacros(source: string, user: string): string {
  for (const [macro, expand] of MACROS) {
    if (source === macro || source.startsWith(`${macro}/`)) return expand(user) + source.slice(macro.length);
  }
  return source;
}

const HUB_REPO = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}\/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$/;
const URL_LIKE = /^[A-Za-z][A-Za-z0-9+.-]*:/;
// Control characters, including C1 and the Unicode line/paragraph separators.
// eslint-disable-next-line no-control-regex -- matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// Invisible characters (format characters such as zero-width and bidi overrides, a BOM inside, and the rest of
// Unicode's Default_Ignorable_Code_Point: variation selectors, Hangul fillers, ...): a reviewer would read
// another path than the one used.
const INVISIBLE =
  // eslint-disable-next-line no-misleading-character-class -- each combining character is matched on its own, on purpose
  /[\p{Cf}\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\u{e0000}-\u{e0fff}]/u;
// A segment that starts or ends with white space ("/private/hf/a ") is nearly always a typo that points nowhere.
const PADDED_SEGMENT = /(?:^|\/)\s|\s(?:\/|$)/;

/**
 * Resolve and check a model_source for one user on one cluster. Paths must stay inside the cluster's
 * roots: the shared model root(s) or the user's own folder, never another user's.
 */
export function checkModelSource(
  source: string,
  user: string,
  roots: SourceRoots,
  allowHub: boolean,
): SourceCheck {
  const refuse = (rule: RuleId, message: string): SourceCheck => ({ ok: false, rule, message });
  if (source.trim() === "") return refuse("invalid-value", "model_source is empty");
  if (CONTROL.test(source))
    return refuse("model-source-traversal", "model_source contains control characters");
  const invisible = INVISIBLE.exec(source);
  if (invisible)
    return refuse(
      "model-source-traversal",
      `model_source contains an invisible formatting character (U+${invisible[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}): the path a reviewer reads would not be the path used`,
    );
  if (PADDED_SEGMENT.test(source))
    return refuse(
      "invalid-value",
      `model_source has white space at the start or end of a segment: "${clip(source)}"`,
    );
  // Before the relative/hub branch: "$HOME\..\bob" is a traversal attempt, not a relative path.
  if (source.includes("\\") || decodePercent(source).includes("\\"))
    return refuse("model-source-traversal", "model_source contains a backslash");
  if (URL_LIKE.test(source)) {
    return refuse(
      "model-source-url",
      `model_source must be a path or a Hugging Face repo id, not a URL ("${clip(source)}")`,
    );
  }
  const resolved = expandMacros(source, user);
  if (!resolved.startsWith("/")) {
    if (HUB_REPO.test(resolved) && !resolved.includes("..")) {
      return allowHub
        ? { ok: true, resolved, kind: "hub" }
        : refuse(
            "model-source-hub-not-allowed",
            `"${clip(resolved)}" looks like a Hugging Face repo id, but this cluster does not allow hub sources: use a path under ${[...roots.shared, roots.user.replace("{user}", user)].join(" or ")}`,
          );
    }
    return refuse(
      "model-source-outside-roots",
      allowHub
        ? `model_source must be an absolute path, start with $HOME, or be a Hugging Face repo id org/name (got "${clip(source)}")`
        : `model_source must be an absolute path or start with $HOME (got "${clip(source)}")`,
    );
  }
  const decoded = decodePercent(resolved);
  const segments = decoded.split("/").slice(1);
  if (segments.some((s) => s === "." || s === "..")) {
    return refuse(
      "model-source-traversal",
      `model_source may not contain "." or ".." segments (also percent-encoded): "${clip(source)}"`,
    );
  }
  if (segments.some((s) => s === "") || decoded !== resolved) {
    return refuse(
      "model-source-traversal",
      decoded !== resolved
        ? `model_source may not contain percent-encoded characters: "${clip(source)}"`
        : `model_source may not contain empty segments ("//" or a trailing "/"): "${clip(source)}"`,
    );
  }
  const ownRoot = roots.user.replace("{user}", user);
  const inside = (root: string) => resolved.startsWith(`${root}/`);
  if (inside(ownRoot) || roots.shared.some(inside)) return { ok: true, resolved, kind: "path" };

  const otherUser = roots.user.split("{user}");
  const [before = "", after = ""] = otherUser;
  if (resolved.startsWith(before)) {
    const rest = resolved.slice(before.length);
    const name = rest.split("/")[0] ?? "";
    if (name !== user && (after === "" || rest.slice(name.length).startsWith(after))) {
      return refuse(
        "model-source-other-user",
        `model_source points into another user's folder (${before}${name}): use ${ownRoot}/... or a shared root`,
      );
    }
  }
  const allowed = [...roots.shared, ownRoot].map((r) => `${r}/`).join(", ");
  if (resolved === DATASETS_ROOT || resolved.startsWith(`${DATASETS_ROOT}/`)) {
    return refuse(
      "model-source-outside-roots",
      `${DATASETS_ROOT} holds datasets, which is not a model root: put the model under ${allowed}`,
    );
  }
  if ([...roots.shared, ownRoot].includes(resolved)) {
    return refuse(
      "model-source-outside-roots",
      `model_source "${clip(resolved)}" is a root itself, not a model folder: name the model's folder under it (e.g. ${resolved}/<model>)`,
    );
  }
  return refuse(
    "model-source-outside-roots",
    `model_source "${clip(resolved)}" is outside the allowed roots ${allowed}`,
  );
}

function decodePercent(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
