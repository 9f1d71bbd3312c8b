/*
 * Draws every chart on the page. Each container names the <script type="application/json"> that
 * holds its Plotly figure (Django's json_script): <div class="plot" data-figure="figure-x">.
 * No inline scripts: the content security policy allows scripts from our own origin only.
 */
(function () {
  "use strict";

  function readFigure(container) {
    var scriptId = container.getAttribute("data-figure");
    var source = scriptId ? document.getElementById(scriptId) : null;
    if (!source) {
      return null;
    }
    return JSON.parse(source.textContent);
  }

  function draw(container) {
    var figure = readFigure(container);
    if (!figure || !window.Plotly) {
      return;
    }
    var config = Object.assign({ responsive: true, displaylogo: false }, figure.config || {});
    var layout = Object.assign({}, figure.layout || {}, { autosize: true });
    if (layout.height) {
      // A chart that asks for its own height (long lists) gets a container that tall.
      container.style.height = layout.height + "px";
    }
    window.Plotly.newPlot(container, figure.data || [], layout, config).then(function () {
      container.setAttribute("data-drawn", "true");
    });
  }

  function drawAll() {
    var containers = document.querySelectorAll(".plot[data-figure]");
    Array.prototype.forEach.call(containers, draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
