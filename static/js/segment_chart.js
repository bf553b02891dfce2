/* Draws a segment's movement chart from the JSON rendered by json_script (no inline script: CSP). */
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("movement-data");
    var canvas = document.getElementById("movement-chart");
    if (!source || !canvas || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      data: {
        labels: data.months,
        datasets: [
          { type: "bar", label: data.labels.entered, data: data.entered, backgroundColor: "#3a9d5d", stack: "moves" },
          { type: "bar", label: data.labels.left, data: data.left, backgroundColor: "#d04f5f", stack: "moves" },
          {
            type: "line", label: data.labels.size, data: data.size, borderColor: "#1f5fa8",
            backgroundColor: "#1f5fa8", tension: 0.2, yAxisID: "size"
          }
        ]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
        scales: {
          x: { stacked: true },
          y: { stacked: true, ticks: { precision: 0 }, title: { display: true, text: data.labels.entered + " / " + data.labels.left } },
          size: { position: "right", beginAtZero: true, ticks: { precision: 0 }, grid: { drawOnChartArea: false } }
        }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
