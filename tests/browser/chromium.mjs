// Headless Debian chromium as every browser test here starts it (puppeteer-core, a
// fresh profile, nothing in the background that would reach beyond loopback), and the
// LPM_* settings the Python test passes in.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import puppeteer from "puppeteer-core";

export const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";

export function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

// Returns { browser, close }: close() ends the browser and removes its profile.
export async function launchChromium(profilePrefix, extraArgs = []) {
  const profile = mkdtempSync(path.join(tmpdir(), profilePrefix));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...extraArgs,
    ],
  });
  const close = async () => {
    try {
      await browser.close();
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  };
  return { browser, close };
}
