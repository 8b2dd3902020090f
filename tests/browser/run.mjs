// The browser suite: headless Debian chromium, the real npm clients, a real
// `lpmetrics serve`. tests/browser/test_browser.py starts the server and runs this;
// by hand:
//   LPM_API_URL=http://127.0.0.1:8000 LPM_PAGE_PORT=5173 LPM_REFUSED_PORT=5174 \
//   LPM_PRIVATE_KEY=0x<key of a registered orchestrator> node run.mjs
// with LPM_CORS_ORIGINS=http://localhost:5173,http://127.0.0.1:5173 on the server.
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

import { env, launchChromium } from "./chromium.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const API = new URL(env("LPM_API_URL")).origin; // http://127.0.0.1:<port>
const PAGE_PORT = Number(env("LPM_PAGE_PORT"));
const REFUSED_PORT = Number(env("LPM_REFUSED_PORT"));
const PRIVATE_KEY = env("LPM_PRIVATE_KEY");
const STEP_MS = 20_000; // bounds a step that would otherwise hang

// The page's code, bundled as the explorer's build would.
const built = await esbuild.build({
  entryPoints: [path.join(here, "page.mjs")],
  bundle: true,
  write: false,
  format: "iife",
  platform: "browser",
  target: "chrome120",
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "error",
});
const bundle = built.outputFiles[0].text;

function servePages(port) {
  const server = http.createServer((request, response) => {
    if (request.url === "/bundle.js") {
      response.writeHead(200, { "content-type": "text/javascript" }).end(bundle);
    } else if (request.url === "/") {
      response.writeHead(200, { "content-type": "text/html" }).end(
        `<!doctype html><html data-api="${API}"><head><title>explorer</title></head>` +
          `<body><script src="/bundle.js"></script></body></html>`,
      );
    } else {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(port, "::", () => resolve(server)));
}

const results = [];
async function step(name, fn, ms = STEP_MS) {
  let timer;
  try {
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("no answer in time")), ms);
    });
    await Promise.race([fn(), deadline]);
    results.push({ name, ok: true });
    console.log(`ok   ${name}`);
  } catch (error) {
    results.push({ name, ok: false, error: String(error?.message ?? error) });
    console.log(`FAIL ${name}: ${error?.message ?? error}`);
  } finally {
    clearTimeout(timer);
  }
}

function expectEqual(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: expected ${e}, got ${a}`);
}

const pages = await Promise.all([servePages(PAGE_PORT), servePages(REFUSED_PORT)]);
const { browser, close } = await launchChromium("lpm-chromium-");

async function open(origin) {
  const page = await browser.newPage();
  page.on("pageerror", (error) => console.log(`  [${origin}] page error: ${error.message}`));
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => window.lpmReady === true);
  return page;
}

try {
  // --- Cross-site: page on localhost, API on 127.0.0.1 (the explorer's deployment).
  const crossSite = await open(`http://localhost:${PAGE_PORT}`);
  const call = (page, fn, ...args) => page.evaluate((f, a) => window.lpm[f](...a), fn, args);

  await step("anonymous query is COARSENED", async () => {
    expectEqual(await call(crossSite, "dashboard"), { role: "ANONYMOUS", precision: "COARSENED" }, "dashboard");
  });
  await step("anonymous subscription over graphql-ws is COARSENED", async () => {
    expectEqual(await call(crossSite, "firstUpdate"), "COARSENED", "first update");
  });
  await step("a refused credential in connectionParams closes with 4403", async () => {
    const closed = await call(crossSite, "connect", { authorization: "Bearer lpm_not_a_token" });
    expectEqual(closed, { connected: false, code: 4403 }, "socket");
  });
  await step("SIWE sign-in with a key held by the page (viem)", async () => {
    const viewer = await call(crossSite, "signIn", PRIVATE_KEY);
    expectEqual(viewer.role, "ORCHESTRATOR", "role");
  });
  await step("cross-site bearer query is EXACT", async () => {
    expectEqual(await call(crossSite, "dashboard"), { role: "ORCHESTRATOR", precision: "EXACT" }, "dashboard");
  });
  await step("cross-site subscription signed in via connectionParams is EXACT", async () => {
    expectEqual(await call(crossSite, "firstUpdate"), "EXACT", "first update");
  });
  await step("a refused bearer is UNAUTHENTICATED", async () => {
    expectEqual(await call(crossSite, "refusedBearer"), "UNAUTHENTICATED", "code");
  });
  await crossSite.close();

  // --- Same site (127.0.0.1, another port): the HttpOnly session cookie.
  const sameSite = await open(`http://127.0.0.1:${PAGE_PORT}`);
  await step("same-site sign-in, then the cookie alone: query is EXACT", async () => {
    expectEqual((await call(sameSite, "signInCookieOnly", PRIVATE_KEY)).role, "ORCHESTRATOR", "role");
    expectEqual(await call(sameSite, "dashboard"), { role: "ORCHESTRATOR", precision: "EXACT" }, "dashboard");
  });
  await step("same-site subscription with the cookie on the handshake is EXACT", async () => {
    expectEqual(await call(sameSite, "firstUpdate"), "EXACT", "first update");
  });
  await step("signOut ends the cookie session", async () => {
    await call(sameSite, "signOut");
    expectEqual(await call(sameSite, "dashboard"), { role: "ANONYMOUS", precision: "COARSENED" }, "dashboard");
  });
  await sameSite.close();

  // --- An origin not in LPM_CORS_ORIGINS.
  const refused = await open(`http://localhost:${REFUSED_PORT}`);
  await step("a refused origin cannot read answers (CORS)", async () => {
    expectEqual(await call(refused, "plainFetch"), "blocked: TypeError", "fetch");
  });
  await step("a refused origin cannot open a socket", async () => {
    const closed = await call(refused, "connect", {});
    expectEqual(closed.connected, false, "connected");
  });
  await refused.close();

  // --- The playground, with every host but the API's unreachable.
  await step("the playground renders, runs a query and a subscription with no other host reachable", async () => {
    const page = await browser.newPage();
    const elsewhere = [];
    const violations = [];
    await page.setRequestInterception(true);
    page.on("request", (request) => {
      const url = request.url();
      if (url.startsWith("data:") || new URL(url).origin === API) return request.continue();
      elsewhere.push(url);
      return request.abort("blockedbyclient");
    });
    page.on("console", (message) => {
      if (message.type() === "error") violations.push(message.text());
    });
    page.on("pageerror", (error) => violations.push(error.message));
    const response = await page.goto(`${API}/graphql`);
    const csp = response.headers()["content-security-policy"] ?? "";
    if (!csp.includes("default-src 'self'")) throw new Error(`no CSP: ${csp}`);
    await page.waitForSelector(".graphiql-tab", { timeout: 0 });
    const tabs = await page.$$eval(".graphiql-tab", (nodes) => nodes.map((n) => n.textContent.trim()));
    if (tabs.length < 2 || !tabs[0].includes("Dashboard") || !tabs[1].includes("RequestNonce")) {
      throw new Error(`example tabs: ${JSON.stringify(tabs)}`);
    }
    await page.click(".graphiql-execute-button");
    await page.waitForFunction(
      () => document.querySelector(".result-window")?.innerText.includes("COARSENED"),
      { timeout: 0 }, // the step's deadline applies
    );
    // The live tab: a subscription over the page's own WebSocket.
    const tabButtons = await page.$$(".graphiql-tab-button");
    await tabButtons[2].click();
    await page.waitForFunction(
      () => document.querySelector(".graphiql-tab-active")?.textContent.includes("Live"),
    );
    // GraphiQL takes the operation name from the editor a moment after a tab switch; a
    // click before that sends the previous tab's name ("Unknown operation"): run again.
    const shown = () => page.evaluate(() => document.querySelector(".result-window")?.innerText ?? "");
    try {
      await page.click(".graphiql-execute-button");
      await page.waitForFunction(
        () => /networkUpdates|Unknown operation/.test(document.querySelector(".result-window")?.innerText),
        { timeout: STEP_MS },
      );
      if (!(await shown()).includes("networkUpdates")) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        await page.click(".graphiql-execute-button");
        await page.waitForFunction(
          () => document.querySelector(".result-window")?.innerText.includes("networkUpdates"),
          { timeout: STEP_MS },
        );
        // That race's 400 in the console is not a policy violation.
        violations.splice(0, violations.length, ...violations.filter((v) => !v.includes("status of 400")));
      }
    } catch (error) {
      throw new Error(`live tab: ${error.message}; result shown: ${await shown()}; console: ${violations}`);
    }
    expectEqual(elsewhere, [], "requests to other hosts");
    expectEqual(violations, [], "console errors");
    await page.close();
  }, 4 * STEP_MS); // GraphiQL is 3.5 MB of script to parse
} finally {
  await close();
  for (const server of pages) server.close();
}

const failed = results.filter((r) => !r.ok);
console.log(JSON.stringify({ passed: results.length - failed.length, failed: failed.length }));
process.exit(failed.length ? 1 : 0);
