// Draws the report charts from the JSON each page embeds (Chart.js, vendored).
(function () {
  "use strict";
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  var palette = ["#4a6fa5", "#c0392b", "#e67e22", "#8e44ad", "#16a085", "#7f8c8d",
                 "#d35400", "#2c3e50", "#27ae60", "#b7950b"];
  function drawLog() {
    var log = data("sms-log-chart-data");
    var logCanvas = document.getElementById("sms-log-chart");
    if (log && logCanvas && window.Chart && !Chart.getChart(logCanvas)) {
      log.datasets.forEach(function (d, i) { d.backgroundColor = palette[i % palette.length]; });
      new Chart(logCanvas, {
        type: "bar",
        data: log,
        options: {
          indexAxis: "y", animation: false, responsive: true, maintainAspectRatio: false,
          scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } },
          plugins: { legend: { position: "bottom", labels: { boxWidth: 12,
            filter: function (item, chart) {
              return chart.datasets[item.datasetIndex].data.some(function (v) { return v > 0; });
            } } } }
        }
      });
    }
  }
  drawLog();
  // Later pages load the summary afterwards (htmx): draw its chart once it is in.
  document.addEventListener("htmx:afterSettle", drawLog);
  var status = data("sms-status-chart-data");
  var statusCanvas = document.getElementById("sms-status-chart");
  if (status && statusCanvas && window.Chart) {
    new Chart(statusCanvas, {
      type: "doughnut",
      data: { labels: status.labels, datasets: [{ data: status.counts,
        backgroundColor: ["#e6a817", "#2e8b57", "#c0392b"] }] },
      options: { animation: false, maintainAspectRatio: false,
        plugins: { legend: { position: "bottom" } } }
    });
  }
})();
