// Site-wide behaviour: the navigation toggle on small screens, and what page scripts share.
(function () {
  "use strict";
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

  window.stocksite = Object.assign(window.stocksite || {}, { foldSearchText: foldSearchText });
})();
