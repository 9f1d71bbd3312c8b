/*
 * Draws every chart on the page. Each container names the <script type="application/json"> that
 * holds its Plotly figure (Django's json_script): <div class="plot" data-figure="figure-x">.
 * No inline scripts: the content security policy allows scripts from our own origin only.
 *
 * plotly.js (0.5 MB compressed, and as much work to start as the rest of the page) is fetched once
 * the page has loaded (its address is this script's data-plotly), so the figures, tables and text
 * show and answer at once; then the charts are drawn, those in view first, one per task so the page
 * stays responsive. A figure may carry a layout for narrow containers (phones) in
 * layout.meta.narrow, laid over its layout when its container is under NARROW_PX wide.
 */
(function () {
  "use strict";

  var NARROW_PX = 480;
  var script = document.currentScript;
  var plotlySource = script ? script.getAttribute("data-plotly") : null;
  var drawn = [];

  function readFigure(container) {
    var scriptId = container.getAttribute("data-figure");
    var source = scriptId ? document.getElementById(scriptId) : null;
    if (!source) {
      return null;
    }
    return JSON.parse(source.textContent);
  }

  function merged(base, override) {
    var out = Object.assign({}, base);
    Object.keys(override).forEach(function (key) {
      var value = override[key];
      var current = out[key];
      var both = value && current && typeof value === "object" && typeof current === "object";
      out[key] = both && !Array.isArray(value) ? merged(current, value) : value;
    });
    return out;
  }

  function layoutFor(figure, narrow) {
    var layout = Object.assign({}, figure.layout || {}, { autosize: true });
    var meta = layout.meta || {};
    if (narrow && meta.narrow) {
      layout = merged(layout, meta.narrow);
    }
    return layout;
  }

  function isNarrow(container) {
    return container.clientWidth > 0 && container.clientWidth < NARROW_PX;
  }

  function draw(container) {
    var figure = readFigure(container);
    if (!figure || !window.Plotly) {
      return;
    }
    var narrow = isNarrow(container);
    var layout = layoutFor(figure, narrow);
    var config = Object.assign({ responsive: true, displaylogo: false }, figure.config || {});
    if (layout.height) {
      // A chart that asks for its own height (long lists) gets a container that tall.
      container.style.height = layout.height + "px";
    }
    window.Plotly.newPlot(container, figure.data || [], layout, config).then(function () {
      drawn.push({ container: container, figure: figure, config: config, narrow: narrow });
      container.setAttribute("data-drawn-at", String(Math.round(window.performance.now())));
      container.setAttribute("data-drawn", "true");
    });
  }

  function inView(container) {
    var box = container.getBoundingClientRect();
    return box.bottom > 0 && box.top < window.innerHeight;
  }

  function drawAll() {
    var containers = Array.prototype.slice.call(document.querySelectorAll(".plot[data-figure]"));
    var queue = containers.filter(inView).concat(containers.filter(function (c) { return !inView(c); }));
    function next() {
      var container = queue.shift();
      if (container) {
        draw(container);
        window.setTimeout(next, 0);
      }
    }
    next();
  }

  function redrawWhereWidthClassChanged() {
    drawn.forEach(function (chart) {
      var narrow = isNarrow(chart.container);
      if (narrow !== chart.narrow) {
        chart.narrow = narrow;
        var layout = layoutFor(chart.figure, narrow);
        if (layout.height) {
          chart.container.style.height = layout.height + "px";
        }
        window.Plotly.react(chart.container, chart.figure.data || [], layout, chart.config);
      }
    });
  }

  function loadPlotlyThenDraw() {
    if (!document.querySelector(".plot[data-figure]")) {
      return;
    }
    if (window.Plotly || !plotlySource) {
      drawAll();
      return;
    }
    var tag = document.createElement("script");
    tag.src = plotlySource;
    tag.onload = drawAll;
    document.head.appendChild(tag);
  }

  var resizePending = false;
  window.addEventListener("resize", function () {
    if (!resizePending) {
      resizePending = true;
      window.setTimeout(function () {
        resizePending = false;
        redrawWhereWidthClassChanged();
      }, 150);
    }
  });

  if (document.readyState === "complete") {
    loadPlotlyThenDraw();
  } else {
    window.addEventListener("load", loadPlotlyThenDraw);
  }
})();
