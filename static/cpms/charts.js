/* Draw every <canvas data-chart="ID" data-series="key:Label[:type[:tone]],..."> from the JSON in
   the element ID (Django's json_script), with the vendored Chart.js. A series' type is bar, line
   or step (a line that holds each value until the next); its tone (accent, busy, wait, bad)
   picks its colour, else series take the colours in turn. Options on the canvas: data-type (bar
   or line), data-horizontal (bars along y), data-percent (an axis to 100 %), data-unit (every
   series on one axis, titled with the unit; else the second and later on a right-hand axis).
   Colours come from the stylesheet, so charts follow the light or dark theme. */
(function () {
  "use strict";
  if (!window.Chart) return;
  var css = getComputedStyle(document.documentElement);
  function colour(name, fallback) { return (css.getPropertyValue(name) || "").trim() || fallback; }
  var colours = [colour("--accent", "#0f766e"), colour("--st-busy", "#1d4ed8"), colour("--st-wait", "#92400e"), colour("--st-bad", "#b91c1c")];
  var tones = { accent: colours[0], busy: colours[1], wait: colours[2], bad: colours[3] };
  window.Chart.defaults.color = colour("--muted", "#5b6779");
  window.Chart.defaults.borderColor = colour("--line", "#e3e8ef");
  window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart]"), function (canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    var data = JSON.parse(source.textContent);
    var kind = canvas.dataset.type || "line";
    var percent = "percent" in canvas.dataset;
    var horizontal = "horizontal" in canvas.dataset;
    var unit = canvas.dataset.unit;
    var series = (canvas.dataset.series || "").split(",").filter(Boolean).map(function (spec, i) {
      var parts = spec.split(":");
      var stepped = parts[2] === "step";
      var type = stepped ? "line" : (parts[2] || kind);
      var c = tones[parts[3]] || colours[i % colours.length];
      return {
        label: parts[1] || parts[0],
        data: data[parts[0]] || [],
        type: type,
        borderColor: c,
        backgroundColor: type === "bar" ? c + "cc" : c,
        borderRadius: type === "bar" ? 3 : 0,
        yAxisID: horizontal ? undefined : (i === 0 || unit ? "y" : "y1"),
        spanGaps: true,
        stepped: stepped,
        pointRadius: type === "line" && !stepped && (data.labels || []).length <= 31 ? 2 : 0,
        borderWidth: 2,
        tension: stepped ? 0 : 0.25,
        order: type === "line" ? 0 : 1,
      };
    });
    var valueAxis = { beginAtZero: true, title: { display: series.length > 1, text: unit || (series[0] ? series[0].label : "") } };
    if (percent) { valueAxis.max = 100; valueAxis.ticks = { callback: function (v) { return v + " %"; } }; }
    var scales = horizontal ? { x: valueAxis, y: { grid: { display: false } } } : { y: valueAxis, x: { grid: { display: false } } };
    if (series.length > 1 && !horizontal && !unit) {
      scales.y1 = { beginAtZero: true, position: "right", grid: { drawOnChartArea: false },
                    title: { display: true, text: series[1].label }, ticks: { precision: 0 } };
    }
    canvas.chart = new window.Chart(canvas, {
      type: kind,
      data: { labels: data.labels || [], datasets: series },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, scales: scales,
        indexAxis: horizontal ? "y" : "x",
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { display: series.length > 1, labels: { boxWidth: 12 } } },
      },
    });
  });
})();
