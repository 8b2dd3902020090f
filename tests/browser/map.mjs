// The map page (GET /map) in headless Debian chromium against a real `lpmetrics
// serve` with the demo network's data. tests/browser/test_map.py starts the server
// and runs this; by hand, against `lpmetrics serve --demo` with
// LPM_CORS_ORIGINS=http://localhost:5175:
//   LPM_API_URL=http://127.0.0.1:8000 LPM_FRAME_PORT=5175 LPM_REFUSED_PORT=5176 node map.mjs
// Prints one JSON line of results; exits non-zero when a check fails.
import assert from "node:assert/strict";
import http from "node:http";

import { env, launchChromium } from "./chromium.mjs";

const API = new URL(env("LPM_API_URL")).origin;
const FRAME_PORT = Number(env("LPM_FRAME_PORT"));
const REFUSED_PORT = Number(env("LPM_REFUSED_PORT"));
const STEP_MS = 30_000;

const QUERY = `query Map($window: Window!) {
  network(window: $window) { coverage { reportingOrchestrators knownOrchestrators } }
  origins(level: CELL, window: $window) { code pixelsPerSecond orchestrators precision }
  regions(level: LIVEPEER_REGION, window: $window) {
    code capacity currentStreams avgStreams pixelsPerSecond
    coverage { reportingOrchestrators knownOrchestrators }
  }
  coverageGaps(window: $window) {
    cell demandShare nearestOrchestratorKm nearestRegion nearestOrchestratorReports
  }
}`;

// The page's own formatting of a figure (api/map/map.js).
function format(value) {
  if (value === null || value === undefined) return "withheld";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number") {
    // Small figures (shares) keep their significant digits; large ones lose decimals.
    const digits = Math.abs(value) < 1 ? { maximumSignificantDigits: 3 } : { maximumFractionDigits: 2 };
    return value.toLocaleString("en-US", digits);
  }
  return String(value);
}

async function publicView(window) {
  const response = await fetch(`${API}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: QUERY, variables: { window } }),
  });
  const payload = await response.json();
  assert.ok(!payload.errors, JSON.stringify(payload.errors));
  return payload.data;
}

function frameServer(port) {
  const server = http.createServer((request, response) => {
    response.writeHead(200, { "content-type": "text/html" }).end(
      `<!doctype html><title>explorer</title><iframe src="${API}/map" width="1000" height="600"></iframe>`,
    );
  });
  return new Promise((resolve) => server.listen(port, "::", () => resolve(server)));
}

const results = [];
async function step(name, fn) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${STEP_MS} ms`)), STEP_MS);
  });
  try {
    const detail = await Promise.race([fn(), timeout]);
    results.push({ name, ok: true, detail });
  } catch (error) {
    results.push({ name, ok: false, error: String(error?.stack ?? error) });
  } finally {
    clearTimeout(timer);
  }
}

const { browser, close } = await launchChromium("lpm-map-chromium-", ["--window-size=1400,800"]);
const servers = [await frameServer(FRAME_PORT), await frameServer(REFUSED_PORT)];

try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 800 });
  const requests = [];
  const outside = [];
  const problems = [];
  await page.setRequestInterception(true);
  page.on("request", (request) => {
    const url = request.url();
    requests.push(url);
    if (url.startsWith("data:") || new URL(url).origin === API) {
      request.continue();
    } else {
      outside.push(url);
      request.abort();
    }
  });
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(String(error)));
  const ready = () => page.waitForFunction(() => document.body.dataset.state === "ready", { timeout: 20_000 });

  let response;
  await step("the page loads and draws", async () => {
    response = await page.goto(`${API}/map`, { waitUntil: "load" });
    assert.equal(response.status(), 200);
    await ready();
  });

  await step("its Content-Security-Policy allows this service only", async () => {
    const csp = response.headers()["content-security-policy"];
    for (const part of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'"]) {
      assert.ok(csp.includes(part), `${part} missing from ${csp}`);
    }
    assert.ok(csp.includes(`frame-ancestors 'self' http://localhost:${FRAME_PORT}`), csp);
    return csp;
  });

  const view = await publicView("LAST_DAY");

  await step("cells, regions and gaps are drawn where they should be", async () => {
    const drawn = await page.evaluate(() => {
      const box = document.getElementById("map").getBoundingClientRect();
      const inside = (el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && r.left >= box.left - 1 && r.right <= box.right + 1 &&
          r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
      };
      const on = (el) => {
        // What a visitor sees at the element's centre is the element itself.
        const r = el.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return hit !== null && (hit === el || el.contains(hit));
      };
      const origins = [...document.querySelectorAll("#map g.origin")];
      const regions = [...document.querySelectorAll("#map circle.region")];
      return {
        land: document.querySelector("path.land")?.getAttribute("d")?.length ?? 0,
        origins: origins.map((g) => g.dataset.cell),
        originsInside: origins.filter((g) => inside(g)).length,
        shaded: origins.filter((g) => g.querySelector(".dot")?.getAttribute("fill")).length,
        regions: regions.map((c) => c.dataset.code),
        regionsVisible: regions.filter((c) => inside(c) && on(c)).length,
        gaps: [...document.querySelectorAll("#map circle.gap")].map((c) => c.dataset.cell),
      };
    });
    assert.ok(drawn.land > 10_000, "the world outline is drawn");
    assert.deepEqual(new Set(drawn.origins), new Set(view.origins.map((o) => o.code)));
    assert.equal(drawn.originsInside, drawn.origins.length);
    assert.equal(drawn.shaded, view.origins.filter((o) => o.pixelsPerSecond !== null).length);
    const known = view.regions.filter((r) => r.coverage.knownOrchestrators > 0).map((r) => r.code);
    assert.deepEqual(new Set(drawn.regions), new Set(known));
    assert.ok(drawn.regionsVisible >= known.length / 2, JSON.stringify(drawn));
    assert.ok(view.coverageGaps.length > 0, "the demo network has coverage gaps");
    assert.deepEqual(new Set(drawn.gaps), new Set(view.coverageGaps.map((g) => g.cell)));
    return { origins: drawn.origins.length, regions: drawn.regions.length, gaps: drawn.gaps.length };
  });

  const tooltipFigures = () =>
    page.evaluate(() => {
      const tip = document.getElementById("tooltip");
      const figures = {};
      for (const dd of tip.querySelectorAll("dd")) figures[dd.dataset.field] = dd.textContent;
      return { hidden: tip.hidden, code: tip.dataset.code, figures };
    });

  await step("hovering a region shows the public view's figures", async () => {
    const byCode = new Map(view.regions.map((r) => [r.code, r]));
    const seen = new Set();
    for (const code of await page.$$eval("#map circle.region", (cs) => cs.map((c) => c.dataset.code))) {
      await page.hover(`#map circle.region[data-code="${code}"]`);
      const tip = await tooltipFigures();
      assert.equal(tip.hidden, false);
      const r = byCode.get(tip.code); // the region on top where the mouse is
      assert.ok(r, tip.code);
      assert.deepEqual(tip.figures, {
        capacity: format(r.capacity),
        currentStreams: format(r.currentStreams),
        avgStreams: format(r.avgStreams),
        pixelsPerSecond: format(r.pixelsPerSecond),
        reportingOrchestrators: format(r.coverage.reportingOrchestrators),
        knownOrchestrators: format(r.coverage.knownOrchestrators),
      });
      seen.add(tip.code);
    }
    assert.ok(seen.size >= byCode.size / 2, [...seen].join());
    return [...seen];
  });

  await step("hovering a gap shows its public figures", async () => {
    const origins = new Map(view.origins.map((o) => [o.code, o]));
    for (const g of view.coverageGaps) {
      await page.hover(`#map g.origin[data-cell="${g.cell}"]`);
      const tip = await tooltipFigures();
      assert.equal(tip.code, g.cell);
      assert.deepEqual(tip.figures, {
        pixelsPerSecond: format(origins.get(g.cell).pixelsPerSecond),
        orchestrators: format(origins.get(g.cell).orchestrators),
        demandShare: format(g.demandShare),
        nearestOrchestratorKm: format(g.nearestOrchestratorKm),
        nearestRegion: format(g.nearestRegion),
        nearestOrchestratorReports: format(g.nearestOrchestratorReports),
      });
    }
    return view.coverageGaps.length;
  });

  const caveat = () =>
    page.evaluate(() => {
      const el = document.getElementById("coverage");
      const r = el.getBoundingClientRect();
      return { text: el.textContent, visible: r.width > 0 && r.height > 0 && r.top >= 0 && r.bottom <= innerHeight };
    });

  await step("the coverage caveat is always on screen", async () => {
    const c = view.network.coverage;
    const shown = await caveat();
    assert.ok(shown.visible);
    assert.ok(shown.text.startsWith(`${c.reportingOrchestrators} of ${c.knownOrchestrators} orchestrators report`), shown.text);
    await page.mouse.wheel({ deltaY: 2000 });
    assert.ok((await caveat()).visible, "still visible after scrolling");
    return shown.text;
  });

  await step("the window selector redraws for the window", async () => {
    await page.select("#window", "LAST_HOUR");
    await ready();
    const hour = await publicView("LAST_HOUR");
    const c = hour.network.coverage;
    assert.ok((await caveat()).text.startsWith(`${c.reportingOrchestrators} of ${c.knownOrchestrators}`));
    const cells = await page.$$eval("#map g.origin", (gs) => gs.map((g) => g.dataset.cell));
    assert.deepEqual(new Set(cells), new Set(hour.origins.map((o) => o.code)));
    return cells.length;
  });

  await step("no request leaves the service's origin", async () => {
    assert.deepEqual(outside, []);
    assert.ok(requests.some((u) => u.includes("/assets/h3-js/")), "the libraries came from /assets");
    assert.ok(requests.some((u) => u.endsWith("/graphql")));
    assert.deepEqual(problems, [], "no console errors (CSP violations show there)");
    return requests.length;
  });

  await step("the explorer's origin may frame it, another may not", async () => {
    const framed = async (port) => {
      const p = await browser.newPage();
      try {
        await p.goto(`http://localhost:${port}/`, { waitUntil: "load" });
        const frame = p.frames().find((f) => f.url().startsWith(`${API}/map`));
        if (!frame) return "no frame";
        for (let i = 0; i < 40; i++) {
          const state = await frame.evaluate(() => document.body?.dataset.state).catch(() => undefined);
          if (state === "ready") return "ready";
          await new Promise((r) => setTimeout(r, 250));
        }
        return "not drawn";
      } finally {
        await p.close();
      }
    };
    assert.equal(await framed(FRAME_PORT), "ready");
    assert.notEqual(await framed(REFUSED_PORT), "ready");
    return "ok";
  });
} finally {
  await close();
  for (const server of servers) server.close();
}

console.log(JSON.stringify({ results }));
process.exit(results.every((r) => r.ok) ? 0 : 1);
