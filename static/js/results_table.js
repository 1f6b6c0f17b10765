// The matches table: sort by any column header and filter by text or minimum correlation, in
// the browser, without running the search again.
(function () {
  "use strict";
  const table = document.getElementById("matches");
  if (!table) return;
  const body = table.tBodies[0];
  const rows = Array.prototype.slice.call(body.querySelectorAll("tr[data-rank]"));
  const textFilter = document.getElementById("match-filter");
  const minR = document.getElementById("match-min-r");
  const shown = document.getElementById("matches-shown");

  function value(row, key, type) {
    const raw = row.dataset[key];
    if (type !== "number") return (raw || "").toLowerCase();
    return raw === "" || raw === undefined ? null : parseFloat(raw);
  }

  function sortBy(header, button) {
    const key = button.dataset.sort;
    const type = button.dataset.type;
    const current = header.getAttribute("aria-sort");
    // Numbers other than rank, distance and episode read best from the top down; the sort is
    // stable, so an episode's matches stay in rank order.
    const ascendingFirst = key === "rank" || key === "d" || key === "episode";
    const firstDirection = type === "number" && !ascendingFirst ? "descending" : "ascending";
    const direction = current === firstDirection
      ? (firstDirection === "ascending" ? "descending" : "ascending")
      : firstDirection;
    table.querySelectorAll("th[aria-sort]").forEach(function (th) { th.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", direction);
    const factor = direction === "ascending" ? 1 : -1;
    rows.sort(function (a, b) {
      const x = value(a, key, type);
      const y = value(b, key, type);
      if (x === null && y === null) return 0;
      if (x === null) return 1;  // missing values last, whichever the direction
      if (y === null) return -1;
      return (x < y ? -1 : x > y ? 1 : 0) * factor;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  const fold = window.stocksite.foldSearchText;

  function applyFilters() {
    const text = fold(textFilter.value || "").trim();
    const threshold = minR.value === "" ? null : parseFloat(minR.value);
    let visible = 0;
    rows.forEach(function (row) {
      const haystack = fold(row.dataset.code + " " + row.dataset.name);
      const ok = (!text || haystack.indexOf(text) !== -1) &&
        (threshold === null || isNaN(threshold) || parseFloat(row.dataset.r) >= threshold);
      row.hidden = !ok;
      if (ok) visible++;
    });
    shown.textContent = visible === rows.length ? "" : interpolate(
      gettext("%(visible)s of %(total)s shown"), { visible: visible, total: rows.length }, true);
  }

  table.querySelectorAll(".sort-button").forEach(function (button) {
    button.addEventListener("click", function () { sortBy(button.closest("th"), button); });
  });
  textFilter.addEventListener("input", applyFilters);
  minR.addEventListener("input", applyFilters);
})();
