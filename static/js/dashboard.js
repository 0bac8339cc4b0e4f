/* The dashboard's charts (reports app). Each chart is a <div class="chart" data-chart="ID">; its
   ECharts option is plain JSON in <script type="application/json" id="ID"> (Django's json_script),
   which the browser never executes, so the strict Content-Security-Policy (script-src 'self')
   allows it. ECharts itself is served from our origin (static/vendor/echarts). */
(function () {
  "use strict";

  function render() {
    if (typeof window.echarts === "undefined") {
      return;
    }
    var charts = [];
    document.querySelectorAll(".chart[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-chart"));
      if (!source) {
        return;
      }
      var option = JSON.parse(source.textContent);
      // Through the CSSOM, which the policy allows (a style="" attribute it would refuse).
      el.style.height = (parseInt(el.getAttribute("data-height"), 10) || 320) + "px";
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option);
      el.setAttribute("data-rendered", "true");
      charts.push(chart);
    });
    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () {
        charts.forEach(function (c) { c.resize(); });
      }, 150);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
})();
