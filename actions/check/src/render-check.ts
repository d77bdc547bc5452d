/** What the author runs to bring the committed render up to date; printed verbatim in every failure. */
export const RENDER_COMMAND =
  "npx serve-gitops render && git add -A clusters && git commit -m 'Render serving specs' && git push";

/** Where a model's fragments are restored from when a change renamed it, in push mode (a PR names its base ref). */
export const RESTORE_FROM = "origin/HEAD";

/** Added to staleness a merge-queue group causes: nobody can push to the group's branch. */
export const QUEUE_RENDER_NOTE =
  " In a merge queue nobody can push to the group's branch: remove the pull request from the queue, merge the base branch into its branch, run the command there, and queue it again.";
