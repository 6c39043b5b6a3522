// Charts of the dashboard: one Chart per canvas, drawn once. The data comes from a json_script
// inside the polled fragment (the canvas is outside it); after every HTMX swap the same Chart
// gets the new data and redraws in place: no new canvas, no flicker.
(function () {
  "use strict";

  function chartData(canvas) {
    const source = document.getElementById(canvas.dataset.chartSource);
    return source ? JSON.parse(source.textContent) : null;
  }

  function compactUsd(value) {
    return "$" + Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 }).format(value);
  }

  function options() {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: { duration: 300 },
      plugins: { legend: { display: false } },
      scales: { y: { beginAtZero: true, ticks: { callback: compactUsd } } },
    };
  }

  // The current price as a dashed vertical line where the chart's data says it falls (priceIndex:
  // a category index, x.5 between two bars); charts without one are left alone.
  const priceLine = {
    id: "priceLine",
    afterDatasetsDraw: function (chart) {
      const at = chart.data.priceIndex;
      if (typeof at !== "number" || !chart.data.labels.length) return;
      const x = chart.scales.x.getPixelForValue(at);
      const area = chart.chartArea;
      const ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = ctx.fillStyle = "#264b73";
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(x, area.top);
      ctx.lineTo(x, area.bottom);
      ctx.stroke();
      ctx.font = "11px system-ui, sans-serif";
      ctx.fillText(chart.data.priceLabel || "price", x + 4, area.top + 10);
      ctx.restore();
    },
  };

  function draw(canvas) {
    const data = chartData(canvas);
    if (!data || typeof Chart === "undefined") return;
    const chart = Chart.getChart(canvas);
    if (!chart) {
      new Chart(canvas, { type: canvas.dataset.chart, data: data, options: options(), plugins: [priceLine] });
      return;
    }
    Object.keys(data).forEach(function (key) {
      if (key !== "datasets") chart.data[key] = data[key];
    });
    data.datasets.forEach(function (dataset, i) {
      if (chart.data.datasets[i]) Object.assign(chart.data.datasets[i], dataset);
      else chart.data.datasets.push(dataset);
    });
    chart.data.datasets.length = data.datasets.length;
    chart.update();
  }

  function drawAll() {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", drawAll);
  document.addEventListener("htmx:afterSettle", drawAll);
  // A failed refresh keeps the last answer on screen, marked as not refreshed.
  ["htmx:responseError", "htmx:sendError"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      event.target.classList.add("refresh-failed");
    });
  });
})();
