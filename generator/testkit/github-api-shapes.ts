/**
 * Object builders and error bodies of the GitHub REST API test server. Key sets follow
 * @octokit/fixtures (create-status) and @octokit/webhooks-examples (issue_comment); error texts follow
 * what github.com answers (quoted in github-api-server.test.ts).
 */
import type { GitHubUser } from "./github-api-types";

export const HTML_BASE = "https://github.com";

export const DOCS = {
  root: "https://docs.github.com/rest",
  createStatus: "https://docs.github.com/rest/commits/statuses#create-a-commit-status",
  combinedStatus:
    "https://docs.github.com/rest/commits/statuses#get-the-combined-status-for-a-specific-reference",
  listStatuses: "https://docs.github.com/rest/commits/statuses#list-commit-statuses-for-a-reference",
  commitPulls: "https://docs.github.com/rest/commits/commits#list-pull-requests-associated-with-a-commit",
  listComments: "https://docs.github.com/rest/issues/comments#list-issue-comments",
  createComment: "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
  updateComment: "https://docs.github.com/rest/issues/comments#update-an-issue-comment",
  getPull: "https://docs.github.com/rest/pulls/pulls#get-a-pull-request",
  listPullCommits: "https://docs.github.com/rest/pulls/pulls#list-commits-on-a-pull-request",
  listWorkflowRuns: "https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-repository",
  listIssueEvents: "https://docs.github.com/rest/issues/events#list-issue-events",
  listActivities: "https://docs.github.com/rest/repos/repos#list-repository-activities",
  getAuthenticatedUser: "https://docs.github.com/rest/users/users#get-the-authenticated-user",
  primaryRateLimit: "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
  secondaryRateLimit:
    "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
} as const;

/** GitHub's statuses limits. */
export const STATUS_DESCRIPTION_MAX = 140;
export const STATUSES_PER_SHA_AND_CONTEXT = 1000;
/** The limit GitHub's comment error message names (characters) ... */
export const COMMENT_BODY_MAX_CHARS = 65536;
/** ... and the one github.com enforces (UTF-8 bytes, 4 x 65536). */
export const COMMENT_BODY_MAX_BYTES = 262144;

export const MESSAGES = {
  badCredentials: "Bad credentials",
  notAccessible: "Resource not accessible by integration",
  notFound: "Not Found",
  validationFailed: "Validation Failed",
  descriptionTooLong: `description is too long (maximum is ${STATUS_DESCRIPTION_MAX} characters)`,
  descriptionFourByte: "description doesn't accept 4-byte Unicode",
  tooManyStatuses: "This SHA and context has reached the maximum number of statuses.",
  commentTooLong: `Body is too long (maximum is ${COMMENT_BODY_MAX_CHARS} characters)`,
  commentBlank: "Body cannot be blank",
  problemsParsingJson: "Problems parsing JSON",
  bodyNotObject: "Body should be a JSON object",
} as const;

/** "You have exceeded a secondary rate limit..." — plugin-throttling recognises it with /\bsecondary rate\b/i. */
export function secondaryRateLimitMessage(requestId: string): string {
  return (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. " +
    `If you reach out to GitHub Support for help, please include the request ID ${requestId}.`
  );
}

export function primaryRateLimitMessage(userId: number, requestId: string, now: Date): string {
  const timestamp = now
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d{3}Z$/, " UTC");
  return (
    `API rate limit exceeded for user ID ${userId}. If you reach out to GitHub Support for help, ` +
    `please include the request ID ${requestId} and timestamp ${timestamp}.`
  );
}

export interface ErrorBody {
  message: string;
  errors?: Record<string, string>[];
  documentation_url: string;
  status: string;
}

export function errorBody(status: number, message: string, documentationUrl: string): ErrorBody {
  return { message, documentation_url: documentationUrl, status: String(status) };
}

export function validationFailed(errors: Record<string, string>[], documentationUrl: string): ErrorBody {
  return { message: MESSAGES.validationFailed, errors, documentation_url: documentationUrl, status: "422" };
}

export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function nodeId(kind: string, id: number): string {
  return Buffer.from(`0${String(kind.length).padStart(2, "0")}:${kind}${id}`).toString("base64");
}

/** A stable numeric id for a login (GitHub user ids are positive integers). */
export function userIdFor(login: string): number {
  let hash = 7;
  for (const ch of login) hash = (hash * 31 + (ch.codePointAt(0) ?? 0)) % 90_000_000;
  return 10_000_000 + hash;
}

export function userObject(
  apiBase: string,
  login: string,
  id: number,
  type?: GitHubUser["type"],
): GitHubUser {
  const api = `${apiBase}/users/${encodeURIComponent(login)}`;
  return {
    login,
    id,
    node_id: nodeId(type === "Organization" ? "Organization" : "User", id),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: "",
    url: api,
    html_url: `${HTML_BASE}/${login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: type ?? (login.endsWith("[bot]") ? "Bot" : "User"),
    site_admin: false,
  };
}

/** GET /user's answer to a user's own token: GitHub's private-user schema (its required keys). */
export function privateUserObject(apiBase: string, login: string, id: number): Record<string, unknown> {
  return {
    ...userObject(apiBase, login, id, "User"),
    name: null,
    company: null,
    blog: "",
    location: null,
    email: null,
    hireable: null,
    bio: null,
    twitter_username: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: "2020-01-01T00:00:00Z",
    updated_at: "2020-01-01T00:00:00Z",
    private_gists: 0,
    total_private_repos: 0,
    owned_private_repos: 0,
    disk_usage: 0,
    collaborators: 0,
    two_factor_authentication: true,
  };
}

const REPO_URL_SUFFIXES: readonly (readonly [string, string])[] = [
  ["forks_url", "/forks"],
  ["keys_url", "/keys{/key_id}"],
  ["collaborators_url", "/collaborators{/collaborator}"],
  ["teams_url", "/teams"],
  ["hooks_url", "/hooks"],
  ["issue_events_url", "/issues/events{/number}"],
  ["events_url", "/events"],
  ["assignees_url", "/assignees{/user}"],
  ["branches_url", "/branches{/branch}"],
  ["tags_url", "/tags"],
  ["blobs_url", "/git/blobs{/sha}"],
  ["git_tags_url", "/git/tags{/sha}"],
  ["git_refs_url", "/git/refs{/sha}"],
  ["trees_url", "/git/trees{/sha}"],
  ["statuses_url", "/statuses/{sha}"],
  ["languages_url", "/languages"],
  ["stargazers_url", "/stargazers"],
  ["contributors_url", "/contributors"],
  ["subscribers_url", "/subscribers"],
  ["subscription_url", "/subscription"],
  ["commits_url", "/commits{/sha}"],
  ["git_commits_url", "/git/commits{/sha}"],
  ["comments_url", "/comments{/number}"],
  ["issue_comment_url", "/issues/comments{/number}"],
  ["contents_url", "/contents/{+path}"],
  ["compare_url", "/compare/{base}...{head}"],
  ["merges_url", "/merges"],
  ["archive_url", "/{archive_format}{/ref}"],
  ["downloads_url", "/downloads"],
  ["issues_url", "/issues{/number}"],
  ["pulls_url", "/pulls{/number}"],
  ["milestones_url", "/milestones{/number}"],
  ["notifications_url", "/notifications{?since,all,participating}"],
  ["labels_url", "/labels{/name}"],
  ["releases_url", "/releases{/id}"],
  ["deployments_url", "/deployments"],
];

/** The minimal repository of the combined status (key set of the create-status fixture). */
export function repositoryObject(apiBase: string, owner: string, name: string): Record<string, unknown> {
  const id = userIdFor(`${owner}/${name}`);
  const api = `${apiBase}/repos/${owner}/${name}`;
  const repo: Record<string, unknown> = {
    id,
    node_id: nodeId("Repository", id),
    name,
    full_name: `${owner}/${name}`,
    private: false,
    owner: userObject(apiBase, owner, userIdFor(owner)),
    html_url: `${HTML_BASE}/${owner}/${name}`,
    description: null,
    fork: false,
    url: api,
  };
  for (const [key, suffix] of REPO_URL_SUFFIXES) repo[key] = `${api}${suffix}`;
  return repo;
}

export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** True when the text holds a character outside the Basic Multilingual Plane (4 bytes in UTF-8). */
export function hasFourByteCharacter(text: string): boolean {
  for (const ch of text) if ((ch.codePointAt(0) ?? 0) > 0xffff) return true;
  return false;
}
