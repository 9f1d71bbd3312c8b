/*
 * Live progress on the Imports page: while a batch is queued or running, poll the page's small
 * JSON endpoint (data-status-url on the table) and update that batch's row in place.
 * A static file, so the content security policy (scripts from our own origin only) is met.
 */
(function () {
  "use strict";

  var POLL_MS = 1500;
  var ACTIVE = { queued: true, running: true };
  var BADGE = { succeeded: "ok", failed: "bad", running: "busy", queued: "wait" };
  var LABEL = { queued: "Queued", running: "Running", succeeded: "Succeeded", failed: "Failed" };

  function field(row, name) {
    return row.querySelector('[data-field="' + name + '"]');
  }

  function setText(row, name, text) {
    var element = field(row, name);
    if (element) {
      element.textContent = text;
    }
  }

  function update(row, batch) {
    var badge = field(row, "status");
    if (badge) {
      badge.textContent = LABEL[batch.status] || batch.status;
      badge.className = "badge " + (BADGE[batch.status] || "wait");
    }
    var progress = field(row, "progress");
    if (progress) {
      progress.value = batch.progress;
      progress.textContent = batch.progress + " %";
    }
    setText(row, "progress-text", batch.progress + " %");
    setText(row, "step", batch.step || "");
    // The counts come formatted by the server (retail_platform.formatting), as on the page itself.
    Object.keys(batch.text || {}).forEach(function (name) {
      setText(row, name, batch.text[name]);
    });
    if (typeof batch.message === "string") {
      setText(row, "message", batch.message);
    }
    var link = field(row, "errors-link");
    var none = field(row, "no-errors");
    if (link && none) {
      link.hidden = !batch.error_count;
      none.hidden = !!batch.error_count;
    }
    row.setAttribute("data-status", batch.status);
  }

  function activeRows(table) {
    return Array.prototype.filter.call(table.querySelectorAll("tr[data-batch-id]"), function (row) {
      return ACTIVE[row.getAttribute("data-status")];
    });
  }

  function poll(table) {
    var rows = activeRows(table);
    var note = document.getElementById("polling-note");
    if (!rows.length) {
      if (note) {
        note.hidden = true;
      }
      table.removeAttribute("data-polling");
      return;
    }
    var ids = rows.map(function (row) {
      return row.getAttribute("data-batch-id");
    });
    var url = table.getAttribute("data-status-url") + "?ids=" + encodeURIComponent(ids.join(","));
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (body) {
        body.batches.forEach(function (batch) {
          var row = table.querySelector('tr[data-batch-id="' + batch.id + '"]');
          if (row) {
            update(row, batch);
          }
        });
      })
      .catch(function () {
        /* A missed poll (server restarting, network blip) is retried on the next tick. */
      })
      .then(function () {
        window.setTimeout(function () {
          poll(table);
        }, POLL_MS);
      });
  }

  function start() {
    var table = document.getElementById("import-table");
    if (table && table.getAttribute("data-status-url")) {
      poll(table);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
