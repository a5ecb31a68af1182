// Reloads the page when the validator records something new: polls
// /api/fingerprint and compares it with the one the page was rendered with.
(function () {
  var seen = document.body.getAttribute("data-fingerprint");
  var live = document.getElementById("live");
  function poll() {
    fetch("/api/fingerprint", { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (v) {
        if (!v) { return; }
        if (live) { live.textContent = "live"; }
        if (v.fingerprint !== seen) { location.reload(); }
      })
      .catch(function () { if (live) { live.textContent = "offline"; } });
  }
  setInterval(poll, 5000);
})();
