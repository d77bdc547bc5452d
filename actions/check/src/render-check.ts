/** What the author runs to bring the committed render up to date; printed verbatim in every failure. */
export const RENDER_COMMAND =
  "npx serve-gitops render && git add -A clusters && git commit -m 'Render serving specs' && git push";

/** Where a model's fragments are restored from when a change renamed it, in push mode (a PR names its base ref). */
export const RESTORE_FROM = "origin/HEAD";
