// Review findings on the accepted mark, the record-less adoption and the guards' hold: each test failed before
// its fix.
import { afterEach, describe, expect, it } from "vitest";
import { httpRequest } from "../emulator/ray-test-utils";
import { specYaml } from "../testkit/git-fixture";
import { answerLosingTarget, appsOf, failingPuts, createHarness, type Harness } from "../testkit/harness";
import { wipeStateDir } from "../testkit/restart";

let h: Harness;
afterEach(async () => {
  expect(h.github.unexpected).toEqual([]);
  await h.close();
});

describe("an agent without a record, on a head the agent before summarised (above max_model_statuses)", () => {
  it("resolves the pending summary status serve/h1/models the agent before left on the head", async () => {
    h = await createHarness({
      emulator: { deployDelayMs: 600 },
      cluster: { sync: { max_model_statuses: 2 } },
      files: { "models/alice/base.yaml": specYaml("base") },
    });
    const { agent: first } = await h.startSettled();
    // Three models added: above the limit, one summary status, pending while they load.
    for (const name of ["x", "y", "z"]) h.repo.write(`models/alice/${name}.yaml`, specYaml(name));
    const added = h.repo.ship("alice: add x, y, z");
    await first.agent.cycle();
    await first.outbox.drain();
    expect(h.latest(added).get("serve/h1/models")?.state).toBe("pending");
    await first.close();
    // A lost volume: the state directory is new, Ray runs the head's config (still loading).
    wipeStateDir(h);
    const agent = await h.start();
    await h.settle(agent);
    await new Promise((r) => setTimeout(r, 800));
    await h.settle(agent);
    await agent.outbox.drain();
    expect(agent.status().models.every((m) => m.state === "RUNNING")).toBe(true);
    // README (state directory): "it watches the head's models and posts their statuses on the head as Ray shows
    // them ... so a status an agent before left pending resolves". The record-less adoption (then) posted
    // one status per model and never the summary context: serve/h1/models stays "pending" on the head forever.
    expect([...h.latest(added).entries()].filter(([, s]) => s.state === "pending")).toEqual([]);
    // Above max_model_statuses the head keeps its one summary: the successor creates no per-model status that
    // GitHub did not show (it only resolves those an agent before left).
    expect([...h.latest(added).keys()].sort()).toEqual(["serve/h1", "serve/h1/models"]);
  });
});

describe("a PUT Ray took whose answer was lost (a timeout), then a commit a guard refuses", () => {
  it("does not roll Ray back past the commit Ray runs: the 'hold' keeps what Ray took", async () => {
    h = await createHarness({ files: { "models/alice/a.yaml": specYaml("a") } });
    const { target, lose } = answerLosingTarget(h);
    const c1 = h.repo.ship("alice: add a");
    const agent = await h.start({}, { target });
    await h.settle(agent);
    expect(agent.status().marks.applied?.sha).toBe(c1);
    // bob adds b: Ray takes the PUT, but its answer is lost.
    h.repo.write("models/bob/b.yaml", specYaml("b"));
    h.repo.ship("bob: add b");
    lose.next = true;
    await agent.agent.cycle();
    expect(await appsOf(h.ray.url)).toContain("bob-202601061235-b");
    // Before the next cycle, an accidental commit removing every spec lands: the guard refuses it (allow_empty).
    h.repo.remove("models/alice/a.yaml");
    h.repo.remove("models/bob/b.yaml");
    const empty = h.repo.ship("oops: remove every spec");
    await h.settle(agent);
    await agent.outbox.drain();
    expect(h.latest(empty).get("serve/h1")?.state).toBe("failure");
    // Ray runs c2 exactly (the agent reads it back on this cycle: "found running", types.ts's accepted mark). The
    // refusal's hold (reconcile.ts refuse) compares Ray with the accepted mark, still c1, and PUTs c1 as a "drift
    // correction": bob's b, which Ray took and serves, is undeployed because of an unrelated refused commit.
    expect(await appsOf(h.ray.url)).toContain("bob-202601061235-b");
  });
});

describe("--suspend while the head's PUT keeps failing (Ray never took it)", () => {
  it("ends the watch (--once exits) and reports no drift from a commit Ray never took", async () => {
    h = await createHarness({ files: { "models/alice/a.yaml": specYaml("a") } });
    const { target, setFailing } = failingPuts(h, 503);
    const c1 = h.repo.ship("alice: add a");
    const first = await h.start({}, { target });
    await h.settle(first);
    expect(first.status().marks.applied?.sha).toBe(c1);
    // Ray's controller is flaky: alice's change of a is not taken (503 on every PUT).
    setFailing(true);
    h.repo.write("models/alice/a.yaml", specYaml("a", { maxModelLen: 4096 }));
    h.repo.ship("alice: a shorter context");
    for (let i = 0; i < 3; i++) await first.agent.cycle();
    await first.close();
    // The operator pauses sync during the incident: the agent restarts with --suspend (a cron job's --once).
    const agent = await h.start({ suspend: true }, { target });
    let report = await agent.agent.cycle();
    for (let i = 0; i < 5; i++) report = await agent.agent.cycle();
    // 45bc7dc: "a commit ... the suspend switch holds supersedes older heads whose PUT never went out (their watch
    // ended only with a later apply: busy forever, --once never exited)". The head itself, already attempted, is
    // decided as 'report-drift' (reconcile.ts: !isNew), not 'hold': nothing supersedes its unapplied rollout head,
    // progressRollout skips unapplied heads, so the agent stays busy and `--once --suspend` never exits.
    expect.soft(report.busy).toBe(false);
    // And Ray runs exactly c1, the accepted commit: there is no drift. The decision compares Ray with the
    // attempted commit Ray never took, and says DRIFT_DETECTED for alice/a.
    expect(
      agent
        .status()
        .models.find((m) => m.key === "alice/a")
        ?.events.map((e) => e.type),
    ).not.toContain("DRIFT_DETECTED");
  });
});

describe("a PUT Ray accepted, then Serve emptied before the agent saw it running, then a commit a guard refuses", () => {
  it("holds Serve at the accepted commit (marked accepted when Ray took the PUT), not at the one before", async () => {
    h = await createHarness({ files: { "models/alice/a.yaml": specYaml("a") } });
    const { agent } = await h.startSettled("alice: add a");
    // bob adds b: one cycle, Ray accepts the PUT (the agent has not read it back running yet).
    h.repo.write("models/bob/b.yaml", specYaml("b"));
    const added = h.repo.ship("bob: add b");
    await agent.agent.cycle();
    expect(agent.status().marks.accepted?.sha).toBe(added);
    // Serve is emptied (a head restart, `serve shutdown`) before the next cycle, and a commit removing every
    // spec lands: the empty guard refuses it and Serve is restored to the last commit Ray took, bob's.
    expect((await httpRequest("DELETE", `${h.ray.url}/api/serve/applications/`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    h.repo.remove("models/alice/a.yaml");
    h.repo.remove("models/bob/b.yaml");
    const empty = h.repo.ship("oops: remove every spec");
    await h.settle(agent);
    await new Promise((r) => setTimeout(r, 200));
    await h.settle(agent);
    await agent.outbox.drain();
    expect(h.latest(empty).get("serve/h1")?.state).toBe("failure");
    expect((await appsOf(h.ray.url)).sort()).toEqual(["alice-202601061235-a", "bob-202601061235-b"]);
  });
});
