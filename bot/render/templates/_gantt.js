// A tap (phones show no hover titles) or a keyboard focus on a row shows its tooltip above the chart.
(function () {
  var tip = document.getElementById("tip");
  if (!tip) { return; }
  var picked = null;
  function show(group) {
    if (picked) { picked.classList.remove("picked"); }
    picked = group;
    group.classList.add("picked");
    tip.textContent = group.querySelector("title").textContent;
  }
  document.querySelectorAll(".gantt g[tabindex]").forEach(function (group) {
    group.addEventListener("click", function () { show(group); });
    group.addEventListener("focus", function () { show(group); });
  });
})();
