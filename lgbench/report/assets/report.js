// Draws the report's figures: specs in #lgbench-figures, plotly.js inlined above this script.
// Sets data-plots on <body> to "ready" once every plot is drawn, or "failed" (tests wait on it).
(function () {
  "use strict";
  var body = document.body;
  var source = document.getElementById("lgbench-figures");
  if (typeof window.Plotly === "undefined" || source === null) {
    body.dataset.plots = "failed";
    console.error("lgbench report: plotly.js or the figure specs are missing");
    return;
  }
  var specs = JSON.parse(source.textContent);
  var config = {
    displaylogo: false,
    responsive: true,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
    toImageButtonOptions: { format: "png", scale: 2 }
  };
  var drawn = specs.map(function (spec) {
    var div = document.getElementById(spec.id);
    if (div === null) {
      return Promise.reject(new Error("no element for figure " + spec.id));
    }
    return window.Plotly.newPlot(div, spec.data, spec.layout, config);
  });
  Promise.all(drawn).then(
    function () {
      body.dataset.plots = "ready";
    },
    function (error) {
      body.dataset.plots = "failed";
      console.error("lgbench report: a plot failed to draw", error);
    }
  );
})();
