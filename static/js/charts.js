/* Draws the 360 page's charts from the JSON rendered by json_script (no inline script: CSP). */
(function () {
  "use strict";

  var PALETTE = ["#1f5fa8", "#e07b39", "#3a9d5d", "#8c5bb8", "#c9a227", "#d04f5f", "#3aa6b9", "#7a7f87"];

  function draw() {
    var source = document.getElementById("chart-data");
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var common = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } }
    };

    var spend = document.getElementById("spend-chart");
    if (spend && data.spend) {
      new window.Chart(spend, {
        type: "bar",
        data: {
          labels: data.spend.months,
          datasets: data.spend.series.map(function (s, i) {
            return { label: s.label, data: s.values, backgroundColor: PALETTE[i % PALETTE.length], stack: "spend" };
          })
        },
        options: Object.assign({}, common, {
          scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } }
        })
      });
    }

    var members = document.getElementById("members-chart");
    if (members) {
      new window.Chart(members, {
        type: "line",
        data: {
          labels: data.members.months,
          datasets: [{
            label: members.dataset.label,
            data: data.members.values,
            borderColor: PALETTE[0],
            backgroundColor: PALETTE[0],
            tension: 0.2
          }]
        },
        options: Object.assign({}, common, { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } })
      });
    }
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
