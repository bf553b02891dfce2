/* Draws the home dashboard's tier chart from the JSON rendered by json_script (no inline script: CSP). */
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("dashboard-data");
    var canvas = document.getElementById("tier-chart");
    if (!source || !canvas || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var datasets = [{
      label: canvas.dataset.countLabel,
      data: data.counts,
      backgroundColor: "#1f5fa8",
      yAxisID: "count"
    }];
    var scales = { count: { type: "linear", position: "left", beginAtZero: true, ticks: { precision: 0 } } };
    var hasRevenue = data.revenue.some(function (value) { return value !== null; });
    if (hasRevenue) {
      datasets.push({
        label: canvas.dataset.revenueLabel,
        data: data.revenue,
        backgroundColor: "#e07b39",
        yAxisID: "revenue"
      });
      scales.revenue = { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false } };
    }
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: data.tiers, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: scales,
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
