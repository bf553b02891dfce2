/* Draws the provisioning assessment's bars (on-time rate per workstation and per executor) from the JSON
   rendered by json_script (no inline script: CSP). The tables beside them carry the same numbers. */
(function () {
  "use strict";

  function bars(canvasId, rows, label) {
    var canvas = document.getElementById(canvasId);
    if (!canvas || !rows || !rows.length) {
      return;
    }
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.map(function (r) { return r.name; }),
        datasets: [{ label: label, data: rows.map(function (r) { return r.rate; }), backgroundColor: "#1f5fa8" }]
      },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: { x: { min: 0, max: 100 } },
        plugins: { legend: { display: false } }
      }
    });
  }

  function draw() {
    var source = document.getElementById("assessment-chart-data");
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    bars("workstation-chart", data.workstations, data.label);
    bars("executor-chart", data.executors, data.label);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
