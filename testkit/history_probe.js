(function () {
  const out = {figures: [], skipped: [], rows: [], links: []};
  for (const fig of document.querySelectorAll("figure.trend")) {
    const svg = fig.querySelector("svg");
    svg.scrollIntoView();
    const box = svg.getBoundingClientRect();
    const points = [...svg.querySelectorAll("circle.point")].map(c => {
      const r = c.getBoundingClientRect();
      const x = r.left + r.width / 2, y = r.top + r.height / 2;
      const hit = document.elementFromPoint(x, y);
      return {x: x - box.left, y: y - box.top, w: r.width, h: r.height, value: Number(c.dataset.value),
              failed: c.classList.contains("failed"), fill: getComputedStyle(c).fill,
              hit: hit === c || c.contains(hit)};
    });
    const labels = [...svg.querySelectorAll("text.y-label")].map(t => {
      const r = t.getBoundingClientRect();
      return {text: t.textContent, x: r.left - box.left, y: r.top - box.top, w: r.width, h: r.height};
    });
    const ticks = [...svg.querySelectorAll("text.x-label")].map(t => {
      const r = t.getBoundingClientRect();
      return {text: t.textContent, when: t.dataset.when, x: r.left + r.width / 2 - box.left, w: r.width,
              y: r.top - box.top};
    });
    const thresholds = [...svg.querySelectorAll("line.threshold")].map(l => {
      const r = l.getBoundingClientRect();
      return {when: l.dataset.when, x: r.left + r.width / 2 - box.left, h: r.height,
              label: l.querySelector("title").textContent};
    });
    out.figures.push({series: fig.dataset.series, project: fig.closest("section").dataset.project,
                      caption: fig.querySelector("figcaption").innerText, width: box.width, height: box.height,
                      points, labels, ticks, thresholds});
  }
  out.strips = [...document.querySelectorAll("section.status")].map(section => ({
    project: section.dataset.project,
    top: section.getBoundingClientRect().top + window.scrollY,
    duties: [...section.querySelectorAll(".duty")].map(d => {
      const r = d.getBoundingClientRect();
      return {duty: d.dataset.duty, state: d.dataset.state, text: d.innerText, w: r.width, h: r.height,
              colour: getComputedStyle(d).color, background: getComputedStyle(d).backgroundColor};
    }),
    facts: [...section.querySelectorAll("ul.facts li")].map(li => li.innerText)}));
  const firstChart = document.querySelector("figure.trend");
  out.firstChartTop = firstChart ? firstChart.getBoundingClientRect().top + window.scrollY : null;
  out.columns = [...document.querySelectorAll("table.runs th")].map(th => th.innerText);
  out.skipped = [...document.querySelectorAll("ul.skipped-records li")].map(li => li.innerText);
  out.rows = [...document.querySelectorAll("table.runs tr.run")].map(tr => [...tr.cells].map(c => c.innerText));
  out.links = [...document.querySelectorAll("table.runs a")].map(a => a.href);
  const pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
