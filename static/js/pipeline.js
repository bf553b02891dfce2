/* Draws the pipeline page's charts from the JSON rendered by json_script (no inline script: CSP).
   A click on a bar or point opens the list behind it (the same page with the drill parameters). */
(function () {
  "use strict";

  var PALETTE = ["#1f5fa8", "#e07b39", "#3a9d5d", "#8c5bb8", "#c9a227", "#d04f5f", "#3aa6b9", "#7a7f87"];

  function opener(base, links) {
    return function (event, elements) {
      if (!elements.length || !links) {
        return;
      }
      var drill = links[elements[0].index];
      if (drill) {
        window.location.href = "?" + (base ? base + "&" : "") + drill + "#drill";
      }
    };
  }

  function options(base, links, extra) {
    return Object.assign({
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      onClick: opener(base, links),
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
      scales: { y: { beginAtZero: true } }
    }, extra || {});
  }

  function bar(canvas, block, series, base) {
    if (!canvas || !block || !block.labels.length) {
      return;
    }
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: block.labels,
        datasets: series.map(function (s, i) {
          return { label: s.label, data: s.values, backgroundColor: PALETTE[i % PALETTE.length] };
        })
      },
      options: options(base, block.links)
    });
  }

  function draw() {
    var source = document.getElementById("pipeline-data");
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var base = data.base || "";

    var stage = document.getElementById("stage-chart");
    if (stage) {
      bar(stage, data.stage, [
        { label: stage.dataset.weightedLabel, values: data.stage.weighted },
        { label: stage.dataset.valueLabel, values: data.stage.value }
      ], base);
    }
    var team = document.getElementById("team-chart");
    if (team) {
      bar(team, data.team, [{ label: team.dataset.weightedLabel, values: data.team.weighted }], base);
    }
    var month = document.getElementById("month-chart");
    if (month) {
      bar(month, data.month, [{ label: month.dataset.weightedLabel, values: data.month.weighted }], base);
    }
    var reasons = document.getElementById("reason-chart");
    if (reasons) {
      bar(reasons, data.reasons, [{ label: reasons.dataset.countLabel, values: data.reasons.count }], base);
    }
    var cohort = document.getElementById("cohort-chart");
    if (cohort && data.cohort.labels.length) {
      new window.Chart(cohort, {
        type: "line",
        data: {
          labels: data.cohort.labels,
          datasets: [
            { label: cohort.dataset.qualifiedLabel, data: data.cohort.qualified_rate, borderColor: PALETTE[0],
              backgroundColor: PALETTE[0], tension: 0.2, spanGaps: true },
            { label: cohort.dataset.wonLabel, data: data.cohort.won_rate, borderColor: PALETTE[2],
              backgroundColor: PALETTE[2], tension: 0.2, spanGaps: true }
          ]
        },
        options: options(base, data.cohort.links, { scales: { y: { beginAtZero: true, max: 100 } } })
      });
    }
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
