// Drives Debian's headless Chromium (through playwright-core, no downloaded browser) over
// gomitm's HTML reports, and markdown-it over its Markdown reports. Called by
// tests/report_html.rs with one JSON argument:
//   { "node_modules": DIR, "chromium": PATH, "profile": DIR,
//     "pages": [{ "file", "bars", "failed"?, "filter"?, "filtered"?, "screenshot"? }],
//     "markdown": [{ "file", "tables": { "Modules": N, "Failures": N, ... } }] }
// Prints one line per check; exits 1 on the first failed assertion.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { readFileSync } from "node:fs";
import assert from "node:assert/strict";

const cfg = JSON.parse(process.argv[2]);
const require = createRequire(cfg.node_modules + "/");
const { chromium } = require("playwright-core");
const MarkdownIt = require("markdown-it");

const PHASES = ["dns", "connect", "tls", "send", "wait", "receive"];

async function checkPage(context, p) {
  const page = await context.newPage();
  const url = pathToFileURL(p.file).href;
  // Every request but the page itself is counted and refused: the report must be whole.
  const others = [];
  page.on("request", (r) => { if (r.url() !== url) others.push(r.url()); });
  await context.route("**/*", (route) => {
    if (route.request().url() === url) return route.continue();
    others.push(route.request().url());
    return route.abort();
  });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await page.goto(url, { waitUntil: "load" });
  await page.waitForSelector("#chart svg");

  const bars = await page.locator("#chart .bar").count();
  assert.equal(bars, p.bars, `${p.file}: one bar per flow`);
  console.log(`ok ${p.file}: ${bars} bars`);
  const legend = await page.locator("#legend").innerText();
  for (const ph of PHASES) assert.ok(legend.includes(ph), `legend lacks ${ph}: ${legend}`);
  const drawn = await page.$$eval("#chart .ph", (els) => [...new Set(els.map((e) => e.dataset.phase))]);
  if (p.phases) {
    for (const ph of p.phases) assert.ok(drawn.includes(ph), `no ${ph} segment drawn; drawn: ${drawn}`);
    console.log(`ok phases drawn: ${drawn.join(" ")}`);
  }
  const kinds = await page.$$eval("#chart .bar", (els) => [...new Set(els.map((e) => e.dataset.kind))]);
  if (p.kinds) {
    for (const k of p.kinds) assert.ok(kinds.includes(k), `no bar of Go kind ${k}; kinds: ${kinds}`);
    console.log(`ok kinds: ${kinds.join(" ")}`);
  }

  if (p.failed !== undefined) {
    const bar = page.locator(`#chart .bar[data-id="${p.failed}"]`);
    assert.equal(await bar.count(), 1, `failed flow #${p.failed} has a bar`);
    assert.ok((await bar.getAttribute("class")).includes("failed"), "failed flow marked failed");
    assert.equal(await bar.locator(".mark").count(), 1, "failed flow has its ✕");
    assert.ok(await page.locator("#detail").isHidden(), "no detail before a click");
    await bar.locator(".hit").click();
    const detail = page.locator("#detail");
    await detail.waitFor({ state: "visible" });
    const text = await detail.innerText();
    assert.ok(text.includes(`#${p.failed}`), `detail names the flow: ${text}`);
    for (const word of p.detail || []) assert.ok(text.includes(word), `detail lacks ${word}: ${text}`);
    console.log(`ok click #${p.failed}: ${text.replace(/\s+/g, " ").slice(0, 160)}`);
    if (p.screenshot) {
      await page.screenshot({ path: p.screenshot, fullPage: true });
      console.log(`ok screenshot ${p.screenshot}`);
    }
    await page.keyboard.press("Escape");
    assert.ok(await detail.isHidden(), "Escape closes the detail");
    // Keyboard: the chart takes focus, arrows move between bars, Enter opens the detail.
    await page.locator("#chart").focus();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    await detail.waitFor({ state: "visible" });
    console.log("ok keyboard opens a detail");
  }

  // Zoom and pan change the visible span; the reset shows the whole run again.
  await page.click("#zoom-in");
  assert.match(await page.locator("#shown").innerText(), /showing/, "zoomed in");
  await page.locator("#chart").focus();
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("0");
  assert.doesNotMatch(await page.locator("#shown").innerText(), /showing/, "whole run again");
  assert.equal(await page.locator("#chart .bar").count(), p.bars, "zoom keeps every bar");

  if (p.filter !== undefined) {
    await page.fill("#filter", p.filter);
    const n = await page.locator("#chart .bar").count();
    assert.equal(n, p.filtered, `filter ${p.filter}`);
    assert.ok(n < p.bars, "the filter narrows the bars");
    await page.fill("#filter", "");
    assert.equal(await page.locator("#chart .bar").count(), p.bars);
    console.log(`ok filter ${p.filter}: ${n} of ${p.bars}`);
  }

  // Grouped by connection instead of host: the same bars, in at least as many groups.
  const hostGroups = await page.locator("#chart .group").count();
  await page.selectOption("#group-by", "connection");
  assert.equal(await page.locator("#chart .bar").count(), p.bars, "grouping keeps every bar");
  const connGroups = await page.locator("#chart .group").count();
  assert.ok(connGroups >= hostGroups, `${connGroups} connection groups, ${hostGroups} hosts`);
  await page.selectOption("#group-by", "host");
  console.log(`ok grouped: ${hostGroups} hosts, ${connGroups} connections`);

  // Dark colour scheme: the page follows it.
  const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.emulateMedia({ colorScheme: "dark" });
  const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(light, dark, "prefers-color-scheme: dark changes the page");
  await page.emulateMedia({ colorScheme: "light", media: "print" });
  assert.ok(await page.locator(".controls").isHidden(), "print hides the controls");

  assert.deepEqual(errors, [], "no script error");
  assert.deepEqual(others, [], "no request other than the file itself");
  console.log(`ok ${p.file}: no script error, no network request`);
  await context.unrouteAll();
  await page.close();
}

function checkMarkdown(m) {
  const html = new MarkdownIt({ html: true }).render(readFileSync(m.file, "utf8"));
  // Each table is the one after its heading: "<h3>Modules (3)</h3>" … "<table>".
  for (const [name, rows] of Object.entries(m.tables)) {
    const at = html.search(new RegExp(`<h3>[^<]*${name} \\(\\d+\\)</h3>`));
    assert.ok(at >= 0, `${m.file}: no ${name} heading in\n${html}`);
    const table = html.slice(at).match(/<table>[\s\S]*?<\/table>/);
    assert.ok(table, `${m.file}: no table after ${name}`);
    const body = table[0].match(/<tbody>([\s\S]*?)<\/tbody>/);
    const n = body ? (body[1].match(/<tr>/g) || []).length : 0;
    assert.equal(n, rows, `${m.file}: ${name} rows`);
    const head = (table[0].match(/<th>/g) || []).length;
    for (const tr of (body ? body[1] : "").split("</tr>").filter((t) => t.includes("<td"))) {
      assert.equal((tr.match(/<td>/g) || []).length, head, `a row with as many cells as the header: ${tr}`);
    }
    console.log(`ok ${m.file}: ${name} table has ${n} rows`);
  }
  for (const bad of ["<script", "\u001b", "<b>"]) assert.ok(!html.includes(bad), `${m.file} renders ${bad}`);
}

// A fresh profile directory (the --user-data-dir), which playwright takes as an argument.
const context = await chromium.launchPersistentContext(cfg.profile, {
  executablePath: cfg.chromium,
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  for (const p of cfg.pages) await checkPage(context, p);
} finally {
  await context.close();
}
for (const m of cfg.markdown) checkMarkdown(m);
console.log("all ok");
