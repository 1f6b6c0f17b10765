// Site-wide behaviour: the navigation toggle on small screens, and what page scripts share.
(function () {
  "use strict";
  // A touch screen gets help written for fingers (no Shift key, no mouse wheel).
  if (navigator.maxTouchPoints > 0 || window.matchMedia("(pointer: coarse)").matches) {
    document.documentElement.classList.add("is-touch");
  }
  const toggle = document.querySelector(".nav-toggle");
  const links = document.getElementById("nav-links");
  if (toggle && links) {
    toggle.addEventListener("click", function () {
      const open = links.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // The fold of core.text.normalize_search_text: full- and half-width folded, hiragana read as
  // katakana, so a page filter finds what the server's name search finds.
  function foldSearchText(value) {
    return value.normalize("NFKC").replace(/[\u3041-\u3096\u309d\u309e]/g, function (ch) {
      return String.fromCharCode(ch.charCodeAt(0) + 0x60);
    }).toLowerCase();
  }

  // Completion for every stock box (the header search, the search form's code field): codes
  // and names from the server as the user types; picking one puts its code in the box.
  document.querySelectorAll("input.stock-complete[data-suggest-url]").forEach(function (input) {
    const list = document.createElement("datalist");
    list.id = input.id + "-suggestions";
    input.after(list);
    input.setAttribute("list", list.id);
    let timer = null;
    let asked = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      const query = input.value.trim();
      if (!query || query === asked) return;
      timer = setTimeout(function () {
        asked = query;
        fetch(input.dataset.suggestUrl + "?q=" + encodeURIComponent(query), {
          headers: { Accept: "application/json" },
        }).then(function (response) {
          return response.ok ? response.json() : { stocks: [] };
        }).then(function (data) {
          list.replaceChildren.apply(list, data.stocks.map(function (stock) {
            const option = document.createElement("option");
            option.value = stock.code;
            option.label = stock.code + " " + stock.name;
            option.textContent = stock.code + " " + stock.name;
            return option;
          }));
        }).catch(function () { asked = ""; });
      }, 150);
    });
  });

  // The app on a phone's home screen: the service worker keeps the app shell and shows the
  // offline page when a page cannot be fetched (stocksite/app.py).
  const workerUrl = document.documentElement.dataset.serviceWorker;
  if (workerUrl && "serviceWorker" in navigator) {
    navigator.serviceWorker.register(workerUrl, { scope: "/" }).catch(function () {});
  }

  window.stocksite = Object.assign(window.stocksite || {}, { foldSearchText: foldSearchText });
})();
