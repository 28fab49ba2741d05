// The client card: draws the revenue chart from the JSON the page carries
// (json_script), on load and whenever htmx swaps the overview tab in. Without
// JavaScript the table under the chart carries the same figures.
(() => {
  const PALETTE = ["#1f5fbf", "#1b7f3b", "#c98a00", "#8e3fbf", "#d14343", "#0e8a8a", "#6b7280",
    "#a16207", "#2563eb", "#be185d", "#4d7c0f", "#7c3aed"];

  function draw(root) {
    if (typeof window.Chart === "undefined") return;
    root.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      if (canvas.dataset.drawn) return;
      const source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      const data = JSON.parse(source.textContent);
      const lang = document.documentElement.lang || undefined;
      const amount = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });
      canvas.dataset.drawn = "1";
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: data.datasets.map((set, index) => ({
            label: set.label,
            data: set.data.map(Number),
            backgroundColor: PALETTE[index % PALETTE.length],
            stack: "revenue",
          })),
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          interaction: { mode: "index", intersect: false },
          scales: {
            x: { stacked: true },
            y: { stacked: true, ticks: { callback: (value) => amount.format(value) } },
          },
          plugins: {
            tooltip: {
              callbacks: { label: (item) => `${item.dataset.label}: ${amount.format(item.parsed.y)}` },
            },
          },
        },
      });
      // The chart is there: fold the table (it stays one click away).
      const table = canvas.closest("section")?.querySelector("details[data-chart-table]");
      if (table) table.open = false;
    });
  }

  document.addEventListener("DOMContentLoaded", () => draw(document));
  document.addEventListener("htmx:afterSettle", () => draw(document));
})();
