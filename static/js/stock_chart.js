// The stock page: a candlestick chart with volume (lightweight-charts) where the user chooses the
// days of the pattern by dragging (Shift+drag, or "Select range" mode for touch), by a preset, or
// with the date fields, which stay the source of truth the form posts. The 日足/週足/月足 toggle
// redraws the candles a week or a month each (built by the server from the daily bars, dated by
// the period's last trading day); the pattern form then searches that interval.
(function () {
  "use strict";
  const LC = window.LightweightCharts;
  const dataElement = document.getElementById("chart-data");
  const container = document.getElementById("price-chart");
  const frame = container && container.parentElement;
  const form = document.getElementById("pattern-form");
  if (!LC || !dataElement || !container || !form) return;

  const limits = JSON.parse(document.getElementById("search-limits").textContent);
  const MIN_DAYS = limits.minDays;
  const chartData = JSON.parse(dataElement.textContent);
  const intervals = chartData.intervals || {};
  const barsByInterval = { day: chartData.bars, week: intervals.week, month: intervals.month };
  const intervalInput = form.elements.interval;
  let interval = "day";
  let bars = chartData.bars;
  let dates = bars.map(function (bar) { return bar[0]; });
  let last = bars.length - 1;
  let MAX_DAYS = limits.maxDays;
  const overlay = document.getElementById("range-overlay");
  const fromInput = form.elements.date_from;
  const toInput = form.elements.date_to;
  const summary = document.getElementById("selection-summary");
  const submit = document.getElementById("pattern-submit");
  const moreOptions = document.getElementById("more-options");
  const selectModeButton = document.getElementById("select-mode");
  // Colours live once, as CSS variables in site.css.
  const style = getComputedStyle(document.documentElement);
  function colour(name) { return style.getPropertyValue(name).trim(); }
  const up = colour("--up");
  const down = colour("--down");

  // Axes and the crosshair's labels in the page's language: 2015/01/05 and 1,520 in Japanese.
  const lang = document.documentElement.lang || "ja";
  // Yen prices: no decimals for most stocks, a few for split-adjusted or low-priced ones.
  const highest = bars.reduce(function (max, bar) { return Math.max(max, bar[2]); }, 0);
  const precision = highest >= 1000 ? 0 : highest >= 100 ? 1 : 2;
  const numberFormat = new Intl.NumberFormat(lang, {
    minimumFractionDigits: precision, maximumFractionDigits: precision,
  });
  const volumeFormat = new Intl.NumberFormat(lang);
  // Dates as the page's language writes them: 2018/11/16 in Japanese, 2018-11-16 in English.
  function formatDay(isoDay) {
    return lang.indexOf("ja") === 0 ? isoDay.replace(/-/g, "/") : isoDay;
  }
  const chart = LC.createChart(container, {
    autoSize: true,
    localization: {
      locale: lang,
      dateFormat: lang.indexOf("ja") === 0 ? "yyyy/MM/dd" : "yyyy-MM-dd",
      priceFormatter: function (price) { return numberFormat.format(price); },
    },
    layout: {
      background: { type: "solid", color: colour("--surface") },
      textColor: colour("--chart-text"),
      fontFamily: getComputedStyle(document.body).fontFamily,
      attributionLogo: true,
    },
    grid: {
      vertLines: { color: colour("--surface-muted") },
      horzLines: { color: colour("--surface-muted") },
    },
    // Wide enough for the longest price label, so it never runs over the axis's edge.
    rightPriceScale: { borderColor: colour("--border"), minimumWidth: 64 },
    timeScale: { borderColor: colour("--border"), rightOffset: 3, minBarSpacing: 0.2 },
    crosshair: { mode: LC.CrosshairMode.Normal },
  });
  const candles = chart.addSeries(LC.CandlestickSeries, {
    upColor: up, downColor: down, wickUpColor: up, wickDownColor: down, borderVisible: false,
    priceFormat: { type: "price", precision: precision, minMove: Math.pow(10, -precision) },
  });
  candles.priceScale().applyOptions({ scaleMargins: { top: 0.06, bottom: 0.24 } });
  const volume = chart.addSeries(LC.HistogramSeries, {
    priceScaleId: "volume", priceFormat: { type: "volume" },
    lastValueVisible: false, priceLineVisible: false,
  });
  volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  const volumeUp = colour("--volume-up");
  const volumeDown = colour("--volume-down");
  function drawBars() {
    candles.setData(bars.map(function (bar) {
      return { time: bar[0], open: bar[1], high: bar[2], low: bar[3], close: bar[4] };
    }));
    volume.setData(bars.map(function (bar) {
      return {
        time: bar[0], value: bar[5],
        color: bar[4] >= bar[1] ? volumeUp : volumeDown,
      };
    }));
  }
  drawBars();

  // Moving averages of the adjusted close (5, 25 and 75 days, as Japanese brokers draw them),
  // each switched on and off by its chip; the choice is remembered in this browser.
  function movingAverage(days) {
    const closes = bars.map(function (bar) { return bar[4]; });
    const points = [];
    let sum = 0;
    for (let i = 0; i < closes.length; i++) {
      sum += closes[i];
      if (i >= days) sum -= closes[i - days];
      if (i >= days - 1) points.push({ time: dates[i], value: sum / days });
    }
    return points;
  }
  const averages = {};
  const averageValues = {};
  document.querySelectorAll("[data-ma]").forEach(function (button) {
    const days = parseInt(button.dataset.ma, 10);
    const points = movingAverage(days);
    averageValues[days] = {};
    points.forEach(function (point) { averageValues[days][point.time] = point.value; });
    const key = "stocksite:ma" + days;
    const stored = window.localStorage ? localStorage.getItem(key) : null;
    const visible = stored === null ? true : stored === "1";
    averages[days] = chart.addSeries(LC.LineSeries, {
      color: colour(button.dataset.colourVar), lineWidth: 1.5, visible: visible,
      priceLineVisible: false, lastValueVisible: false, crosshairMarkerVisible: false,
      priceFormat: { type: "price", precision: precision, minMove: Math.pow(10, -precision) },
    });
    averages[days].setData(points);
    button.setAttribute("aria-pressed", String(visible));
    button.addEventListener("click", function () {
      const on = button.getAttribute("aria-pressed") !== "true";
      button.setAttribute("aria-pressed", String(on));
      averages[days].applyOptions({ visible: on });
      if (window.localStorage) localStorage.setItem(key, on ? "1" : "0");
      showReadout(null);
    });
  });

  // The marks on the chart, one kind per list of the chart's data (market.selectors.stock_chart):
  // each kind turns one item into a marker. Splits are found in the data (the day the split
  // factor changes). Earnings are not stored yet (docs/market-data.md): their marks would be one
  // more kind here, fed by an `earnings` list of the same data.
  const MARK_KINDS = {
    splits: function (split) {
      const ratio = split.ratio >= 1
        ? "1:" + +split.ratio.toFixed(2) : +(1 / split.ratio).toFixed(2) + ":1";
      return {
        time: split.date, position: "aboveBar", shape: "arrowDown",
        color: colour("--highlight"), text: interpolate(gettext("split %s"), [ratio]),
      };
    },
  };
  const dailyMarkers = [];
  Object.keys(MARK_KINDS).forEach(function (kind) {
    (chartData[kind] || []).forEach(function (item) { dailyMarkers.push(MARK_KINDS[kind](item)); });
  });
  // The library wants its markers in time order; ISO dates sort as text.
  dailyMarkers.sort(function (a, b) { return a.time < b.time ? -1 : a.time > b.time ? 1 : 0; });
  // Marks are dated by day: the weekly and monthly candles show none (see the toggle below).
  const splitMarkers = dailyMarkers.length && LC.createSeriesMarkers
    ? LC.createSeriesMarkers(candles, dailyMarkers) : null;

  // The bar under the pointer (or the last bar) in words: date, open, high, low, close, volume.
  const readout = document.getElementById("ohlc-readout");
  function showReadout(logical) {
    if (!readout) return;
    const index = logical === null || logical === undefined
      ? last : Math.min(last, Math.max(0, Math.round(logical)));
    const bar = bars[index];
    const previous = index > 0 ? bars[index - 1][4] : null;
    const fields = readout.querySelectorAll("[data-field]");
    const values = {
      date: formatDay(bar[0]),
      open: numberFormat.format(bar[1]), high: numberFormat.format(bar[2]),
      low: numberFormat.format(bar[3]), close: numberFormat.format(bar[4]),
      volume: volumeFormat.format(bar[5]),
      change: previous ? (bar[4] >= previous ? "+" : "") +
        ((bar[4] / previous - 1) * 100).toFixed(2) + "%" : "",
    };
    Object.keys(averages).forEach(function (days) {
      const value = averageValues[days][bar[0]];
      values["ma" + days] = value === undefined ? "—" : numberFormat.format(value);
    });
    fields.forEach(function (field) {
      field.textContent = values[field.dataset.field] || "";
      if (field.dataset.field === "change") {
        field.classList.toggle("up", previous !== null && bar[4] > previous);
        field.classList.toggle("down", previous !== null && bar[4] < previous);
      }
    });
    readout.querySelectorAll("[data-ma-readout]").forEach(function (item) {
      item.hidden = !averages[item.dataset.maReadout].options().visible;
    });
  }
  chart.subscribeCrosshairMove(function (param) {
    showReadout(param.point ? param.logical : null);
  });
  showReadout(null);
  showLast(250);
  container.dataset.interval = "day";
  container.dataset.bars = String(bars.length);

  let selection = null;  // {start, end}: bar indexes, inclusive
  let selectMode = false;
  let drag = null;

  function showLast(count) {
    chart.timeScale().setVisibleLogicalRange({ from: last - count, to: last + 3 });
  }

  function reveal(start, end) {
    const range = chart.timeScale().getVisibleLogicalRange();
    if (range && start >= range.from && end <= range.to) return;
    const pad = Math.max(5, Math.round((end - start) * 0.4));
    chart.timeScale().setVisibleLogicalRange({ from: start - pad, to: end + pad });
  }

  function indexAtX(clientX) {
    const x = clientX - container.getBoundingClientRect().left;
    const logical = chart.timeScale().coordinateToLogical(x);
    if (logical === null) return null;
    return Math.min(last, Math.max(0, Math.round(logical)));
  }

  function firstIndexOnOrAfter(day) {
    for (let i = 0; i <= last; i++) if (dates[i] >= day) return i;
    return -1;
  }

  function lastIndexOnOrBefore(day) {
    for (let i = last; i >= 0; i--) if (dates[i] <= day) return i;
    return -1;
  }

  function drawOverlay() {
    if (!selection) { overlay.hidden = true; return; }
    const timeScale = chart.timeScale();
    const paneWidth = timeScale.width();
    // Whole logical indexes only: fractional ones do not map to coordinates reliably.
    const first = timeScale.logicalToCoordinate(selection.start);
    const next = timeScale.logicalToCoordinate(selection.start + 1);
    const end = timeScale.logicalToCoordinate(selection.end);
    if (first === null || end === null) { overlay.hidden = true; return; }
    const half = (next !== null && next > first ? next - first : 6) / 2;
    let left = first - half;
    let right = end + half;
    left = Math.max(0, left);
    right = Math.min(paneWidth, right);
    if (right <= 0 || left >= paneWidth) { overlay.hidden = true; return; }
    overlay.hidden = false;
    overlay.style.left = left + "px";
    overlay.style.width = Math.max(2, right - left) + "px";
    overlay.style.height = (container.clientHeight - timeScale.height()) + "px";
  }

  // A count of bars in words: trading days, weeks or months.
  function barsText(count) {
    if (interval === "week") return interpolate(ngettext("%s week", "%s weeks", count), [count]);
    if (interval === "month") {
      return interpolate(ngettext("%s month", "%s months", count), [count]);
    }
    return interpolate(ngettext("%s trading day", "%s trading days", count), [count]);
  }

  function describe() {
    if (!selection) return;
    const days = selection.end - selection.start + 1;
    let text = interpolate(gettext("%(start)s → %(end)s"), {
      start: formatDay(dates[selection.start]), end: formatDay(dates[selection.end]),
    }, true) + " · " + barsText(days);
    let valid = true;
    if (days < MIN_DAYS) {
      text += " — " + (interval === "day"
        ? interpolate(gettext("choose at least %s days"), [MIN_DAYS])
        : interpolate(gettext("choose at least %s"), [barsText(MIN_DAYS)]));
      valid = false;
    }
    if (days > MAX_DAYS) {
      text += " — " + (interval === "day"
        ? interpolate(gettext("choose at most %s days"), [MAX_DAYS])
        : interpolate(gettext("choose at most %s"), [barsText(MAX_DAYS)]));
      valid = false;
    }
    summary.textContent = text;
    summary.classList.toggle("is-invalid", !valid);
    summary.classList.toggle("is-valid", valid);
    submit.disabled = !valid;
    if (moreOptions) {
      const params = new URLSearchParams({
        code: form.elements.code.value, date_from: dates[selection.start],
        date_to: dates[selection.end], mode: form.elements.mode.value, interval: interval,
      });
      moreOptions.href = moreOptions.pathname + "?" + params.toString();
    }
  }

  function select(start, end, options) {
    selection = { start: Math.min(start, end), end: Math.max(start, end) };
    const presetDays = selection.end === last ? selection.end - selection.start + 1 : 0;
    document.querySelectorAll("[data-preset]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(parseInt(button.dataset.preset, 10) === presetDays));
    });
    if (!options || options.updateInputs !== false) {
      fromInput.value = dates[selection.start];
      toInput.value = dates[selection.end];
    }
    container.dataset.selectionStart = dates[selection.start];
    container.dataset.selectionEnd = dates[selection.end];
    drawOverlay();
    describe();
  }

  function selectFromInputs() {
    if (!fromInput.value || !toInput.value) return;
    const start = firstIndexOnOrAfter(fromInput.value);
    const end = lastIndexOnOrBefore(toInput.value);
    if (start < 0 || end < 0 || start > end) {
      selection = null;
      drawOverlay();
      summary.textContent = start < 0
        ? interpolate(gettext("The prices end on %s: choose days up to then."),
          [formatDay(dates[last])])
        : end < 0
          ? interpolate(gettext("The prices begin on %s: choose days from then on."),
            [formatDay(dates[0])])
          : gettext("No trading days between these dates.");
      summary.classList.add("is-invalid");
      submit.disabled = true;
      return;
    }
    select(start, end, { updateInputs: false });
    reveal(selection.start, selection.end);
  }

  function setPanning(enabled) {
    chart.applyOptions({ handleScroll: enabled, handleScale: enabled });
  }

  function setSelectMode(on) {
    selectMode = on;
    selectModeButton.setAttribute("aria-pressed", on ? "true" : "false");
    frame.classList.toggle("is-selecting", on);
    setPanning(!on);
  }

  // Capture phase: the chart's own handlers must not pan while the user is choosing days.
  frame.addEventListener("pointerdown", function (event) {
    if (!(selectMode || event.shiftKey) || event.button > 0) return;
    const index = indexAtX(event.clientX);
    if (index === null) return;
    event.preventDefault();
    event.stopPropagation();
    setPanning(false);
    drag = { anchor: index, pointerId: event.pointerId };
    frame.setPointerCapture(event.pointerId);
    select(index, index);
  }, true);

  frame.addEventListener("pointermove", function (event) {
    if (!drag || event.pointerId !== drag.pointerId) return;
    const index = indexAtX(event.clientX);
    if (index !== null) select(drag.anchor, index);
  }, true);

  function endDrag(event) {
    if (!drag || event.pointerId !== drag.pointerId) return;
    drag = null;
    if (frame.hasPointerCapture(event.pointerId)) frame.releasePointerCapture(event.pointerId);
    if (!selectMode) setPanning(true);
  }
  frame.addEventListener("pointerup", endDrag, true);
  frame.addEventListener("pointercancel", endDrag, true);

  // Holding Shift turns panning off before the drag starts, so the chart never moves under it.
  window.addEventListener("keydown", function (event) {
    if (event.key === "Shift" && !selectMode) setPanning(false);
  });
  window.addEventListener("keyup", function (event) {
    if (event.key === "Shift" && !selectMode && !drag) setPanning(true);
  });

  selectModeButton.addEventListener("click", function () { setSelectMode(!selectMode); });
  document.getElementById("chart-fit").addEventListener("click", function () {
    chart.timeScale().fitContent();
  });
  document.querySelectorAll("[data-preset]").forEach(function (button) {
    button.addEventListener("click", function () {
      const days = parseInt(button.dataset.preset, 10);
      select(Math.max(0, last - days + 1), last);
      showLast(Math.round(days * 1.6));
    });
  });
  fromInput.addEventListener("change", selectFromInputs);
  toInput.addEventListener("change", selectFromInputs);
  form.elements.mode.addEventListener("change", describe);
  form.addEventListener("submit", function (event) {
    if (!fromInput.value || !toInput.value) {
      event.preventDefault();
      summary.textContent = gettext(
        "Choose the days first: drag on the chart, pick a preset, or enter dates.");
      summary.classList.add("is-invalid");
      fromInput.focus();
    }
  });
  chart.timeScale().subscribeVisibleLogicalRangeChange(drawOverlay);
  new ResizeObserver(drawOverlay).observe(container);

  // 日足, 週足, 月足: the candles, moving averages and the selection move to the chosen interval;
  // the chosen days (the date fields) stay, read as the weeks or months ending inside them.
  const SHOWN = { day: 250, week: 156, month: 120 };
  const intervalButtons = document.querySelectorAll("[data-interval]");
  function showInterval(name) {
    if (!barsByInterval[name] || !barsByInterval[name].length) return;
    interval = name;
    bars = barsByInterval[name];
    dates = bars.map(function (bar) { return bar[0]; });
    last = bars.length - 1;
    MAX_DAYS = (limits.maxBars || {})[name] || limits.maxDays;
    intervalInput.value = name;
    // "今のチャートに似た過去" searches the latest bars of the interval on show.
    document.querySelectorAll(".similar-now-form input[name=interval]").forEach(function (input) {
      input.value = name;
    });
    intervalButtons.forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.interval === name));
    });
    // Presets, moving averages and their readout name days, weeks or months.
    document.querySelectorAll("[data-interval-label]").forEach(function (label) {
      label.textContent = label.dataset[name];
    });
    drawBars();
    Object.keys(averages).forEach(function (days) {
      const points = movingAverage(parseInt(days, 10));
      averages[days].setData(points);
      averageValues[days] = {};
      points.forEach(function (point) { averageValues[days][point.time] = point.value; });
    });
    // Split markers are dated by the day of the split, which only the daily candles have.
    if (splitMarkers) {
      splitMarkers.setMarkers(name === "day" ? dailyMarkers : []);
    }
    container.dataset.interval = name;
    container.dataset.bars = String(bars.length);
    showReadout(null);
    showLast(SHOWN[name]);
    if (fromInput.value && toInput.value) selectFromInputs();
    else { selection = null; drawOverlay(); }
  }
  intervalButtons.forEach(function (button) {
    button.addEventListener("click", function () { showInterval(button.dataset.interval); });
  });

  // A returning visitor (back button, or a link with dates) sees the range they chose.
  const params = new URLSearchParams(window.location.search);
  if (params.get("date_from")) fromInput.value = params.get("date_from");
  if (params.get("date_to")) toInput.value = params.get("date_to");
  // The parameter is compared with the page's own presets, never put into a selector: a crafted
  // value could otherwise pick and click any element of the page.
  const wanted = params.get("preset");
  const preset = Array.prototype.find.call(
    document.querySelectorAll("[data-preset]"),
    function (button) { return button.dataset.preset === wanted; }
  );
  const wantedInterval = intervalInput.value;
  if (wantedInterval !== "day") showInterval(wantedInterval);
  if (preset) preset.click();
  else if (fromInput.value && toInput.value) selectFromInputs();
})();
