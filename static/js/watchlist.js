// The watchlist star of every stock (includes/_watch_button.html): without this script it is a
// form post that reloads the page; with it the star is sent to the API and flips in place.
(function () {
  "use strict";
  let toastTimer = null;

  function toast(text, kind) {
    let box = document.getElementById("watch-toast");
    if (!box) {
      box = document.createElement("p");
      box.id = "watch-toast";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      document.body.appendChild(box);
    }
    box.className = "message watch-toast message-" + kind;
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.hidden = true; }, 4000);
  }

  function setWatched(code, watched) {
    // Every star of this stock on the page (a stock may be listed twice in results).
    document.querySelectorAll("form.watch-form").forEach(function (form) {
      if (form.dataset.code !== code) return;
      form.action = watched ? form.dataset.removeUrl : form.dataset.addUrl;
      form.querySelector("button").setAttribute("aria-pressed", watched ? "true" : "false");
    });
  }

  function errorText(response) {
    return response.json().then(function (body) {
      return (body && body.error && body.error.message) || response.statusText;
    }, function () { return response.statusText; });
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.classList.contains("watch-form")) return;
    event.preventDefault();
    const button = form.querySelector("button");
    const code = form.dataset.code;
    const watched = button.getAttribute("aria-pressed") === "true";
    const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    const request = watched
      ? fetch(form.dataset.apiUrl + encodeURIComponent(code) + "/", {
          method: "DELETE",
          headers: { "X-CSRFToken": token, Accept: "application/json" },
          credentials: "same-origin",
        })
      : fetch(form.dataset.apiUrl, {
          method: "POST",
          headers: {
            "X-CSRFToken": token,
            Accept: "application/json",
            "Content-Type": "application/json",
          },
          credentials: "same-origin",
          body: JSON.stringify({ code: code }),
        });
    button.disabled = true;
    request.then(function (response) {
      if (response.ok || (watched && response.status === 404)) {
        setWatched(code, !watched);
        toast(watched ? form.dataset.removed : form.dataset.added, "success");
        return;
      }
      return errorText(response).then(function (text) { toast(text, "error"); });
    }).catch(function () {
      // Offline or the server unreachable: the plain form post says what happened.
      form.submit();
    }).finally(function () {
      button.disabled = false;
    });
  });
})();
