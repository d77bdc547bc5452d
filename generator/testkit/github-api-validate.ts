/**
 * Request-body checks of the GitHub REST API test server, worded like GitHub's JSON-schema validation
 * ("Invalid request.\n\n\"body\" wasn't supplied." — 422 with {message, documentation_url, status}).
 * Unknown keys are rejected (GitHub does this only on some endpoints; here always, to catch typos).
 */

export interface FieldSpec {
  readonly type: "string";
  readonly required?: boolean;
  readonly nullable?: boolean;
  readonly enum?: readonly string[];
}

export type BodySpec = Readonly<Record<string, FieldSpec>>;

export const CREATE_STATUS_BODY: BodySpec = {
  state: { type: "string", required: true, enum: ["error", "failure", "pending", "success"] },
  target_url: { type: "string", nullable: true },
  description: { type: "string", nullable: true },
  context: { type: "string" },
};

export const COMMENT_BODY: BodySpec = { body: { type: "string", required: true } };

function render(value: unknown): string {
  if (value === null) return "nil";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** GitHub-style messages for every problem of the body; empty when it is valid. */
export function checkBody(body: Record<string, unknown>, spec: BodySpec): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(body)) {
    if (!(key in spec)) problems.push(`"${key}" is not a permitted key.`);
  }
  for (const [key, field] of Object.entries(spec)) {
    if (!(key in body)) {
      if (field.required) problems.push(`"${key}" wasn't supplied.`);
      continue;
    }
    const value = body[key];
    if (value === null && field.nullable) continue;
    if (typeof value !== field.type) {
      problems.push(
        `For 'properties/${key}', ${render(value)} is not a ${field.type}${field.nullable ? " or null" : ""}.`,
      );
      continue;
    }
    if (field.enum && !field.enum.includes(value as string)) {
      const members = field.enum.map((m) => `"${m}"`).join(", ");
      problems.push(`For 'properties/${key}', ${render(value)} is not a member of [${members}].`);
    }
  }
  return problems;
}

export function invalidRequestMessage(problems: readonly string[]): string {
  return `Invalid request.\n\n${problems.join("\n")}`;
}

/** per_page (default 30, at most 100 — larger values are capped like GitHub does) and page (from 1). */
export function pageParams(query: Record<string, string>): { perPage: number; page: number } {
  const perPageRaw = Number.parseInt(query.per_page ?? "", 10);
  const pageRaw = Number.parseInt(query.page ?? "", 10);
  const perPage = Number.isFinite(perPageRaw) && perPageRaw > 0 ? Math.min(perPageRaw, 100) : 30;
  const page = Number.isFinite(pageRaw) && pageRaw > 0 ? pageRaw : 1;
  return { perPage, page };
}

/** One page of items plus the Link header GitHub sends (first/prev/next/last), or undefined for one page. */
export function paginate<T>(
  items: readonly T[],
  query: Record<string, string>,
  pageUrl: (page: number, perPage: number) => string,
): { items: T[]; link: string | undefined } {
  const { perPage, page } = pageParams(query);
  const lastPage = Math.max(1, Math.ceil(items.length / perPage));
  const slice = items.slice((page - 1) * perPage, page * perPage);
  if (lastPage === 1) return { items: slice, link: undefined };
  const rels: string[] = [];
  if (page > 1) rels.push(`<${pageUrl(page - 1, perPage)}>; rel="prev"`);
  if (page < lastPage) rels.push(`<${pageUrl(page + 1, perPage)}>; rel="next"`);
  if (page !== lastPage) rels.push(`<${pageUrl(lastPage, perPage)}>; rel="last"`);
  if (page > 1) rels.push(`<${pageUrl(1, perPage)}>; rel="first"`);
  return { items: slice, link: rels.join(", ") };
}
