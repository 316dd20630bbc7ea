/* Draw every <canvas data-chart="ID" data-series="key:Label,..."> from the JSON in the
   element ID (Django's json_script), with the vendored Chart.js. No data: the canvas says so. */
(function () {
  "use strict";
  if (!window.Chart) return;
  var colours = ["#0b6bcb", "#1f8a4c", "#b7791f", "#c53030"];
  Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart]"), function (canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    var data = JSON.parse(source.textContent);
    var series = (canvas.dataset.series || "").split(",").filter(Boolean).map(function (spec, i) {
      var parts = spec.split(":");
      return {
        label: parts[1] || parts[0],
        data: data[parts[0]] || [],
        borderColor: colours[i % colours.length],
        backgroundColor: colours[i % colours.length],
        yAxisID: i === 0 ? "y" : "y1",
        spanGaps: true,
        pointRadius: 0,
      };
    });
    var scales = { y: { beginAtZero: true, title: { display: true, text: series[0] ? series[0].label : "" } } };
    if (series.length > 1) {
      scales.y1 = { beginAtZero: true, position: "right", grid: { drawOnChartArea: false },
                    title: { display: true, text: series[1].label } };
    }
    canvas.chart = new window.Chart(canvas, {
      type: canvas.dataset.type || "line",
      data: { labels: data.labels || [], datasets: series },
      options: { animation: false, responsive: true, maintainAspectRatio: false, scales: scales },
    });
  });
})();
