// The lpmetrics network map: the public GraphQL view drawn with d3-geo (projection),
// h3-js (cell outlines) and the Natural Earth outline of world-atlas, all served by
// this service. Requests carry no credentials: every visitor sees the public view.
(() => {
  "use strict";

  const QUERY = `query Map($window: Window!) {
    network(window: $window) { coverage { reportingOrchestrators knownOrchestrators } }
    origins(level: CELL, window: $window) { code pixelsPerSecond orchestrators precision }
    regions(level: LIVEPEER_REGION, window: $window) {
      code name capacity currentStreams avgStreams pixelsPerSecond precision
      location { latitude longitude }
      coverage { reportingOrchestrators knownOrchestrators }
    }
    coverageGaps(window: $window) {
      cell demandShare nearestOrchestratorKm nearestRegion nearestOrchestratorReports precision
    }
  }`;
  const SVG = "http://www.w3.org/2000/svg";
  const LOW = [253, 224, 197];
  const HIGH = [179, 0, 60];

  const svg = document.getElementById("map");
  const tooltip = document.getElementById("tooltip");
  const select = document.getElementById("window");
  let world = null;
  let data = null;

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

  function el(name, attributes, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (parent) parent.appendChild(node);
    return node;
  }

  function color(t) {
    const c = LOW.map((low, i) => Math.round(low + (HIGH[i] - low) * t));
    return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
  }

  // h3 gives rings counter-clockwise (GeoJSON); d3-geo wants spherical polygons
  // clockwise, or it draws the rest of the globe instead of the cell.
  function cellFeature(cell) {
    const ring = h3.cellToBoundary(cell, true).slice().reverse();
    return { type: "Feature", geometry: { type: "Polygon", coordinates: [ring] } };
  }

  async function graphql(window) {
    const response = await fetch("/graphql", {
      method: "POST",
      credentials: "omit",
      headers: {
        "content-type": "application/json",
        accept: "application/graphql-response+json, application/json",
      },
      body: JSON.stringify({ query: QUERY, variables: { window } }),
    });
    const payload = await response.json();
    if (payload.errors && payload.errors.length) throw new Error(payload.errors[0].message);
    return payload.data;
  }

  function show(event, rows, title, code) {
    tooltip.replaceChildren();
    tooltip.dataset.code = code;
    const heading = document.createElement("strong");
    heading.textContent = title;
    const list = document.createElement("dl");
    for (const [label, field, value] of rows) {
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      dd.dataset.field = field;
      dd.textContent = format(value);
      list.append(dt, dd);
    }
    tooltip.append(heading, list);
    tooltip.hidden = false;
    const box = svg.getBoundingClientRect();
    tooltip.style.left = `${Math.min(event.clientX - box.left + 14, box.width - 240)}px`;
    tooltip.style.top = `${event.clientY - box.top + 14}px`;
  }

  function hide() {
    tooltip.hidden = true;
  }

  function hoverable(node, rows, title, code) {
    node.addEventListener("mouseenter", (event) => show(event, rows, title, code));
    node.addEventListener("mousemove", (event) => show(event, rows, title, code));
    node.addEventListener("mouseleave", hide);
    node.setAttribute("tabindex", "0");
    node.addEventListener("focus", () => {
      const r = node.getBoundingClientRect();
      show({ clientX: r.right, clientY: r.bottom }, rows, title, code);
    });
    node.addEventListener("blur", hide);
  }

  function legend(low, high) {
    const gradient = document.getElementById("legend-demand");
    gradient.replaceChildren();
    for (const t of [0, 0.5, 1]) el("stop", { offset: `${t * 100}%`, "stop-color": color(t) }, gradient);
    document.getElementById("legend-low").textContent = low === null ? "–" : format(low);
    document.getElementById("legend-high").textContent = high === null ? "–" : format(high);
  }

  function draw() {
    if (!world || !data) return;
    const width = svg.clientWidth || 960;
    const height = svg.clientHeight || 500;
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.replaceChildren();
    const projection = d3.geoEqualEarth().fitExtent([[8, 8], [width - 8, height - 8]], { type: "Sphere" });
    const path = d3.geoPath(projection);

    el("path", { class: "sphere", d: path({ type: "Sphere" }) }, svg);
    el("path", { class: "graticule", d: path(d3.geoGraticule10()) }, svg);
    el("path", { class: "land", d: path(topojson.feature(world, world.objects.countries)) }, svg);
    el("path", { class: "borders", d: path(topojson.mesh(world, world.objects.countries, (a, b) => a !== b)) }, svg);

    // Demand origins: cells shaded by pixels per second (log scale). A resolution-3
    // cell is a pixel or two on a world map, so a dot at its centre keeps it visible.
    const gaps = new Map(data.coverageGaps.map((g) => [g.cell, g]));
    const rates = data.origins.map((o) => o.pixelsPerSecond).filter((v) => v > 0);
    const low = rates.length ? Math.min(...rates) : null;
    const high = rates.length ? Math.max(...rates) : null;
    const scale = (v) => (high === low ? 1 : (Math.log(v) - Math.log(low)) / (Math.log(high) - Math.log(low)));
    legend(low, high);
    const cells = el("g", { class: "cells" }, svg);
    const centres = new Map();
    for (const o of data.origins) {
      const withheld = o.pixelsPerSecond === null;
      const gap = gaps.get(o.code);
      const [lat, lng] = h3.cellToLatLng(o.code);
      const at = projection([lng, lat]);
      if (!at) continue;
      centres.set(o.code, at);
      const node = el("g", {
        class: withheld ? "origin withheld" : "origin",
        "data-cell": o.code,
        "data-gap": gap ? "true" : "false",
      }, cells);
      const fill = withheld ? null : color(scale(o.pixelsPerSecond));
      const shape = el("path", { class: "cell", d: path(cellFeature(o.code)) }, node);
      const dot = el("circle", { class: "dot", cx: at[0].toFixed(1), cy: at[1].toFixed(1), r: 4 }, node);
      if (fill) {
        shape.setAttribute("fill", fill);
        dot.setAttribute("fill", fill);
      }
      const rows = [
        ["pixels/s", "pixelsPerSecond", o.pixelsPerSecond],
        ["orchestrators serving it", "orchestrators", o.orchestrators],
      ];
      if (gap) {
        rows.push(
          ["share of located demand", "demandShare", gap.demandShare],
          ["nearest orchestrator, km", "nearestOrchestratorKm", gap.nearestOrchestratorKm],
          ["nearest region", "nearestRegion", gap.nearestRegion],
          ["nearest reports", "nearestOrchestratorReports", gap.nearestOrchestratorReports],
        );
      }
      hoverable(node, rows, gap ? `Coverage gap · cell ${o.code}` : `Demand · cell ${o.code}`, o.code);
    }

    // Orchestrator regions: circles sized by capacity (area), withheld ones hollow.
    const regions = data.regions.filter((r) => r.location && r.coverage.knownOrchestrators > 0);
    const most = Math.max(1, ...regions.map((r) => r.capacity || 0));
    const group = el("g", { class: "regions" }, svg);
    for (const r of regions.sort((a, b) => (b.capacity || 0) - (a.capacity || 0))) {
      const at = projection([r.location.longitude, r.location.latitude]);
      if (!at) continue;
      const radius = r.capacity ? 5 + 18 * Math.sqrt(r.capacity / most) : 6;
      const node = el("circle", {
        class: r.capacity === null ? "region withheld" : "region",
        cx: at[0].toFixed(1),
        cy: at[1].toFixed(1),
        r: radius.toFixed(1),
        "data-code": r.code,
      }, group);
      hoverable(node, [
        ["capacity (streams)", "capacity", r.capacity],
        ["streams now", "currentStreams", r.currentStreams],
        ["average streams", "avgStreams", r.avgStreams],
        ["pixels/s", "pixelsPerSecond", r.pixelsPerSecond],
        ["orchestrators reporting", "reportingOrchestrators", r.coverage.reportingOrchestrators],
        ["orchestrators known", "knownOrchestrators", r.coverage.knownOrchestrators],
      ], `${r.name} (${r.code})`, r.code);
    }

    // Gaps outlined on top: the cell and a ring round its dot.
    const outlines = el("g", { class: "gaps" }, svg);
    for (const g of data.coverageGaps) {
      el("path", { class: "gap", d: path(cellFeature(g.cell)), "data-cell": g.cell }, outlines);
      const at = centres.get(g.cell) || projection(h3.cellToLatLng(g.cell).reverse());
      if (at) el("circle", { class: "gap", cx: at[0].toFixed(1), cy: at[1].toFixed(1), r: 8, "data-cell": g.cell }, outlines);
    }
    document.body.dataset.state = "ready";
  }

  async function load() {
    document.body.dataset.state = "loading";
    const errorBox = document.getElementById("error");
    try {
      data = await graphql(select.value);
      const c = data.network.coverage;
      document.getElementById("coverage").textContent =
        `${c.reportingOrchestrators} of ${c.knownOrchestrators} orchestrators report: ` +
        "every figure covers only the reporting ones.";
      errorBox.hidden = true;
      draw();
    } catch (error) {
      errorBox.textContent = `Could not load the public view: ${error.message}`;
      errorBox.hidden = false;
      document.body.dataset.state = "error";
    }
  }

  async function start() {
    const response = await fetch(document.body.dataset.world, { credentials: "omit" });
    world = await response.json();
    select.addEventListener("change", load);
    window.addEventListener("resize", draw);
    await load();
  }

  start();
})();
