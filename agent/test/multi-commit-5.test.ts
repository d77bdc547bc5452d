// Restart paths: the last applied commit gone from git (a force-push, a new clone), and what a restarted agent
// says again. Each test failed before its fix.
import { cpSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { httpRequest } from "../emulator/ray-test-utils";
import { cloneDirIn } from "../src/adapters/git-source";
import { MISSING_RECHECK_MS } from "../src/runtime/agent";
import { specYaml } from "../testkit/git-fixture";
import { appsOf, createHarness, type Harness } from "../testkit/harness";
import { amendHead, captureLog, wipeClone } from "../testkit/restart";

let h: Harness;
/** models/alice/a.yaml -> alice/a */
const keyOf = (path: string) => path.replace(/^models\/(.*)\.yaml$/, "$1");
afterEach(async () => {
  expect(h.github.unexpected).toEqual([]);
  await h.close();
});

describe("the last applied commit no longer in git (force-pushed away, the clone made anew)", () => {
  it("applies the branch head, and says once which commit it cannot read", async () => {
    h = await createHarness({ files: { "models/alice/a.yaml": specYaml("a") } });
    h.repo.ship("alice: add a");
    h.repo.write("models/alice/b.yaml", specYaml("b"));
    const { agent: first, sha: lost } = await h.startSettled("alice: add b");
    expect(first.status().marks.accepted?.sha).toBe(lost);
    await first.close();
    const head = amendHead(h, "alice: c instead of b", () => {
      h.repo.remove("models/alice/b.yaml");
      h.repo.write("models/alice/c.yaml", specYaml("c"));
    });
    wipeClone(h);

    const { log, parsed } = captureLog();
    const agent = await h.start({}, { log });
    await h.settle(agent, { max: 20 });
    const report = await h.settle(agent, { max: 20 });
    await agent.outbox.drain();
    // Before the fix every cycle failed ("<sha> is not on main any more") and nothing was applied.
    expect(report.faults).toEqual([]);
    expect(agent.status().marks.applied?.sha).toBe(head);
    expect(await appsOf(h.ray.url)).toEqual(["alice-202601061235-a", "alice-202601061235-c"]);
    expect(h.latest(head).get("serve/h1")?.state).toBe("success");
    // Said once, naming the commit: one warning, one event on the models the agent held.
    const said = parsed().filter((l) => l.level >= 40 && JSON.stringify(l).includes(lost.slice(0, 7)));
    expect(said.map((l) => l.msg)).toEqual([
      `the last applied commit ${lost.slice(0, 7)} cannot be read from git (no longer on the branch, not in the clone): the guards count what a new commit drops against Ray and the models the agent's record held`,
    ]);
    const a = agent.status().models.find((m) => m.key === "alice/a");
    expect(a?.events.filter((e) => e.type === "COMMIT_UNREADABLE")).toEqual([
      expect.objectContaining({ sha: lost, message: said[0]!.msg }),
    ]);
    // /status shows it only until another commit is applied.
    expect(agent.status().unreadable).toBeUndefined();
  });

  it("says once which commit it cannot read when that is the commit last taken and the branch head is refused", async () => {
    h = await createHarness({ files: { "models/alice/a.yaml": specYaml("a") } });
    const { agent: first, sha: lost } = await h.startSettled("alice: add a");
    await first.close();
    // The head rewritten into a commit the agent refuses (b's spec without its rendered fragment): the agent has
    // no valid commit to read but the one git no longer has.
    const bad = amendHead(h, "alice: add b", () => h.repo.write("models/alice/b.yaml", specYaml("b")), {
      render: false,
    });
    wipeClone(h);

    const { log, parsed } = captureLog();
    const agent = await h.start({}, { log });
    const fetches = async () =>
      (await agent.metrics.gitCommands.get()).values.find((v) => v.labels.command === "fetch")?.value;
    let report = await h.settle(agent, { max: 5 });
    await agent.outbox.drain();
    const fetched = await fetches();
    for (let i = 0; i < 3; i++) report = await h.settle(agent, { max: 5 });
    // Before the fix every cycle fetched again and failed ("<sha> is not on main any more and not in the clone").
    expect(report.faults).toEqual([]);
    expect(await fetches()).toBe(fetched);
    expect(h.statuses(bad)).toEqual([
      "serve/h1 failure not rendered: 1 fragment is out of date; run serve-gitops render",
    ]);
    expect(await appsOf(h.ray.url)).toEqual(["alice-202601061235-a"]);
    const message = `the commit last taken, ${lost.slice(0, 7)}, cannot be read from git (no longer on the branch, not in the clone): Serve keeps what it runs and nothing is applied until a valid commit lands; the guards count what that commit drops against Ray and the models the agent's record held`;
    const said = (lines: ReturnType<typeof parsed>) =>
      lines.filter((l) => l.level >= 40 && JSON.stringify(l).includes(lost.slice(0, 7)));
    expect(said(parsed()).map((l) => [l.msg, l.sha])).toEqual([[message, lost]]);
    const events = (a: typeof agent) =>
      a.status().models.flatMap((m) => m.events.filter((e) => e.type === "COMMIT_UNREADABLE"));
    expect(events(agent)).toEqual([expect.objectContaining({ sha: lost, message })]);
    expect(agent.status().unreadable).toEqual({ sha: lost, models: ["alice/a"] });

    // Said once also across a restart; and the next valid commit is applied.
    await agent.close();
    const quiet = captureLog();
    const again = await h.start({}, { log: quiet.log });
    report = await h.settle(again, { max: 5 });
    expect(report.faults).toEqual([]);
    expect(said(quiet.parsed())).toEqual([]);
    expect(events(again)).toHaveLength(1);
    h.repo.render();
    const fixed = h.repo.ship("alice: render b");
    report = await h.settle(again, { max: 20 });
    await again.outbox.drain();
    expect(report.faults).toEqual([]);
    expect(again.status().marks.applied?.sha).toBe(fixed);
    expect(await appsOf(h.ray.url)).toEqual(["alice-202601061235-a", "alice-202601061235-b"]);
    expect(events(again)).toHaveLength(1);
  });

  it("refuses a prune the rewritten head makes, counted against Ray, then against its record once Ray lost them", async () => {
    const files: Record<string, string> = { "models/alice/a.yaml": specYaml("a") };
    for (const n of [1, 2, 3, 4, 5, 6, 7]) files[`models/bob/m${n}.yaml`] = specYaml(`m${n}`);
    h = await createHarness({ files });
    const { agent: first, sha: lost } = await h.startSettled("eight models");
    await first.close();
    const head = amendHead(h, "bob: only m7", () => {
      for (const n of [1, 2, 3, 4, 5, 6]) h.repo.remove(`models/bob/m${n}.yaml`);
    });
    wipeClone(h);
    const puts = h.ray.acceptedPutCount();
    const refusal =
      "refused: would undeploy 6 models (prune limit 5); needs an admin's merge with trailer Serve-Gitops-Allow-Prune: 6";

    const agent = await h.start();
    let report = await h.settle(agent, { max: 20 });
    await agent.outbox.drain();
    expect(report.faults).toEqual([]);
    expect(h.statuses(head)).toEqual([`serve/h1 failure ${refusal}`]);
    expect(await appsOf(h.ray.url)).toHaveLength(8);

    // Serve loses every application (a head restart, `serve shutdown`), and the agent restarts: Ray no longer
    // shows what the head drops, and the last applied commit cannot restore them. The agent's record still
    // says which models it held: the prune is not let through by an empty Ray.
    await agent.close();
    expect((await httpRequest("DELETE", `${h.ray.url}/api/serve/applications/`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    const again = await h.start();
    for (let i = 0; i < 3; i++) report = await h.settle(again, { max: 20 });
    await again.outbox.drain();
    expect(report.faults).toEqual([]);
    expect(h.ray.acceptedPutCount()).toBe(puts);
    expect(h.statuses(head)).toEqual([`serve/h1 failure ${refusal}`]);
    expect(again.status().marks.accepted?.sha).toBe(lost);
    expect(again.status().refused).toEqual([{ sha: head, reason: refusal }]);
    // /status (and serve-gitops status) shows what the guards count against.
    expect(again.status().unreadable).toEqual({ sha: lost, models: Object.keys(files).map(keyOf).sort() });
  });
});

describe("the last applied commit back in git (pushed again after a force-push took it away)", () => {
  it("is read again once the branch head moves: the guard's hold restores it, and /status no longer says it is unreadable", async () => {
    const files: Record<string, string> = { "models/alice/a.yaml": specYaml("a") };
    for (const n of [1, 2, 3, 4, 5, 6, 7]) files[`models/bob/m${n}.yaml`] = specYaml(`m${n}`);
    h = await createHarness({ files });
    const { agent: first, sha: lost } = await h.startSettled("eight models");
    await first.close();
    const dropSix = () => {
      for (const n of [1, 2, 3, 4, 5, 6]) h.repo.remove(`models/bob/m${n}.yaml`);
    };
    amendHead(h, "bob: only m7", dropSix);
    wipeClone(h);
    const agent = await h.start();
    let report = await h.settle(agent, { max: 20 });
    expect(report.faults).toEqual([]);
    expect(agent.status().unreadable?.sha).toBe(lost);

    // The force-push is undone: the lost commit is on the branch again, under a new head that still drops six.
    h.repo.git("reset", "--quiet", "--hard", lost);
    h.repo.push();
    dropSix();
    const head = h.repo.ship("bob: only m7, again");
    // Serve loses every application meanwhile: only the last applied commit's config can bring them back.
    expect((await httpRequest("DELETE", `${h.ray.url}/api/serve/applications/`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 3; i++) report = await h.settle(agent, { max: 40 });
    await agent.outbox.drain();
    expect(report.faults).toEqual([]);
    expect(h.latest(head).get("serve/h1")?.description).toMatch(/^refused: would undeploy 6 models/);
    // Before the fix the process kept the commit as "not in git" until a restart: nothing restored Ray, and
    // /status kept naming the commit unreadable.
    expect(await appsOf(h.ray.url)).toHaveLength(8);
    expect(agent.status().unreadable).toBeUndefined();
    expect(agent.status().marks.accepted?.sha).toBe(lost);
  });
});

describe("a guard's refusal standing when the agent restarts", () => {
  it("is not said again: one REFUSED event per model, one status, nothing changed", async () => {
    const files: Record<string, string> = { "models/alice/a.yaml": specYaml("a") };
    for (const n of [1, 2, 3, 4, 5, 6, 7]) files[`models/bob/m${n}.yaml`] = specYaml(`m${n}`);
    h = await createHarness({ files });
    const { agent: first } = await h.startSettled("eight models");
    for (const n of [1, 2, 3, 4, 5, 6]) h.repo.remove(`models/bob/m${n}.yaml`);
    const refused = h.repo.ship("bob: remove six");
    await h.settle(first);
    await h.settle(first);
    await first.outbox.drain();
    const refusals = (agent: typeof first) =>
      agent
        .status()
        .models.flatMap((m) => m.events.filter((e) => e.type === "REFUSED").map((e) => `${m.key} ${e.sha}`));
    const once = ["bob/m1", "bob/m2", "bob/m3", "bob/m4", "bob/m5", "bob/m6"].map((k) => `${k} ${refused}`);
    expect(refusals(first)).toEqual(once);
    await first.close();

    const { log, parsed } = captureLog();
    const agent = await h.start({}, { log });
    for (let i = 0; i < 3; i++) await h.settle(agent);
    await agent.outbox.drain();
    // Before the fix the restarted agent's in-memory "said" was empty: every model got a second REFUSED event,
    // the refusal was logged as new and counted in serve_gitops_refused_commits_total again.
    expect(refusals(agent)).toEqual(once);
    expect(parsed().filter((l) => l.msg === "apply refused by a guard")).toEqual([]);
    const counted = (await agent.metrics.refusals.get()).values.reduce((n, v) => n + v.value, 0);
    expect(counted).toBe(0);
    expect(h.statuses(refused)).toHaveLength(1);
    expect(agent.status().refused.map((r) => r.sha)).toEqual([refused]);
  });
});

describe("a commit git did not have, while the branch head stays put", () => {
  it("is asked for again once MISSING_RECHECK_MS has passed: a restored clone is read again", async () => {
    h = await createHarness({ files: { "models/alice/a.yaml": specYaml("a") } });
    const { agent: first, sha: lost } = await h.startSettled("alice: add a");
    await first.close();
    // The clone as it was, with the commit the force-push below takes off the branch (a volume's backup).
    const clone = cloneDirIn(h.stateDir);
    const backup = join(h.repo.root, "repo.git.backup");
    cpSync(clone, backup, { recursive: true });
    // The head rewritten into a commit the agent refuses: it stays put, and only the commit last taken is valid.
    const bad = amendHead(h, "alice: add b", () => h.repo.write("models/alice/b.yaml", specYaml("b")), {
      render: false,
    });
    wipeClone(h);

    let clock = Date.now();
    const agent = await h.start({}, { now: () => clock });
    const fetches = async () =>
      (await agent.metrics.gitCommands.get()).values.find((v) => v.labels.command === "fetch")?.value ?? 0;
    let report = await h.settle(agent, { max: 5 });
    expect(report.faults).toEqual([]);
    expect(agent.status().unreadable?.sha).toBe(lost);
    const fetched = await fetches();
    expect(fetched).toBeGreaterThan(0);

    // Within the interval the missing commit is not fetched for again.
    clock += MISSING_RECHECK_MS - 1_000;
    for (let i = 0; i < 3; i++) report = await h.settle(agent, { max: 5 });
    expect(report.faults).toEqual([]);
    expect(await fetches()).toBe(fetched);
    // Past it, it is asked for once more (git still lacks it: one fetch, then quiet for another interval).
    clock += 2_000;
    for (let i = 0; i < 3; i++) report = await h.settle(agent, { max: 5 });
    expect(report.faults).toEqual([]);
    expect(await fetches()).toBe(fetched + 1);
    expect(agent.status().unreadable?.sha).toBe(lost);

    // The clone is restored, the head still where it was: within the interval nothing notices...
    rmSync(clone, { recursive: true, force: true });
    cpSync(backup, clone, { recursive: true });
    for (let i = 0; i < 3; i++) report = await h.settle(agent, { max: 5 });
    expect(agent.status().unreadable?.sha).toBe(lost);
    expect(agent.agent.current).toBeUndefined();
    // ...and once it has passed, the commit is read again: no longer unreadable, its desired state loaded.
    clock += MISSING_RECHECK_MS;
    for (let i = 0; i < 3; i++) report = await h.settle(agent, { max: 5 });
    await agent.outbox.drain();
    expect(report.faults).toEqual([]);
    expect(agent.status().unreadable).toBeUndefined();
    expect(agent.agent.current?.sha).toBe(lost);
    expect(agent.agent.lastHead).toBe(bad);
    expect(await appsOf(h.ray.url)).toEqual(["alice-202601061235-a"]);
  });
});
