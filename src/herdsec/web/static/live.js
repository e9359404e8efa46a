// The live view (/live): an EventSource on /api/v1/stream. The browser reconnects by itself and sends the
// Last-Event-ID it saw, so a restart of the hub loses nothing. A file, not an inline script (CSP: 'self' only).
(function () {
  "use strict";
  var list = document.getElementById("live-events");
  var status = document.getElementById("live-status");
  if (!list || !status || !window.EventSource) { return; }
  var labels = JSON.parse(list.getAttribute("data-labels") || "{}");
  var source = new EventSource("/api/v1/stream");
  source.onopen = function () { status.textContent = status.getAttribute("data-open"); };
  source.onerror = function () { status.textContent = status.getAttribute("data-reconnecting"); };
  source.onmessage = function (message) {
    var item;
    try { item = JSON.parse(message.data); } catch (e) { return; }
    var empty = document.getElementById("live-empty");
    if (empty) { empty.remove(); }
    var row = document.createElement("li");
    row.className = "live-item";
    row.setAttribute("data-event-id", message.lastEventId);
    var tlp = document.createElement("span");
    tlp.className = "tlp tlp-" + String(item.tlp || "unknown").replace(/[^a-z+]/g, "");
    tlp.textContent = "TLP:" + String(item.tlp || "?").toUpperCase();
    var kind = document.createElement("strong");
    kind.textContent = " " + (labels[item.event] || item.event) + " ";
    var link = document.createElement("a");
    link.href = "/intel/objects/" + encodeURIComponent(item.id);
    var name = item.object && item.object.name ? item.object.name : item.id;
    link.textContent = name;
    row.appendChild(tlp);
    row.appendChild(kind);
    row.appendChild(link);
    var who = item.sighting && item.sighting.organization ? item.sighting.organization : item.organization;
    if (who) {
      var by = document.createElement("span");
      by.className = "muted";
      by.textContent = " — " + who;
      row.appendChild(by);
    }
    list.insertBefore(row, list.firstChild);
    while (list.children.length > 200) { list.removeChild(list.lastChild); }
  };
})();
