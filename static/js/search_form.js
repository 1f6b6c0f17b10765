// The search form: one panel per pattern source, a live count of pasted prices, and a sketch
// canvas (pointer events: mouse, pen or finger) whose line is posted as points, y up.
(function () {
  "use strict";
  const form = document.getElementById("search-form");
  if (!form) return;

  const limits = JSON.parse(document.getElementById("search-limits").textContent);
  // Colours live once, as CSS variables in site.css.
  const style = getComputedStyle(document.documentElement);
  function colour(name) { return style.getPropertyValue(name).trim(); }

  function showSourcePanel() {
    const checked = form.querySelector("input[name=source]:checked");
    const source = checked ? checked.value : "stock";
    form.querySelectorAll("[data-source-panel]").forEach(function (panel) {
      panel.hidden = panel.dataset.sourcePanel !== source;
    });
    if (source === "sketch") sketch.resize();
  }

  function showModeFields() {
    const checked = form.querySelector("input[name=mode]:checked");
    const latest = checked && checked.value === "latest";
    form.querySelectorAll(".history-only").forEach(function (element) {
      element.hidden = latest;
    });
  }

  // Daily, weekly or monthly closes: only the chosen interval's horizons show.
  function showIntervalFields() {
    const checked = form.querySelector("input[name=interval]:checked");
    const interval = checked ? checked.value : "day";
    form.querySelectorAll(".interval-only").forEach(function (element) {
      element.hidden = !element.classList.contains("interval-" + interval);
    });
  }

  // Pasted prices: the server's parser (the one that runs on search) reads them as they are
  // typed, and the page shows what it read: the count, the column of a table, and a sparkline.
  const prices = form.elements.prices;
  const pricesCount = document.getElementById("prices-count");
  const pricesSpark = document.getElementById("prices-spark");
  let previewTimer = null;
  let previewRequest = 0;
  function drawSpark(values) {
    const line = pricesSpark.querySelector("polyline");
    // An <svg> has no `hidden` property: toggle the attribute itself.
    if (values.length < 2) { pricesSpark.setAttribute("hidden", ""); return; }
    const low = Math.min.apply(null, values);
    const high = Math.max.apply(null, values);
    const span = high - low || 1;
    line.setAttribute("points", values.map(function (value, i) {
      const x = (i / (values.length - 1)) * 200;
      const y = 38 - ((value - low) / span) * 36;
      return x.toFixed(1) + "," + y.toFixed(1);
    }).join(" "));
    pricesSpark.removeAttribute("hidden");
  }
  function previewPrices() {
    const text = prices.value;
    if (!text.trim()) { pricesCount.textContent = ""; pricesSpark.setAttribute("hidden", ""); return; }
    const request = ++previewRequest;
    const body = new FormData();
    body.append("prices", text);
    body.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
    fetch(pricesCount.dataset.previewUrl, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (preview) {
        if (request !== previewRequest) return;
        pricesCount.textContent = preview.summary + (preview.problem ? " — " + preview.problem : "");
        pricesCount.classList.toggle("has-problem", Boolean(preview.problem));
        drawSpark(preview.prices);
      })
      .catch(function () { pricesCount.textContent = ""; });
  }
  function countPrices() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(previewPrices, 250);
  }

  const sketch = (function () {
    const canvas = document.getElementById("sketch-canvas");
    const hidden = form.elements.sketch;
    const placeholder = document.getElementById("sketch-placeholder");
    const daysInput = form.elements.days;
    const context = canvas.getContext("2d");
    let points = [];  // [x, y] in 0..1, y down (canvas), while drawing
    let drawing = null;
    let selected = null;  // index of the point the keyboard moves, once the keyboard is used
    const KEY_POINTS = 11;
    const status = document.getElementById("sketch-status");

    try {
      const saved = JSON.parse(hidden.value || "[]");
      points = saved.map(function (p) { return [p[0], 1 - p[1]]; });
    } catch (error) { points = []; }

    function resize() {
      const ratio = window.devicePixelRatio || 1;
      const width = canvas.clientWidth;
      const height = canvas.clientHeight;
      if (!width || !height) return;
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      draw();
    }

    // Linear interpolation of the drawn line at `count` equally spaced x, as the server does.
    function resampled(count) {
      const sorted = points.slice().sort(function (a, b) { return a[0] - b[0]; });
      if (sorted.length < 2) return [];
      const first = sorted[0][0];
      const last = sorted[sorted.length - 1][0];
      const out = [];
      let j = 0;
      for (let i = 0; i < count; i++) {
        const x = first + (last - first) * i / (count - 1);
        while (j < sorted.length - 2 && sorted[j + 1][0] < x) j++;
        const a = sorted[j];
        const b = sorted[j + 1];
        const t = b[0] === a[0] ? 0 : (x - a[0]) / (b[0] - a[0]);
        out.push([x, a[1] + (b[1] - a[1]) * Math.min(1, Math.max(0, t))]);
      }
      return out;
    }

    function draw() {
      const width = canvas.clientWidth;
      const height = canvas.clientHeight;
      context.clearRect(0, 0, width, height);
      context.strokeStyle = colour("--border");
      context.lineWidth = 1;
      for (let i = 1; i < 4; i++) {
        context.beginPath();
        context.moveTo(0, height * i / 4);
        context.lineTo(width, height * i / 4);
        context.stroke();
      }
      placeholder.hidden = points.length > 0;
      if (points.length < 2) return;
      context.strokeStyle = colour("--primary");
      context.lineWidth = 3;
      context.lineJoin = "round";
      context.lineCap = "round";
      context.beginPath();
      points.forEach(function (p, i) {
        if (i === 0) context.moveTo(p[0] * width, p[1] * height);
        else context.lineTo(p[0] * width, p[1] * height);
      });
      context.stroke();
      if (selected !== null && points[selected] && document.activeElement === canvas) {
        const p = points[selected];
        context.strokeStyle = colour("--highlight");
        context.lineWidth = 2;
        context.beginPath();
        context.arc(p[0] * width, p[1] * height, 7, 0, Math.PI * 2);
        context.stroke();
      }
      if (drawing) return;
      const days = parseInt(daysInput.value, 10);
      if (days >= limits.minDays && days <= limits.maxDays) {
        context.fillStyle = colour("--text");
        resampled(days).forEach(function (p) {
          context.beginPath();
          context.arc(p[0] * width, p[1] * height, days > 150 ? 1.2 : 2.2, 0, Math.PI * 2);
          context.fill();
        });
      }
    }

    function store() {
      // A very long stroke is thinned to what the server accepts, along the same line.
      const posted = points.length > limits.maxSketchPoints
        ? resampled(limits.maxSketchPoints) : points;
      hidden.value = posted.length > 1 ? JSON.stringify(posted.map(function (p) {
        return [Math.round(p[0] * 10000) / 10000, Math.round((1 - p[1]) * 10000) / 10000];
      })) : "";
    }

    function position(event) {
      const rect = canvas.getBoundingClientRect();
      return [
        Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width)),
        Math.min(1, Math.max(0, (event.clientY - rect.top) / rect.height)),
      ];
    }

    // The keyboard edits a line of KEY_POINTS points: it starts flat, or from the drawn line.
    const STEPS = { ArrowUp: -0.05, ArrowDown: 0.05, PageUp: -0.2, PageDown: 0.2 };
    canvas.addEventListener("keydown", function (event) {
      const moves = event.key in STEPS;
      const picks = ["ArrowLeft", "ArrowRight", "Home", "End"].indexOf(event.key) !== -1;
      if (!moves && !picks) return;
      event.preventDefault();
      if (selected === null || points.length !== KEY_POINTS) {
        points = points.length > 1 ? resampled(KEY_POINTS).map(function (p) {
          return [p[0], p[1]];
        }) : Array.from({ length: KEY_POINTS }, function (_, i) {
          return [i / (KEY_POINTS - 1), 0.5];
        });
        points.forEach(function (p, i) { p[0] = i / (KEY_POINTS - 1); });
        selected = 0;
      }
      if (event.key === "ArrowLeft") selected = Math.max(0, selected - 1);
      if (event.key === "ArrowRight") selected = Math.min(KEY_POINTS - 1, selected + 1);
      if (event.key === "Home") selected = 0;
      if (event.key === "End") selected = KEY_POINTS - 1;
      if (moves) {
        const p = points[selected];
        p[1] = Math.min(1, Math.max(0, Math.round((p[1] + STEPS[event.key]) * 100) / 100));
      }
      store();
      draw();
      // Django's interpolate knows no %% escape: the percent sign comes with the number.
      status.textContent = interpolate(gettext("Point %(n)s of %(total)s, %(level)s up"), {
        n: selected + 1, total: KEY_POINTS, level: Math.round((1 - points[selected][1]) * 100) + "%",
      }, true);
    });
    canvas.addEventListener("focus", draw);
    canvas.addEventListener("blur", draw);

    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      selected = null;
      drawing = event.pointerId;
      points = [position(event)];
      draw();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (drawing !== event.pointerId) return;
      const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
      events.forEach(function (e) { points.push(position(e)); });
      draw();
    });
    function finish(event) {
      if (drawing !== event.pointerId) return;
      drawing = null;
      store();
      draw();
    }
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);
    document.getElementById("sketch-clear").addEventListener("click", function () {
      points = [];
      selected = null;
      store();
      draw();
    });
    daysInput.addEventListener("input", draw);
    window.addEventListener("resize", resize);
    return { resize: resize };
  })();

  form.querySelectorAll("input[name=source]").forEach(function (radio) {
    radio.addEventListener("change", showSourcePanel);
  });
  form.querySelectorAll("input[name=mode]").forEach(function (radio) {
    radio.addEventListener("change", showModeFields);
  });
  form.querySelectorAll("input[name=interval]").forEach(function (radio) {
    radio.addEventListener("change", showIntervalFields);
  });
  prices.addEventListener("input", countPrices);
  showSourcePanel();
  showModeFields();
  showIntervalFields();
  countPrices();
  const errors = document.getElementById("form-errors");
  if (errors) errors.focus();
})();
