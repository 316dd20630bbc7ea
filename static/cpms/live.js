/* Live dashboard: listens on the tenant's dashboard socket and updates what the page shows.
   Everything from the server is put into the page with textContent, never as markup: vendor,
   model, id tags and error texts come from chargers and may contain anything. */
(function () {
  "use strict";
  var script = document.currentScript;
  var slug = script && script.dataset.tenant;
  if (!slug || !("WebSocket" in window)) return;
  var countsUrl = script.dataset.countsUrl || "";
  var statesUrl = script.dataset.statesUrl || "";
  var namesUrl = script.dataset.namesUrl || "";
  var statesTimer = null;
  // The words this script writes, in the reader's language: the page carries them
  // (`live_script_labels`); English when a page has none.
  var labelsElement = document.getElementById("live-labels");
  var L = labelsElement ? JSON.parse(labelsElement.textContent) : {};
  function text(value, fallback) { return value == null ? fallback : value; }
  function fill(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (_, key) { return values[key] == null ? "" : values[key]; });
  }
  function said(name, fallback, values) { return fill(text((L.events || {})[name], fallback), values); }
  function stateWord(state) { return text((L.states || {})[state], state); }
  var retry = 1000;
  var countsTimer = null;

  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }
  function field(root, name, text) {
    Array.prototype.forEach.call(root.querySelectorAll('[data-field="' + name + '"]'), function (el) {
      el.textContent = text;
    });
  }
  function decimal(value) { return value.toFixed(2).replace(".", L.decimal || "."); }
  function kwh(wh) { return wh == null ? "—" : decimal(Number(wh) / 1000) + " kWh"; }
  function kw(w) { return w == null ? "—" : decimal(Number(w) / 1000) + " kW"; }
  function setState(el, state, label) {
    el.textContent = label;
    el.className = el.className.replace(/\bstate-\S+/g, "").trim() + " state-" + state;
  }

  // Times as the tables print them: the tenant's zone (or the page's, a site's), 24-hour,
  // whatever the browser's own.
  var zoned = document.querySelector("[data-time-zone]");
  var zone = (zoned && zoned.dataset.timeZone) || script.dataset.timezone || "UTC";
  function formatter(options) {
    try {
      return new Intl.DateTimeFormat("en-GB", Object.assign({ timeZone: zone }, options));
    } catch (e) {
      return new Intl.DateTimeFormat("en-GB", options);
    }
  }
  var clock = formatter({ hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  var stamp = formatter({
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    second: "2-digit", hourCycle: "h23", timeZoneName: "short",
  });
  function localTime(value) {
    var parts = {};
    stamp.formatToParts(new Date(value)).forEach(function (p) { parts[p.type] = p.value; });
    var order = L.date || "Y-m-d";
    var date = order.replace("Y", parts.year).replace("m", parts.month).replace("d", parts.day);
    return date + " " + parts.hour + ":" + parts.minute +
      ":" + parts.second + (parts.timeZoneName ? " " + parts.timeZoneName : "");
  }

  var LABELS = L.status || { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…" };
  function setStatus(state) {
    each("[data-live-status]", function (el) {
      el.textContent = LABELS[state] || state;
      el.dataset.liveStatus = state;
    });
  }

  // Chargers by their charge point id, never their database id: from the page, from events
  // that carry it, else asked of the server (a few at a time) before the line is written.
  var names = {};
  each("[data-charger][data-identity]", function (el) { names[el.dataset.charger] = el.dataset.identity; });
  var COMMAND_STATUS = L.commands || {
    answered: "answered", call_error: "answered with an error", timeout: "no reply in time",
    offline: "not sent: the charger is offline", refused: "refused before sending",
  };
  var RESERVATION_STATUS = L.reservations || {
    requested: "Requested", accepted: "Accepted by the charger", rejected: "Rejected",
    cancelled: "Cancelled", expired: "Expired", used: "Used by a session",
  };
  var A_CHARGER = text(L.charger, "a charger");
  function words(text) { return String(text || "").replace(/_/g, " "); }
  function describe(event) {
    var d = event.data || {};
    var who = d.identity || names[d.charger_id] || (d.charger_id ? A_CHARGER : "");
    var where = d.evse_id ? said("connector", "%(who)s connector %(evse)s", { who: who, evse: d.evse_id }) : who;
    switch (event.name) {
      case "charger.online": return said(event.name, "%(who)s connected", { who: who }) + (d.ocpp_version ? " (OCPP " + d.ocpp_version + ")" : "");
      case "charger.offline": return said(event.name, "%(who)s went offline", { who: who });
      case "charger.boot": return said(event.name, "%(who)s booted", { who: who }) + (d.status && d.status !== "Accepted" ? " (" + d.status + ")" : "");
      case "connector.status":
        return where + ": " + d.status + (d.error_code && d.error_code !== "NoError" ? " (" + d.error_code + ")" : "");
      case "session.started":
        return d.id_tag ? said("session.started_for", "%(where)s: session started for %(token)s", { where: where, token: d.id_tag })
          : said(event.name, "%(where)s: session started", { where: where });
      case "session.stopped":
        return said(event.name, "%(where)s: session stopped at %(energy)s", { where: where, energy: kwh(d.energy_wh) }) + (d.stop_reason ? " (" + d.stop_reason + ")" : "");
      case "alert.opened": return said(event.name, "Alert opened: %(title)s", { title: d.title });
      case "alert.resolved": return said(event.name, "Alert resolved: %(title)s", { title: d.title });
      case "command.finished": return who + ": " + d.action + " " + (COMMAND_STATUS[d.status] || words(d.status));
      case "charger.event": return who + ": " + words(d.kind) + (d.summary ? " " + d.summary : "");
      case "reservation.changed":
        return said(event.name, "%(where)s: reservation %(status)s", { where: where, status: (RESERVATION_STATUS[d.status] || words(d.status)).toLowerCase() });
      case "handshake.refused":
        return said(event.name, "Connection refused for %(who)s: %(reason)s", { who: d.identity || text(L.unknown_charger, "an unknown charger"), reason: d.reason });
      default: return words(event.name) + (who ? " · " + who : "");
    }
  }

  var waiting = [];
  var asking = false;
  function log(event) {
    // Meter updates change figures in place; a line for each would bury everything else.
    if (event.name === "session.updated" || event.name === "session.cost" ||
        !document.querySelector("[data-live-log]")) return;
    event.at = new Date();
    waiting.push(event);
    flush();
  }
  function flush() {
    var unknown = {};
    waiting.forEach(function (e) {
      var id = e.data && e.data.charger_id;
      if (id != null && !(id in names) && !(e.data && e.data.identity)) unknown[id] = 1;
    });
    var ids = Object.keys(unknown);
    if (ids.length && namesUrl) {
      if (asking) return;
      asking = true;
      fetch(namesUrl + "?ids=" + ids.join(","), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : {}; })
        .catch(function () { return {}; })
        .then(function (found) {
          ids.forEach(function (id) { names[id] = found[id] || A_CHARGER; });
          asking = false;
          flush();
        });
      return;
    }
    var events = waiting;
    waiting = [];
    events.forEach(write);
  }
  function write(event) {
    var d = event.data || {};
    if (d.identity && d.charger_id != null) names[d.charger_id] = d.identity;
    each("[data-live-log]", function (list) {
      // A charger's page follows that charger only.
      if (list.dataset.liveLog && String(d.charger_id) !== list.dataset.liveLog) return;
      var placeholder = list.querySelector("[data-live-placeholder]");
      if (placeholder) list.removeChild(placeholder);
      var item = document.createElement("li");
      var time = document.createElement("time");
      time.dateTime = event.at.toISOString();
      time.textContent = clock.format(event.at);
      var what = document.createElement("span");
      what.className = "what";
      what.textContent = describe(event);
      item.appendChild(time);
      item.appendChild(what);
      list.insertBefore(item, list.firstChild);
      while (list.children.length > 30) list.removeChild(list.lastChild);
    });
  }

  function refreshCounts() {
    if (!countsUrl) return;
    clearTimeout(countsTimer);
    countsTimer = setTimeout(function () {
      fetch(countsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (counts) {
          if (!counts) return;
          Object.keys(counts).forEach(function (key) {
            each('[data-count="' + key + '"]', function (el) { el.textContent = String(counts[key]); });
          });
        })
        .catch(function () {});
    }, 400);
  }

  // A charger's state (charging, faulted...) is derived from all its connectors on the server:
  // after an event about chargers, re-read the states of those this page shows.
  var STATE_EVENTS = { "charger.online": 1, "charger.offline": 1, "charger.boot": 1, "connector.status": 1 };
  function refreshStates() {
    var shown = document.querySelectorAll('[data-charger] [data-field="state"]');
    if (!statesUrl || !shown.length) return;
    clearTimeout(statesTimer);
    statesTimer = setTimeout(function () {
      var ids = {};
      Array.prototype.forEach.call(shown, function (el) { ids[el.closest("[data-charger]").dataset.charger] = 1; });
      fetch(statesUrl + "?ids=" + Object.keys(ids).join(","), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (states) {
          if (!states) return;
          Object.keys(states).forEach(function (id) {
            each('[data-charger="' + Number(id) + '"] [data-field="state"]', function (el) {
              setState(el, String(states[id]), stateWord(String(states[id])));
            });
          });
        })
        .catch(function () {});
    }, 400);
  }

  var handlers = {
    "charger.online": function (d) {
      each('[data-charger="' + d.charger_id + '"] [data-field="connection"]', function (el) {
        setState(el, "online", stateWord("online"));
      });
    },
    "charger.offline": function (d) {
      each('[data-charger="' + d.charger_id + '"] [data-field="connection"]', function (el) {
        setState(el, "offline", stateWord("offline"));
      });
    },
    "connector.status": function (d) {
      var key = d.charger_id + "-" + d.evse_id + "-" + d.connector_id;
      each('[data-connector="' + key + '"]', function (row) {
        var status = row.querySelector('[data-field="status"]');
        if (status) setState(status, String(d.status || "").toLowerCase(), d.status || "");
        field(row, "error", [d.error_code, d.info, d.vendor_error_code].filter(function (x) {
          return x && x !== "NoError";
        }).join(" · ") || "—");
      });
    },
    "alert.opened": function (d) { each("[data-alert-count]", function (el) { el.textContent = String(d.open_alerts); }); },
    "alert.resolved": function (d) { each("[data-alert-count]", function (el) { el.textContent = String(d.open_alerts); }); },
  };
  // Everything that shows a session (a table's row, a session page, a running-session card on
  // the charger page) carries its id: each session's figures go to its own places only.
  function session(d, state) {
    var stopped = state === "stopped";
    if (!stopped) runningCard(d);
    each('[data-session="' + Number(d.session_id) + '"]', function (root) {
      root.hidden = false;
      field(root, "energy", kwh(d.energy_wh));
      field(root, "power", stopped ? "—" : kw(d.power_w));
      var sessionWords = L.session || { active: "Charging", stopped: "Stopped" };
      var word = stopped ? sessionWords.stopped : sessionWords.active;
      Array.prototype.forEach.call(root.querySelectorAll('[data-field="session-state"]'), function (el) {
        if (el.classList.contains("state")) setState(el, stopped ? "completed" : "charging", word);
        else el.textContent = word;
      });
      field(root, "id-tag", d.id_tag || "—");
      field(root, "transaction", d.transaction_id || "—");
      if (stopped && root.classList.contains("session-card")) {
        root.classList.add("stopped");
        // A stopped session's card stays a minute with its final figures, then goes.
        setTimeout(function () { removeCard(root); }, 60000);
      }
    });
  }
  // The charger page's running sessions: one card per session, made from the page's
  // template when a session starts (or is first heard of) on this charger.
  function runningCard(d) {
    each('[data-running-sessions="' + Number(d.charger_id) + '"]', function (box) {
      if (box.querySelector('[data-session="' + Number(d.session_id) + '"]')) return;
      var template = document.querySelector("template[data-session-card]");
      if (!template) return;
      var card = template.content.firstElementChild.cloneNode(true);
      card.dataset.session = String(Number(d.session_id));
      field(card, "connector", fill(text(L.connector, "Connector %(evse)s"), { evse: d.evse_id }));
      field(card, "started", d.started_at ? localTime(d.started_at) : "—");
      var link = card.querySelector("a[data-session-link]");
      if (link) link.href = link.getAttribute("href").replace("/0/", "/" + Number(d.session_id) + "/");
      box.appendChild(card);
      each('[data-running-empty="' + Number(d.charger_id) + '"]', function (el) { el.hidden = true; });
    });
  }
  function removeCard(card) {
    var box = card.parentNode;
    if (!box) return;
    box.removeChild(card);
    if (!box.querySelector("[data-session]")) {
      each('[data-running-empty="' + box.dataset.runningSessions + '"]', function (el) { el.hidden = false; });
    }
  }
  // Session tables: a started session's row (or a stopped one's, to replace) is fetched from
  // the server, which renders it with the templates' escaping and says 204 when
  // the page's filters exclude it. The row is parsed as an inert document and moved in.
  var asked = {};
  function sessionRow(d, replace) {
    each("[data-live-rows]", function (body) {
      if (body.dataset.liveCharger && body.dataset.liveCharger !== String(d.charger_id)) return;
      var selector = '[data-session="' + Number(d.session_id) + '"]';
      var url = body.dataset.liveRows.replace("/0/row/", "/" + Number(d.session_id) + "/row/");
      // A started session is fetched once; a stopped one only when the table shows it. Meter
      // updates fetch nothing: a busy fleet would otherwise fetch rows no table takes.
      var shown = body.querySelector(selector);
      if (replace ? !shown : shown || asked[url]) return;
      asked[url] = true;
      fetch(url, { credentials: "same-origin" })
        .then(function (r) { return r.status === 200 ? r.text() : ""; })
        .then(function (html) {
          if (!html) {
            // The table no longer takes this session (a filter, or the overview's running list).
            var gone = body.querySelector(selector);
            if (gone) body.removeChild(gone);
            return;
          }
          var doc = new DOMParser().parseFromString("<table><tbody>" + html + "</tbody></table>", "text/html");
          var row = doc.querySelector("tr[data-session]");
          if (!row) return;
          row = document.importNode(row, true);
          var current = body.querySelector(selector);
          if (current) body.replaceChild(row, current);
          else body.insertBefore(row, body.firstChild);
          var limit = Number(body.dataset.liveLimit || 50);
          while (body.children.length > limit) body.removeChild(body.lastChild);
          body.closest("table").hidden = false;
          var wrap = body.closest(".table-wrap");
          if (wrap) wrap.hidden = false;
          each("[data-live-empty]", function (el) { el.hidden = true; });
        })
        .catch(function () { delete asked[url]; });
    });
  }
  // The charger page's "Remote stop" form names a running transaction. A charger with several
  // connectors runs several at once: a start fills only an empty field (never replacing what the
  // operator sees or typed), and a stop clears the field only when it names that very session.
  function stopForm(d, started) {
    var transactionId = d.transaction_id == null ? "" : String(d.transaction_id);
    if (!transactionId) return;
    each('[data-charger="' + Number(d.charger_id) + '"] input[name="transaction_id"]', function (el) {
      if (started && !el.value) el.value = transactionId;
      else if (!started && el.value.trim() === transactionId) el.value = "";
    });
  }
  handlers["session.started"] = function (d) {
    session(d, "active"); sessionRow(d, false); stopForm(d, true);
  };
  handlers["session.updated"] = function (d) { session(d, "active"); };
  // A running session's cost so far (billing sends it to the charger and says so here).
  // The amount is written in the page's language (<html lang>), as the page itself wrote it;
  // the event's English text is the fallback.
  function money(amount, currency, fallback) {
    try {
      return new Intl.NumberFormat(document.documentElement.lang || "en", {
        style: "currency", currency: currency
      }).format(Number(amount));
    } catch (e) { return fallback; }
  }
  handlers["session.cost"] = function (d) {
    var text = d.total_incl_vat != null && d.currency ? money(d.total_incl_vat, d.currency, d.text) : d.text;
    each('[data-session-cost="' + Number(d.session_id) + '"]', function (el) { el.textContent = text; });
  };
  handlers["session.stopped"] = function (d) {
    session(d, "stopped"); sessionRow(d, true); stopForm(d, false);
  };

  // Command logs: a row still waiting for the charger names the URL of its outcome. When
  // `command.finished` names the row's command, the outcome is read and shown in words; the
  // event itself never carries the reply. Pending rows are also read when the socket opens
  // (the outcome may have come before it) and now and then, calmer each time, in case a bell
  // was lost on the way or the socket cannot open at all.
  function commandOutcome(row) {
    var url = row.dataset.pending;
    if (!url) return;
    // A read already on its way may have left before the outcome was recorded: read again
    // once it is back.
    if (row.dataset.asking) { row.dataset.again = "1"; return; }
    row.dataset.asking = "1";
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 404) delete row.dataset.pending;  // gone with its charger
        return r.ok ? r.json() : null;
      })
      .then(function (command) {
        if (!command || !command.finished || !row.dataset.pending) return;
        var cell = row.querySelector('[data-field="outcome"]');
        while (cell.firstChild) cell.removeChild(cell.firstChild);
        (command.outcome || []).forEach(function (line) {
          var span = document.createElement("span");
          span.className = "outcome outcome-" + String(line.level).replace(/[^a-z]/g, "");
          span.textContent = line.text;
          cell.appendChild(span);
        });
        field(row, "duration", command.duration_ms == null ? "—" : String(command.duration_ms));
        delete row.dataset.pending;
        row.classList.add("fresh");
      })
      .catch(function () {})
      .then(function () {
        delete row.dataset.asking;
        if (row.dataset.again) { delete row.dataset.again; commandOutcome(row); }
      });
  }
  function pendingCommands() { each("tr[data-pending]", commandOutcome); }
  handlers["command.finished"] = function (d) {
    each('tr[data-command="' + Number(d.command_id) + '"][data-pending]', commandOutcome);
  };
  // The firmware pages show a campaign's figures as the server counted them: when the campaign
  // or one of its chargers moves on, the page is read again (at most every few seconds).
  var firmwareReload = null;
  function firmwareChanged(d) {
    var page = document.querySelector("[data-live-campaign]");
    if (!page || firmwareReload) return;
    var id = page.dataset.liveCampaign;
    if (id && Number(id) !== Number(d.campaign_id)) return;
    firmwareReload = setTimeout(function () { location.reload(); }, 3000);
  }
  handlers["firmware.campaign"] = firmwareChanged;
  // A reservation's row (the list, a charger's page) shows its status as the charger answers.
  handlers["reservation.changed"] = function (d) {
    each('[data-reservation="' + Number(d.reservation_id) + '"] [data-field="status"]', function (el) {
      el.textContent = RESERVATION_STATUS[d.status] || words(d.status);
    });
  };
  handlers["firmware.charger"] = firmwareChanged;

  var commandLook = 2000;
  function lookAtCommands() {
    if (!document.querySelector("tr[data-pending]")) return;
    pendingCommands();
    commandLook = Math.min(commandLook * 2, 30000);
    setTimeout(lookAtCommands, commandLook);
  }
  setTimeout(lookAtCommands, commandLook);

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(proto + location.host + "/ws/dashboard/" + encodeURIComponent(slug) + "/?lang=" + encodeURIComponent(document.documentElement.lang || "en"));
    socket.onopen = function () { retry = 1000; setStatus("live"); pendingCommands(); };
    socket.onmessage = function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      var handler = handlers[event.name];
      if (handler) handler(event.data || {});
      log(event);
      refreshCounts();
      if (STATE_EVENTS[event.name]) refreshStates();
    };
    socket.onclose = function () {
      setStatus("reconnecting");
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  connect();
})();
